//! The Markdown summary: a table of the evals for a pull request or a CI job's summary page
//! (`$GITHUB_STEP_SUMMARY`), with the judge's rationale for each failure.

use std::fmt::Write as _;

use crate::outcome::VerdictSource;
use crate::report::escape::escaped as html;
use crate::report::record::{EvalRecord, Status};

/// A summary of `evals` (of the test binary `binary`) in GitHub-flavoured Markdown.
pub(crate) fn render(binary: &str, evals: &[EvalRecord]) -> String {
    let datasets = crate::report::record::datasets_of(evals);
    // Tests, as libtest counts them: a gated dataset is one, its rows are in its summary line.
    let (passed, failed, errors) =
        crate::report::datasets::test_counts(evals.iter().map(|e| (e.dataset.as_deref(), e.status)));
    let mut out = String::new();
    let mut verdict = vec![format!("{passed} passed")];
    if failed > 0 {
        verdict.push(format!("{failed} failed"));
    }
    if errors > 0 {
        verdict.push(format!("{errors} not scored"));
    }
    let costs: Vec<f64> = evals.iter().filter_map(|e| e.cost).collect();
    if !costs.is_empty() {
        verdict.push(format!("cost {:.4}", costs.iter().sum::<f64>()));
    }
    let _ = writeln!(out, "### judge: `{}` — {}\n", code(binary), verdict.join(", "));
    for dataset in &datasets {
        let mark = match dataset.gate {
            Some(Status::Failed) => "❌ ",
            Some(_) => "✅ ",
            None => "",
        };
        let _ = writeln!(
            out,
            "- {mark}dataset `{}` (`{}`): {}",
            code(&dataset.name),
            code(&dataset.file),
            crate::report::datasets::summary_line(dataset)
        );
        let told = [
            ("judge against human labels", dataset.calibration.as_ref().map(|c| c.summary_line())),
            ("bias probes over its rows", dataset.probes.as_ref().map(|p| p.findings())),
            ("comparisons", dataset.pairwise.as_ref().map(|w| w.summary_line())),
            ("judge on synthetic pairs", dataset.synthetic.as_ref().map(|s| s.summary_line())),
        ];
        for (what, line) in told.iter().filter_map(|(what, line)| Some((what, line.as_ref()?))) {
            let _ = writeln!(out, "  - {what}: {line}");
        }
    }
    if !datasets.is_empty() {
        out.push('\n');
    }
    out.push_str("| | eval | score | threshold | vs baseline | samples | judge |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for eval in evals {
        let mark = match eval.status {
            Status::Passed => "✅",
            Status::Failed => "❌",
            Status::Error => "⚠️",
        };
        let score = eval.score.map_or("—".to_owned(), |s| format!("{s:.2}"));
        let threshold = eval.threshold.map_or("—".to_owned(), |t| format!("{t:.2}"));
        let delta = match eval.baseline {
            Some(b) if b.regressed => format!("**{:+.2}** (was {:.2})", b.delta, b.score),
            Some(b) => format!("{:+.2}", b.delta),
            None => "—".to_owned(),
        };
        let reused = eval.samples.iter().filter(|s| s.source != VerdictSource::Judged).count();
        let adaptive = if eval.adaptive.is_some() { ", adaptive" } else { "" };
        let samples = match reused {
            0 if adaptive.is_empty() => eval.samples.len().to_string(),
            0 => format!("{} (adaptive)", eval.samples.len()),
            n => format!("{} ({n} cached{adaptive})", eval.samples.len()),
        };
        let judge = eval.judge.as_deref().map_or("—".to_owned(), |j| format!("`{}`", code(j)));
        let _ = writeln!(
            out,
            "| {mark} | `{}` | {score} | {threshold} | {delta} | {samples} | {judge} |",
            code(&eval.name)
        );
    }
    // A dataset's rows have theirs pooled in the dataset's line.
    for eval in evals.iter().filter(|e| e.dataset.is_none()) {
        if let Some(probes) = &eval.probes {
            let _ = writeln!(out, "\n> `{}` bias probes: {}", code(&eval.name), probes.findings());
        }
    }
    for eval in evals.iter().filter(|e| e.status == Status::Passed) {
        if let Some(t) = &eval.all_ties {
            let _ = writeln!(
                out,
                "\n> `{}` passed, but every comparison is a tie ({} of {} split by order): the judge could not \
                 tell the outputs apart; `on_tie = \"fail\"` fails such an eval.",
                code(&eval.name),
                t.split,
                t.comparisons
            );
        }
    }
    for eval in evals.iter().filter(|e| e.status != Status::Passed) {
        let first = eval.message.as_deref().and_then(|m| m.lines().next()).unwrap_or_default();
        let _ = writeln!(out, "\n<details><summary><code>{}</code>: {}</summary>\n", html(&eval.name), html(first));
        if let Some(sample) = eval.median_sample() {
            let _ = writeln!(out, "<p><b>rationale of the median sample</b></p>\n{}", pre(&sample.rationale));
            let _ = writeln!(out, "<p><b>its output</b></p>\n{}", pre(&sample.output));
        } else if let Some(message) = &eval.message {
            let _ = writeln!(out, "{}", pre(message));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// Model text as a `<pre>` block on one line: Markdown ends an HTML block at a blank line and reads
/// what follows as Markdown (links, images, mentions), so line breaks are written as `&#10;`.
fn pre(text: &str) -> String {
    format!("<pre>{}</pre>", html(text).replace('\n', "&#10;"))
}

/// Text inside a code span in a table cell: no backticks, pipes or line breaks to break out of it.
fn code(text: &str) -> String {
    text.replace('`', "'").replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineDelta;
    use crate::judge::techniques::verdict::{Scale, ScoreMethod, Usage};
    use crate::report::record::SampleRecord;

    fn eval(name: &str, status: Status, score: Option<f64>) -> EvalRecord {
        let sample = |score: f64, source| SampleRecord {
            level: None,
            criteria: Vec::new(),
            comparison: None,
            compared_with: None,
            compared_chars: None,
            panel: Vec::new(),
            score,
            raw_score: score * 10.0,
            scale: Scale::default(),
            method: ScoreMethod::Stated,
            trimmed: false,
            rationale: "Misses <script>alert(1)</script> | the count".to_owned(),
            output: "24 times".to_owned(),
            output_chars: 8,
            source,
            usage: Usage::default(),
            latency_ms: 1,
        };
        EvalRecord {
            dataset: None,
            name: name.to_owned(),
            file: "tests/evals.rs".to_owned(),
            line: 3,
            rubric: "r".to_owned(),
            judge: score.map(|_| "openai:m".to_owned()),
            threshold: score.map(|_| 0.7),
            sources: Default::default(),
            status,
            score,
            stats: None,
            message: (status != Status::Passed).then(|| "scored 0.40, below the threshold 0.70\nmore".to_owned()),
            failure: None,
            baseline: None,
            usage: Usage::default(),
            duration_ms: 1,
            snapshot: None,
            criteria: Vec::new(),
            disagreement: None,
            all_ties: None,
            probes: None,
            adaptive: None,
            synthetic: None,
            cost: None,
            steps: Vec::new(),
            samples: match score {
                Some(s) => vec![sample(s, VerdictSource::Cached), sample(s, VerdictSource::Judged)],
                None => Vec::new(),
            },
        }
    }

    #[test]
    fn each_dataset_has_its_summary_line() {
        let row = |id: &str, status, score| {
            let mut row = eval(&format!("evals::support::{id}"), status, score);
            row.dataset = Some(Box::new(crate::outcome::DatasetRowRef {
                name: "evals::support".to_owned(),
                file: "evals/support.jsonl".to_owned(),
                id: id.to_owned(),
                line: 1,
                min_pass_rate: Some(0.9),
                human: None,
            }));
            row
        };
        let md = render("evals", &[row("a", Status::Passed, Some(0.9)), row("b", Status::Failed, Some(0.3))]);
        assert!(
            md.contains(
                "- ❌ dataset `evals::support` (`evals/support.jsonl`): 1 of 2 rows passed (pass rate 0.50, 1 \
                 failed), mean score 0.60; gate min_pass_rate 0.90: failed"
            ),
            "{md}"
        );
        assert!(!render("evals", &[eval("evals::x", Status::Passed, Some(0.9))]).contains("dataset"));
    }

    #[test]
    fn a_table_row_per_eval_and_details_for_each_failure() {
        let mut slipped = eval("evals::slipped", Status::Failed, Some(0.75));
        slipped.baseline = Some(BaselineDelta { score: 0.9, delta: -0.15, regressed: true });
        let md = render(
            "evals",
            &[eval("evals::fine", Status::Passed, Some(0.9)), eval("evals::low", Status::Failed, Some(0.4)), slipped],
        );
        assert!(md.starts_with("### judge: `evals` — 1 passed, 2 failed\n"), "{md}");
        assert!(md.contains("| ✅ | `evals::fine` | 0.90 | 0.70 | — | 2 (1 cached) | `openai:m` |"), "{md}");
        assert!(md.contains("| ❌ | `evals::slipped` | 0.75 | 0.70 | **-0.15** (was 0.90) |"), "{md}");
        assert_eq!(md.matches("<details>").count(), 2);
        assert!(md.contains("<summary><code>evals::low</code>: scored 0.40, below the threshold 0.70</summary>"));
        assert!(md.contains("Misses &lt;script&gt;alert(1)&lt;/script&gt; | the count"), "{md}");
        // A blank line in model text would end the HTML block and let Markdown render the rest.
        let mut breakout = eval("evals::breakout", Status::Failed, Some(0.1));
        breakout.samples[0].rationale = "a\n\n[x](https://e) ![i](https://e/i.png) @someone".to_owned();
        let md = render("evals", &[breakout]);
        let details = &md[md.find("<details>").unwrap()..];
        assert!(!details.contains("\n\n[x]"), "{md}");
        assert!(details.contains("<pre>a&#10;&#10;[x](https://e) ![i](https://e/i.png) @someone</pre>"), "{md}");
        assert!(!md.contains("<script>"));
    }

    #[test]
    fn an_eval_that_was_not_scored_shows_its_error() {
        let md = render("evals", &[eval("evals::broken", Status::Error, None)]);
        assert!(md.contains("— 0 passed, 1 not scored"), "{md}");
        assert!(md.contains("| ⚠️ | `evals::broken` | — | — | — | 0 | — |"), "{md}");
        assert!(md.contains("<pre>scored 0.40, below the threshold 0.70&#10;more</pre>"), "{md}");
    }
}
