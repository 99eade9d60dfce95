//! A tiny "app" standing in for a user's LLM feature: a question-answering assistant. The eval
//! suites in `tests/` grade its answers with a judge, as a user's suites would grade their model's.
//!
//! Its answers are canned so the example runs anywhere; in a real crate `answer` would call a model.

/// Answers a question, as the app's model would.
pub fn answer(question: &str) -> String {
    let q = question.to_lowercase();
    if q.contains("clock") && q.contains("overlap") {
        "The hour and minute hands overlap 22 times a day: the minute hand laps the hour hand once \
         every 12/11 hours, which is 11 times in 12 hours."
            .to_owned()
    } else if q.contains("capital") && q.contains("australia") {
        "The capital of Australia is Canberra, not Sydney.".to_owned()
    } else if q.contains("refund") {
        "You can return an unused item within 30 days of delivery for a full refund; \
         we cover the return shipping."
            .to_owned()
    } else {
        "I don't know.".to_owned()
    }
}

/// The async flavour of [`answer`], as an app calling a model over HTTP would have.
pub async fn answer_async(question: &str) -> Result<String, std::io::Error> {
    Ok(answer(question))
}
