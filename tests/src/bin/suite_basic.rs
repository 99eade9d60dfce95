//! A harness binary like a user's eval suite, run by the end-to-end tests against the fake judge.
//! Markers in outputs script the fake judge: `[score:N]`, `[malformed:N]`, `[delay:MS]`.

use std::sync::atomic::{AtomicUsize, Ordering};

use judge_runtime::llm_eval;

#[llm_eval(
    rubric = "States how many times a day the hands overlap.",
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22 times a day"
)]
fn passes() -> String {
    "The hour and minute hands overlap 22 times a day.".to_string()
}

#[llm_eval(rubric = "Names the capital.", input = "Capital of France?", expected = "Paris")]
fn static_str() -> &'static str {
    "Paris is the capital of France."
}

#[llm_eval(rubric = "Names the capital.", input = "Capital of Japan?", expected = "Tokyo", samples = 2)]
async fn async_result() -> Result<String, std::io::Error> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    Ok("Tokyo.".to_owned())
}

#[llm_eval(rubric = "Anything.", input = "Say hi.", expected = "hi", samples = 3)]
fn returns_err() -> Result<String, String> {
    Err("the model backend is down".to_owned())
}

#[llm_eval(rubric = "Anything.", input = "Say hi.", expected = "hi")]
fn panics() -> String {
    panic!("the app crashed")
}

/// Seven scores whose plain mean (47/70 ≈ 0.67) fails 0.7, but whose trimmed mean (35/50) passes.
#[llm_eval(rubric = "Scripted.", input = "Say a number.", expected = "number", samples = 7)]
fn trimmed_seven() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let score = [9, 2, 6, 7, 10, 5, 8][CALLS.fetch_add(1, Ordering::SeqCst) % 7];
    format!("[score:{score}]")
}

/// The same seven scores with no trimming fail.
#[llm_eval(rubric = "Scripted.", input = "Say a number.", expected = "number", samples = 7, trim = 0.0)]
fn untrimmed_seven() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let score = [9, 2, 6, 7, 10, 5, 8][CALLS.fetch_add(1, Ordering::SeqCst) % 7];
    format!("[score:{score}]")
}

/// Two right answers and three wrong ones. An async function takes its ticket on first poll, and
/// samples are first polled in order, so sample N always gets output N.
#[llm_eval(
    rubric = "Says the hands overlap 22 times a day, and explains why (every 12/11 hours).",
    input = "How many times a day do the hour and minute hands of a clock overlap?",
    expected = "22",
    samples = 5
)]
async fn clock_hands() -> anyhow::Result<String> {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let answer = match CALLS.fetch_add(1, Ordering::SeqCst) % 5 {
        0 | 3 => "The hands overlap 22 times a day: once every 12/11 hours.",
        _ => "They overlap 24 times a day, once every hour.",
    };
    Ok(answer.to_owned())
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
#[ignore]
fn ignored() -> String {
    "[score:10]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn malformed_once() -> String {
    "[malformed:1] [score:8]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn malformed_always() -> String {
    "[malformed:9] [score:8]".to_owned()
}

/// Three samples, one of which follows `SUITE_VARIANT`.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 3)]
fn varying() -> String {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    match CALLS.fetch_add(1, Ordering::SeqCst) % 3 {
        0 => "first stable output [score:8]".to_owned(),
        1 => "second stable output [score:8]".to_owned(),
        _ => format!("variant {} [score:8]", std::env::var("SUITE_VARIANT").unwrap_or_default()),
    }
}

/// Two slow answers, then the model fails while they are judged: the eval fails, and the two
/// verdicts already asked for are kept. (An async function takes its ticket on first poll, in
/// sample order.)
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 3)]
async fn fails_while_judged() -> Result<String, String> {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    match CALLS.fetch_add(1, Ordering::SeqCst) % 3 {
        2 => {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            Err("the model backend went down".to_owned())
        }
        n => Ok(format!("answer {n} [delay:1500] [score:8]")),
    }
}

/// Seven identical outputs: seven samples, seven verdicts (occurrences 0..7 of one request).
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 7)]
fn identical_seven() -> String {
    "always the same [score:9]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 4, name = "slow_1")]
fn slow_one() -> String {
    "slow one [delay:300] [score:8]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 4)]
async fn slow_2() -> String {
    "slow two [delay:300] [score:8]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 4)]
fn slow_3() -> String {
    "slow three [delay:300] [score:8]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", samples = 4)]
fn slow_4() -> String {
    "slow four [delay:300] [score:8]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", judge = "openai:attribute-model")]
fn judge_from_attribute() -> String {
    "[score:9]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn score_six() -> String {
    "[score:6]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e", threshold = 0.5)]
fn score_six_attribute_threshold() -> String {
    "[score:6]".to_owned()
}

#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn unauthorized() -> String {
    "[status:401]".to_owned()
}

/// The judge writes 7, but its token probabilities are split evenly between 7 and 9.
#[llm_eval(rubric = "Scripted.", input = "i", expected = "e")]
fn weighted() -> String {
    "[score:7] [dist:7=0.5,9=0.5]".to_owned()
}

judge_runtime::main!();
