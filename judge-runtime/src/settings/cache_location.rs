//! Where the verdicts are kept: a directory, or a prefix of an S3-compatible bucket
//! (`JUDGE_CACHE_DIR=s3://BUCKET/PREFIX`).

use std::fmt;
use std::path::{Path, PathBuf};

/// The place `cache_dir` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CacheLocation {
    /// A directory on this machine.
    Dir(PathBuf),
    /// The objects under `prefix` in `bucket` of an S3-compatible store.
    S3 {
        /// The bucket, which must exist: the cache does not create it.
        bucket: String,
        /// The key prefix, without a leading or trailing `/`; empty for the bucket's root.
        prefix: String,
    },
}

impl CacheLocation {
    /// Reads `cache_dir`'s value: `s3://BUCKET/PREFIX`, else a directory, relative to `base`.
    pub fn parse(raw: &str, base: &Path) -> Result<Self, String> {
        let value = raw.trim();
        let Some((scheme, rest)) = value.split_once("://") else {
            return Ok(Self::Dir(base.join(value)));
        };
        if !scheme.eq_ignore_ascii_case("s3") {
            return Err(format!(
                "is a `{scheme}://` URL; the verdict cache is a directory or an S3-compatible store \
                 (`s3://BUCKET/PREFIX`)"
            ));
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket(bucket)?;
        let prefix = prefix.trim_end_matches('/');
        let bad = prefix.split('/').find(|segment| matches!(*segment, "" | "." | ".."));
        if let Some(bad) = bad.filter(|_| !prefix.is_empty()) {
            return Err(format!(
                "has a prefix with an empty, `.` or `..` segment ({bad:?}); write it as `s3://{bucket}/a/b`"
            ));
        }
        if !cfg!(feature = "s3") {
            return Err("is an S3 location, and judge-runtime was built without its `s3` feature: enable it \
                        (`judge-runtime = { version = \"…\", features = [\"s3\"] }`) or give a directory"
                .to_owned());
        }
        Ok(Self::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }
}

/// S3's bucket naming rules, which MinIO and R2 share: 3 to 63 lowercase letters, digits, `.`
/// and `-`, starting and ending with a letter or digit.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let edges_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = (3..=63).contains(&bucket.len())
        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edges_ok(bucket.chars().next())
        && edges_ok(bucket.chars().last());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "names the bucket {bucket:?}, which is not a bucket name (3 to 63 lowercase letters, digits, \
             `.` and `-`); write `s3://BUCKET/PREFIX`"
        ))
    }
}

impl fmt::Display for CacheLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(dir) => write!(f, "{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<CacheLocation, String> {
        CacheLocation::parse(raw, Path::new("/ws"))
    }

    #[test]
    fn a_path_is_a_directory_from_the_base() {
        assert_eq!(parse("verdicts"), Ok(CacheLocation::Dir(PathBuf::from("/ws/verdicts"))));
        assert_eq!(parse(" /abs/v "), Ok(CacheLocation::Dir(PathBuf::from("/abs/v"))));
    }

    #[test]
    fn other_urls_are_errors_that_say_what_is_taken() {
        let error = parse("gs://bucket/p").unwrap_err();
        assert!(error.contains("`gs://` URL") && error.contains("s3://BUCKET/PREFIX"), "{error}");
        for bad in ["s3://", "s3://Bucket/p", "s3://ab", "s3://-ab/p", "s3://a_b/p"] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("not a bucket name"), "{bad}: {error}");
        }
        for bad in ["s3://bucket/a//b", "s3://bucket/a/../b", "s3://bucket/.."] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("segment"), "{bad}: {error}");
        }
    }

    #[cfg(feature = "s3")]
    #[test]
    fn an_s3_url_is_a_bucket_and_a_prefix() {
        let s3 = |bucket: &str, prefix: &str| Ok(CacheLocation::S3 { bucket: bucket.into(), prefix: prefix.into() });
        assert_eq!(parse("s3://verdicts/ci/main"), s3("verdicts", "ci/main"));
        assert_eq!(parse("S3://verdicts/ci/"), s3("verdicts", "ci"));
        assert_eq!(parse("s3://my.bucket-1"), s3("my.bucket-1", ""));
        assert_eq!(parse("s3://verdicts/ci").unwrap().to_string(), "s3://verdicts/ci");
        assert_eq!(parse("s3://verdicts/").unwrap().to_string(), "s3://verdicts");
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn an_s3_url_without_the_feature_says_how_to_enable_it() {
        let error = parse("s3://verdicts/ci").unwrap_err();
        assert!(error.contains("`s3` feature") && error.contains("features = [\"s3\"]"), "{error}");
    }
}
