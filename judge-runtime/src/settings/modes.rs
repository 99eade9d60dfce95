//! The modes a run or an eval is in, as the settings name them: the verdict cache's (`cache`) and
//! the snapshot's (`snapshot`). They live here, below the cache and the snapshot module that act
//! on them, so that settings/ imports neither.

/// How the verdict cache is used, from `JUDGE_CACHE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheMode {
    /// Read cached verdicts; judge and store the missing ones (the default).
    On,
    /// Neither read nor write: every sample is judged.
    Off,
    /// Read only; a missing verdict fails its eval. For CI runs without an API key.
    Replay,
    /// Judge every sample again and overwrite what is cached.
    Refresh,
}

impl CacheMode {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "on" => Ok(Self::On),
            "off" => Ok(Self::Off),
            "replay" => Ok(Self::Replay),
            "refresh" => Ok(Self::Refresh),
            _ => Err(format!("{s:?} is not one of: on, off, replay, refresh")),
        }
    }
}

/// Whether an eval's verdict is snapshotted, from `snapshot` (attribute, `JUDGE_SNAPSHOT`,
/// judge.toml).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// No snapshot (the default).
    Off,
    /// Snapshot the verdict; a change is shown for review but does not fail the eval.
    On,
    /// Snapshot the verdict; a change fails the eval.
    Strict,
}

impl SnapshotMode {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "false" | "off" => Ok(Self::Off),
            "true" | "on" => Ok(Self::On),
            "strict" => Ok(Self::Strict),
            _ => Err(format!("{s:?} is not one of: true, false, strict")),
        }
    }
}

/// How progress is shown, from `JUDGE_PROGRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// `live` on a terminal, `plain` in CI or when stderr is not a terminal, `off` under nextest
    /// (one eval per process) or for a single eval.
    Auto,
    Live,
    Plain,
    Off,
}

impl ProgressMode {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "live" => Ok(Self::Live),
            "plain" => Ok(Self::Plain),
            "off" => Ok(Self::Off),
            _ => Err(format!("{s:?} is not one of: auto, live, plain, off")),
        }
    }
}
