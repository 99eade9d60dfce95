//! Writing a run's report files: JSON, JUnit XML, HTML and Markdown where asked for, and the
//! Markdown summary appended to `$GITHUB_STEP_SUMMARY` when that is set (not under nextest, whose
//! processes would each append a table of one eval: append `BINARY.md` after the run instead).
//!
//! Every file is written whole (temporary file, then rename), so a reader never sees half a
//! report. Under `cargo nextest run` each test is a process of its own: the processes of one run
//! (one `NEXTEST_RUN_ID`) take turns under a lock, each adding its evals to the run's record and
//! rewriting the reports from it, so the last one leaves reports of the whole run. Without a JSON
//! report, that record is kept in `.BINARY.judge-record.json` beside the first report. Each
//! process rereads and rewrites the whole record: fine for hundreds of evals, slow for tens of
//! thousands.

use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::report::record::{EvalRecord, RunRecord};
use crate::report::{html, junit, markdown};
use crate::settings::ReportPaths;

/// Writes the reports `paths` asks for, with this process's `evals` (of a run that started at
/// `started`) added to the run's record.
/// Every report is attempted; returns the files written and what could not be.
pub(crate) fn write(
    paths: &ReportPaths,
    lock_dir: &Path,
    binary: &str,
    started: std::time::SystemTime,
    mut evals: Vec<EvalRecord>,
) -> (Vec<PathBuf>, Vec<ReportError>) {
    evals.sort_by(|a, b| a.name.cmp(&b.name));
    let failure = |what, setting, path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Write { what, setting, path, source }
    };
    let (mut written, mut errors) = (Vec::new(), Vec::new());
    let nextest = std::env::var_os("NEXTEST_RUN_ID").is_some();
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty() && !nextest) {
        let path = PathBuf::from(summary);
        match append(&path, &markdown::render(binary, &evals)) {
            Ok(()) => written.push(path),
            Err(source) => errors.push(failure("the job summary", "GITHUB_STEP_SUMMARY", &path)(source)),
        }
    }
    let [json, junit_path, html_path, markdown_path] = paths.resolve(binary);
    let reports: [Report; 4] = [
        (json.clone(), "the JSON report", "JUDGE_REPORT_JSON or report_dir", json_text),
        (junit_path, "the JUnit report", "JUDGE_REPORT_JUNIT or report_dir", junit::render),
        (html_path, "the HTML report", "JUDGE_REPORT_HTML or report_dir", html::render),
        (markdown_path, "the Markdown report", "JUDGE_REPORT_MARKDOWN or report_dir", |r| {
            markdown::render(&r.binary, &r.evals)
        }),
    ];
    let Some((first, first_what, first_setting, _)) = reports.iter().find(|report| report.0.is_some()) else {
        return (written, errors);
    };
    let first = first.clone().expect("found as set");
    // The record the processes of one nextest run share: the JSON report, or beside the first report.
    let shared = json.clone().or_else(|| nextest.then(|| first.with_file_name(format!(".{binary}.judge-record.json"))));
    let lock_path = shared.clone().unwrap_or_else(|| first.clone());
    let mut record = RunRecord::new(binary.to_owned(), started);
    let locked = crate::atomic_file::with_lock(lock_dir, &lock_path, || {
        // Only the processes of one nextest run share a run id: outside nextest, an earlier file
        // is another run's, and is not read (it may hold thousands of evals).
        if nextest
            && let Some(earlier) = shared.as_deref().and_then(read_record)
            && earlier.format == record.format
            && earlier.run_id == record.run_id
        {
            let this = std::mem::replace(&mut record, earlier);
            record.extend_run(&this);
        }
        record.merge(evals);
        // Each report is rendered and written on a thread of its own: at the end of the run, with
        // nothing else left to do, they take the cores there are.
        let record = &record;
        let outcomes = std::thread::scope(|scope| {
            let rendering: Vec<_> = reports
                .iter()
                .filter_map(|(path, what, setting, render)| {
                    let path = path.as_ref()?;
                    let writing =
                        scope.spawn(move || crate::atomic_file::write_durable(path, render(record).as_bytes()));
                    Some((path, what, setting, writing))
                })
                .collect();
            rendering
                .into_iter()
                .map(|(path, what, setting, writing)| {
                    let outcome = writing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (path, what, setting, outcome)
                })
                .collect::<Vec<_>>()
        });
        for (path, what, setting, outcome) in outcomes {
            match outcome {
                Ok(()) => written.push(path.clone()),
                Err(source) => errors.push(failure(what, setting, path)(source)),
            }
        }
        if let Some(shared) = shared.as_ref().filter(|shared| Some(*shared) != json.as_ref())
            && let Err(source) = crate::atomic_file::write(shared, json_text(record).as_bytes())
        {
            errors.push(failure("the run record", first_setting, shared)(source));
        }
    });
    if let Err(source) = locked {
        errors.push(failure(first_what, first_setting, &first)(source));
    }
    (written, errors)
}

/// A report file: its path if asked for, what it is and its variable (for errors), its renderer.
type Report = (Option<PathBuf>, &'static str, &'static str, fn(&RunRecord) -> String);

/// The record as the JSON report holds it.
pub(crate) fn json_text(record: &RunRecord) -> String {
    let mut text = crate::json_writer::to_string_pretty(record);
    text.push('\n');
    text
}

/// The record at `path`, if there is a readable one.
fn read_record(path: &Path) -> Option<RunRecord> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Appends `text` in one write, so that processes appending at once do not interleave.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(format!("{text}\n").as_bytes())
}
