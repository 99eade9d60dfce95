//! The soak test: 200 evals × 3 samples against a judge that fails a third of its requests, and
//! harness processes killed while they share one cache. Bounded in count and time; loopback only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use judge_tests::{FakeJudge, FakeJudgeConfig, Faults, HarnessRun};

use crate::common::{files, run_totals, soak};

/// Every cached verdict under `dir`, by cache key: (score, method, rationale). Panics on an entry
/// that does not parse: a torn write would show here.
fn verdicts(dir: &Path) -> BTreeMap<String, (f64, String, String)> {
    files(dir)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let entry: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{} is not a whole entry: {e}", path.display()));
            let verdict = &entry["verdict"];
            let key = entry["key"].as_str().unwrap_or_else(|| panic!("{} has no key", path.display())).to_owned();
            let value = (
                verdict["score"].as_f64().unwrap(),
                verdict["method"].as_str().unwrap().to_owned(),
                verdict["rationale"].as_str().unwrap().to_owned(),
            );
            (key, value)
        })
        .collect()
}

fn passed(run: &HarnessRun) -> BTreeSet<String> {
    run.stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test ")?.strip_suffix(" ... ok"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_suite_survives_a_faulty_judge_with_exactly_the_verdicts_of_a_healthy_one() {
    let healthy = FakeJudge::start();
    let clean_cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let clean = HarnessRun::of(soak(&healthy, clean_cache.path()).env("JUDGE_MAX_CONCURRENCY", "32"));
    let clean_wall = start.elapsed();
    assert_eq!(clean.code, Some(0), "{}", clean.all());

    let faults = Faults {
        seed: 7,
        // 30 % transient failures.
        rate_429: 0.05,
        rate_500: 0.07,
        rate_503: 0.06,
        rate_malformed_json: 0.04,
        rate_truncated: 0.04,
        rate_wrong_content_type: 0.04,
        // 5 % stalls, cut by a 1 s timeout.
        rate_stall: 0.05,
        stall: Duration::from_secs(60),
        // 10 % replies that are not verdicts.
        rate_malformed_verdict: 0.10,
        max_consecutive: 3,
        ..Faults::default()
    };
    let faulty = FakeJudge::start_with(FakeJudgeConfig { faults, ..Default::default() });
    let cache = tempfile::tempdir().unwrap();
    let mut command = soak(&faulty, cache.path());
    command.env("JUDGE_TIMEOUT", "1").env("JUDGE_MAX_CONCURRENCY", "32");
    let start = Instant::now();
    let run = HarnessRun::of(&mut command);
    let wall = start.elapsed();
    assert_eq!(run.code, Some(0), "a spurious failure:\n{}", run.all());
    assert_eq!(passed(&run).len(), 200);

    let expected = verdicts(clean_cache.path());
    assert_eq!(expected.len(), 600);
    assert_eq!(verdicts(cache.path()), expected, "the faults changed a verdict");

    let totals = run_totals(&run);
    let injected = faulty.faults();
    let transient: u64 = injected.iter().filter(|(kind, _)| **kind != "malformed_verdict").map(|(_, n)| n).sum();
    let reasks = injected.get("malformed_verdict").copied().unwrap_or(0);
    // Every transient fault costs one retry, every malformed verdict one re-ask, nothing more.
    assert_eq!(totals["retries"], transient, "{totals:?} {injected:?}");
    assert_eq!(totals["calls"], 600 + transient + reasks, "{totals:?} {injected:?}");
    assert_eq!(faulty.requests(), totals["calls"]);
    assert!(transient > 100 && reasks > 30, "the faults did not bite: {injected:?}");
    println!(
        "soak: 200 evals × 3 samples, {} calls ({transient} retries after {injected:?}, {reasks} re-asks), \
         wall {:.1} s (fault-free: {:.1} s)",
        totals["calls"],
        wall.as_secs_f64(),
        clean_wall.as_secs_f64()
    );
}

#[test]
fn killed_processes_leave_no_corrupt_entry_and_lose_no_completed_verdict() {
    let judge = FakeJudge::start_with(FakeJudgeConfig { latency: Duration::from_millis(20), ..Default::default() });
    let cache = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    // Four processes run the whole suite on one cache, writing the same entries at once.
    let mut children: Vec<_> = (0..4)
        .map(|i| {
            let log = logs.path().join(format!("{i}.out"));
            let mut command = soak(&judge, cache.path());
            command
                .env("JUDGE_MAX_CONCURRENCY", "8")
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(Stdio::null());
            (command.spawn().expect("the harness starts"), log)
        })
        .collect();
    // Let them get going, then kill them mid-run.
    let deadline = Instant::now() + Duration::from_secs(30);
    while verdicts(cache.path()).len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for (child, _) in &mut children {
        child.kill().expect("kill the harness");
        child.wait().unwrap();
    }
    let completed: BTreeSet<String> = children
        .iter()
        .flat_map(|(_, log)| {
            let text = std::fs::read_to_string(log).unwrap();
            passed(&HarnessRun { code: None, stdout: text, stderr: String::new() })
        })
        .collect();
    assert!(!completed.is_empty(), "no eval finished before the kill; the test did not test");

    // Every entry is whole (a torn one would fail to parse in `verdicts`), and every eval reported
    // passed before the kill replays from the cache with no judge call.
    let cached = verdicts(cache.path());
    let mut replay = soak(&judge, cache.path());
    replay.env("JUDGE_CACHE", "replay");
    let before = judge.requests();
    let run = HarnessRun::of(&mut replay);
    assert_eq!(judge.requests(), before, "replay called the judge");
    let replayed = passed(&run);
    let lost: Vec<&String> = completed.difference(&replayed).collect();
    assert!(lost.is_empty(), "completed before the kill but not in the cache: {lost:?}");
    assert!(replayed.len() * 3 <= cached.len());

    // The next normal run finishes the suite, judging only what is missing.
    let run = HarnessRun::of(&mut soak(&judge, cache.path()));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(judge.requests() - before, 600 - cached.len() as u64);
}
