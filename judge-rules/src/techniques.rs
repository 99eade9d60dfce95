//! The settings that choose how an eval is graded — `levels` (one score in described bands),
//! `criteria` (several scores) and `compare_with` (the better of two outputs) — exclude each
//! other: at most one may be set in one place.

/// Two settings set together that exclude each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// The setting the error is about (the later of the two): `criteria` or `compare_with`.
    pub key: &'static str,
    /// The setting it cannot be combined with.
    pub with: &'static str,
}

/// The conflict among the technique settings that are set, if any.
pub fn conflict(levels: bool, criteria: bool, compare_with: bool) -> Option<Conflict> {
    match (levels, criteria, compare_with) {
        (true, true, _) => Some(Conflict { key: "criteria", with: "levels" }),
        (true, false, true) => Some(Conflict { key: "compare_with", with: "levels" }),
        (false, true, true) => Some(Conflict { key: "compare_with", with: "criteria" }),
        _ => None,
    }
}

impl Conflict {
    /// Why, in words that follow the setting's name: "`criteria` cannot be combined with …".
    pub fn reason(&self) -> String {
        match self.key {
            "criteria" => "cannot be combined with `levels`: levels describe one score, criteria give several; \
                           describe each criterion's levels in its own rubric"
                .to_owned(),
            _ => format!(
                "names the better of two outputs and cannot be combined with `{}`: a comparison has no scale of \
                 levels or criteria scores",
                self.with
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_technique() {
        assert_eq!(conflict(true, false, false), None);
        assert_eq!(conflict(false, false, false), None);
        assert_eq!(conflict(true, true, true), Some(Conflict { key: "criteria", with: "levels" }));
        let comparison = conflict(false, true, true).unwrap();
        assert_eq!((comparison.key, comparison.with), ("compare_with", "criteria"));
        assert!(comparison.reason().contains("cannot be combined with `criteria`"));
        assert!(conflict(true, true, false).unwrap().reason().starts_with("cannot be combined with `levels`"));
    }
}
