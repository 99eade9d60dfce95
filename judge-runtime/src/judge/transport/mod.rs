//! How judge requests travel: the HTTP client, retries, rate limits and budgets, what the calls
//! cost, and the API keys they carry. Knows nothing of prompts or verdicts.

pub(crate) mod api_key;
pub(crate) mod budget;
pub(crate) mod call_stats;
pub(crate) mod http;
pub(crate) mod ledger;
pub(crate) mod rate_limit;
pub(crate) mod retry;
