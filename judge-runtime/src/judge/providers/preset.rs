//! Where a hosted provider lives and how it takes a key: the variables every provider reads the
//! same way, so a base URL or a missing key is handled alike for all of them.

use crate::error::{ConfigError, JudgeError};
use crate::judge::transport::api_key::ApiKey;

/// A provider's base URL and key variables, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Preset {
    /// The provider's name in `provider:model`.
    pub name: &'static str,
    /// The variable that overrides the base URL.
    pub base_url_var: &'static str,
    /// The base URL when the variable is unset. Hosted providers default to HTTPS; plain HTTP is
    /// used only for servers on this machine or when the user sets an `http://` base URL.
    pub default_base_url: &'static str,
    /// The variable holding the API key, if the provider takes one.
    pub key_var: Option<&'static str>,
    /// Whether the default base URL cannot be used without a key.
    pub key_required: bool,
}

/// Where a client calls and with what key.
#[derive(Debug)]
pub(crate) struct Access {
    /// The base URL, without a trailing slash.
    pub base_url: String,
    /// The key, if one is set.
    pub api_key: Option<ApiKey>,
    /// Whether the provider needs a key here (its public API) and none is set: a call then fails,
    /// saying which variable to set. Nothing fails before a call is made, so a replay of cached
    /// verdicts needs no key.
    pub missing_key: bool,
}

impl Preset {
    /// Reads the base URL and the key through `var`. A set base URL loses its trailing slashes,
    /// is shaped by `adjust` (a provider's own conventions) and must then start with `http://` or
    /// `https://`. A provider that needs a key lacks one only at its default base URL; another
    /// base URL may be a server that needs none.
    pub fn read(
        &self,
        var: impl Fn(&str) -> Option<String>,
        adjust: impl FnOnce(String) -> String,
    ) -> Result<Access, ConfigError> {
        let set = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let base_url = match set(self.base_url_var) {
            Some(value) => {
                let url = adjust(value.trim_end_matches('/').to_owned());
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::InvalidEnv {
                        var: self.base_url_var,
                        value,
                        reason: "a base URL starts with http:// or https://".to_owned(),
                    });
                }
                url
            }
            None => self.default_base_url.to_owned(),
        };
        let api_key = self.key_var.and_then(|name| set(name).map(ApiKey::new));
        let missing_key = api_key.is_none() && self.key_required && base_url == self.default_base_url;
        Ok(Access { base_url, api_key, missing_key })
    }

    /// The error of a call that needs a key no variable sets.
    pub fn missing_key(&self) -> JudgeError {
        JudgeError::MissingApiKey {
            provider: self.name,
            var: self.key_var.unwrap_or(self.base_url_var),
            base_url_var: self.base_url_var,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTED: Preset = Preset {
        name: "hosted",
        base_url_var: "HOSTED_BASE_URL",
        default_base_url: "https://api.example.test/v1",
        key_var: Some("HOSTED_API_KEY"),
        key_required: true,
    };

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn a_hosted_default_needs_a_key_and_another_base_url_may_not() {
        assert!(HOSTED.read(env(&[]), |url| url).unwrap().missing_key, "needed only when a call is made");
        let err = HOSTED.missing_key().to_string();
        assert!(err.contains("HOSTED_API_KEY") && err.contains("HOSTED_BASE_URL"), "{err}");
        let blank = HOSTED.read(env(&[("HOSTED_API_KEY", "  ")]), |url| url).unwrap();
        assert!(blank.missing_key && blank.api_key.is_none(), "a blank key is no key");
        let other = HOSTED.read(env(&[("HOSTED_BASE_URL", "http://127.0.0.1:9/v1//")]), |url| url).unwrap();
        assert_eq!(other.base_url, "http://127.0.0.1:9/v1");
        assert!(other.api_key.is_none() && !other.missing_key);
        let keyed = HOSTED.read(env(&[("HOSTED_API_KEY", "k")]), |url| url).unwrap();
        assert_eq!(keyed.base_url, "https://api.example.test/v1");
        assert!(keyed.api_key.is_some() && !keyed.missing_key);
    }

    #[test]
    fn a_base_url_without_a_scheme_is_refused_after_adjusting() {
        let err = HOSTED.read(env(&[("HOSTED_BASE_URL", "ftp://x")]), |url| url).unwrap_err().to_string();
        assert!(err.contains("HOSTED_BASE_URL") && err.contains("ftp://x") && err.contains("http"), "{err}");
        let access = HOSTED.read(env(&[("HOSTED_BASE_URL", "host:1")]), |url| format!("http://{url}")).unwrap();
        assert_eq!(access.base_url, "http://host:1");
    }
}
