//! The settings that take one of a few words, and the judges' `provider:model` names.

use crate::judge;

/// Reads `scoring`: true for `weighted` (G-Eval's probability-weighted score), false for `stated`.
pub fn scoring(s: &str) -> Result<bool, String> {
    match s {
        "weighted" => Ok(true),
        "stated" => Ok(false),
        _ => Err(format!(
            "{s:?} is not \"weighted\" (the scale weighted by the judge's token probabilities, where the provider \
             returns them; the default) or \"stated\" (the integer the judge wrote)"
        )),
    }
}

/// How an ensemble's scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Combine {
    /// `mean` (the default).
    #[default]
    Mean,
    /// `median`.
    Median,
    /// `majority`: each judge votes pass or fail against the threshold.
    Majority,
}

impl Combine {
    /// Reads a `combine` value.
    pub fn parse(s: &str) -> Result<Self, String> {
        combine(s)
    }

    /// The `combine` value that names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Median => "median",
            Self::Majority => "majority",
        }
    }
}

/// Reads `combine`.
pub fn combine(s: &str) -> Result<Combine, String> {
    match s {
        "mean" => Ok(Combine::Mean),
        "median" => Ok(Combine::Median),
        "majority" => Ok(Combine::Majority),
        _ => Err(format!(
            "{s:?} is not one of: mean (the default), median, majority (each judge votes pass or fail against the \
             threshold)"
        )),
    }
}

/// What a flagged disagreement between an ensemble's judges does, from `on_disagreement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDisagreement {
    /// `flag`: report it (the default).
    #[default]
    Flag,
    /// `fail`: fail the eval.
    Fail,
}

impl OnDisagreement {
    /// Reads `on_disagreement`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "flag" => Ok(Self::Flag),
            "fail" => Ok(Self::Fail),
            _ => Err(format!("{s:?} is not \"flag\" (report it; the default) or \"fail\" (fail the eval)")),
        }
    }

    /// Whether it fails the eval.
    pub fn fails(self) -> bool {
        self == Self::Fail
    }
}

/// How a dataset validates its judge without human labels (`validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validate {
    /// `synthetic`: contrastive pairs written by a generator (the Self-Taught Evaluator recipe).
    Synthetic,
}

impl Validate {
    /// The words `validate` takes.
    pub const WORDS: &[&str] = &["synthetic"];

    /// Reads `validate`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "synthetic" => Ok(Self::Synthetic),
            _ => Err(format!(
                "{s:?} is not \"synthetic\" (contrastive pairs a generator writes from the dataset's good answers)"
            )),
        }
    }
}

/// A bias probe: extra judge calls that measure a known bias of the judge (`probes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Probe {
    /// `position`: whether the judge prefers the output shown first.
    Position,
    /// `verbosity`: whether content-free padding raises the judge's score.
    Verbosity,
}

impl Probe {
    /// The words `probes` takes.
    pub const WORDS: &[&str] = &["position", "verbosity"];

    /// Reads one probe's name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "position" => Ok(Self::Position),
            "verbosity" => Ok(Self::Verbosity),
            _ => Err(format!(
                "{s:?} is not a probe: \"position\" (does the judge prefer the output shown first?) or \"verbosity\" \
                 (does padding raise the score?)"
            )),
        }
    }

    /// The word that names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Position => "position",
            Self::Verbosity => "verbosity",
        }
    }
}

/// Reads `probes`: each a probe's name, none named twice; in the order given. The error gives the
/// offending name's index.
pub fn probes<S: AsRef<str>>(names: &[S]) -> Result<Vec<Probe>, (usize, String)> {
    let mut probes = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let probe = Probe::parse(name.as_ref()).map_err(|reason| (index, reason))?;
        if probes.contains(&probe) {
            return Err((index, format!("{:?} is named twice", probe.name())));
        }
        probes.push(probe);
    }
    Ok(probes)
}

/// What an eval whose every comparison is a tie (`compare_with`) does: each order preferred the
/// output in its own position, so the judge could not tell the two outputs apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnTie {
    /// `pass`: the eval passes or fails on its score as usual, with a note that says so (the
    /// default).
    #[default]
    Pass,
    /// `fail`: the eval fails.
    Fail,
}

impl OnTie {
    /// The words `on_tie` takes.
    pub const WORDS: &[&str] = &["pass", "fail"];

    /// Reads `on_tie`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pass" => Ok(Self::Pass),
            "fail" => Ok(Self::Fail),
            _ => Err(format!("{s:?} is not \"pass\" (note it; the default) or \"fail\" (fail the eval)")),
        }
    }
}

/// Reads `on_disagreement`: true for `fail`, false for `flag`.
pub fn on_disagreement(s: &str) -> Result<bool, String> {
    OnDisagreement::parse(s).map(OnDisagreement::fails)
}

/// Checks the judges of an ensemble, `provider:model` each: two at least, none named twice (the
/// same provider and model, however spaced). The error gives the offending judge's index (`None`
/// for too few judges) and the reason; the caller says what to write instead, in its own words
/// (the attribute's `judge = …`, judge.toml's or the environment's).
pub fn ensemble(judges: &[&str]) -> Result<(), (Option<usize>, String)> {
    if judges.len() < MIN_JUDGES {
        return Err((None, "an ensemble needs at least two judges".to_owned()));
    }
    // A judge that does not read is compared as written: its own error is the caller's to give.
    let key = |spec: &str| {
        judge::read(spec)
            .map_or_else(|_| (spec.trim().to_owned(), String::new()), |(p, m)| (p.to_owned(), m.to_owned()))
    };
    let keys: Vec<_> = judges.iter().map(|spec| key(spec)).collect();
    match (1..keys.len()).find(|&i| keys[..i].contains(&keys[i])) {
        Some(i) => Err((Some(i), "this judge is named twice".to_owned())),
        None => Ok(()),
    }
}

/// The fewest judges an ensemble has: one judge is set alone (`judge`).
const MIN_JUDGES: usize = 2;

/// Checks an ensemble's size alone (where the judges are counted before they are read: judge.toml,
/// the environment): two judges at least.
pub fn ensemble_size(count: usize) -> Result<(), String> {
    if count < MIN_JUDGES {
        return Err(format!(
            "an ensemble needs at least two judges, e.g. \"openai:gpt-4.1, anthropic:claude-sonnet-4-5\" (found \
             {count}); for one judge, set the judge alone (`judge`, JUDGE_MODEL)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_and_words() {
        assert_eq!(judge::read("ollama:qwen2.5:7b"), Ok(("ollama", "qwen2.5:7b")));
        assert_eq!(judge::read(" local "), Ok(("local", "")));
        assert!(judge::read("gpt-4").unwrap_err().contains("provider:model"));
        assert!(judge::read("acme:x").unwrap_err().contains("unknown provider \"acme\""));
        assert!(judge::read("openai: ").unwrap_err().contains("empty"));
        assert_eq!(
            (scoring("stated"), combine("median"), on_disagreement("fail")),
            (Ok(false), Ok(Combine::Median), Ok(true))
        );
        assert!(scoring("probable").unwrap_err().contains("\"weighted\""));
        assert!(combine("vote").unwrap_err().contains("mean (the default), median, majority"));
        assert!(on_disagreement("warn").unwrap_err().contains("\"flag\""));
        assert!(ensemble_size(1).unwrap_err().contains("at least two judges"));
        assert_eq!(OnDisagreement::parse("flag"), Ok(OnDisagreement::Flag));
        assert!(OnDisagreement::Fail.fails() && !OnDisagreement::default().fails());
        assert_eq!(ensemble(&["openai:a", "anthropic:b"]), Ok(()));
        assert!(ensemble(&["openai:a"]).unwrap_err().1.contains("at least two judges"));
        assert_eq!(ensemble(&["openai:a"]).unwrap_err().0, None);
        assert_eq!(ensemble(&["openai:a", "openai:b", " openai: a"]).unwrap_err().0, Some(2));
        assert_eq!(ensemble(&["x", "openai:b", "x"]).unwrap_err().0, Some(2));
    }

    #[test]
    fn probes_are_named_once() {
        assert_eq!(probes(&["verbosity", " position"]), Ok(vec![Probe::Verbosity, Probe::Position]));
        assert_eq!(probes::<&str>(&[]), Ok(vec![]));
        let (index, reason) = probes(&["position", "length"]).unwrap_err();
        assert_eq!(index, 1);
        assert!(reason.contains("\"length\" is not a probe: \"position\""), "{reason}");
        assert_eq!(probes(&["position", "position"]).unwrap_err(), (1, "\"position\" is named twice".to_owned()));
        assert!(Probe::WORDS.iter().all(|w| Probe::parse(w).map(Probe::name) == Ok(*w)));
    }
}
