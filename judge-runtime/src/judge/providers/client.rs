//! What every judge provider answers, whatever its wire format or engine: a reply to a
//! conversation, and a verdict on a rendered request. A provider that replies in text gets its
//! verdict from the conversation here, which re-asks when a reply cannot be read; one that scores
//! otherwise (the embedded judge) answers the verdict itself and refuses what it cannot do.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::error::JudgeError;
use crate::judge::providers::refusals::RefusalRecord;
use crate::judge::techniques::prompt::{JudgeRequest, Message, Role};
use crate::judge::techniques::reply::{self, Completion};
use crate::judge::techniques::schema::Schema;
use crate::judge::techniques::verdict::{Usage, Verdict};
use crate::judge::transport::http::excerpt;
use crate::raw_json::RawJson;
use crate::settings::params::GenerationParams;

/// How many replies are read before a verdict is given up: the first and two re-asks.
pub(crate) const MAX_VERDICT_ATTEMPTS: u32 = 3;

/// A conversation to send: its messages and, for a request as rendered (before any re-ask), the
/// same messages as JSON, made once for the cache key and sent as they are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conversation<'a> {
    pub messages: &'a [Message],
    pub json: Option<&'a RawJson>,
}

/// A client of one judge provider.
pub(crate) trait JudgeClient: Sync + Sized {
    /// Asks `model` for a reply to `conversation` that follows the JSON `schema`.
    fn complete(
        &self,
        model: &str,
        params: &GenerationParams,
        conversation: Conversation<'_>,
        schema: &Schema,
        timeout: Duration,
    ) -> impl Future<Output = Result<Completion, JudgeError>> + Send;

    /// A verdict on `request`: by default, read from the conversation of [`ask`].
    fn verdict(
        &self,
        model: &str,
        request: &JudgeRequest,
        params: &GenerationParams,
        timeout: Duration,
    ) -> impl Future<Output = Result<Verdict, JudgeError>> + Send {
        async move {
            let read = |reply: &Completion| reply::read(reply, request, params.weighted);
            let reask = |reason: &str| reply::reask(reason, request);
            let conversation = Conversation { messages: request.messages(), json: Some(request.messages_json()) };
            let (verdict, usage) =
                ask(self, model, conversation, &request.schema, params, timeout, read, reask).await?;
            Ok(Verdict { usage, ..verdict })
        }
    }

    /// What of `params` decides this provider's verdicts, for the cache key: what its requests are
    /// sent with.
    fn key_params(&self, params: &GenerationParams) -> Value {
        params.to_json()
    }

    /// What the server refused that was learned since this was last asked (a record the cache
    /// keeps), if anything: only OpenAI-compatible servers refuse parts of a request.
    fn take_refusals(&self) -> Option<RefusalRecord> {
        None
    }

    /// Takes what an earlier process learned the server refuses.
    fn apply_refusals(&self, _record: &RefusalRecord) {}

    /// What the provider learned that the person running the evals should know (a part of the
    /// request a server rejected, say), each said once; taken, so a second call returns the rest.
    fn take_notices(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Sends `messages` with the reply's JSON `schema` until `read` accepts a reply: one that it
/// refuses is answered with `reask(reason)` and asked again, with the whole conversation, up to
/// [`MAX_VERDICT_ATTEMPTS`].
#[allow(clippy::too_many_arguments)]
pub(crate) async fn ask<T>(
    client: &impl JudgeClient,
    model: &str,
    messages: Conversation<'_>,
    schema: &Schema,
    params: &GenerationParams,
    timeout: Duration,
    read: impl Fn(&Completion) -> Result<T, String>,
    reask: impl Fn(&str) -> String,
) -> Result<(T, Usage), JudgeError> {
    let mut conversation = messages.messages.to_vec();
    let mut usage = Usage::default();
    let mut attempts = 0;
    loop {
        attempts += 1;
        // The rendered JSON is the first attempt's: a re-ask adds to the conversation.
        let json = messages.json.filter(|_| attempts == 1);
        let reply =
            client.complete(model, params, Conversation { messages: &conversation, json }, schema, timeout).await?;
        usage += reply.usage;
        let reason = match read(&reply) {
            Ok(answer) => return Ok((answer, usage)),
            Err(reason) => reason,
        };
        if attempts >= MAX_VERDICT_ATTEMPTS {
            return Err(JudgeError::UnparseableVerdict { attempts, reason, raw_excerpt: excerpt(&reply.text, 300) });
        }
        conversation.push(Message { role: Role::Assistant, content: reply.text });
        conversation.push(Message { role: Role::User, content: reask(&reason) });
    }
}
