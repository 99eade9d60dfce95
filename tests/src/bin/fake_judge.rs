//! Runs the fake judge on 127.0.0.1 until stdin closes or the process is killed. Prints
//! `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1` and `ANTHROPIC_BASE_URL=http://127.0.0.1:PORT`.
//!
//! `fake-judge [--port N] [--latency-ms N] [--seed N] [--full-logprobs] [--fault KIND=RATE]...`
//! (`--full-logprobs`: logprobs as OpenAI sends them, every token with 10 alternatives), where KIND is one of
//! 429, 500, 503, 529, stall, malformed_json, truncated, wrong_content_type, malformed_verdict.

use std::io::Read;
use std::time::Duration;

use judge_tests::{FakeJudge, FakeJudgeConfig};

const USAGE: &str = "usage: fake-judge [--port N] [--latency-ms N] [--seed N] [--full-logprobs] [--fault KIND=RATE]...";

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut config) = (0u16, FakeJudgeConfig { allow_missing_context: true, ..Default::default() });
    while let Some(arg) = args.next() {
        if arg == "--full-logprobs" {
            config.full_logprobs = true;
            continue;
        }
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().expect("--port takes a port number"),
            "--latency-ms" => {
                config.latency = Duration::from_millis(value.parse().expect("--latency-ms takes a number"))
            }
            "--seed" => config.faults.seed = value.parse().expect("--seed takes a number"),
            "--fault" => {
                let (kind, rate) = value.split_once('=').expect("--fault takes KIND=RATE");
                let rate: f64 = rate.parse().expect("--fault takes a rate in 0.0..=1.0");
                let faults = &mut config.faults;
                *match kind {
                    "429" => &mut faults.rate_429,
                    "500" => &mut faults.rate_500,
                    "503" => &mut faults.rate_503,
                    "529" => &mut faults.rate_529,
                    "stall" => &mut faults.rate_stall,
                    "malformed_json" => &mut faults.rate_malformed_json,
                    "truncated" => &mut faults.rate_truncated,
                    "wrong_content_type" => &mut faults.rate_wrong_content_type,
                    "malformed_verdict" => &mut faults.rate_malformed_verdict,
                    _ => {
                        eprintln!("fake-judge: unknown fault {kind}\n{USAGE}");
                        std::process::exit(2);
                    }
                } = rate;
            }
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let judge = FakeJudge::start_on(config, port);
    println!("OPENAI_BASE_URL={}", judge.base_url());
    println!("ANTHROPIC_BASE_URL={}", judge.anthropic_base_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    eprintln!("fake-judge: {} requests, {} faults injected", judge.requests(), judge.faults_injected());
}
