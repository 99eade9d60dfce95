//! Rubric levels: `"A-B: description"` bands that cover a scale in order, without gaps or overlaps.

use std::borrow::Cow;

/// One band of the scale and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// The lowest score of the band.
    pub min: u32,
    /// The highest score of the band.
    pub max: u32,
    /// What an output in this band is like. Borrowed when `#[llm_eval]` wrote it.
    pub description: Cow<'static, str>,
}

impl Band {
    /// The band as a judge names it: `0-2`, or `7` for a band of one score.
    pub fn label(&self) -> String {
        if self.min == self.max { self.min.to_string() } else { format!("{}-{}", self.min, self.max) }
    }
}

/// Why levels are wrong, and which one (`None`: the list as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelsError {
    /// The offending level, from 0.
    pub index: Option<usize>,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads levels written as `"A-B: description"` or `"A: description"`, which must cover `min..=max`
/// from its lowest score to its highest, in order, two levels at least.
pub fn bands<S: AsRef<str>>(levels: &[S], min: u32, max: u32) -> Result<Vec<Band>, LevelsError> {
    // Too few levels is said before anything else is wrong with them.
    if levels.len() < 2 {
        return check(&[], min, max).map(|()| Vec::new());
    }
    let bands = levels
        .iter()
        .enumerate()
        .map(|(i, text)| band(text.as_ref()).map_err(|reason| LevelsError { index: Some(i), reason }))
        .collect::<Result<Vec<Band>, LevelsError>>()?;
    check(&bands, min, max).map(|()| bands)
}

/// Reads one level, `"A-B: description"` or `"A: description"`.
pub fn band(text: &str) -> Result<Band, String> {
    let (range, description) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| "a level is written \"A-B: description\", e.g. \"0-2: completely wrong\"".to_owned())?;
    let description = description.trim();
    if description.is_empty() {
        return Err("the description after the colon is empty".to_owned());
    }
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("{:?} is not a whole number", s.trim()));
    let (min, max) = match range.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(range)?, number(range)?),
    };
    if min > max {
        return Err(format!("{min} is above {max}"));
    }
    Ok(Band { min, max, description: Cow::Owned(description.to_owned()) })
}

/// Checks that `bands` cover `min..=max` from its lowest score to its highest, in order, without
/// gaps or overlaps, two bands at least: for levels read by [`bands`], and for bands built as values
/// (`#[llm_eval]`'s expansion, or code that drives the runtime).
pub fn check(bands: &[Band], min: u32, max: u32) -> Result<(), LevelsError> {
    if bands.len() < 2 {
        let reason = "give at least two levels, e.g. [\"0-4: wrong\", \"5-10: right\"]".to_owned();
        return Err(LevelsError { index: None, reason });
    }
    let mut next = min;
    for (i, band) in bands.iter().enumerate() {
        let at = |reason: String| LevelsError { index: Some(i), reason };
        if band.description.trim().is_empty() {
            return Err(at("the description is empty".to_owned()));
        }
        if band.min > band.max {
            return Err(at(format!("{} is above {}", band.min, band.max)));
        }
        if band.min != next {
            return Err(at(if next > max {
                format!("the levels before it already reach {max}, the top of the scale")
            } else {
                format!("it starts at {}, but the levels must go on from {next} without gaps or overlaps", band.min)
            }));
        }
        if band.max > max {
            return Err(at(format!("{} is above the top of the scale, {max}", band.max)));
        }
        next = band.max + 1;
    }
    if next <= max {
        return Err(LevelsError {
            index: Some(bands.len() - 1),
            reason: format!("the levels stop at {}; they must reach {max}, the top of the scale", next - 1),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_scale_in_order() {
        let b = bands(&["0-4: wrong", "5-9: close", "10: right"], 0, 10).unwrap();
        assert_eq!(b.iter().map(|b| (b.min, b.max)).collect::<Vec<_>>(), [(0, 4), (5, 9), (10, 10)]);
        let err = |levels: &[&str]| bands(levels, 0, 10).unwrap_err();
        assert_eq!(err(&["0-10: all"]).index, None);
        assert!(err(&["0-4: wrong", "6-10: right"]).reason.contains("go on from 5"));
        assert_eq!(err(&["0-4: wrong", "5-8: right"]).index, Some(1));
        assert!(err(&["0-4: wrong", "5-8: right"]).reason.contains("must reach 10"));
        assert!(err(&["0-4 wrong", "5-10: right"]).reason.contains("A-B: description"));
        assert!(err(&["0-4: ", "5-10: right"]).reason.contains("empty"));
        assert!(err(&["0-x: a", "5-10: right"]).reason.contains("\"x\" is not a whole number"));
        assert!(err(&["0-4: a", "5-12: b"]).reason.contains("above the top of the scale"));
        // Bands built as values are checked by the same rule.
        let typed = |min, max| Band { min, max, description: Cow::Borrowed("x") };
        assert_eq!(check(&[typed(0, 4), typed(5, 10)], 0, 10), Ok(()));
        assert!(check(&[typed(0, 4), typed(4, 10)], 0, 10).unwrap_err().reason.contains("go on from 5"));
        assert!(check(&[typed(0, 10)], 0, 10).unwrap_err().reason.contains("at least two"));
    }
}
