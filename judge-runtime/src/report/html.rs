//! The HTML report: one self-contained page (inline CSS and JS, nothing fetched) with a sortable,
//! filterable table of the evals, each with a plot of its samples' scores and every sample's
//! verdict. Everything taken from the record is escaped; the script reads only `data-*`
//! attributes, so no record text is ever inside a `<script>`. Without JS the page shows everything,
//! in name order. The table's state lives in the URL fragment (`#sort=score&dir=asc&status=failed&q=clock`),
//! so a link, or a headless browser, can open it sorted and filtered.

use std::fmt::Write as _;

use super::escape::Escaped;
use super::record::DatasetRecord;
use super::record::{EvalRecord, RunRecord};
use crate::judge::techniques::verdict::ScoreMethod;
use crate::outcome::VerdictSource;

/// The score plot's geometry, in SVG user units: samples sit around `PLOT_MID`, above the axis.
const PLOT_WIDTH: f64 = 260.0;
const PLOT_HEIGHT: f64 = 46.0;
const PLOT_PAD: f64 = 10.0;
const PLOT_MID: f64 = 17.0;
const PLOT_AXIS: f64 = 34.0;
const DOT_RADIUS: f64 = 4.0;
/// Failure messages of more lines start collapsed.
const MESSAGE_LINES_SHOWN: usize = 4;
/// The columns of the eval table, for the detail row's `colspan`.
const COLUMNS: usize = 7;

/// The run as one self-contained HTML page: a header with the counts, tokens and cache hits, then
/// one row per eval (status, score against threshold, baseline delta, a plot of its samples'
/// scores, tokens, duration) followed by its rubric, judge, failure message and every sample.
pub(crate) fn render(record: &RunRecord) -> String {
    let mut out = String::with_capacity(16 * 1024 + record.evals.len() * 4096);
    let binary = Escaped(&record.binary);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"judge\">\n\
         <title>judge report: {binary}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"
    );
    header(&mut out, record);
    controls(&mut out);
    let _ = write!(
        out,
        "<table id=\"evals\">\n<thead><tr>\
         <th data-sort=\"status\"><button type=\"button\">Status</button></th>\
         <th data-sort=\"name\"><button type=\"button\">Eval</button></th>\
         <th data-sort=\"score\" class=\"num\"><button type=\"button\">Score</button></th>\
         <th data-sort=\"delta\" class=\"num\"><button type=\"button\">vs baseline</button></th>\
         <th>Samples <span class=\"legend\">(<span class=\"key kept\"></span> kept \
         <span class=\"key trimmed\"></span> trimmed <span class=\"key threshold\"></span> threshold \
         <span class=\"key score\"></span> score)</span></th>\
         <th class=\"num\">Tokens</th><th class=\"num\">Time</th></tr></thead>\n"
    );
    let mut dataset: Option<&str> = None;
    for (i, eval) in record.evals.iter().enumerate() {
        // A dataset's rows (contiguous: their names share its prefix) under its summary.
        // A gated dataset's own test and a calibration test sit with its rows.
        let this = eval.dataset.as_ref().map(|d| d.name.as_str()).or_else(|| {
            let name = eval.name.strip_suffix("::calibration").unwrap_or(&eval.name);
            record.datasets.iter().find(|d| d.name == name).map(|d| d.name.as_str())
        });
        if this != dataset
            && let Some(summary) = this.and_then(|name| record.datasets.iter().find(|d| d.name == name))
        {
            dataset_head(&mut out, summary, &record.evals);
        }
        dataset = this;
        eval_group(&mut out, i, eval);
    }
    out.push_str("</table>\n");
    if record.evals.is_empty() {
        out.push_str("<p class=\"empty\">No evals were run.</p>\n");
    }
    let _ = write!(out, "<script>\n{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, record: &RunRecord) {
    // Tests, as libtest counts them: a gated dataset is one, its rows under its heading.
    let (passed, failed, errors) = record.test_counts();
    let usage = record.usage();
    let samples = record.evals.iter().flat_map(|e| &e.samples);
    let (mut judged, mut cached, mut shared) = (0, 0, 0);
    let mut spent = 0;
    for sample in samples {
        match sample.source {
            VerdictSource::Judged => {
                judged += 1;
                spent += sample.usage.prompt_tokens + sample.usage.completion_tokens;
            }
            VerdictSource::Cached => cached += 1,
            VerdictSource::Shared => shared += 1,
        }
    }
    let verdicts = judged + cached + shared;
    let _ = write!(
        out,
        "<header>\n<h1>judge report: <code>{}</code></h1>\n<p class=\"summary\">\
         <span class=\"badge passed\">{passed} passed</span> \
         <span class=\"badge failed\">{failed} failed</span> \
         <span class=\"badge error\">{errors} {}</span>\
         <span class=\"sep\">{} tokens ({} prompt + {} completion), {} of them judged in this run{}</span>\
         <span class=\"sep\">{verdicts} verdicts: {judged} judged, {} cache hits ({cached} cached, {shared} shared)</span>\
         </p>\n<p class=\"run\">started {} · run <code>{}</code></p>\n</header>\n",
        Escaped(&record.binary),
        if errors == 1 { "error" } else { "errors" },
        thousands(usage.prompt_tokens + usage.completion_tokens),
        thousands(usage.prompt_tokens),
        thousands(usage.completion_tokens),
        thousands(spent),
        record.cost.map_or(String::new(), |cost| format!(", costing {cost:.4}")),
        cached + shared,
        utc_time(record.started_unix),
        Escaped(&record.run_id),
    );
}

/// The filter box and status select; hidden until the script shows them, as they need it.
fn controls(out: &mut String) {
    out.push_str(
        "<form id=\"controls\" class=\"controls\" hidden>\
         <input type=\"search\" name=\"q\" placeholder=\"Filter by name or rubric\" aria-label=\"Filter by name or rubric\">\
         <select name=\"status\" aria-label=\"Status\"><option value=\"\">all statuses</option>\
         <option value=\"passed\">passed</option><option value=\"failed\">failed</option>\
         <option value=\"error\">error</option></select>\
         <span id=\"shown\" class=\"sub\"></span></form>\n",
    );
}

/// The heading of a dataset's rows: its name, file, pass rate and gate. A group of its own, which
/// sorts and filters by the dataset's name as the evals do by theirs.
fn dataset_head(out: &mut String, dataset: &DatasetRecord, evals: &[EvalRecord]) {
    let status = match dataset.gate {
        Some(gate) => gate.as_str(),
        None if dataset.failed + dataset.errors == 0 => "passed",
        None => "failed",
    };
    let _ = write!(
        out,
        "<tbody class=\"dataset-group\">\n<tr class=\"dataset {status}\" data-name=\"{}\" data-rubric=\"\" \
         data-score=\"{:.4}\" data-status=\"{status}\" data-delta=\"\"><td><span class=\"badge {status}\">dataset</span></td>\
         <td colspan=\"{}\"><code>{}</code> <span class=\"sub\">{}</span><div>{}</div>",
        Escaped(&dataset.name),
        dataset.pass_rate,
        COLUMNS - 1,
        Escaped(&dataset.name),
        Escaped(&dataset.file),
        Escaped(&crate::report::datasets::summary_line(dataset)),
    );
    if let Some(calibration) = &dataset.calibration {
        let _ = write!(
            out,
            "<div class=\"calibration\"><p>judge against human labels: {}</p>",
            Escaped(&calibration.summary_line())
        );
        super::calibration_plot::render(out, &dataset.name, calibration, evals);
        out.push_str("</div>");
    }
    if let Some(probes) = &dataset.probes {
        let _ =
            write!(out, "<div class=\"note probes\">bias probes over its rows: {}</div>", Escaped(&probes.findings()));
    }
    if let Some(win_rates) = &dataset.pairwise {
        let _ = write!(out, "<div class=\"note win-rates\">comparisons: {}</div>", Escaped(&win_rates.summary_line()));
    }
    if let Some(synthetic) = &dataset.synthetic {
        let flag = if synthetic.missed().is_some() { " flagged" } else { "" };
        let _ = write!(
            out,
            "<div class=\"note synthetic{flag}\">judge on synthetic pairs: {}</div>",
            Escaped(&synthetic.summary_line())
        );
    }
    out.push_str("</td></tr>\n</tbody>\n");
}

/// One eval: its row, then a row of details. The two share a `<tbody>`, which the script moves
/// as one, so sorting keeps each eval's details with it.
fn eval_group(out: &mut String, index: usize, eval: &EvalRecord) {
    let status = eval.status.as_str();
    let _ = write!(
        out,
        "<tbody id=\"eval-{index}\">\n<tr class=\"eval {status}\" data-name=\"{}\" data-rubric=\"{}\" \
         data-score=\"{}\" data-status=\"{status}\" data-delta=\"{}\">",
        Escaped(&eval.name),
        Escaped(&eval.rubric),
        eval.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
        eval.baseline.map(|b| format!("{:.4}", b.delta)).unwrap_or_default(),
    );
    let _ = write!(out, "<td><span class=\"badge {status}\">{status}</span></td>");
    let _ = write!(out, "<td class=\"name\"><code>{}</code>", Escaped(&eval.name));
    let _ = write!(out, "<div class=\"sub\">{}</div></td>", Escaped(eval.judge.as_deref().unwrap_or("no judge")));

    out.push_str("<td class=\"num\">");
    match eval.score {
        Some(score) => {
            let _ = write!(out, "<span class=\"score\">{score:.2}</span>");
        }
        None => out.push_str("<span class=\"none\">–</span>"),
    }
    if let Some(threshold) = eval.threshold {
        let _ = write!(out, "<div class=\"sub\">threshold {threshold:.2}</div>");
    }
    out.push_str("</td><td class=\"num\">");
    match eval.baseline {
        Some(baseline) => {
            let direction = match baseline.delta {
                d if d > 0.0005 => "up",
                d if d < -0.0005 => "down",
                _ => "same",
            };
            let _ = write!(out, "<span class=\"delta {direction}\">{}</span>", signed(baseline.delta));
            if baseline.regressed {
                out.push_str(" <span class=\"badge failed\">regressed</span>");
            }
            let _ = write!(out, "<div class=\"sub\">was {:.2}</div>", baseline.score);
        }
        None => out.push_str("<span class=\"none\">–</span>"),
    }
    out.push_str("</td><td class=\"plot\">");
    plot(out, eval);
    let _ = writeln!(
        out,
        "</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        thousands(eval.usage.prompt_tokens + eval.usage.completion_tokens),
        duration(eval.duration_ms)
    );

    let _ = write!(out, "<tr class=\"detail\"><td colspan=\"{COLUMNS}\">");
    let _ = write!(out, "<p><b>Rubric</b> {}</p>", Escaped(&eval.rubric));
    let _ = write!(
        out,
        "<p class=\"sub\">{}:{} · {} prompt + {} completion tokens",
        Escaped(&eval.file),
        eval.line,
        thousands(eval.usage.prompt_tokens),
        thousands(eval.usage.completion_tokens),
    );
    if let Some(stats) = &eval.stats {
        let _ = write!(
            out,
            " · {}, median {:.2}, min {:.2}, max {:.2}, std dev {:.2}, trim {}",
            Escaped(&stats.reduce),
            stats.median,
            stats.min,
            stats.max,
            stats.std_dev,
            stats.trim
        );
    }
    out.push_str("</p>");
    if let Some(message) = &eval.message {
        message_block(out, message.trim_end());
    }
    if !eval.samples.is_empty() {
        samples_table(out, eval);
    }
    out.push_str("</td></tr>\n</tbody>\n");
}

/// The failure message: whole when short (an error's reason); else its first line, with the rest
/// (the samples' scores, the lowest rationale and output, all also in the samples table) a click away.
fn message_block(out: &mut String, message: &str) {
    if message.lines().count() <= MESSAGE_LINES_SHOWN {
        let _ = write!(out, "<pre class=\"message\">{}</pre>", Escaped(message));
        return;
    }
    let first = message.lines().next().unwrap_or_default();
    let _ = write!(
        out,
        "<details class=\"message\"><summary><code>{}</code> (failure message)</summary>\
         <pre class=\"message\">{}</pre></details>",
        Escaped(first),
        Escaped(message)
    );
}

/// The samples' scores on a 0..1 axis: one circle per sample (hollow when trimmed), the threshold
/// as a dashed line and the reduced score as a solid one. Samples that would overlap are stacked
/// around the middle line, deterministically.
fn plot(out: &mut String, eval: &EvalRecord) {
    if eval.samples.is_empty() {
        out.push_str("<span class=\"none\">not scored</span>");
        return;
    }
    let _ = write!(
        out,
        "<svg class=\"dist\" width=\"{PLOT_WIDTH}\" height=\"{PLOT_HEIGHT}\" viewBox=\"0 0 {PLOT_WIDTH} {PLOT_HEIGHT}\" \
         role=\"img\" aria-label=\"scores of {} samples\">",
        eval.samples.len()
    );
    // The axis and its ticks are the same in every plot: drawn once per process.
    static AXIS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut axis = String::new();
        let (left, right) = (x_of(0.0), x_of(1.0));
        let _ = write!(
            axis,
            "<line class=\"axis\" x1=\"{left:.1}\" y1=\"{PLOT_AXIS:.1}\" x2=\"{right:.1}\" y2=\"{PLOT_AXIS:.1}\"/>"
        );
        for (tick, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
            let x = x_of(tick);
            let _ = write!(
                axis,
                "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{PLOT_AXIS:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\">{label}</text>",
                PLOT_AXIS + 3.0,
                PLOT_HEIGHT - 1.0
            );
        }
        axis
    });
    out.push_str(&AXIS);
    if let Some(threshold) = eval.threshold {
        let x = x_of(threshold);
        let _ = write!(
            out,
            "<line class=\"threshold\" x1=\"{x:.1}\" y1=\"1.0\" x2=\"{x:.1}\" y2=\"{PLOT_AXIS:.1}\">\
             <title>threshold {threshold:.2}</title></line>"
        );
    }
    if let Some(score) = eval.score {
        let x = x_of(score);
        let _ = write!(
            out,
            "<line class=\"score\" x1=\"{x:.1}\" y1=\"1.0\" x2=\"{x:.1}\" y2=\"{PLOT_AXIS:.1}\">\
             <title>score {score:.2}</title></line>"
        );
    }
    let xs: Vec<f64> = eval.samples.iter().map(|s| x_of(s.score)).collect();
    let levels = stack(&xs);
    let highest = levels.iter().map(|l| l.unsigned_abs()).max().unwrap_or(0);
    let room = PLOT_MID - DOT_RADIUS - 1.0;
    let step = if highest == 0 { 0.0 } else { (2.0 * DOT_RADIUS).min(room / f64::from(highest)) };
    let count = eval.samples.len();
    for (i, ((sample, x), level)) in eval.samples.iter().zip(&xs).zip(&levels).enumerate() {
        let y = PLOT_MID - f64::from(*level) * step;
        let _ = write!(
            out,
            "<circle class=\"sample {}{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{DOT_RADIUS}\">\
             <title>sample {} of {count}: {} ({:.2}), {}{}</title></circle>",
            sample.source.as_str(),
            if sample.trimmed { " trimmed" } else { "" },
            i + 1,
            crate::judge::techniques::verdict::show(sample.scale, sample.method, sample.raw_score),
            sample.score,
            sample.source.as_str(),
            if sample.trimmed { ", trimmed" } else { "" },
        );
    }
    out.push_str("</svg>");
}

/// The stack level of each point: the first of 0, 1, −1, 2, −2, … at which it overlaps no point
/// placed before it. Depends only on the order and positions, so the layout is reproducible.
fn stack(xs: &[f64]) -> Vec<i32> {
    let mut placed: Vec<(f64, i32)> = Vec::with_capacity(xs.len());
    for &x in xs {
        let level = (0..)
            .map(|k: i32| if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
            .find(|&level| !placed.iter().any(|&(px, pl)| pl == level && (px - x).abs() < 2.0 * DOT_RADIUS))
            .expect("a free level exists past the last placed point");
        placed.push((x, level));
    }
    placed.into_iter().map(|(_, level)| level).collect()
}

/// The horizontal position of a 0..1 score.
fn x_of(score: f64) -> f64 {
    let score = if score.is_finite() { score.clamp(0.0, 1.0) } else { 0.0 };
    PLOT_PAD + score * (PLOT_WIDTH - 2.0 * PLOT_PAD)
}

/// What the eval's techniques add up to: each criterion's score, the judges' largest
/// disagreement, the evaluation steps the judges wrote.
fn technique_notes(out: &mut String, eval: &EvalRecord) {
    for c in &eval.criteria {
        let threshold = c.threshold.map_or(String::new(), |t| format!(", threshold {t:.2}"));
        let _ = write!(
            out,
            "<div class=\"note criterion{}\">criterion {}: {:.2} (weight {}{threshold})</div>",
            if c.passed { "" } else { " failed" },
            Escaped(&c.name),
            c.score,
            c.weight,
        );
    }
    if let Some(d) = &eval.disagreement {
        let _ = write!(
            out,
            "<div class=\"note disagreement{}\">judges furthest apart on sample {}: spread {:.2}{}</div>",
            if d.flagged { " flagged" } else { "" },
            d.sample,
            d.spread,
            d.max_spread.map_or(String::new(), |m| format!(" (max_spread {m:.2})")),
        );
    }
    if let Some(t) = &eval.all_ties {
        let _ = write!(
            out,
            "<div class=\"note ties flagged\">every comparison is a tie ({} of {} split by order): the judge could \
             not tell the outputs apart{}</div>",
            t.split,
            t.comparisons,
            if t.fails { " (on_tie = \"fail\")" } else { "" },
        );
    }
    if let Some(adaptive) = &eval.adaptive {
        let _ = write!(out, "<div class=\"note adaptive\">{}</div>", Escaped(&adaptive.summary_line()));
    }
    if let Some(probes) = &eval.probes {
        let _ = write!(
            out,
            "<div class=\"note probes{}\">bias probes: {}</div>",
            if probes.missed().is_empty() { "" } else { " flagged" },
            Escaped(&probes.findings())
        );
    }
    for generated in &eval.steps {
        let _ = write!(out, "<div class=\"note steps\">evaluation steps written by {}:<ol>", Escaped(&generated.judge));
        for step in &generated.steps {
            let _ = write!(out, "<li>{}</li>", Escaped(step));
        }
        out.push_str("</ol></div>");
    }
}

fn samples_table(out: &mut String, eval: &EvalRecord) {
    let count = eval.samples.len();
    let trimmed = eval.samples.iter().filter(|s| s.trimmed).count();
    let _ = write!(out, "<details><summary>{count} sample{}", if count == 1 { "" } else { "s" });
    if trimmed > 0 {
        let _ = write!(out, ", {trimmed} trimmed");
    }
    out.push_str("</summary>\n");
    technique_notes(out, eval);
    out.push_str(
        "<table class=\"samples\"><thead><tr><th class=\"num\">#</th><th class=\"num\">Score</th>\
         <th>Verdict</th><th class=\"num\">Tokens</th><th class=\"num\">Latency</th><th>Rationale</th>\
         <th>Output</th></tr></thead><tbody>\n",
    );
    for (i, sample) in eval.samples.iter().enumerate() {
        let _ = write!(
            out,
            "<tr class=\"sample{}\"><td class=\"num\">{}</td><td class=\"num\">{}<div class=\"sub\">{:.2}</div></td>\
             <td class=\"verdict\">{}",
            if sample.trimmed { " trimmed" } else { "" },
            i + 1,
            crate::judge::techniques::verdict::show(sample.scale, sample.method, sample.raw_score),
            sample.score,
            sample.source.as_str(),
        );
        if sample.trimmed {
            out.push_str("<div class=\"sub\">trimmed</div>");
        }
        if let Some(method) = method_name(sample.method) {
            let _ = write!(out, "<div class=\"sub\">{method}</div>");
        }
        if let Some(level) = &sample.level {
            let _ = write!(out, "<div class=\"sub level\">level {}</div>", Escaped(level));
        }
        if let Some(c) = &sample.comparison {
            let _ = write!(
                out,
                "<div class=\"sub comparison\">shown first: {}; shown second: {}{}</div>",
                c.output_first.word(),
                c.baseline_first.word(),
                if c.consistent() { "" } else { " (orders disagree: tie)" }
            );
        }
        if !sample.panel.is_empty() {
            let spread = crate::judge::techniques::ensemble::spread(&sample.panel);
            let _ = write!(out, "<div class=\"sub panel\">{} judges, spread {spread:.2}</div>", sample.panel.len());
        }
        let _ = write!(
            out,
            "</td><td class=\"num\">{} + {}</td><td class=\"num\">{}</td><td class=\"text\">{}</td>\
             <td><pre class=\"output\">{}</pre>",
            thousands(sample.usage.prompt_tokens),
            thousands(sample.usage.completion_tokens),
            duration(sample.latency_ms),
            Escaped(sample.rationale.trim()),
            Escaped(&sample.output),
        );
        let shown = sample.output.chars().count();
        if sample.output_chars > shown {
            let _ = write!(
                out,
                "<div class=\"sub\">the first {} of {} characters</div>",
                thousands(shown as u64),
                thousands(sample.output_chars as u64)
            );
        }
        if let Some(baseline) = &sample.compared_with {
            let _ = write!(
                out,
                "<div class=\"sub\">versus the baseline:</div><pre class=\"output baseline\">{}</pre>",
                Escaped(baseline)
            );
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></details>");
}

/// How the score was obtained, when it is not the judge's stated integer.
fn method_name(method: ScoreMethod) -> Option<&'static str> {
    match method {
        ScoreMethod::Stated => None,
        ScoreMethod::ProbabilityWeighted => Some("probability-weighted"),
        ScoreMethod::AnswerLikelihood => Some("answer likelihood"),
        ScoreMethod::Compared => Some("compared with the baseline in both orders"),
        ScoreMethod::Ensemble => Some("combined from several judges"),
    }
}

/// A delta with its sign: `+0.05`, `−0.12` (a true minus sign), `±0.00`.
fn signed(delta: f64) -> String {
    let magnitude = format!("{:.2}", delta.abs());
    if magnitude == "0.00" {
        format!("±{magnitude}")
    } else if delta > 0.0 {
        format!("+{magnitude}")
    } else {
        format!("\u{2212}{magnitude}")
    }
}

fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// `1234567` as `1 234 567`, with thin spaces.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 2);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(digit);
    }
    out
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM UTC` (the civil-from-days algorithm of Howard
/// Hinnant's `chrono`-compatible date library, to add no dependency).
fn utc_time(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// The page's style.
const STYLE: &str = include_str!("assets/report.css");

/// Sorting and filtering. Reads only `data-*` attributes and the URL fragment, writes only the
/// fragment, `hidden` and the order of the `<tbody>`s.
const SCRIPT: &str = include_str!("assets/report.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineDelta;
    use crate::judge::techniques::verdict::Scale;
    use crate::judge::techniques::verdict::Usage;
    use crate::report::record::{SampleRecord, Stats, Status};

    fn sample(raw: f64, trimmed: bool, source: VerdictSource) -> SampleRecord {
        SampleRecord {
            level: None,
            criteria: Vec::new(),
            comparison: None,
            compared_with: None,
            compared_chars: None,
            panel: Vec::new(),
            score: raw / 10.0,
            raw_score: raw,
            scale: Scale::default(),
            method: ScoreMethod::Stated,
            trimmed,
            rationale: format!("scored {raw}"),
            output: format!("output {raw}"),
            output_chars: 9,
            source,
            usage: Usage { prompt_tokens: 100, completion_tokens: 20 },
            latency_ms: 12,
        }
    }

    fn eval(name: &str, status: Status, samples: Vec<SampleRecord>) -> EvalRecord {
        EvalRecord {
            dataset: None,
            name: name.to_owned(),
            file: "tests/evals.rs".to_owned(),
            line: 7,
            rubric: "Says 22.".to_owned(),
            judge: Some("openai:gpt-4.1-mini".to_owned()),
            threshold: Some(0.7),
            sources: Default::default(),
            status,
            score: Some(0.75),
            stats: Some(Stats {
                median: 0.7,
                min: 0.2,
                max: 1.0,
                std_dev: 0.1,
                trim: 0.2,
                reduce: "trimmed_mean".to_owned(),
            }),
            message: None,
            failure: None,
            baseline: None,
            usage: Usage { prompt_tokens: 500, completion_tokens: 100 },
            duration_ms: 1234,
            snapshot: None,
            criteria: Vec::new(),
            disagreement: None,
            all_ties: None,
            probes: None,
            adaptive: None,
            synthetic: None,
            cost: None,
            steps: Vec::new(),
            samples,
        }
    }

    fn record(evals: Vec<EvalRecord>) -> RunRecord {
        RunRecord {
            datasets: Vec::new(),
            format: 1,
            run_id: "r1".to_owned(),
            binary: "evals".to_owned(),
            started_unix: 0,
            started_unix_ms: 0,
            duration_ms: 0,
            agreement: None,
            cost: None,
            evals,
        }
    }

    #[test]
    fn a_datasets_rows_sit_under_its_heading_with_its_pass_rate() {
        let row = |id: &str, status| {
            let mut row = eval(&format!("evals::support::{id}"), status, seven());
            row.dataset = Some(Box::new(crate::outcome::DatasetRowRef {
                name: "evals::support".to_owned(),
                file: "evals/<support>.jsonl".to_owned(),
                id: id.to_owned(),
                line: 1,
                min_pass_rate: Some(0.5),
                human: None,
            }));
            row
        };
        let mut run = record(Vec::new());
        run.merge([eval("evals::alone", Status::Passed, seven()), row("a", Status::Passed), row("b", Status::Failed)]);
        let html = render(&run);
        let heading = html.find("<tr class=\"dataset passed\" data-name=\"evals::support\"").expect(&html);
        assert!(html[heading..].contains("evals/&lt;support&gt;.jsonl"), "the file, escaped");
        assert!(html[heading..].contains("1 of 2 rows passed (pass rate 0.50, 1 failed)"), "{html}");
        assert!(html[heading..].contains("gate min_pass_rate 0.50: passed"), "{html}");
        // The heading comes after the eval that sorts before the dataset, and before its rows.
        let (alone, first_row) = (html.find("evals::alone").unwrap(), html.find("evals::support::a").unwrap());
        assert!(alone < heading && heading < first_row, "{html}");
        assert_eq!(html.matches("class=\"dataset-group\"").count(), 1);
    }

    fn seven() -> Vec<SampleRecord> {
        [9.0, 2.0, 6.0, 7.0, 10.0, 5.0, 8.0]
            .iter()
            .map(|&raw| sample(raw, raw == 2.0 || raw == 10.0, VerdictSource::Judged))
            .collect()
    }

    #[test]
    fn model_text_appears_only_escaped() {
        let mut hostile = eval("evals::hostile", Status::Failed, vec![sample(3.0, false, VerdictSource::Judged)]);
        hostile.samples[0].output = "<script>alert(1)</script>".to_owned();
        hostile.samples[0].rationale = "</td></tr><img src=x onerror=alert(2)>".to_owned();
        hostile.rubric = r#"Say "yes" & don't <b>shout</b>"#.to_owned();
        hostile.message = Some("scored 0.30 </pre><script>alert(3)</script>".to_owned());
        hostile.judge = Some("openai:\"><script>".to_owned());
        let html = render(&record(vec![hostile]));

        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>shout"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Say &quot;yes&quot; &amp; don&#39;t &lt;b&gt;shout&lt;/b&gt;"));
        assert!(html.contains("data-rubric=\"Say &quot;yes&quot; &amp; don&#39;t &lt;b&gt;shout&lt;/b&gt;\""));
        assert!(!html.contains("don't"));
        // The page's own script is the only one.
        assert_eq!(html.matches("<script").count(), 1);
    }

    #[test]
    fn control_characters_are_shown_not_embedded() {
        assert_eq!(Escaped("a\u{1b}[2J\0b\n\tc").to_string(), "a\\u{1b}[2J\\u{0}b\n\tc");
        assert_eq!(Escaped("é & ü").to_string(), "é &amp; ü");
    }

    #[test]
    fn one_circle_per_sample_with_trimmed_ones_marked() {
        let html = render(&record(vec![eval("evals::seven", Status::Passed, seven())]));
        assert_eq!(html.matches("<circle class=\"sample").count(), 7);
        assert_eq!(html.matches("<circle class=\"sample judged trimmed\"").count(), 2);
        assert!(html.contains("<title>sample 2 of 7: 2/10 (0.20), judged, trimmed</title>"), "{html}");
        assert!(html.contains("<title>sample 4 of 7: 7/10 (0.70), judged</title>"), "{html}");
    }

    #[test]
    fn the_sources_are_named() {
        let samples = vec![
            sample(8.0, false, VerdictSource::Cached),
            sample(8.0, false, VerdictSource::Shared),
            sample(8.0, false, VerdictSource::Judged),
        ];
        let html = render(&record(vec![eval("evals::mixed", Status::Passed, samples)]));
        assert!(html.contains("<circle class=\"sample cached\""));
        assert!(html.contains("<circle class=\"sample shared\""));
        assert!(html.contains("3 verdicts: 1 judged, 2 cache hits (1 cached, 1 shared)"), "{html}");
        // The eval's tokens count its cached verdicts at what they cost; this run paid for one.
        assert!(html.contains("600 tokens (500 prompt + 100 completion), 120 of them judged in this run"), "{html}");
    }

    #[test]
    fn the_threshold_and_score_lines_sit_on_the_score_axis() {
        let html = render(&record(vec![eval("evals::seven", Status::Passed, seven())]));
        // 10 + 0.7 × 240 and 10 + 0.75 × 240.
        assert!(html.contains("<line class=\"threshold\" x1=\"178.0\" y1=\"1.0\" x2=\"178.0\""), "{html}");
        assert!(html.contains("<line class=\"score\" x1=\"190.0\" y1=\"1.0\" x2=\"190.0\""), "{html}");
        assert!(html.contains("<circle class=\"sample judged\" cx=\"226.0\""), "{html}");
        assert!(html.contains("<circle class=\"sample judged trimmed\" cx=\"58.0\""), "{html}");
    }

    #[test]
    fn equal_scores_are_stacked_deterministically() {
        assert_eq!(stack(&[50.0, 50.0, 50.0, 100.0, 52.0]), vec![0, 1, -1, 0, 2]);
        let same =
            || record(vec![eval("evals::same", Status::Passed, vec![sample(9.0, false, VerdictSource::Judged); 5])]);
        let html = render(&same());
        assert_eq!(html, render(&same()));
        let ys: std::collections::BTreeSet<&str> =
            html.split("cy=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
        assert_eq!(ys.len(), 5, "five equal scores at five heights: {ys:?}");
    }

    #[test]
    fn rows_carry_what_the_script_sorts_and_filters_by() {
        let mut regressed = eval("evals::clock", Status::Failed, seven());
        regressed.score = Some(0.6);
        regressed.baseline = Some(BaselineDelta { score: 0.72, delta: -0.12, regressed: true });
        let mut improved = eval("evals::capital", Status::Passed, seven());
        improved.baseline = Some(BaselineDelta { score: 0.7, delta: 0.05, regressed: false });
        let html = render(&record(vec![improved, regressed]));
        assert!(html.contains(
            "<tr class=\"eval failed\" data-name=\"evals::clock\" data-rubric=\"Says 22.\" data-score=\"0.6000\" \
             data-status=\"failed\" data-delta=\"-0.1200\">"
        ));
        assert!(html.contains("data-status=\"passed\" data-delta=\"0.0500\""));
        assert!(
            html.contains(
                "<span class=\"delta down\">\u{2212}0.12</span> <span class=\"badge failed\">regressed</span>"
            )
        );
        assert!(html.contains("<span class=\"delta up\">+0.05</span><div"));
        // Each eval's row and details share one tbody, which the script moves as a whole.
        assert_eq!(html.matches("<tbody id=\"eval-").count(), 2);
    }

    #[test]
    fn a_long_failure_message_starts_collapsed_under_its_first_line() {
        let mut failed = eval("evals::clock", Status::Failed, seven());
        failed.message = Some(
            "scored 0.60, below the threshold 0.70\n  scores: 9/10\nsample 2\n  rationale: <no>\n  output: x"
                .to_owned(),
        );
        let html = render(&record(vec![failed]));
        assert!(html.contains(
            "<details class=\"message\"><summary><code>scored 0.60, below the threshold 0.70</code> (failure message)</summary>\
             <pre class=\"message\">scored 0.60, below the threshold 0.70\n  scores: 9/10\nsample 2\n  rationale: &lt;no&gt;\n"
        ));
    }

    #[test]
    fn an_eval_that_could_not_be_scored_renders() {
        let mut error = eval("evals::broken", Status::Error, Vec::new());
        error.judge = None;
        error.threshold = None;
        error.score = None;
        error.stats = None;
        error.usage = Usage::default();
        error.message = Some("eval could not be scored: the judge said 401".to_owned());
        let html = render(&record(vec![error]));
        assert!(html.contains("data-score=\"\" data-status=\"error\" data-delta=\"\""));
        assert!(html.contains("not scored"));
        assert!(html.contains("<pre class=\"message\">eval could not be scored: the judge said 401</pre>"));
        assert!(!html.contains("<circle") && !html.contains("<details>"));
        assert!(html.contains("<span class=\"badge error\">1 error</span>"));
    }

    #[test]
    fn an_empty_record_renders() {
        let html = render(&record(Vec::new()));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        assert!(html.contains("No evals were run."));
        assert!(html.contains("0 passed") && html.contains("0 failed") && html.contains("0 errors"));
        assert!(html.contains("started 1970-01-01 00:00 UTC"));
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render(&record(vec![eval("evals::seven", Status::Passed, seven())]));
        for external in ["http://", "https://", "<link", "src=", "@import", "url("] {
            assert!(!html.contains(external), "{external}");
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567), "1\u{2009}234\u{2009}567");
        assert_eq!(thousands(999), "999");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(1234), "1.2 s");
        assert_eq!(duration(125_000), "2 min 05 s");
        assert_eq!(signed(0.05), "+0.05");
        assert_eq!(signed(-0.12), "\u{2212}0.12");
        assert_eq!(signed(-0.0001), "±0.00");
        assert_eq!(utc_time(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00 UTC");
    }
    #[test]
    fn techniques_show_escaped_in_the_samples_and_notes() {
        use crate::judge::techniques::verdict::{Comparison, PanelVerdict, Preference};
        use crate::report::record::{CriterionRecord, DisagreementRecord, StepsRecord};
        // The orders disagree, so the comparison is a tie: 1 on the scale 0–2.
        let mut compared = sample(1.0, false, VerdictSource::Judged);
        compared.score = 0.5;
        compared.method = ScoreMethod::Compared;
        compared.scale = Scale { min: 0, max: 2 };
        compared.comparison =
            Some(Comparison { output_first: Preference::Output, baseline_first: Preference::Baseline });
        compared.compared_with = Some("<b>old</b> answer".to_owned());
        compared.level = Some("7-8".to_owned());
        compared.panel = vec![
            PanelVerdict { judge: "openai:a".into(), score: 0.9, comparison: None, rationale: "r".into() },
            PanelVerdict { judge: "openai:b".into(), score: 0.3, comparison: None, rationale: "r".into() },
        ];
        let mut e = eval("m::techniques", Status::Failed, vec![compared]);
        e.criteria = vec![CriterionRecord {
            name: "accuracy".into(),
            score: 0.4,
            weight: 2.0,
            threshold: Some(0.8),
            passed: false,
        }];
        e.disagreement =
            Some(DisagreementRecord { sample: 1, spread: 0.6, max_spread: Some(0.3), flagged: true, fails: false });
        e.steps = vec![StepsRecord { judge: "openai:a".into(), steps: vec!["Check <script>x</script>.".into()] }];
        let html = render(&record(vec![e]));
        assert!(html.contains("<td class=\"num\">tie<div"), "a disagreeing comparison shows as a tie");
        assert!(html.contains("shown first: win; shown second: loss (orders disagree: tie)"));
        assert!(html.contains("<div class=\"sub level\">level 7-8</div>"));
        assert!(html.contains("2 judges, spread 0.60"));
        assert!(html.contains("&lt;b&gt;old&lt;/b&gt; answer") && !html.contains("<b>old</b>"));
        assert!(html.contains(
            "<div class=\"note criterion failed\">criterion accuracy: 0.40 (weight 2, threshold 0.80)</div>"
        ));
        assert!(html.contains("judges furthest apart on sample 1: spread 0.60 (max_spread 0.30)"));
        assert!(html.contains("<li>Check &lt;script&gt;x&lt;/script&gt;.</li>"));
    }
}
