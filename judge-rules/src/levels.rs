//! Rubric levels: `"A-B: description"` bands that cover a scale in order, without gaps or overlaps.

/// One band of the scale and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// The lowest score of the band.
    pub min: u32,
    /// The highest score of the band.
    pub max: u32,
    /// What an output in this band is like.
    pub description: String,
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
    let whole = |reason: String| LevelsError { index: None, reason };
    if levels.len() < 2 {
        return Err(whole("give at least two levels, e.g. [\"0-4: wrong\", \"5-10: right\"]".to_owned()));
    }
    let mut bands: Vec<Band> = Vec::with_capacity(levels.len());
    let mut next = min;
    for (i, text) in levels.iter().enumerate() {
        let at = |reason: String| LevelsError { index: Some(i), reason };
        let (range, description) =
            text.as_ref().trim().split_once(':').ok_or_else(|| {
                at("a level is written \"A-B: description\", e.g. \"0-2: completely wrong\"".to_owned())
            })?;
        let description = description.trim();
        if description.is_empty() {
            return Err(at("the description after the colon is empty".to_owned()));
        }
        let number = |s: &str| s.trim().parse::<u32>().map_err(|_| at(format!("{:?} is not a whole number", s.trim())));
        let (low, high) = match range.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(range)?, number(range)?),
        };
        if low > high {
            return Err(at(format!("{low} is above {high}")));
        }
        if low != next {
            return Err(at(if next > max {
                format!("the levels before it already reach {max}, the top of the scale")
            } else {
                format!("it starts at {low}, but the levels must go on from {next} without gaps or overlaps")
            }));
        }
        if high > max {
            return Err(at(format!("{high} is above the top of the scale, {max}")));
        }
        next = high + 1;
        bands.push(Band { min: low, max: high, description: description.to_owned() });
    }
    if next <= max {
        return Err(LevelsError {
            index: Some(levels.len() - 1),
            reason: format!("the levels stop at {}; they must reach {max}, the top of the scale", next - 1),
        });
    }
    Ok(bands)
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
    }
}
