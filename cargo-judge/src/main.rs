//! `cargo judge`: the command-line companion of [judge-runtime](https://docs.rs/judge-runtime),
//! LLM-as-a-judge evals written as Rust tests.
//!
//! # Usage
//!
//! ```sh
//! cargo install cargo-judge --locked
//!
//! # Each of N CI machines runs its shard with its own report directory:
//! JUDGE_REPORT_DIR=target/judge-report cargo nextest run --partition count:1/3
//! # One job then merges the shards' directories into one run's reports (and gates on the baseline):
//! cargo judge merge shard-1 shard-2 shard-3 --out target/judge-report \
//!     --score-baseline evals/baseline.json --max-score-drop 0.1
//!
//! # The embedded judge's model, where the runtime looks for it:
//! cargo judge model install
//! ```
//!
//! `cargo judge merge` exits with 0 when every eval of the merged run passed, 1 when one failed or
//! could not be scored (a regression past `--max-score-drop` included), 2 on bad input (a missing
//! shard, a damaged or other-version record, one eval with two results) or an output it could not
//! write. `cargo judge model install` exits with 0 once the model is in place, 1 when it could
//! not be installed, leaving nothing behind.
//!
//! # Known limitations
//!
//! - The shards must have run the same version of judge-runtime as this cargo-judge (the run
//!   record's format is checked).
//! - `model install` reads `PIP_INDEX_URL` (and `PIP_CERT`) as pip does; without it, the index pip
//!   names (its configuration's `index-url`, else its default). It reads no `--extra-index-url`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod merge;
mod model;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, ModelCommand};

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `cargo judge …` runs `cargo-judge judge …`; `cargo-judge …` works too.
    if args.get(1).is_some_and(|arg| arg == "judge") {
        args.remove(1);
    }
    match Cli::parse_from(args).command {
        Command::Merge(args) => match merge::run(&args) {
            Ok(summary) => {
                eprintln!("{summary}");
                if summary.unsuccessful().is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
        Command::Model(ModelCommand::Install(args)) => match model::install(&args, &|line| eprintln!("{line}")) {
            Ok(model::Installed::AlreadyThere(path)) => {
                eprintln!("the model is already installed at {} (SHA-256 checked)", path.display());
                ExitCode::SUCCESS
            }
            Ok(model::Installed::Installed(path)) => {
                eprintln!("installed the model at {} (SHA-256 checked)", path.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(1)
            }
        },
    }
}
