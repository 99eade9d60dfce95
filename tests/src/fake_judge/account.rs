//! The account a request is billed to: the API key it must carry, and whether its quota is left.

use super::FakeJudgeConfig;
use super::handle::Refusal;

/// Refuses a request whose key is not the required one, or whose account has no quota left.
pub(crate) fn check(config: &FakeJudgeConfig, key: Option<&str>) -> Result<(), Refusal> {
    if config.require_key.as_deref().is_some_and(|required| key != Some(required)) {
        return Err(Refusal::BadKey(key.map(str::to_owned)));
    }
    if config.quota_exhausted {
        return Err(Refusal::QuotaExhausted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_required_key_must_match() {
        let config = FakeJudgeConfig { require_key: Some("sk-right".into()), ..Default::default() };
        assert!(check(&config, Some("sk-right")).is_ok());
        assert!(matches!(check(&config, Some("sk-wrong")), Err(Refusal::BadKey(Some(key))) if key == "sk-wrong"));
        assert!(matches!(check(&config, None), Err(Refusal::BadKey(None))));
        assert!(check(&FakeJudgeConfig::default(), None).is_ok());
    }

    #[test]
    fn an_exhausted_quota_refuses_everything() {
        let config = FakeJudgeConfig { quota_exhausted: true, ..Default::default() };
        assert!(matches!(check(&config, Some("any")), Err(Refusal::QuotaExhausted)));
    }
}
