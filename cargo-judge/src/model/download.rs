//! The HTTP client of the install, and a download streamed to a file while it is hashed. HTTPS is
//! checked against the system's certificates and the public roots, and those of `PIP_CERT`
//! (pip's certificate bundle, for an index behind a private authority). A connection that cannot
//! be made in 30 s, or that stalls for 60 s, fails rather than hangs.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::model::error::InstallError;
use crate::model::index::{causes, shown};

/// The client every request of an install goes through.
pub(crate) fn client() -> Result<reqwest::Client, InstallError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("cargo-judge/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60));
    if let Some(path) = std::env::var_os("PIP_CERT").filter(|p| !p.is_empty()).map(PathBuf::from) {
        let cert_error = |reason: String| InstallError::Cert { path: path.clone(), reason };
        let pem = std::fs::read(&path).map_err(|e| cert_error(e.to_string()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| cert_error(causes(&e)))? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| InstallError::Client { reason: causes(&e) })
}

/// Downloads `url` into `file`, returning the SHA-256 of what was written, as hex. `index` says
/// where the index was set, for messages.
pub(crate) async fn to_file(
    client: &reqwest::Client,
    url: &Url,
    file: &mut std::fs::File,
    file_path: &std::path::Path,
    index: &'static str,
) -> Result<String, InstallError> {
    let unreachable = |error: reqwest::Error| InstallError::Unreachable {
        url: shown(url),
        reason: causes(&error.without_url()),
        index,
    };
    let mut response = client.get(url.clone()).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(InstallError::Http {
            url: shown(url),
            status: response.status().as_u16(),
            package: "file".to_owned(),
            index,
        });
    }
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        hasher.update(&chunk);
        file.write_all(&chunk).map_err(|source| InstallError::Io { path: file_path.to_owned(), source })?;
    }
    Ok(hex(&hasher.finalize()))
}

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
