//! The verdict cache on an S3-compatible object store (`JUDGE_CACHE_DIR=s3://BUCKET/PREFIX`), as a
//! user sets it up: suite-basic run with the standard `AWS_*` variables against moto's server on
//! 127.0.0.1 (`pip install -r tests/requirements-s3.txt`; with `CI` set, these tests fail rather
//! than skip without it).

use std::path::Path;
use std::process::Command;

use judge_tests::{FakeJudge, HarnessRun, S3Server, harness, moto_installed};
use tempfile::TempDir;

use crate::common::{files, in_ci, run_exact, run_totals};

const BUCKET: &str = "verdicts";
/// Credentials that must never be shown: in output, reports or objects.
const SECRET_KEY: &str = "wJalrXUtnFEMI-K7MDENG-secret-access-key";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEJr-session-token";

/// moto's server with the bucket created, and a directory for its log; `None` (skipped) where
/// moto is not installed, outside CI.
fn store(test: &str) -> Option<(S3Server, TempDir)> {
    if !moto_installed() {
        assert!(
            !in_ci(),
            "moto's server is not installed, and CI must run {test}: pip install -r tests/requirements-s3.txt"
        );
        eprintln!("SKIPPED {test}: moto's server is not installed (pip install -r tests/requirements-s3.txt)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(&dir.path().join("moto.log")).unwrap_or_else(|e| panic!("{e}"));
    server.create_bucket(BUCKET);
    Some((server, dir))
}

/// suite-basic judged by `judge`, its verdicts cached at `cache_dir` on `server`, with the variables
/// a user of an S3-compatible store sets.
fn on_store(judge: &FakeJudge, server: &S3Server, cache_dir: &str) -> Command {
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", cache_dir);
    aws(&mut command, &server.endpoint());
    command
}

/// The standard variables of an S3-compatible store at `endpoint`.
fn aws(command: &mut Command, endpoint: &str) {
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .env("AWS_REGION", "us-east-1");
}

/// Whether a key is an entry's: `PREFIX/ab/cdef….json`, as in a cache directory.
fn is_entry(key: &str, prefix: &str) -> bool {
    let Some(rest) = key.strip_prefix(&format!("{prefix}/")) else { return false };
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    matches!(rest.split_once('/'), Some((fan, name)) if fan.len() == 2 && hex(fan)
        && name.strip_suffix(".json").is_some_and(|n| n.len() == 62 && hex(n)))
}

fn assert_no_secret(text: &str, what: &str) {
    assert!(!text.contains(SECRET_KEY) && !text.contains(SESSION_TOKEN), "{what} shows a secret:\n{text}");
}

#[test]
fn every_cache_mode_works_on_the_store() {
    let Some((server, _dir)) = store("every_cache_mode_works_on_the_store") else { return };
    let judge = FakeJudge::start();
    let url = format!("s3://{BUCKET}/ci/main");
    let evals = ["passes", "trimmed_seven"];

    // on: judged once, each verdict one object.
    let first = run_exact(on_store(&judge, &server, &url), &evals);
    assert_eq!(first.code, Some(0), "{}", first.all());
    assert_eq!(judge.requests(), 8, "{}", first.all());
    let keys = server.keys(BUCKET, "ci/main/");
    assert_eq!(keys.len(), 8, "{keys:?}");
    assert!(keys.iter().all(|k| is_entry(k, "ci/main")), "{keys:?}");
    for key in &keys {
        let object = server.object(BUCKET, key);
        let entry: serde_json::Value = serde_json::from_str(&object).expect("an entry is JSON, written whole");
        assert_eq!(entry["judge"], "openai:fake-judge", "{object}");
        assert!(entry["verdict"]["rationale"].is_string(), "{object}");
        assert_no_secret(&object, key);
    }
    assert_no_secret(&first.all(), "the run");

    // on again: every verdict read from the store.
    let again = run_exact(on_store(&judge, &server, &url), &evals);
    assert_eq!(again.code, Some(0), "{}", again.all());
    assert_eq!(judge.requests(), 8, "the rerun judged again:\n{}", again.all());
    assert_eq!(run_totals(&again)["cached"], 8, "{}", again.all());

    // replay, as a pull request runs it: no judge server, no key.
    let replay = || {
        let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
        command.env("JUDGE_MODEL", "openai:fake-judge").env("JUDGE_CACHE", "replay").env("JUDGE_CACHE_DIR", &url);
        aws(&mut command, &server.endpoint());
        command
    };
    let replayed = run_exact(replay(), &evals);
    assert_eq!(replayed.code, Some(0), "{}", replayed.all());
    assert_eq!(run_totals(&replayed)["cached"], 8, "{}", replayed.all());
    // A miss is a replay miss, naming the store.
    let missed = run_exact(replay(), &["static_str"]);
    assert_eq!(missed.code, Some(101), "{}", missed.all());
    assert!(
        missed.stdout.contains("in s3://verdicts/ci/main, and JUDGE_CACHE=replay forbids judge calls"),
        "{}",
        missed.all()
    );

    // refresh: judged again, once each, and overwritten in place.
    let mut refresh = on_store(&judge, &server, &url);
    refresh.env("JUDGE_CACHE", "refresh");
    let refreshed = run_exact(refresh, &evals);
    assert_eq!(refreshed.code, Some(0), "{}", refreshed.all());
    assert_eq!(judge.requests(), 16, "{}", refreshed.all());
    assert_eq!(server.keys(BUCKET, "ci/main/"), keys);

    // off: judged, nothing written.
    let mut off = on_store(&judge, &server, &url);
    off.env("JUDGE_CACHE", "off");
    let unkept = run_exact(off, &["static_str"]);
    assert_eq!(unkept.code, Some(0), "{}", unkept.all());
    assert_eq!(judge.requests(), 17);
    assert_eq!(server.keys(BUCKET, ""), keys, "off writes nothing");
}

#[test]
fn a_corrupt_or_partial_object_is_a_miss_and_is_written_again() {
    let Some((server, _dir)) = store("a_corrupt_or_partial_object_is_a_miss_and_is_written_again") else { return };
    let judge = FakeJudge::start();
    let url = format!("s3://{BUCKET}/pr");
    let run = run_exact(on_store(&judge, &server, &url), &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let [key] = <[String; 1]>::try_from(server.keys(BUCKET, "pr/")).unwrap();
    let whole = server.object(BUCKET, &key);

    for (damage, bytes) in [("partial", &whole.as_bytes()[..whole.len() / 2]), ("corrupt", &b"\x00\xffgarbage"[..])] {
        server.put_object(BUCKET, &key, bytes);
        let before = judge.requests();
        let run = run_exact(on_store(&judge, &server, &url), &["passes"]);
        assert_eq!(run.code, Some(0), "a {damage} object: {}", run.all());
        assert_eq!(judge.requests(), before + 1, "a {damage} object is a miss:\n{}", run.all());
        let rewritten: serde_json::Value = serde_json::from_str(&server.object(BUCKET, &key)).unwrap();
        assert_eq!(rewritten["judge"], "openai:fake-judge", "a {damage} object is written again");
    }
}

#[test]
fn judge_toml_may_name_the_store() {
    let Some((server, dir)) = store("judge_toml_may_name_the_store") else { return };
    let judge = FakeJudge::start();
    let config = dir.path().join("judge.toml");
    std::fs::write(&config, format!("cache_dir = \"s3://{BUCKET}/from-toml\"\n")).unwrap();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CONFIG", &config);
    aws(&mut command, &server.endpoint());
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(server.keys(BUCKET, "from-toml/").len(), 1, "{}", run.all());
}

/// The first eval's failure, as printed.
fn failure(run: &HarnessRun) -> &str {
    let at = run.stdout.find("eval could not be scored").unwrap_or_else(|| panic!("no eval failed:\n{}", run.all()));
    run.stdout[at..].lines().next().unwrap()
}

#[test]
fn an_unreachable_store_is_a_clear_error_and_nothing_is_judged() {
    // A port nothing listens on: the store is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let judge = FakeJudge::start();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", format!("s3://{BUCKET}/ci"));
    aws(&mut command, &format!("http://127.0.0.1:{port}"));
    let run = run_exact(command, &["passes", "static_str", "clock_hands"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let message = failure(&run);
    assert!(message.contains("the verdict cache at s3://verdicts/ci could not be read"), "{message}");
    assert!(message.contains("check AWS_ENDPOINT_URL, AWS_REGION and the credentials"), "{message}");
    assert_eq!(
        run.stdout.matches("the verdict cache at s3://verdicts/ci could not be read").count(),
        3,
        "{}",
        run.all()
    );
    assert_eq!(judge.requests(), 0, "no verdict is paid for that could not be kept");
    assert_no_secret(&run.all(), "the run");
}

#[test]
fn bad_credentials_and_a_missing_bucket_are_clear_errors_that_show_no_secret() {
    let Some((server, dir)) = store("bad_credentials_and_a_missing_bucket_are_clear_errors_that_show_no_secret") else {
        return;
    };
    let judge = FakeJudge::start();

    // The bucket must exist: the cache does not create it.
    let reports = dir.path().join("reports");
    let mut command = on_store(&judge, &server, "s3://no-such-bucket/ci");
    command.env("JUDGE_REPORT_DIR", &reports);
    let run = run_exact(command, &["passes"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let message = failure(&run);
    assert!(message.contains("the verdict cache at s3://no-such-bucket/ci could not be read"), "{message}");
    assert!(message.contains("that the bucket exists (the cache does not create it)"), "{message}");
    assert!(!server.bucket_exists("no-such-bucket"));
    assert_eq!(judge.requests(), 0, "nothing judged that could not be kept");

    // Credentials the store does not know.
    server.check_credentials();
    let mut command = on_store(&judge, &server, &format!("s3://{BUCKET}/ci"));
    command.env("JUDGE_REPORT_DIR", &reports);
    let before = judge.requests();
    let run = run_exact(command, &["passes", "static_str"]);
    assert_eq!(run.code, Some(101), "{}", run.all());
    let message = failure(&run);
    assert!(message.contains("the verdict cache at s3://verdicts/ci could not be read"), "{message}");
    assert!(message.contains("403") || message.contains("InvalidAccessKeyId"), "{message}");
    assert!(message.contains("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN"), "{message}");
    assert_eq!(judge.requests(), before, "nothing judged");

    assert_no_secret(&run.all(), "the run");
    let written = files(&reports);
    assert!(!written.is_empty());
    for file in written {
        assert_no_secret(&std::fs::read_to_string(&file).unwrap(), &file.display().to_string());
    }
}

#[test]
fn a_cache_dir_url_of_another_store_is_a_clear_error() {
    let judge = FakeJudge::start();
    let mut command = harness(env!("CARGO_BIN_EXE_suite-basic"));
    command
        .env("JUDGE_MODEL", "openai:fake-judge")
        .env("OPENAI_BASE_URL", judge.base_url())
        .env("JUDGE_CACHE_DIR", "gs://verdicts/ci");
    let run = run_exact(command, &["passes"]);
    assert_ne!(run.code, Some(0), "{}", run.all());
    assert!(run.all().contains("JUDGE_CACHE_DIR"), "{}", run.all());
    assert!(
        run.all().contains("is a `gs://` URL; the verdict cache is a directory or an S3-compatible store"),
        "{}",
        run.all()
    );
    assert_eq!(judge.requests(), 0);
}

/// judge-runtime's default features compile no object store client (nor llama.cpp); `s3` adds it.
#[test]
fn the_default_build_compiles_no_object_store() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let tree = |features: &[&str]| {
        let output = judge_tests::nested_cargo()
            .current_dir(workspace)
            .args(["tree", "--offline", "-q", "-p", "judge-runtime", "-e", "normal", "--prefix", "none"])
            .args(features)
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let default = tree(&[]);
    assert!(!default.contains("object_store") && !default.contains("llama-cpp"), "{default}");
    assert!(tree(&["--features", "s3"]).contains("object_store v0.12"));
}
