//! The JUnit XML report: one `<testcase>` per eval, as CI systems (GitHub, GitLab, Jenkins)
//! render test results. A failed eval carries a `<failure>` with its score, threshold and the
//! judge's rationale; an eval that could not be scored, an `<error>`. Each dataset's summary is a
//! property of the suite. A dataset with a pass-rate gate is one test, with a record (and a
//! `<testcase>`) of its own that fails when the gate does; its rows are then reported without a
//! failure of their own (their outcome in their output), as the gate, not a row, decides the test.

use std::fmt::Write as _;

use crate::outcome::FailureKind;
use crate::report::escape::escaped as escape;
use crate::report::record::{EvalRecord, RunRecord, Status};

/// The run as a JUnit XML document.
pub(crate) fn render(record: &RunRecord) -> String {
    let gated = |eval: &EvalRecord| eval.dataset.as_ref().is_some_and(|d| d.min_pass_rate.is_some());
    let (_, failed, errors) = record.test_counts();
    let tests = record.evals.len();
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    // The run's wall time: its evals run at once, so the sum of their times would overstate it.
    // A record written before the wall time was kept falls back on that sum.
    let total_ms = match record.duration_ms {
        0 => record.evals.iter().map(|e| e.duration_ms).sum(),
        wall => wall,
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"judge\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{}\">",
        seconds(total_ms)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\" skipped=\"0\" time=\"{}\">",
        escape(&record.binary),
        seconds(total_ms)
    );
    if !record.datasets.is_empty() {
        out.push_str("    <properties>\n");
        for dataset in &record.datasets {
            // The dataset's line, then what its rows also tell: each a property named after it.
            let properties = [
                ("dataset", Some(crate::report::datasets::summary_line(dataset))),
                ("calibration", dataset.calibration.as_ref().map(|c| c.summary_line())),
                ("bias probes", dataset.probes.as_ref().map(|p| p.findings())),
                ("comparisons", dataset.pairwise.as_ref().map(|w| w.summary_line())),
                ("synthetic pairs", dataset.synthetic.as_ref().map(|s| s.summary_line())),
            ];
            for (what, value) in properties.iter().filter_map(|(what, value)| Some((what, value.as_ref()?))) {
                let _ = writeln!(
                    out,
                    "      <property name=\"{what} {}\" value=\"{}\"/>",
                    escape(&dataset.name),
                    escape(value)
                );
            }
        }
        out.push_str("    </properties>\n");
    }
    for eval in &record.evals {
        let (classname, name) = eval.name.rsplit_once("::").unwrap_or(("", &eval.name));
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{}\">",
            escape(classname),
            escape(name),
            escape(&eval.file),
            eval.line,
            seconds(eval.duration_ms)
        );
        let message = eval.message.as_deref().unwrap_or_default();
        match eval.status {
            Status::Passed => {}
            // The dataset's gate decides: the row's outcome is in its output.
            _ if gated(eval) => {}
            Status::Failed => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    failure_type(eval),
                    escape(message.lines().next().unwrap_or_default()),
                    escape(message)
                );
            }
            Status::Error => {
                let _ = writeln!(
                    out,
                    "      <error type=\"not_scored\" message=\"{}\">{}</error>",
                    escape(message.lines().next().unwrap_or_default()),
                    escape(message)
                );
            }
        }
        let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&summary(eval)));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Why a failed eval failed, as its outcome said: below its threshold, a criterion below its own,
/// its judges too far apart, regressed past its baseline, or (strict) with a changed snapshot. A
/// record that does not say (written by an older version) failed below its threshold.
fn failure_type(eval: &EvalRecord) -> &'static str {
    eval.failure.unwrap_or(FailureKind::BelowThreshold).as_str()
}

/// What a passing eval shows too: its score and the median sample's rationale.
fn summary(eval: &EvalRecord) -> String {
    let mut parts = Vec::new();
    if let Some(dataset) = eval.dataset.as_ref().filter(|d| d.min_pass_rate.is_some()) {
        let outcome = match eval.status {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "not scored",
        };
        parts.push(format!("row {outcome}, counted by the pass-rate gate of {}", dataset.name));
        if eval.status != Status::Passed
            && let Some(message) = &eval.message
        {
            parts.push(message.lines().next().unwrap_or_default().to_owned());
        }
    }
    if let (Some(score), Some(threshold)) = (eval.score, eval.threshold) {
        let mut part = format!("score {score:.2} (threshold {threshold:.2})");
        if let Some(baseline) = eval.baseline {
            part.push_str(&format!(", {:+.2} against the baseline {:.2}", baseline.delta, baseline.score));
        }
        parts.push(part);
    }
    if let Some(judge) = &eval.judge {
        parts.push(format!("judge {judge}"));
    }
    let n = eval.samples.len();
    parts.push(format!("{n} {}", if n == 1 { "sample" } else { "samples" }));
    let mut out = parts.join("; ");
    if let Some(median) = eval.median_sample() {
        out.push_str(&format!("\nrationale of the median sample: {}", median.rationale));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineDelta;
    use crate::judge::techniques::verdict::{Scale, ScoreMethod, Usage};
    use crate::outcome::VerdictSource;
    use crate::report::record::SampleRecord;

    fn sample(score: f64, rationale: &str, trimmed: bool) -> SampleRecord {
        SampleRecord {
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
            trimmed,
            rationale: rationale.to_owned(),
            output: "out".to_owned(),
            output_chars: 3,
            source: VerdictSource::Judged,
            usage: Usage::default(),
            latency_ms: 5,
        }
    }

    fn eval(name: &str, status: Status, message: Option<&str>) -> EvalRecord {
        EvalRecord {
            dataset: None,
            name: name.to_owned(),
            file: "tests/evals.rs".to_owned(),
            line: 7,
            rubric: "r".to_owned(),
            judge: Some("openai:m".to_owned()),
            threshold: Some(0.7),
            sources: Default::default(),
            status,
            score: Some(0.6),
            stats: None,
            message: message.map(str::to_owned),
            failure: (status == Status::Failed).then_some(FailureKind::BelowThreshold),
            baseline: None,
            usage: Usage::default(),
            duration_ms: 1500,
            snapshot: None,
            criteria: Vec::new(),
            disagreement: None,
            all_ties: None,
            probes: None,
            adaptive: None,
            synthetic: None,
            cost: None,
            steps: Vec::new(),
            samples: vec![sample(0.2, "low", true), sample(0.6, "mid <b>", false), sample(0.9, "high", false)],
        }
    }

    /// Row `id` of the dataset `evals::support`, gated at `gate` if given.
    fn row(id: &str, status: Status, gate: Option<f64>) -> EvalRecord {
        let mut row = eval(&format!("evals::support::{id}"), status, (status != Status::Passed).then_some("low"));
        row.dataset = Some(Box::new(crate::outcome::DatasetRowRef {
            name: "evals::support".to_owned(),
            file: "evals/support.jsonl".to_owned(),
            id: id.to_owned(),
            line: 2,
            min_pass_rate: gate,
            human: None,
        }));
        row
    }

    #[test]
    fn a_gated_dataset_is_one_testcase_and_its_rows_fail_nothing_of_their_own() {
        let mut record = RunRecord::new("evals".to_owned(), std::time::SystemTime::now());
        // The gate's own record: the test, failed below its min_pass_rate.
        let mut gate = eval("evals::support", Status::Failed, Some("1 of 2 rows passed (pass rate 0.50), below"));
        gate.failure = Some(FailureKind::BelowMinPassRate);
        gate.samples.clear();
        record.merge([row("a", Status::Passed, Some(0.9)), row("b", Status::Failed, Some(0.9)), gate]);
        let xml = render(&record);
        // Two rows and the gate; the gate's testcase is the one failure.
        assert!(xml.contains("tests=\"3\" failures=\"1\" errors=\"0\""), "{xml}");
        assert!(xml.contains("<testcase classname=\"evals\" name=\"support\""), "{xml}");
        assert!(xml.contains("<failure type=\"below_min_pass_rate\" message=\"1 of 2 rows passed"), "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
        assert!(xml.contains("row failed, counted by the pass-rate gate of evals::support; low"), "{xml}");
        assert!(xml.contains("<property name=\"dataset evals::support\" value=\"1 of 2 rows passed"), "{xml}");
        assert_eq!(record.datasets[0].gate, Some(Status::Failed), "the gate's test decides it");

        // Without a gate, each row is a test of its own: its failure is a failure.
        let mut record = RunRecord::new("evals".to_owned(), std::time::SystemTime::now());
        record.merge([row("a", Status::Passed, None), row("b", Status::Failed, None)]);
        let xml = render(&record);
        assert!(xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{xml}");
        assert!(xml.contains("<failure type=\"below_threshold\""), "{xml}");
    }

    #[test]
    fn one_testcase_per_eval_with_failures_and_errors() {
        let mut record = RunRecord::new("evals".to_owned(), std::time::SystemTime::now());
        let mut regressed = eval("evals::slipped", Status::Failed, Some("regressed"));
        regressed.score = Some(0.75);
        regressed.baseline = Some(BaselineDelta { score: 0.9, delta: -0.15, regressed: true });
        regressed.failure = Some(FailureKind::Regression);
        let mut strict = eval("evals::reworded", Status::Failed, Some("the verdict's snapshot changed"));
        strict.score = Some(0.8);
        strict.failure = Some(FailureKind::SnapshotChanged);
        record.merge([
            eval("evals::ok", Status::Passed, None),
            eval("evals::low", Status::Failed, Some("scored 0.60, below the threshold 0.70\n  rationale: \"x\" & <y>")),
            eval("evals::broken", Status::Error, Some("eval could not be scored: \u{1b}[31m")),
            regressed,
            strict,
        ]);
        let xml = render(&record);
        assert!(xml.contains("tests=\"5\" failures=\"3\" errors=\"1\""), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 5);
        assert!(xml.contains("<failure type=\"snapshot_changed\""), "{xml}");
        assert!(
            xml.contains(
                "<testcase classname=\"evals\" name=\"low\" file=\"tests/evals.rs\" line=\"7\" time=\"1.500\">"
            )
        );
        assert!(xml.contains(
            "<failure type=\"below_threshold\" message=\"scored 0.60, below the threshold 0.70\">scored 0.60, \
             below the threshold 0.70\n  rationale: &quot;x&quot; &amp; &lt;y&gt;</failure>"
        ));
        assert!(xml.contains("<failure type=\"regression\""));
        assert!(xml.contains("<error type=\"not_scored\" message=\"eval could not be scored: \\u{1b}[31m\">"));
        assert!(xml.contains("rationale of the median sample: mid &lt;b&gt;"), "the median of the kept samples");
        assert!(!xml.chars().any(|c| (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r')));
    }

    #[test]
    fn the_suite_time_is_the_runs_wall_time_not_the_sum() {
        let started = std::time::SystemTime::now() - std::time::Duration::from_millis(2_000);
        let mut record = RunRecord::new("evals".to_owned(), started);
        record.merge([eval("evals::a", Status::Passed, None), eval("evals::b", Status::Passed, None)]);
        assert!((2_000..60_000).contains(&record.duration_ms), "{}", record.duration_ms);
        record.duration_ms = 1_750;
        let xml = render(&record);
        assert!(xml.contains("skipped=\"0\" time=\"1.750\">"), "two evals of 1.5 s at once, not 3.0: {xml}");
        record.duration_ms = 0;
        assert!(render(&record).contains("skipped=\"0\" time=\"3.000\">"), "an older record sums");
    }
    #[test]
    fn failures_of_criteria_and_disagreeing_judges_are_typed() {
        use crate::report::record::{CriterionRecord, DisagreementRecord};
        let mut criterion = eval("criterion", Status::Failed, Some("scored 0.85, above the threshold 0.70, but:"));
        criterion.score = Some(0.85);
        criterion.criteria = vec![CriterionRecord {
            name: "clarity".into(),
            score: 0.4,
            weight: 1.0,
            threshold: Some(0.7),
            passed: false,
        }];
        criterion.failure = Some(FailureKind::CriterionBelowThreshold);
        let mut disagree = eval("disagree", Status::Failed, Some("scored 0.80, above the threshold 0.70, but:"));
        disagree.score = Some(0.8);
        disagree.disagreement =
            Some(DisagreementRecord { sample: 1, spread: 0.7, max_spread: Some(0.3), flagged: true, fails: true });
        disagree.failure = Some(FailureKind::JudgesDisagree);
        assert_eq!(failure_type(&criterion), "criterion_below_threshold");
        assert_eq!(failure_type(&disagree), "judges_disagree");
    }
}
