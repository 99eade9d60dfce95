//! `rationales`: which rationales a failure message shows.

/// Which rationales a failure message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rationales {
    /// The rationale of the lowest-scoring sample that was kept by the trimmed mean.
    Lowest,
    /// Every sample's rationale.
    All,
}

impl Rationales {
    /// Reads `rationales`.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "lowest" => Ok(Self::Lowest),
            "all" => Ok(Self::All),
            _ => Err(format!("{s:?} is not one of: lowest, all")),
        }
    }
}
