//! API keys, held so that they never reach Debug output, errors, logs, caches or reports.

use std::fmt;

/// A secret API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// Holds `key`, read by the caller from the provider's variable.
    pub fn new(key: String) -> Self {
        Self(key)
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_key() {
        let key = ApiKey("sk-secret-123".to_owned());
        assert!(!format!("{key:?} {key}").contains("secret"));
        assert_eq!(key.expose(), "sk-secret-123");
    }
}
