//! How the fake judge scores an output: a `[score:N]` marker, else the overlap with the reference
//! answer's words. The same for every wire format.

use std::collections::BTreeSet;

/// The fake judge's verdict on one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub rationale: String,
    /// The rubric level whose band holds the score, when the prompt lists levels.
    pub level: Option<String>,
    pub score: u64,
    /// One verdict per criterion, when the prompt lists criteria: the reply is then one object
    /// per criterion instead of this verdict's own fields.
    pub criteria: Vec<(String, Verdict)>,
    /// `A`, `B` or `tie`, when the prompt compares two outputs: the reply is then a rationale and
    /// this winner.
    pub winner: Option<&'static str>,
    /// Evaluation steps, when the prompt asks for them: the reply is then only these.
    pub steps: Option<Vec<String>>,
    /// A contrastive pair (`{"instruction": …, "answer": …}`), when the prompt asks for one: the
    /// reply is then only this.
    pub contrast: Option<serde_json::Value>,
}

impl Verdict {
    /// The verdict as the JSON object the judge prompt asks for: rationale, (level,) then score.
    pub fn to_json(&self) -> serde_json::Value {
        if let Some(steps) = &self.steps {
            return serde_json::json!({ "steps": steps });
        }
        if let Some(contrast) = &self.contrast {
            return contrast.clone();
        }
        if let Some(winner) = self.winner {
            return serde_json::json!({ "rationale": self.rationale, "winner": winner });
        }
        if !self.criteria.is_empty() {
            let fields: serde_json::Map<String, serde_json::Value> =
                self.criteria.iter().map(|(name, verdict)| (name.clone(), verdict.to_json())).collect();
            return serde_json::Value::Object(fields);
        }
        match &self.level {
            Some(level) => serde_json::json!({ "rationale": self.rationale, "level": level, "score": self.score }),
            None => serde_json::json!({ "rationale": self.rationale, "score": self.score }),
        }
    }

    /// Names the level of `levels` (`(min, max, label)`) whose band holds the score.
    pub fn in_levels(mut self, levels: &[(u64, u64, String)]) -> Self {
        self.level = levels.iter().find(|(min, max, _)| (*min..=*max).contains(&self.score)).map(|l| l.2.clone());
        self
    }
}

/// Evaluation steps for `rubric`, derived from it, so that another rubric gets other steps.
pub(crate) fn write_steps(rubric: &str) -> Verdict {
    let steps = vec![
        format!("Read what the rubric asks: {}", rubric.trim()),
        "Compare the output with the reference answer, word by word.".to_owned(),
        "Choose the score whose description fits the output.".to_owned(),
    ];
    Verdict { steps: Some(steps), ..Verdict::new(0, String::new()) }
}

/// A contrastive pair for `task` with the good answer `good`: an instruction about another case
/// and an answer the fake judge grades 1/10 (`[score:1]`), unless the good answer scripts it:
/// `[contrast:identical]` repeats the good answer, `[contrast:empty]` answers nothing,
/// `[contrast:refuse]` declines, `[contrast:better]` answers with `[score:10]`, and
/// `[contrast:unreadable]` replies with an object that lacks the answer, every time it is asked.
pub(crate) fn write_contrast(task: &str, good: &str) -> Verdict {
    let instruction = format!("{} (asked about a different case)", task.trim());
    if good.contains("[contrast:unreadable]") {
        let reply = serde_json::json!({ "instruction": instruction });
        return Verdict { contrast: Some(reply), ..Verdict::new(0, String::new()) };
    }
    let answer = match () {
        _ if good.contains("[contrast:identical]") => good.trim().to_owned(),
        _ if good.contains("[contrast:empty]") => String::new(),
        _ if good.contains("[contrast:refuse]") => "I'm sorry, I can't write that.".to_owned(),
        _ if good.contains("[contrast:better]") => "[score:10] An answer to the different case.".to_owned(),
        _ => "[score:1] An answer to the different case.".to_owned(),
    };
    let reply = serde_json::json!({ "instruction": instruction, "answer": answer });
    Verdict { contrast: Some(reply), ..Verdict::new(0, String::new()) }
}

/// The verdict of the judge named `model`: a `[score@MODEL:N]` marker scripts that judge's score
/// (so that the judges of an ensemble can disagree), else [`grade`].
pub(crate) fn grade_as(model: &str, output: &str, reference: Option<&str>) -> Verdict {
    match marker(output, &format!("score@{model}")) {
        Some(score) => Verdict::new(score, format!("As {model}, I find the score marker {score}.")),
        None => grade(output, reference),
    }
}

/// The verdict per criterion: `[NAME:N]` in the output scores criterion NAME; a criterion without
/// one gets the output's overall grade.
pub(crate) fn grade_criteria(output: &str, reference: Option<&str>, criteria: &[String]) -> Verdict {
    let overall = grade(output, reference);
    let criteria = criteria
        .iter()
        .map(|name| {
            let verdict = match marker(output, name) {
                Some(score) => Verdict::new(score, format!("On {name}, the output carries the marker {score}.")),
                None => Verdict::new(overall.score, format!("On {name}: {}", overall.rationale)),
            };
            (name.clone(), verdict)
        })
        .collect();
    Verdict { criteria, ..overall }
}

/// The verdict on two outputs: the one with the higher grade wins; equal grades tie, unless the
/// judge is biased to position (`position_bias`), when the first shown wins. A judge biased to
/// length (`verbosity_bias`) grades each as [`lengthened`] does.
pub(crate) fn grade_pair(
    first: &str,
    second: &str,
    reference: Option<&str>,
    position_bias: bool,
    verbosity_bias: bool,
) -> Verdict {
    let grade = |output| lengthened(grade(output, reference), output, verbosity_bias);
    let (a, b) = (grade(first), grade(second));
    let winner = match a.score.cmp(&b.score) {
        std::cmp::Ordering::Greater => "A",
        std::cmp::Ordering::Less => "B",
        std::cmp::Ordering::Equal if position_bias => "A",
        std::cmp::Ordering::Equal => "tie",
    };
    let rationale = format!("Output A grades {}/10 and output B {}/10, so the winner is {winner}.", a.score, b.score);
    Verdict { winner: Some(winner), ..Verdict::new(0, rationale) }
}

/// `verdict` on `output`, as a judge biased to length gives it when `biased`: a point more for
/// every 100 characters, at most 10.
pub(crate) fn lengthened(mut verdict: Verdict, output: &str, biased: bool) -> Verdict {
    if biased {
        let bonus = output.chars().count() as u64 / 100;
        verdict.score = (verdict.score + bonus).min(10);
        verdict.rationale.push_str(&format!(" Its length earns it {bonus} more points."));
    }
    verdict
}

impl Verdict {
    fn new(score: u64, rationale: String) -> Self {
        Self { rationale, level: None, score, criteria: Vec::new(), winner: None, steps: None, contrast: None }
    }
}

/// The number after `[name:` in `text`, e.g. `[score:7]`.
pub(crate) fn marker(text: &str, name: &str) -> Option<u64> {
    let start = text.find(&format!("[{name}:"))? + name.len() + 2;
    let end = text[start..].find(']')? + start;
    text[start..end].parse().ok()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The score of a `[normal:MEAN]` marker: MEAN (0..=1) plus a normal draw of standard deviation
/// 0.15, on the 0–10 scale, rounded and clipped. The draw is a function of the whole output, so
/// the same output always gets the same score and outputs that differ (a sample's number) draw
/// apart, as a noisy judge's verdicts on one eval would.
pub(crate) fn normal_score(output: &str) -> Option<u64> {
    let start = output.find("[normal:")? + "[normal:".len();
    let end = output[start..].find(']')? + start;
    let mean: f64 = output[start..end].trim().parse().ok()?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(output.as_bytes());
    let word = |i: usize| u64::from_le_bytes(digest[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    // Box–Muller, from two uniforms in (0, 1].
    let uniform = |w: u64| ((w >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let (u1, u2) = (uniform(word(0)), uniform(word(1)));
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    Some((10.0 * (mean + 0.15 * z)).round().clamp(0.0, 10.0) as u64)
}

/// The verdict the fake judge gives `output`.
pub(crate) fn grade(output: &str, reference: Option<&str>) -> Verdict {
    if let Some(score) = marker(output, "score") {
        return Verdict::new(score, format!("The output carries the score marker {score}."));
    }
    if let Some(score) = normal_score(output) {
        return Verdict::new(score, format!("The output draws the score {score} around its mean."));
    }
    let Some(reference) = reference else {
        let rationale = "There is no reference answer to compare with; the output is middling.".to_owned();
        return Verdict::new(5, rationale);
    };
    let expected: BTreeSet<String> = words(reference).into_iter().collect();
    let found: BTreeSet<String> = words(output).into_iter().collect();
    let missing: Vec<&String> = expected.difference(&found).collect();
    let hits = expected.len() - missing.len();
    let score =
        if expected.is_empty() { 0 } else { (10 * hits as u64 + expected.len() as u64 / 2) / expected.len() as u64 };
    let rationale = if missing.is_empty() {
        format!("The output contains every word of the reference answer ({hits} of {}).", expected.len())
    } else {
        format!(
            "The output contains {hits} of the {} words of the reference answer; it lacks: {}.",
            expected.len(),
            missing.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
        )
    };
    Verdict::new(score, rationale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_markers() {
        assert_eq!(marker("x [score:7] y", "score"), Some(7));
        assert_eq!(marker("x [score:high]", "score"), None);
        assert_eq!(marker("none", "delay"), None);
    }

    #[test]
    fn contrastive_pairs_are_worse_unless_scripted() {
        let pair = |good: &str| write_contrast("How many times?", good).contrast.unwrap();
        let answer = |good: &str| pair(good)["answer"].as_str().unwrap().to_owned();
        assert_eq!(pair("22 times.")["instruction"], "How many times? (asked about a different case)");
        assert_eq!(grade(&answer("22 times."), None).score, 1);
        assert_eq!(answer("22 [contrast:identical]"), "22 [contrast:identical]");
        assert_eq!(answer("22 [contrast:empty]"), "");
        assert!(answer("22 [contrast:refuse]").starts_with("I'm sorry"));
        assert_eq!(grade(&answer("22 [contrast:better]"), None).score, 10);
        assert!(pair("22 [contrast:unreadable]").get("answer").is_none());
        let json = write_contrast("t", "g").to_json();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["instruction", "answer"]);
    }

    #[test]
    fn normal_markers_draw_around_their_mean() {
        assert_eq!(normal_score("[normal:0.6] draw 1"), normal_score("[normal:0.6] draw 1"));
        let draws: Vec<u64> = (0..400).filter_map(|k| normal_score(&format!("[normal:0.6] draw {k}"))).collect();
        assert_eq!(draws.len(), 400);
        let mean = draws.iter().sum::<u64>() as f64 / 400.0;
        let sd = (draws.iter().map(|d| (*d as f64 - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        assert!((mean - 6.0).abs() < 0.3 && (sd - 1.5).abs() < 0.3, "mean {mean}, sd {sd}");
        assert!((0..200).all(|k| normal_score(&format!("[normal:0.97] {k}")).unwrap() <= 10), "clipped");
        assert_eq!(normal_score("[normal:x]"), None);
        assert_eq!(grade("[normal:0.0] draw", None).score, normal_score("[normal:0.0] draw").unwrap());
    }

    #[test]
    fn grades_by_reference_overlap() {
        assert_eq!(grade("They overlap 22 times a day.", Some("22 times")).score, 10);
        assert_eq!(grade("24 times.", Some("22 times")).score, 5);
        assert_eq!(grade("[score:3] 22 times", Some("22 times")).score, 3);
        assert_eq!(grade("anything", None).score, 5);
    }

    #[test]
    fn each_judge_can_be_scripted() {
        let output = "[score@judge-a:9] [score@judge-b:2]";
        assert_eq!(grade_as("judge-a", output, None).score, 9);
        assert_eq!(grade_as("judge-b", output, None).score, 2);
        assert_eq!(grade_as("judge-c", output, None).score, 5);
    }

    #[test]
    fn grades_criteria_and_pairs() {
        let names = ["accuracy".to_owned(), "clarity".to_owned()];
        let v = grade_criteria("22 times [clarity:3]", Some("22 times"), &names);
        assert_eq!(v.criteria.iter().map(|(_, v)| v.score).collect::<Vec<_>>(), [10, 3]);
        assert_eq!(v.to_json()["clarity"]["score"], 3);
        assert_eq!(grade_pair("22 times", "24", Some("22 times"), false, false).winner, Some("A"));
        assert_eq!(grade_pair("24", "22 times", Some("22 times"), false, false).winner, Some("B"));
        assert_eq!(grade_pair("22 times", "22 times!", Some("22 times"), false, false).winner, Some("tie"));
        assert_eq!(grade_pair("22 times", "22 times!", Some("22 times"), true, false).winner, Some("A"));
        let long = format!("22 times{}", " ".repeat(200));
        assert_eq!(grade_pair("22 times", &long, Some("22 times"), false, false).winner, Some("tie"));
        assert_eq!(grade_pair("[score:7] x", &format!("[score:7]{long}"), None, false, true).winner, Some("B"));
        assert_eq!(lengthened(grade(&long, Some("22 times")), &long, true).score, 10);
        assert_eq!(lengthened(grade("[score:4] x", None), &"x".repeat(250), true).score, 6);
        let json = grade_pair("a", "b", None, false, false).to_json();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["rationale", "winner"]);
    }

    #[test]
    fn the_rationale_names_missing_words() {
        let verdict = grade("They overlap 24 times a day.", Some("22"));
        assert_eq!(verdict.rationale, "The output contains 0 of the 1 words of the reference answer; it lacks: 22.");
        assert_eq!(verdict.to_json().to_string(), format!(r#"{{"rationale":"{}","score":0}}"#, verdict.rationale));
    }
}
