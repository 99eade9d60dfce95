//! The text of an eval's failure, as libtest's failure section shows it and the reports store it.
//! Pure functions returning `String`: printing is the printer's.

use std::fmt::Write as _;

use crate::baseline::BaselineDelta;
use crate::outcome::{
    AllTies, Disagreement, EvalFailure, EvalOutcome, FailureKind, RowOutcome, SampleResult, VerdictSource,
};
use crate::report::record::{EvalRecord, Status};
use crate::settings::Rationales;
use judge_rules::words::OnTie;

/// How many failing rows a gate's failure lists.
const MAX_ROWS_LISTED: usize = 50;

/// How much of an output a failure message shows.
const OUTPUT_EXCERPT_CHARS: usize = 600;

/// The message of an eval that could not be scored.
pub(crate) fn eval_failure(failure: &EvalFailure) -> String {
    match failure {
        // It starts `PATH:LINE:`, as editors and CI annotations read it.
        EvalFailure::Dataset(error) => error.to_string(),
        _ => format!("eval could not be scored: {failure}"),
    }
}

/// What a gated dataset's failure tells of one of its rows: its line, id, and, when it did not
/// pass, its score and lowest sample's rationale, or why it could not be scored.
pub(crate) fn row_outcome(row: &EvalRecord) -> RowOutcome {
    let (id, line) = row.dataset.as_ref().map_or_else(|| (row.name.clone(), 0), |d| (d.id.clone(), d.line));
    let passed = row.status == Status::Passed;
    let why = match (row.score, row.threshold) {
        _ if passed => String::new(),
        (Some(score), Some(threshold)) => {
            // Below its threshold, or failed for another reason (a criterion, a regression, …),
            // which the first line of its message says.
            let reason = match row.failure {
                None | Some(FailureKind::BelowThreshold) => format!("scored {score:.2}, below {threshold:.2}"),
                Some(_) => one_line(row.message.as_deref().unwrap_or_default(), 200).trim_end_matches(':').to_owned(),
            };
            match row.samples.iter().min_by(|a, b| a.score.total_cmp(&b.score)) {
                Some(lowest) => format!("{reason}: {}", one_line(&lowest.rationale, 200)),
                None => reason,
            }
        }
        _ => one_line(row.message.as_deref().unwrap_or("could not be scored"), 300),
    };
    let points = row.dataset_row().and_then(|r| Some(r.scale.unwrap_or_default().denormalize(r.score?)));
    let human = row.dataset.as_ref().and_then(|d| d.human);
    RowOutcome { line, id, passed, why, points, human }
}

/// The message of a dataset whose share of passing rows is below its `min_pass_rate`: the counts,
/// then each failing row (in file order) with its score and its lowest sample's rationale, or
/// why it could not be scored.
pub(crate) fn gate_failed(file: &str, mut rows: Vec<RowOutcome>, min_pass_rate: f64, missed: &[String]) -> String {
    let passed = rows.iter().filter(|r| r.passed).count();
    let pass_rate = passed as f64 / rows.len().max(1) as f64;
    let mut out = String::new();
    if !missed.is_empty() {
        let _ = writeln!(out, "{}", calibration_failed(file, missed));
    }
    if crate::report::datasets::reaches(pass_rate, min_pass_rate) {
        let _ = writeln!(
            out,
            "{passed} of {} rows passed (pass rate {pass_rate:.2}), reaching min_pass_rate {min_pass_rate:.2}",
            rows.len()
        );
        return out.trim_end().to_owned();
    }
    let _ = write!(
        out,
        "{passed} of {} rows passed (pass rate {pass_rate:.2}), below min_pass_rate {min_pass_rate:.2}\nfailing rows of {file}:\n",
        rows.len(),
    );
    rows.retain(|r| !r.passed);
    rows.sort_by_key(|r| r.line);
    let more = rows.len().saturating_sub(MAX_ROWS_LISTED);
    for row in rows.into_iter().take(MAX_ROWS_LISTED) {
        let _ = writeln!(out, "  {} (line {}): {}", printable(&row.id), row.line, row.why);
    }
    if more > 0 {
        let _ = writeln!(out, "  … and {more} more (every row is in the reports: JUDGE_REPORT_DIR)");
    }
    out.trim_end().to_owned()
}

/// The message of a dataset whose judge misses its calibration gates (`min_kappa`, …) against the
/// rows' human labels: each gate missed, by how much.
pub(crate) fn calibration_failed(file: &str, missed: &[String]) -> String {
    let mut out = format!("the judge's agreement with the human labels of {file} misses its gates:");
    for line in missed {
        let _ = write!(out, "\n  {line}");
    }
    out
}

/// The first line of `text`, at most `max` characters of it, made printable; `…` where it is cut.
fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    let cut = line.chars().count() > max;
    let mut shown = printable(&line.chars().take(max).collect::<String>());
    if cut || text.lines().nth(1).is_some() {
        shown.push('…');
    }
    shown
}

/// The message of an eval that failed: below its threshold, or fallen below its baseline by more
/// than `max_score_drop`. The numbers, every sample's score (trimmed ones marked), the judge and
/// rubric, then the rationale and output of the lowest kept sample, or of every sample with
/// `JUDGE_RATIONALES=all`.
pub(crate) fn failed(
    outcome: &EvalOutcome,
    baseline: Option<BaselineDelta>,
    max_score_drop: Option<f64>,
    rationales: Rationales,
    max_output_chars: usize,
) -> String {
    let EvalOutcome { eval, settings, samples, summary, criteria, disagreement, all_ties, .. } = outcome;
    let k = samples.len();
    let mut out = String::new();
    let score = summary.score;
    match (outcome.passed(), baseline, max_score_drop) {
        (true, Some(base), Some(max)) => {
            let _ = writeln!(out, "{}", regression_line(score, base, max, settings.threshold));
        }
        _ if summary.passes(settings.threshold) => {
            let _ = writeln!(out, "scored {score:.2}, above the threshold {:.2}, but:", settings.threshold);
        }
        _ => {
            let _ = writeln!(out, "scored {score:.2}, below the threshold {:.2}", settings.threshold);
        }
    }
    for c in criteria {
        let verdict = match c.threshold {
            Some(t) if !c.passes() => format!("below its threshold {t:.2}"),
            Some(t) => format!("threshold {t:.2}"),
            None => "no threshold of its own".to_owned(),
        };
        let _ = writeln!(out, "  criterion {}: {:.2} (weight {}), {verdict}", c.name, c.summary.score, c.weight);
    }
    if let Some(d) = disagreement.filter(|d| d.flagged) {
        let _ = writeln!(out, "  {}", disagreement_text(d, settings));
    }
    if let Some(ties) = all_ties {
        let _ = writeln!(out, "  {}", ties_text(*ties, settings));
    }
    if let Some(probes) = &outcome.probes {
        for missed in probes.missed() {
            let _ = writeln!(out, "  {missed}");
        }
    }
    if let Some(adaptive) = &outcome.adaptive {
        let _ = writeln!(out, "  {}", adaptive.summary_line());
    }
    if k > 1 {
        let reduced = settings.reduce.describe(k);
        let _ = writeln!(
            out,
            "  {reduced}; median {:.2}, min {:.2}, max {:.2}, std dev {:.2}",
            summary.median, summary.min, summary.max, summary.std_dev
        );
    }
    if let Some(base) = baseline {
        let _ = writeln!(out, "  baseline:  {:.2} ({:+.2})", base.score, base.delta);
    }
    let _ = writeln!(out, "  eval:      {}:{}", eval.file, eval.line);
    match settings.panel.len() {
        1 => {
            let _ = writeln!(out, "  judge:     {}", settings.judge());
        }
        _ => {
            let _ = writeln!(
                out,
                "  judges:    {} (combined by {})",
                settings.judge_label(),
                settings.values.combine.name()
            );
        }
    }
    let _ = writeln!(out, "  set by:    {}", settings.sources.describe());
    if let Some(probes) = &outcome.probes {
        let _ = writeln!(out, "  probes:    {}", probes.findings());
    }
    let _ = writeln!(out, "  rubric:    {}", indent_rest(eval.rubric.trim(), 13));
    let scores: Vec<String> = samples
        .iter()
        .zip(&summary.trimmed)
        .map(|(s, trimmed)| format!("{}{}", s.verdict.show(), if *trimmed { " (trimmed)" } else { "" }))
        .collect();
    let _ = writeln!(out, "  scores:    {}", scores.join(", "));
    let _ = writeln!(out, "  tokens:    {}", eval_usage(samples));
    let lowest_kept = (0..k)
        .filter(|&i| !summary.trimmed[i])
        .min_by(|&a, &b| samples[a].verdict.normalized().total_cmp(&samples[b].verdict.normalized()).then(a.cmp(&b)))
        .expect("the trimmed mean keeps at least one sample");
    let shown: Vec<usize> = match rationales {
        Rationales::Lowest => vec![lowest_kept],
        Rationales::All => (0..k).collect(),
    };
    for i in shown {
        let sample = &samples[i];
        let mut notes = Vec::new();
        if i == lowest_kept && k > 1 {
            notes.push("the lowest kept");
        }
        if summary.trimmed[i] {
            notes.push("trimmed");
        }
        match sample.source {
            VerdictSource::Cached => notes.push("cached verdict"),
            VerdictSource::Shared => notes.push("verdict shared with an identical eval"),
            VerdictSource::Judged => {}
        }
        let notes = if notes.is_empty() { String::new() } else { format!(", {}", notes.join(", ")) };
        let _ = writeln!(out, "sample {} of {k}: {}{notes}", i + 1, sample.verdict.show());
        if let Some(label) = &sample.verdict.level {
            let description = settings.levels.as_ref().and_then(|l| l.named(label)).map(|l| &*l.description);
            let _ = writeln!(out, "  level:     {}", printable(&format!("{label}: {}", description.unwrap_or("?"))));
        }
        let _ = writeln!(out, "  rationale: {}", indent_rest(&printable(&sample.verdict.rationale), 13));
        let _ = writeln!(out, "  output:    {}", indent_rest(&output_excerpt(&sample.output), 13));
        if let Some(baseline) = &sample.compared_with {
            let _ = writeln!(out, "  versus:    {}", indent_rest(&output_excerpt(baseline), 13));
        }
        if let Some(total) = sample.truncated_from {
            let _ = writeln!(
                out,
                "  (the output has {total} characters; the judge saw the first {}: the `max_output_chars` setting)",
                max_output_chars
            );
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The first line of an eval that passed its threshold but fell past the score baseline's margin.
fn regression_line(score: f64, base: BaselineDelta, max_score_drop: f64, threshold: f64) -> String {
    format!(
        "scored {score:.2}, {:.2} below its baseline {:.2}: more than max_score_drop {max_score_drop:.2} allows, \
         though above the threshold {threshold:.2}",
        -base.delta, base.score
    )
}

/// The message of an eval that passed on its shard and fell past the score baseline's margin in
/// the merged run of the shards (`cargo judge merge --score-baseline`): the run's gate, applied to
/// the whole run.
pub(crate) fn regressed_in_merged_run(score: f64, base: BaselineDelta, max_score_drop: f64, threshold: f64) -> String {
    format!(
        "{}\n  baseline:  {:.2} ({:+.2}), compared by `cargo judge merge` over the merged shards",
        regression_line(score, base, max_score_drop, threshold),
        base.score,
        base.delta
    )
}

/// Tokens the eval's verdicts cost in this run, and how many verdicts cost none.
fn eval_usage(samples: &[SampleResult]) -> String {
    let mut usage = crate::Usage::default();
    let mut free = 0;
    for sample in samples {
        match sample.source {
            VerdictSource::Judged => usage += sample.verdict.usage,
            VerdictSource::Cached | VerdictSource::Shared => free += 1,
        }
    }
    let mut text = format!("{} prompt + {} completion", usage.prompt_tokens, usage.completion_tokens);
    if free > 0 {
        text.push_str(&format!(" ({free} of {} verdicts cached or shared: no call)", samples.len()));
    }
    text
}

/// A flagged disagreement of an ensemble's judges, in words.
fn disagreement_text(d: Disagreement, settings: &crate::settings::EvalSettings) -> String {
    format!(
        "the judges disagree: their scores of sample {} are {:.2} apart, more than max_spread {:.2}{}",
        d.sample + 1,
        d.spread,
        settings.max_spread.unwrap_or_default(),
        if settings.fail_on_disagreement { " (on_disagreement = \"fail\")" } else { "" }
    )
}

/// The note on an eval that passed although its judges disagreed more than `max_spread` allows
/// (`on_disagreement = "flag"`, the default), if they did.
pub(crate) fn disagreement_flagged(outcome: &EvalOutcome) -> Option<String> {
    outcome.disagreement.filter(|d| d.flagged).map(|d| disagreement_text(d, &outcome.settings))
}

/// Every comparison of an eval a tie, in words.
fn ties_text(ties: AllTies, settings: &crate::settings::EvalSettings) -> String {
    let fails = settings.values.on_tie == OnTie::Fail;
    format!(
        "every comparison is a tie ({} of {} split by order: each order preferred the output shown in its own \
         position): the judge could not tell the outputs apart{}",
        ties.split,
        ties.comparisons,
        if fails { " (on_tie = \"fail\")" } else { "; on_tie = \"fail\" fails such an eval" }
    )
}

/// The note on an eval that passed although every comparison was a tie (`on_tie = "pass"`, the
/// default), if it was.
pub(crate) fn ties_noted(outcome: &EvalOutcome) -> Option<String> {
    outcome.all_ties.map(|ties| ties_text(ties, &outcome.settings))
}

/// The message of an eval whose snapshot changed under `snapshot = "strict"`.
pub(crate) fn snapshot_changed(name: &str) -> String {
    format!(
        "the verdict's snapshot `{name}` changed (snapshot = \"strict\"): review the diff above with \
         `cargo insta review`, accept it with `cargo insta accept`, or reject it"
    )
}

/// Indents every line after the first by `width` spaces, so multi-line text lines up.
fn indent_rest(text: &str, width: usize) -> String {
    text.trim_end().replace('\n', &format!("\n{:width$}", ""))
}

fn output_excerpt(output: &str) -> String {
    let total = output.chars().count();
    if total <= OUTPUT_EXCERPT_CHARS {
        return printable(output);
    }
    let cut: String = output.chars().take(OUTPUT_EXCERPT_CHARS).collect();
    format!("{}… ({} more characters)", printable(&cut), total - OUTPUT_EXCERPT_CHARS)
}

/// Model text made safe for a terminal: control characters (an escape sequence could clear the
/// screen or hide lines of the report) are shown escaped, except newlines and tabs.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_text_lines_up() {
        assert_eq!(indent_rest("a\nb\n", 4), "a\n    b");
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("a\u{1b}[2Jb\0c\n\td"), "a\\u{1b}[2Jb\\u{0}c\n\td");
        assert_eq!(output_excerpt("\u{7}"), "\\u{7}");
    }

    #[test]
    fn long_outputs_are_cut_with_a_count() {
        let long = "é".repeat(OUTPUT_EXCERPT_CHARS + 5);
        let shown = output_excerpt(&long);
        assert!(shown.ends_with("… (5 more characters)"));
        assert_eq!(output_excerpt("short"), "short");
    }
}
