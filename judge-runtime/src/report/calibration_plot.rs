//! The HTML report's picture of a dataset's calibration: the judge's score against the person's
//! for score labels (a scatter, one dot per labelled row, on the scale's points), or the confusion
//! matrix of pass/fail labels.

use std::fmt::Write as _;

use crate::calibration::{Calibration, HumanLabel};
use crate::report::escape::Escaped;
use crate::report::record::EvalRecord;

/// The side of the scatter, in pixels.
const SIDE: f64 = 132.0;
/// The margin left and below for the axes' labels.
const MARGIN: f64 = 18.0;

/// The picture of the calibration of the dataset `name`, from its rows among `evals`.
pub(crate) fn render(out: &mut String, name: &str, calibration: &Calibration, evals: &[EvalRecord]) {
    let rows = evals.iter().filter_map(EvalRecord::dataset_row).filter(|r| r.row.name == name);
    match calibration {
        Calibration::Scores(_) => {
            let mut points = Vec::new();
            let (mut low, mut high) = (f64::MAX, f64::MIN);
            for result in rows {
                let (row, scale) = (result.row, result.scale.unwrap_or_default());
                let (Some(HumanLabel::Score(human)), Some(score)) = (row.human, result.score) else { continue };
                low = low.min(f64::from(scale.min)).min(human);
                high = high.max(f64::from(scale.max)).max(human);
                points.push((human, scale.denormalize(score), &row.id));
            }
            if points.is_empty() || high <= low {
                return;
            }
            scatter(out, &points, low, high);
        }
        Calibration::PassFail(c) => {
            let _ = write!(
                out,
                "<table class=\"confusion\" aria-label=\"judge against person\"><tr><th></th><th>person passes</th>\
                 <th>person fails</th></tr><tr><th>judge passes</th><td>{}</td><td>{}</td></tr>\
                 <tr><th>judge fails</th><td>{}</td><td>{}</td></tr></table>",
                c.confusion.tp, c.confusion.fp, c.confusion.fn_, c.confusion.tn
            );
        }
    }
}

/// Human score across, judge score up, each from `low` to `high`; the diagonal is agreement.
fn scatter(out: &mut String, points: &[(f64, f64, &String)], low: f64, high: f64) {
    let at = |v: f64| (v - low) / (high - low) * SIDE;
    let (width, height) = (SIDE + MARGIN + 4.0, SIDE + MARGIN + 4.0);
    let _ = write!(
        out,
        "<svg class=\"calibration\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"judge score against human score, {} rows\">\
         <line class=\"axis\" x1=\"{MARGIN}\" y1=\"{side4}\" x2=\"{right}\" y2=\"{side4}\"/>\
         <line class=\"axis\" x1=\"{MARGIN}\" y1=\"4\" x2=\"{MARGIN}\" y2=\"{side4}\"/>\
         <line class=\"diagonal\" x1=\"{MARGIN}\" y1=\"{side4}\" x2=\"{right}\" y2=\"4\"/>\
         <text x=\"{MARGIN}\" y=\"{bottom}\">{low}</text><text x=\"{right}\" y=\"{bottom}\" text-anchor=\"end\">human {high}</text>\
         <text x=\"0\" y=\"12\">{high}</text>",
        points.len(),
        side4 = SIDE + 4.0,
        right = MARGIN + SIDE,
        bottom = height - 2.0,
    );
    for (human, judge, id) in points {
        let _ = write!(
            out,
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}: human {human}, judge {judge:.1}</title></circle>",
            MARGIN + at(*human),
            SIDE + 4.0 - at(*judge),
            Escaped(id)
        );
    }
    out.push_str("</svg>");
}
