//! Speed of the embedded judge (llama.cpp in-process): prompt and decode tokens per second, and how
//! much faster the samples of one eval are when they share the prompt's KV cache than when each
//! evaluates the prompt itself. Prints figures; asserts no timing.
//!
//! `cargo bench -p judge-tests --bench embedded` (needs `scripts/install-local-judge`).
//! `BENCH_PROMPT_TOKENS`, `BENCH_SUFFIX_TOKENS`, `BENCH_GENERATED_TOKENS`, `BENCH_SAMPLES` change the shape.

use judge_runtime::__private::measure_local_engine;
use judge_runtime::local_model;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("embedded: run with `cargo bench -p judge-tests --bench embedded`");
        return;
    }
    let Some(model) = local_model::default_model_path().filter(|p| p.is_file()) else {
        eprintln!("embedded: the model is not installed; run scripts/install-local-judge");
        std::process::exit(1);
    };
    let prompt = env_or("BENCH_PROMPT_TOKENS", 400);
    let suffix = env_or("BENCH_SUFFIX_TOKENS", 60);
    let generated = env_or("BENCH_GENERATED_TOKENS", 32);
    let samples = env_or("BENCH_SAMPLES", 7);
    // A first run warms the page cache and llama.cpp's buffers.
    measure_local_engine(&model, 64, 8, 4, 2).expect("warm-up");
    let f = measure_local_engine(&model, prompt, suffix, generated, samples).expect("measure");
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    println!("embedded judge: {} on {threads} threads", local_model::DEFAULT_MODEL_NAME);
    println!(
        "  prompt   {:>7.0} tokens/s  ({} prompt tokens, one sequence, empty cache)",
        f.prompt_tokens_per_sec, f.prompt_tokens
    );
    println!("  decode   {:>7.1} tokens/s  ({} tokens, one sequence)", f.decode_tokens_per_sec, f.generated_tokens);
    println!(
        "  {} samples of {} prompt + {} own + {} generated tokens:",
        f.samples, f.prompt_tokens, f.suffix_tokens, f.generated_tokens
    );
    println!("    shared prompt (KV cache forked)  {:.2} s", f.shared_secs);
    println!("    independent (prompt per sample)  {:.2} s", f.independent_secs);
    println!(
        "    speedup                          {:.2}×  (goal ≥ 3× at 7 samples)",
        f.independent_secs / f.shared_secs
    );
    println!();
    println!(
        "| prompt tok/s | decode tok/s | samples | prompt / own / generated tokens | shared | independent | speedup |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {:.0} | {:.1} | {} | {} / {} / {} | {:.2} s | {:.2} s | {:.2}× |",
        f.prompt_tokens_per_sec,
        f.decode_tokens_per_sec,
        f.samples,
        f.prompt_tokens,
        f.suffix_tokens,
        f.generated_tokens,
        f.shared_secs,
        f.independent_secs,
        f.independent_secs / f.shared_secs
    );
}
