//! Multi-criteria: named rubrics, each with an optional weight and threshold.

/// Checks how many criteria there are: two at least (one is a rubric).
pub fn count(n: usize) -> Result<(), String> {
    if n < 2 {
        return Err(
            "give at least two criteria, e.g. { accuracy = \"…\", clarity = \"…\" }; for one, use `rubric` alone"
                .to_owned(),
        );
    }
    Ok(())
}

/// Checks a criterion's name: a field of the judge's JSON reply, so ASCII letters, digits and `_`,
/// not starting with a digit.
pub fn name(name: &str) -> Result<(), String> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "a criterion's name is ASCII letters, digits and `_`, not starting with a digit, found `{name}`"
        ));
    }
    Ok(())
}

/// Checks a criterion's weight: above 0, at most 1000.
pub fn weight(weight: f64) -> Result<(), String> {
    if !(weight.is_finite() && weight > 0.0 && weight <= 1000.0) {
        return Err(format!("`weight` must be above 0 and at most 1000, found {weight}"));
    }
    Ok(())
}

/// Checks a criterion's threshold: in 0..=1.
pub fn threshold(threshold: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(format!("`threshold` must be in 0.0..=1.0, found {threshold}"));
    }
    Ok(())
}

/// The fields a detailed criterion takes.
pub const FIELDS: &[&str] = &["rubric", "weight", "threshold"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_of_criteria() {
        assert!(count(1).unwrap_err().contains("at least two"));
        assert_eq!(count(2), Ok(()));
        assert_eq!(name("accuracy_2"), Ok(()));
        assert_eq!(name("_private"), Ok(()));
        for bad in ["2nd", "r#raw", "naïve", "a b", ""] {
            assert!(name(bad).unwrap_err().contains("ASCII letters"), "{bad}");
        }
        assert!(weight(0.0).unwrap_err().contains("above 0"));
        assert!(weight(f64::NAN).is_err());
        assert!(threshold(1.5).unwrap_err().contains("0.0..=1.0"));
    }
}
