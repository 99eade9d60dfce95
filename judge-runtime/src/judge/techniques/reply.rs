//! A judge's reply, and reading it as the verdict its request asked for: a score (with a level,
//! when the rubric has levels), one score per criterion, or one order of a comparison.

use crate::judge::techniques::geval::{self, TokenLogprobs};
use crate::judge::techniques::pairwise;
use crate::judge::techniques::prompt::{self, JudgeRequest};
use crate::judge::techniques::verdict::{self, ScoreMethod, Usage, Verdict};

/// Below this share of probability on score tokens, the written score is used instead of the
/// probability-weighted one.
const MIN_SCORE_MASS: f64 = 0.5;

/// A reply of a judge model, read from its provider's wire format.
#[derive(Debug, Clone)]
pub(crate) struct Completion {
    /// The reply's text; for a tool call, its input as JSON.
    pub text: String,
    pub usage: Usage,
    /// The tokens of `text` with their most likely alternatives, when the provider returned
    /// logprobs: every token, or the last ones, from the token where the score starts (a reader may
    /// leave out those before it, which spell the rest of `text`).
    pub tokens: Option<Vec<TokenLogprobs>>,
}

/// The message that asks again after a reply to `request` that was not a valid verdict.
pub(crate) fn reask(reason: &str, request: &JudgeRequest) -> String {
    match request.comparison {
        Some(_) => pairwise::reask(reason),
        None => prompt::reask(reason, request.scale, &request.task),
    }
}

/// Reads a judge's reply to `request` as a verdict, in the form the request asked for. Usage is
/// left for the caller.
pub(crate) fn read(reply: &Completion, request: &JudgeRequest, weighted: bool) -> Result<Verdict, String> {
    let scale = request.scale;
    if let Some(order) = request.comparison {
        return pairwise::parse(&reply.text, order);
    }
    if let Some(criteria) = &request.task.criteria {
        let scores = criteria.parse(&reply.text, scale)?;
        let rationale = scores
            .iter()
            .map(|c| format!("{} ({}): {}", c.name, scale.show(c.score), c.rationale))
            .collect::<Vec<_>>()
            .join("\n");
        return Ok(Verdict {
            score: criteria.weighted_mean(scores.iter().map(|c| c.score)),
            scale,
            // Several scores in one reply: which token probabilities belong to which is not read.
            method: ScoreMethod::Stated,
            rationale,
            level: None,
            criteria: scores,
            comparison: None,
            panel: Vec::new(),
            usage: Usage::default(),
        });
    }
    let (parsed, level) = match &request.task.levels {
        Some(levels) => crate::judge::techniques::levels::parse_with_levels(&reply.text, scale, levels)
            .map(|(v, l)| (v, Some(l)))?,
        None => (verdict::parse(&reply.text, scale)?, None),
    };
    // G-Eval: where the server gave token probabilities, the score is the mean of the scale weighted
    // by them, unless they put little weight on any score.
    let distribution = reply
        .tokens
        .as_deref()
        .filter(|_| weighted)
        .and_then(|tokens| geval::from_token_logprobs(&reply.text, tokens, scale))
        .filter(|d| d.mass >= MIN_SCORE_MASS);
    let (score, method) = match distribution {
        Some(d) => (d.mean(scale), ScoreMethod::ProbabilityWeighted),
        None => (f64::from(parsed.score), ScoreMethod::Stated),
    };
    Ok(Verdict {
        score,
        scale,
        method,
        rationale: parsed.rationale,
        level,
        criteria: Vec::new(),
        comparison: None,
        panel: Vec::new(),
        usage: Usage::default(),
    })
}
