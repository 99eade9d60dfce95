//! Fault injection: server errors, stalls, broken bodies and unreadable verdicts, at given rates,
//! reproducibly.
//!
//! Whether a request is faulted, and how, depends only on the seed, its conversation and how many
//! requests of that conversation came before it. A conversation is the SHA-256 of the request's
//! `messages` array as JSON, so the retries of one request share it, and a re-ask (which appends
//! messages) starts another.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Faults the fake judge injects, each at a rate: the probability that a request gets it.
///
/// The rates are walked in the order of the fields, so they should add up to at most 1; a request
/// gets at most one fault. The same seed and the same requests give the same faults.
///
/// ```
/// use std::time::Duration;
/// use judge_tests::Faults;
///
/// let faults = Faults {
///     seed: 42,
///     rate_429: 0.1,
///     retry_after: Some("1".into()),
///     rate_stall: 0.05,
///     stall: Duration::from_secs(5),
///     ..Faults::default()
/// };
/// assert_eq!(faults.max_consecutive, 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Seeds the choice of faults. Default: 0.
    pub seed: u64,
    /// 429 Too Many Requests, with `Retry-After: retry_after` when that is set.
    pub rate_429: f64,
    /// The `Retry-After` header of an injected 429, e.g. `Some("1".into())`. Default: none.
    pub retry_after: Option<String>,
    /// 500 Internal Server Error.
    pub rate_500: f64,
    /// 503 Service Unavailable.
    pub rate_503: f64,
    /// 529, Anthropic's "Overloaded" (with an OpenAI-style body on the OpenAI endpoint).
    pub rate_529: f64,
    /// Waits `stall` before answering normally: the client should time out first.
    pub rate_stall: f64,
    /// How long a stalled request waits. Default: 60 s.
    pub stall: Duration,
    /// 200 with `application/json` and a body that is not JSON.
    pub rate_malformed_json: f64,
    /// 200 whose body starts as valid JSON and then the connection is cut.
    pub rate_truncated: f64,
    /// 200 with a `text/html` body, as a misconfigured proxy sends.
    pub rate_wrong_content_type: f64,
    /// A well-formed 200 whose reply is prose, not a verdict (OpenAI), or a tool call without a
    /// score (Anthropic), so the client must re-ask. Only while the conversation has fewer than 2
    /// earlier replies, so a client that re-asks gets a verdict by its third ask.
    pub rate_malformed_verdict: f64,
    /// No fault is injected on a request when the last `max_consecutive` requests of its
    /// conversation were all faulted, so a client that retries enough always gets through.
    /// Default: 3. 0 turns faults off.
    pub max_consecutive: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            seed: 0,
            rate_429: 0.0,
            retry_after: None,
            rate_500: 0.0,
            rate_503: 0.0,
            rate_529: 0.0,
            rate_stall: 0.0,
            stall: Duration::from_secs(60),
            rate_malformed_json: 0.0,
            rate_truncated: 0.0,
            rate_wrong_content_type: 0.0,
            rate_malformed_verdict: 0.0,
            max_consecutive: 3,
        }
    }
}

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    TooManyRequests,
    InternalServerError,
    ServiceUnavailable,
    Overloaded,
    Stall,
    MalformedJson,
    Truncated,
    WrongContentType,
    MalformedVerdict,
}

impl Fault {
    /// Its key in [`crate::FakeJudge::faults`].
    pub fn name(self) -> &'static str {
        match self {
            Fault::TooManyRequests => "429",
            Fault::InternalServerError => "500",
            Fault::ServiceUnavailable => "503",
            Fault::Overloaded => "529",
            Fault::Stall => "stall",
            Fault::MalformedJson => "malformed_json",
            Fault::Truncated => "truncated",
            Fault::WrongContentType => "wrong_content_type",
            Fault::MalformedVerdict => "malformed_verdict",
        }
    }
}

impl Faults {
    /// Each fault with its rate, in the order they are walked.
    fn rates(&self) -> [(Fault, f64); 9] {
        [
            (Fault::TooManyRequests, self.rate_429),
            (Fault::InternalServerError, self.rate_500),
            (Fault::ServiceUnavailable, self.rate_503),
            (Fault::Overloaded, self.rate_529),
            (Fault::Stall, self.rate_stall),
            (Fault::MalformedJson, self.rate_malformed_json),
            (Fault::Truncated, self.rate_truncated),
            (Fault::WrongContentType, self.rate_wrong_content_type),
            (Fault::MalformedVerdict, self.rate_malformed_verdict),
        ]
    }

    /// An error naming the first rate that is not a probability.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self.rates().into_iter().find(|(_, rate)| !(0.0..=1.0).contains(rate)) {
            Some((fault, rate)) => Err(format!("the rate of fault {} is {rate}, not in 0.0..=1.0", fault.name())),
            None => Ok(()),
        }
    }

    /// The fault that `draw` (uniform in 0..1) falls on when the cumulative rates are walked.
    /// A malformed verdict falling on a conversation with 2 earlier replies or more is no fault.
    fn pick(&self, draw: f64, prior_replies: u64) -> Option<Fault> {
        let mut cumulative = 0.0;
        let fault = self.rates().into_iter().find_map(|(fault, rate)| {
            cumulative += rate;
            (draw < cumulative).then_some(fault)
        })?;
        (fault != Fault::MalformedVerdict || prior_replies < 2).then_some(fault)
    }
}

/// A conversation: the SHA-256 of a request's `messages` as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ConversationId([u8; 32]);

impl ConversationId {
    /// The conversation of a request whose `messages` field is `messages`.
    pub fn of(messages: &Value) -> Self {
        Self(Sha256::digest(messages.to_string().as_bytes()).into())
    }
}

/// A number uniform in 0..1 drawn from the seed, the conversation and the attempt.
fn draw(seed: u64, conversation: ConversationId, attempt: u64) -> f64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(conversation.0);
    hasher.update(attempt.to_le_bytes());
    let digest = hasher.finalize();
    let bits = u64::from_le_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes"));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// What the fake judge remembers of one conversation.
#[derive(Debug, Default, Clone, Copy)]
struct History {
    /// Requests seen so far.
    attempts: u64,
    /// How many of the latest requests, in a row, were faulted.
    faulted_in_a_row: u32,
}

/// The requests seen of every conversation, which decide the next fault.
#[derive(Debug, Default)]
pub(crate) struct Conversations(Mutex<HashMap<ConversationId, History>>);

impl Conversations {
    /// The fault for the next request of `conversation`, if any, and that request's attempt
    /// number (0 for the first).
    pub fn next(&self, faults: &Faults, conversation: ConversationId, prior_replies: u64) -> (Option<Fault>, u64) {
        let mut histories = self.0.lock().unwrap();
        let history = histories.entry(conversation).or_default();
        let attempt = history.attempts;
        history.attempts += 1;
        let fault = if history.faulted_in_a_row >= faults.max_consecutive {
            None
        } else {
            faults.pick(draw(faults.seed, conversation, attempt), prior_replies)
        };
        history.faulted_in_a_row = if fault.is_some() { history.faulted_in_a_row + 1 } else { 0 };
        (fault, attempt)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversation(n: u64) -> ConversationId {
        ConversationId::of(&json!([{ "role": "user", "content": format!("conversation {n}") }]))
    }

    #[test]
    fn the_same_messages_are_the_same_conversation() {
        let messages = json!([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]);
        assert_eq!(ConversationId::of(&messages), ConversationId::of(&messages.clone()));
        assert_ne!(ConversationId::of(&messages), ConversationId::of(&json!([{"role": "user", "content": "u"}])));
    }

    #[test]
    fn decisions_are_deterministic() {
        let faults = Faults { seed: 9, rate_500: 0.3, rate_truncated: 0.3, ..Faults::default() };
        let run = || {
            let conversations = Conversations::default();
            (0..200).map(|i| conversations.next(&faults, conversation(i % 7), 0)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        let other_seed = Faults { seed: 10, ..faults.clone() };
        let conversations = Conversations::default();
        let other: Vec<_> = (0..200).map(|i| conversations.next(&other_seed, conversation(i % 7), 0)).collect();
        assert_ne!(run(), other);
    }

    #[test]
    fn draws_are_uniform_and_rates_hold_roughly() {
        let faults = Faults { rate_429: 0.1, rate_503: 0.2, rate_malformed_json: 0.05, ..Faults::default() };
        let n = 20_000;
        let mut counts: HashMap<Option<Fault>, u64> = HashMap::new();
        for i in 0..n {
            *counts.entry(faults.pick(draw(1, conversation(i), 0), 0)).or_default() += 1;
        }
        let share = |fault| counts.get(&fault).copied().unwrap_or(0) as f64 / n as f64;
        assert!((share(Some(Fault::TooManyRequests)) - 0.1).abs() < 0.015, "{counts:?}");
        assert!((share(Some(Fault::ServiceUnavailable)) - 0.2).abs() < 0.015, "{counts:?}");
        assert!((share(Some(Fault::MalformedJson)) - 0.05).abs() < 0.01, "{counts:?}");
        assert!((share(None) - 0.65).abs() < 0.015, "{counts:?}");
        assert_eq!(share(Some(Fault::InternalServerError)), 0.0);
    }

    #[test]
    fn never_more_than_max_consecutive_faults_in_a_conversation() {
        let faults = Faults { rate_500: 1.0, max_consecutive: 3, ..Faults::default() };
        let conversations = Conversations::default();
        let got: Vec<_> = (0..8).map(|_| conversations.next(&faults, conversation(1), 0).0.is_some()).collect();
        assert_eq!(got, [true, true, true, false, true, true, true, false]);
        // Other conversations keep their own count.
        assert!(conversations.next(&faults, conversation(2), 0).0.is_some());
        let off = Faults { max_consecutive: 0, ..faults };
        assert_eq!(Conversations::default().next(&off, conversation(1), 0).0, None);
    }

    #[test]
    fn a_malformed_verdict_only_before_the_third_ask() {
        let faults = Faults { rate_malformed_verdict: 1.0, ..Faults::default() };
        assert_eq!(faults.pick(0.5, 0), Some(Fault::MalformedVerdict));
        assert_eq!(faults.pick(0.5, 1), Some(Fault::MalformedVerdict));
        assert_eq!(faults.pick(0.5, 2), None);
    }

    #[test]
    fn attempts_count_per_conversation() {
        let conversations = Conversations::default();
        let faults = Faults::default();
        assert_eq!(conversations.next(&faults, conversation(1), 0), (None, 0));
        assert_eq!(conversations.next(&faults, conversation(1), 0), (None, 1));
        assert_eq!(conversations.next(&faults, conversation(2), 0), (None, 0));
    }

    #[test]
    fn rates_must_be_probabilities() {
        assert!(Faults::default().validate().is_ok());
        let bad = Faults { rate_stall: 1.5, ..Faults::default() };
        assert_eq!(bad.validate().unwrap_err(), "the rate of fault stall is 1.5, not in 0.0..=1.0");
        assert!(Faults { rate_500: f64::NAN, ..Faults::default() }.validate().is_err());
    }
}
