//! The Cargo workspace whose root holds judge.toml and against which relative paths resolve.

use std::path::{Path, PathBuf};

/// The root of the Cargo workspace that contains `manifest_dir`: the nearest ancestor (or itself)
/// whose `Cargo.toml` has a `[workspace]` table, else `manifest_dir`.
pub(crate) fn workspace_root(manifest_dir: &Path) -> PathBuf {
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|manifest| manifest.contains_key("workspace"))
        })
        .unwrap_or(manifest_dir)
        .to_path_buf()
}
