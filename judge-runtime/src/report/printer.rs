//! Everything a person sees on the terminal, besides the lines libtest-mimic prints itself.
//! No other module prints.
//!
//! The printer honours the libtest options that libtest-mimic parses, as libtest-mimic's own
//! printer does:
//! - `--quiet`: the judge's notices are dropped and its summary shortened to one line;
//! - `--color`: `error:` and `warning:` are coloured on a terminal (`auto`), always or never; with
//!   `never`, no escape code is written, so the live progress line becomes plain lines;
//! - `--format json`: stdout is libtest's JSON stream, so the judge's summary goes to stderr;
//! - `--logfile PATH`: libtest writes its lines to the file instead of stdout, and so does the
//!   judge's summary; notices, warnings and errors go to stderr and to the file as well. libtest
//!   truncates the file when the run starts and writes through its own handle, so the judge's
//!   lines are kept until the run ends and then appended ([`finish`]).

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use libtest_mimic::{Arguments, ColorSetting, FormatSetting};

use crate::agreement::Agreement;
use crate::error::{ConfigError, ReportError};
use crate::outcome::RunTotals;

/// The printer of this process, configured from its arguments by [`configure`].
static PRINTER: OnceLock<Printer> = OnceLock::new();

/// What a line is, which decides where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A summary line of the run, on stdout beside libtest's (`judge: 12 verdicts …`).
    Summary,
    /// A summary line that `--quiet` drops.
    Detail,
    /// A note on stderr (`judge: …`), dropped by `--quiet`.
    Notice,
    /// A warning on stderr (`warning: …`), always shown.
    Warning,
    /// An error on stderr (`error: …`), always shown.
    Error,
}

/// Where a line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// The options that shape what is printed.
#[derive(Debug)]
pub(crate) struct Printer {
    quiet: bool,
    color: ColorSetting,
    json: bool,
    logfile: Option<PathBuf>,
    /// The lines for the log file, kept until the run ends.
    log: Mutex<Vec<String>>,
}

impl Default for Printer {
    fn default() -> Self {
        Self { quiet: false, color: ColorSetting::Auto, json: false, logfile: None, log: Mutex::default() }
    }
}

impl Printer {
    /// The printer for libtest `args`.
    pub fn new(args: &Arguments) -> Self {
        Self {
            quiet: args.quiet,
            color: args.color.unwrap_or(ColorSetting::Auto),
            json: matches!(args.format, Some(FormatSetting::Json)),
            logfile: args.logfile.as_ref().map(PathBuf::from),
            log: Mutex::default(),
        }
    }

    /// Where a line of `class` goes on the terminal, if anywhere.
    pub fn stream(&self, class: Class) -> Option<Stream> {
        match class {
            Class::Notice | Class::Detail if self.quiet => None,
            // libtest's lines go to the log file instead of stdout; the summary follows them.
            Class::Summary | Class::Detail if self.logfile.is_some() && !self.json => None,
            Class::Summary | Class::Detail if self.json => Some(Stream::Stderr),
            Class::Summary | Class::Detail => Some(Stream::Stdout),
            Class::Notice | Class::Warning | Class::Error => Some(Stream::Stderr),
        }
    }

    /// Whether a line of `class` goes to the log file too. The JSON stream in the file stays JSON.
    pub fn logs(&self, class: Class) -> bool {
        self.logfile.is_some() && !self.json && !(self.quiet && matches!(class, Class::Notice | Class::Detail))
    }

    /// Whether escape codes may be written to `stream`.
    pub fn colors(&self, stream: Stream) -> bool {
        match self.color {
            ColorSetting::Always => true,
            ColorSetting::Never => false,
            ColorSetting::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && match stream {
                        Stream::Stdout => std::io::stdout().is_terminal(),
                        Stream::Stderr => std::io::stderr().is_terminal(),
                    }
            }
        }
    }

    /// `text` as a line of `class`, coloured or not.
    pub fn render(class: Class, text: &str, colored: bool) -> String {
        let (prefix, color) = match class {
            Class::Summary | Class::Detail | Class::Notice => ("judge:", None),
            Class::Warning => ("warning:", Some("\x1b[1;33m")),
            Class::Error => ("error:", Some("\x1b[1;31m")),
        };
        match color {
            Some(color) if colored => format!("{color}{prefix}\x1b[0m {text}"),
            _ => format!("{prefix} {text}"),
        }
    }

    /// Writes a line of `class`.
    pub fn print(&self, class: Class, text: &str) {
        if let Some(stream) = self.stream(class) {
            let line = Self::render(class, text, self.colors(stream));
            let _ = match stream {
                Stream::Stdout => writeln!(std::io::stdout().lock(), "{line}"),
                Stream::Stderr => writeln!(std::io::stderr().lock(), "{line}"),
            };
        }
        if self.logs(class) {
            self.log.lock().unwrap_or_else(|e| e.into_inner()).push(Self::render(class, text, false));
        }
    }

    /// Appends the kept lines to the log file.
    fn finish(&self) {
        let lines = std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()));
        let Some(path) = self.logfile.as_ref().filter(|_| !lines.is_empty()) else { return };
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all((lines.join("\n") + "\n").as_bytes()));
        if let Err(error) = appended {
            let text = format!("cannot append the judge's lines to the log file {}: {error}", path.display());
            let _ = writeln!(std::io::stderr().lock(), "{}", Self::render(Class::Error, &text, false));
        }
    }
}

/// Sets up the printer from the run's libtest arguments. Called once, first thing.
pub(crate) fn configure(args: &Arguments) {
    let _ = PRINTER.set(Printer::new(args));
}

fn printer() -> &'static Printer {
    PRINTER.get_or_init(Printer::default)
}

/// Ends the run's printing: the lines kept for the log file are appended to it.
pub(crate) fn finish() {
    printer().finish();
}

/// Whether `--quiet` was given.
pub(crate) fn quiet() -> bool {
    printer().quiet
}

/// Prints an error.
pub(crate) fn error(text: &str) {
    printer().print(Class::Error, text);
}

/// Prints a warning.
pub(crate) fn warning(text: &str) {
    printer().print(Class::Warning, text);
}

/// Prints a note of the judge's (`judge: …` on stderr), e.g. a provider that turned a request
/// option off for the rest of the run.
pub(crate) fn notice(text: &str) {
    printer().print(Class::Notice, text);
}

/// Prints a summary line of the run (`judge: …` beside libtest's summary).
pub(crate) fn summary(text: &str) {
    printer().print(Class::Summary, text);
}

/// Prints a summary line that `--quiet` drops.
pub(crate) fn detail(text: &str) {
    printer().print(Class::Detail, text);
}

/// Whether a live progress line may be drawn: `--color never` forbids the escape codes that
/// redraw it in place.
pub(crate) fn live_line_allowed() -> bool {
    printer().color != ColorSetting::Never
}

/// Draws the live progress line in place of the previous one.
pub(crate) fn progress_live(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{text}");
    let _ = stderr.flush();
}

/// Prints a progress line.
pub(crate) fn progress_plain(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
}

/// Erases the live progress line.
pub(crate) fn progress_clear() {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K");
    let _ = stderr.flush();
}

/// The binary has no evals: `main!()` without `#[llm_eval]`.
pub(crate) fn no_evals_registered() {
    error(
        "this test binary has no evals: no function carries #[llm_eval].\n\
         Add #[llm_eval(rubric = \"...\")] to a function that returns the output to judge, in this test \
         target, or remove `judge_runtime::main!()` (and `harness = false`) from it.",
    );
}

/// Several evals have one name.
pub(crate) fn duplicate_names(names: &[String]) {
    error(&format!(
        "more than one eval is named {}; give each a distinct `name = \"...\"` in #[llm_eval]",
        names.join(", ")
    ));
}

/// Warns of judge.toml's `[evals."NAME"]` sections that look meant for this binary but name none
/// of its evals: they apply to nothing.
pub(crate) fn unknown_eval_sections(unknown: &[&str], evals: &[String]) {
    for name in unknown {
        // The registered eval with the same last segment, if any: a moved module, or a missing path.
        let short = name.rsplit("::").next().unwrap_or(name);
        let near = evals.iter().find(|e| e.rsplit("::").next() == Some(short));
        let hint = near.map_or(String::new(), |e| format!(" (did you mean [evals.\"{e}\"]?)"));
        warning(&format!(
            "judge.toml's section [evals.\"{name}\"] names no eval of this test binary{hint}, so it applies \
             to none; sections are named by the full test name, as `--list` prints it"
        ));
    }
}

/// No judge is configured, and the embedded one (`model`) judges.
pub(crate) fn using_embedded_judge(model: &str) {
    notice(&format!(
        "no judge is configured (JUDGE_MODEL, judge.toml); evals without a `judge` use the embedded judge, \
         {model} — a small offline model for clear-cut checks, not a substitute for a strong judge"
    ));
}

/// The settings could not be read.
pub(crate) fn config_error(error: &ConfigError) {
    self::error(&error.to_string());
}

/// The async runtime could not start.
pub(crate) fn runtime_error(error: &std::io::Error) {
    self::error(&format!("cannot start the async runtime that drives the judge: {error}"));
}

/// The run's last line: what the judging cost; with `--quiet`, only the verdicts.
pub(crate) fn run_totals(totals: &RunTotals) {
    summary(&run_totals_text(totals, quiet()));
}

fn run_totals_text(totals: &RunTotals, quiet: bool) -> String {
    let RunTotals { cache_hits, shared, judged, calls } = totals;
    let verdicts =
        format!("{} verdicts ({judged} judged, {cache_hits} cached, {shared} shared)", judged + cache_hits + shared);
    if quiet {
        return verdicts;
    }
    let cost = calls.cost().map_or(String::new(), |cost| format!("; cost {cost:.4}"));
    format!(
        "{verdicts}; {} calls, {} retries, {} rate-limited; {} prompt + {} completion tokens{cost}",
        calls.calls, calls.retries, calls.throttled, calls.usage.prompt_tokens, calls.usage.completion_tokens
    )
}

/// The judges' agreement over the run's samples, when ensembles judged any.
pub(crate) fn agreement(agreement: &Agreement) {
    let alpha = match agreement.alpha {
        Some(alpha) => format!("Krippendorff's alpha {alpha:.2} (interval)"),
        None => "every score was the same, so Krippendorff's alpha is undefined".to_owned(),
    };
    detail(&format!("agreement of {} over {} samples: {alpha}", agreement.judges.join(", "), agreement.samples));
}

/// How the judge agreed with a dataset's human labels.
pub(crate) fn calibration(dataset: &str, calibration: &crate::calibration::Calibration) {
    detail(&format!("judge against the human labels of {dataset}: {}", calibration.summary_line()));
}

/// What the bias probes found over a dataset's rows.
pub(crate) fn dataset_probes(dataset: &str, probes: &crate::probes::Probes) {
    detail(&format!("bias probes over the rows of {dataset}: {}", probes.findings()));
}

/// The judge's accuracy on a dataset's synthetic pairs.
pub(crate) fn synthetic(dataset: &str, synthetic: &crate::synthetic::SyntheticRecord) {
    detail(&format!("judge on the synthetic pairs of {dataset}: {}", synthetic.summary_line()));
}

/// A pairwise dataset's win rates, raw and controlled for length.
pub(crate) fn win_rates(dataset: &str, win_rates: &crate::report::datasets::WinRates) {
    detail(&format!("comparisons of {dataset}: {}", win_rates.summary_line()));
}

/// A deferred snapshot assertion failed for another reason than a change.
pub(crate) fn snapshot_error(text: &str) {
    error(text);
}

/// Where the run's reports went.
pub(crate) fn reports_written(paths: &[PathBuf]) {
    if !paths.is_empty() {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        detail(&format!("reports: {}", paths.join(", ")));
    }
}

/// The score baseline to compare with does not exist yet, and this run saves one.
pub(crate) fn first_baseline(path: &std::path::Path) {
    notice(&format!("no score baseline at {} yet: this run saves the first, nothing is compared", path.display()));
}

/// A report or the score baseline could not be read or written: the run fails.
pub(crate) fn report_error(error: &ReportError) {
    self::error(&error.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(args: &[&str]) -> Printer {
        let args = Arguments::from_iter(std::iter::once("evals").chain(args.iter().copied()));
        Printer::new(&args)
    }

    #[test]
    fn quiet_shortens_the_totals() {
        let totals = RunTotals { cache_hits: 2, shared: 1, judged: 3, calls: Default::default() };
        assert_eq!(run_totals_text(&totals, true), "6 verdicts (3 judged, 2 cached, 1 shared)");
        assert!(run_totals_text(&totals, false).starts_with("6 verdicts (3 judged, 2 cached, 1 shared); 0 calls"));
    }

    #[test]
    fn by_default_the_summary_is_on_stdout_and_notes_on_stderr() {
        let p = printer(&[]);
        assert_eq!(p.stream(Class::Summary), Some(Stream::Stdout));
        assert_eq!(p.stream(Class::Detail), Some(Stream::Stdout));
        assert_eq!(p.stream(Class::Notice), Some(Stream::Stderr));
        assert_eq!(p.stream(Class::Error), Some(Stream::Stderr));
        assert!(!p.logs(Class::Error));
    }

    #[test]
    fn quiet_drops_notices_and_details() {
        let p = printer(&["--quiet"]);
        assert_eq!(p.stream(Class::Notice), None);
        assert_eq!(p.stream(Class::Detail), None);
        assert_eq!(p.stream(Class::Summary), Some(Stream::Stdout));
        assert_eq!(p.stream(Class::Warning), Some(Stream::Stderr));
        assert_eq!(p.stream(Class::Error), Some(Stream::Stderr));
    }

    #[test]
    fn color_never_writes_no_escape_codes_and_always_does() {
        let never = printer(&["--color", "never"]);
        assert!(!never.colors(Stream::Stderr) && !never.colors(Stream::Stdout));
        assert_eq!(Printer::render(Class::Error, "bad", never.colors(Stream::Stderr)), "error: bad");
        let always = printer(&["--color", "always"]);
        let line = Printer::render(Class::Warning, "odd", always.colors(Stream::Stderr));
        assert_eq!(line, "\x1b[1;33mwarning:\x1b[0m odd");
        assert_eq!(Printer::render(Class::Summary, "3 verdicts", true), "judge: 3 verdicts", "no colour needed");
    }

    #[test]
    fn json_keeps_stdout_for_libtests_stream() {
        let p = printer(&["--format", "json"]);
        assert_eq!(p.stream(Class::Summary), Some(Stream::Stderr));
        assert_eq!(p.stream(Class::Detail), Some(Stream::Stderr));
        let logged = printer(&["--format", "json", "--logfile", "x.log"]);
        assert!(!logged.logs(Class::Summary) && !logged.logs(Class::Error), "the JSON in the file stays JSON");
        assert_eq!(logged.stream(Class::Summary), Some(Stream::Stderr));
    }

    #[test]
    fn the_log_file_gets_our_lines_after_libtests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let p = printer(&["--logfile", path.to_str().unwrap(), "--color", "always"]);
        assert_eq!(p.stream(Class::Summary), None, "into the file, as libtest's lines");
        assert_eq!(p.stream(Class::Error), Some(Stream::Stderr));
        p.print(Class::Summary, "3 verdicts");
        p.print(Class::Error, "bad");
        // libtest creates the file when the run starts and writes its lines.
        std::fs::write(&path, "test result: ok.\n").unwrap();
        p.finish();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "test result: ok.\njudge: 3 verdicts\nerror: bad\n");
    }
}
