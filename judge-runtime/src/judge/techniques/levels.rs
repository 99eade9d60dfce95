//! Rubric levels: descriptions of bands of the scale (seed 002's "0-2: requirements completely
//! unmet", …; seed 001's five-level factual-accuracy rubric). The judge names the level it chose
//! before the score, and the score must fall in it.
//!
//! Levels come from the attribute (checked at compile time by `#[llm_eval]` as well) or judge.toml;
//! the prompt lists them, the verdict schema asks for a `level` before the score, and the parser
//! checks that the score falls in the level named.

use serde_json::{Value, json};

use crate::judge::techniques::verdict::{self, ParsedVerdict, Scale};
use crate::settings::levels::Levels;
use judge_rules::levels::Band;

/// The verdict schema with rubric levels: `rationale`, then `level` (one of the levels' labels),
/// then `score`. The score must fall in the named level, which [`parse_with_levels`] checks.
pub(crate) fn schema_with_levels(scale: Scale, levels: &Levels) -> Value {
    let mut schema = verdict::schema(scale);
    let labels: Vec<String> = levels.iter().map(Band::label).collect();
    let score = schema["properties"]["score"].take();
    let properties = schema["properties"].as_object_mut().expect("the schema has properties");
    properties.remove("score");
    properties.insert(
        "level".to_owned(),
        json!({ "type": "string", "enum": labels, "description": "The rubric level that fits the output." }),
    );
    properties.insert("score".to_owned(), score);
    schema["required"] = json!(["rationale", "level", "score"]);
    schema
}

/// [`verdict::parse`], then the level: the reply must name one of `levels`, and its score must fall in it.
pub(crate) fn parse_with_levels(reply: &str, scale: Scale, levels: &Levels) -> Result<(ParsedVerdict, String), String> {
    let parsed = verdict::parse(reply, scale)?;
    let named = verdict::json_objects(reply)
        .find_map(|object| object.get("level").and_then(Value::as_str).map(str::to_owned))
        .ok_or("the JSON object has no \"level\" field")?;
    let level = levels.named(&named).ok_or_else(|| {
        let labels: Vec<String> = levels.iter().map(Band::label).collect();
        format!("\"level\" is {named:?}, not one of {}", labels.join(", "))
    })?;
    if !(level.min..=level.max).contains(&parsed.score) {
        return Err(format!("\"score\" is {}, outside the level {} it names", parsed.score, level.label()));
    }
    Ok((parsed, level.label()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_002: [&str; 5] = [
        "0-2: Expected output requirements completely unmet or contradicted.",
        "3-4: Expected output requirements mostly unmet with significant gaps.",
        "5-6: Expected output requirements partially met.",
        "7-8: Expected output requirements mostly met.",
        "9-10: Expected output requirements fully met.",
    ];

    #[test]
    fn the_seed_bands_cover_the_scale() {
        let levels = Levels::parse(&SEED_002, Scale::default()).unwrap();
        let labels: Vec<String> = levels.iter().map(Band::label).collect();
        assert_eq!(labels, ["0-2", "3-4", "5-6", "7-8", "9-10"]);
        assert_eq!(levels.level_of(7.4).label(), "7-8");
        assert_eq!(levels.level_of(0.0).label(), "0-2");
        assert_eq!(levels.named("9-10").unwrap().description, "Expected output requirements fully met.");
        assert_eq!(levels.named("9–10").unwrap().min, 9, "an en dash is read too");
        assert!(levels.named("8-10").is_none());
        let five = ["1: very poor", "2: poor", "3: fair", "4: good", "5: excellent"];
        let levels = Levels::parse(&five, Scale { min: 1, max: 5 }).unwrap();
        assert_eq!(levels.level_of(4.0).description, "good");
    }

    #[test]
    fn gaps_overlaps_and_bad_bands_name_the_level() {
        let scale = Scale::default();
        let err = |levels: &[&str]| Levels::parse(levels, scale).unwrap_err();
        assert!(err(&["0-2: a", "4-10: b"]).contains("level 2") && err(&["0-2: a", "4-10: b"]).contains("from 3"));
        assert!(err(&["0-5: a", "5-10: b"]).contains("without gaps or overlaps"));
        assert!(err(&["0-5: a", "6-9: b"]).contains("must reach 10"));
        assert!(err(&["0-5: a", "6-11: b"]).contains("above the top of the scale"));
        assert!(err(&["0-5 a", "6-10: b"]).contains("A-B: description"));
        assert!(err(&["0-5: ", "6-10: b"]).contains("empty"));
        assert!(err(&["zero-5: a", "6-10: b"]).contains("not a whole number"));
        assert!(err(&["5-0: a", "6-10: b"]).contains("5 is above 0"));
        assert!(err(&["0-10: everything"]).contains("at least two levels"));
    }
}
