//! Runs the fake judge on 127.0.0.1 until stdin closes or the process is killed:
//! `fake-judge [--port N] [--latency-ms N]`. Prints `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1`.

use std::io::Read;
use std::time::Duration;

use judge_tests::{FakeJudge, FakeJudgeConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut config) = (0u16, FakeJudgeConfig { allow_missing_context: true, ..Default::default() });
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().expect("--port takes a port number"),
            "--latency-ms" => {
                config.latency = Duration::from_millis(value.parse().expect("--latency-ms takes a number"))
            }
            _ => {
                eprintln!("usage: fake-judge [--port N] [--latency-ms N]");
                std::process::exit(2);
            }
        }
    }
    let judge = FakeJudge::start_on(config, port);
    println!("OPENAI_BASE_URL={}", judge.base_url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    eprintln!("fake-judge: {} requests", judge.requests());
}
