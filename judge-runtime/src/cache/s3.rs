//! The verdict cache on an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, …), as
//! sccache keeps compilations: `JUDGE_CACHE_DIR=s3://BUCKET/PREFIX`.
//!
//! Entries are laid out as in a directory (`PREFIX/ab/cdef….json`), so a cache directory copied
//! into the bucket (`aws s3 sync target/judge-cache s3://BUCKET/PREFIX`) is read as it is. Each
//! entry is written with one PUT of the complete entry; an object that does not parse is a miss.
//!
//! The endpoint and credentials come from the standard variables (`AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, and the other
//! `AWS_*` variables of the AWS SDKs: web identity, container credentials). An `http://` endpoint
//! (a local MinIO) is allowed as it is; requests are path-style (unless
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`). Before its first lookup or
//! store, a run lists the prefix once: an unreachable store, a missing bucket or refused
//! credentials show there, before anything is judged that could not be kept. Every request is
//! bounded by the run's request timeout; once the store has failed a request, the run's later
//! requests fail at once with the same error rather than each waiting out the timeout again.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientConfigKey, ObjectStore, PutPayload, RetryConfig};

use crate::error::CacheError;

/// The variables whose values must never be shown.
const SECRETS: [&str; 2] = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// Values shorter than this are not looked for in messages: replacing them would garble the text
/// (a secret key of AWS is 40 characters; a test's dummy `x` is no secret).
const MIN_SECRET: usize = 8;

/// A bucket's prefix of cache entries.
pub(super) struct S3Store {
    store: AmazonS3,
    prefix: String,
    /// `s3://BUCKET/PREFIX`, for messages.
    location: String,
    /// The values of [`SECRETS`], blanked out of any message.
    secrets: Vec<String>,
    /// Whether listing the prefix, before the first request, failed: why.
    probed: tokio::sync::OnceCell<Option<String>>,
    /// The first failure of the store, which every later request repeats without trying.
    broken: OnceLock<String>,
}

impl fmt::Debug for S3Store {
    // Not derived: the client holds the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store").field("location", &self.location).finish_non_exhaustive()
    }
}

impl S3Store {
    /// The store of `bucket`, entries under `prefix`, configured from the environment. Makes no
    /// request: an unreachable store or bad credentials show on the first lookup.
    /// `location` is how messages name it (`s3://BUCKET/PREFIX`).
    pub fn open(bucket: &str, prefix: &str, location: String, timeout: Duration) -> Result<Self, CacheError> {
        let secrets: Vec<String> =
            SECRETS.iter().filter_map(|name| std::env::var(name).ok()).filter(|v| v.len() >= MIN_SECRET).collect();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), millis(timeout))
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                millis(timeout.min(Duration::from_secs(10))),
            )
            .with_retry(RetryConfig { max_retries: 2, retry_timeout: timeout, ..RetryConfig::default() });
        if std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| url.trim_start().starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|error| CacheError::Store {
            location: location.clone(),
            action: "opened",
            message: blank(&error.to_string(), &secrets),
        })?;
        Ok(Self {
            store,
            prefix: prefix.to_owned(),
            location,
            secrets,
            probed: tokio::sync::OnceCell::new(),
            broken: OnceLock::new(),
        })
    }

    /// The object of the entry `key` (hex).
    fn path(&self, key: &str) -> ObjectPath {
        let name = format!("{}/{}.json", &key[..2], &key[2..]);
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// The bytes of the entry `key`, or `None` if there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.check("read").await?;
        let read = async { self.store.get(&self.path(key)).await?.bytes().await };
        match read.await {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(self.fail("read", &error)),
        }
    }

    /// Writes the entry `key` whole, in one PUT.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), CacheError> {
        self.check("written").await?;
        match self.store.put(&self.path(key), PutPayload::from(bytes)).await {
            Ok(_) => Ok(()),
            Err(error) => Err(self.fail("written", &error)),
        }
    }

    /// The store's first failure, if it has failed; the first call lists the prefix (a few hundred
    /// bytes: the fan-out's names), which fails as every request would when the store cannot be
    /// used at all.
    async fn check(&self, action: &'static str) -> Result<(), CacheError> {
        let probed = self
            .probed
            .get_or_init(|| async {
                let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
                let listed = self.store.list_with_delimiter(prefix.as_ref()).await;
                listed.err().map(|error| blank(&error.to_string(), &self.secrets))
            })
            .await;
        if let Some(message) = probed {
            self.broken.get_or_init(|| message.clone());
        }
        match self.broken.get() {
            Some(message) => {
                Err(CacheError::Store { location: self.location.clone(), action, message: message.clone() })
            }
            None => Ok(()),
        }
    }

    /// Records `error` as the store's failure, without its secrets.
    fn fail(&self, action: &'static str, error: &object_store::Error) -> CacheError {
        let message = self.broken.get_or_init(|| blank(&error.to_string(), &self.secrets)).clone();
        CacheError::Store { location: self.location.clone(), action, message }
    }
}

/// A duration as the store's configuration reads it.
fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis().max(1))
}

/// `text` on one line (a store's error carries its XML reply), with every secret replaced.
fn blank(text: &str, secrets: &[String]) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    secrets.iter().fold(line, |line, secret| line.replace(secret.as_str(), "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_blanked_out_of_messages() {
        let secrets = vec!["s3cr3t-key".to_owned(), "session-token".to_owned()];
        assert_eq!(
            blank("denied for s3cr3t-key\n  <Token>session-token</Token>", &secrets),
            "denied for [redacted] <Token>[redacted]</Token>"
        );
    }

    #[test]
    fn entries_are_laid_out_as_in_a_directory() {
        let store =
            S3Store::open("verdicts", "ci/main", "s3://verdicts/ci/main".into(), Duration::from_secs(5)).unwrap();
        assert_eq!(store.path("abcdef").as_ref(), "ci/main/ab/cdef.json");
        let root = S3Store::open("verdicts", "", "s3://verdicts".into(), Duration::from_secs(5)).unwrap();
        assert_eq!(root.path("abcdef").as_ref(), "ab/cdef.json");
        assert_eq!(format!("{root:?}"), "S3Store { location: \"s3://verdicts\", .. }");
    }
}
