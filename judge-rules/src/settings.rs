//! Every setting of judge, declared once: its key (the attribute's and judge.toml's), its
//! environment variable, where it may be set, its default and what it does. The attribute's list of
//! keys, the runtime's variables, judge.toml's keys and sections, their error messages and the
//! README's settings table all come from [`SETTINGS`].
//!
//! Adding a setting: declare it here, use it (the macro's `args.rs` for an attribute key, the
//! runtime's `settings/layer.rs` for its typed value), and give it its row in the README's table.

/// Whether a setting belongs to one eval or to the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A setting of one eval: the attribute, the environment, judge.toml and its `[evals."NAME"]`
    /// sections may set it.
    Eval,
    /// A setting of the whole run: the environment and the top of judge.toml only.
    Run,
}

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The key: the attribute's and judge.toml's.
    pub key: &'static str,
    /// Older keys still accepted for it, with a deprecation note.
    pub aliases: &'static [&'static str],
    /// The kind of value, in words.
    pub kind: &'static str,
    /// Its environment variable, if any.
    pub env: Option<&'static str>,
    /// Whether `#[llm_eval(...)]` takes it.
    pub attribute: bool,
    /// Whether the top of judge.toml takes it.
    pub file: bool,
    /// Whether an `[evals."NAME"]` section of judge.toml takes it.
    pub section: bool,
    /// One eval's, or the run's.
    pub scope: Scope,
    /// The default, in words.
    pub default: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
}

impl Setting {
    /// A setting of one eval: attribute, environment, judge.toml and its sections.
    const fn eval(
        key: &'static str,
        kind: &'static str,
        env: Option<&'static str>,
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        Self {
            key,
            aliases: &[],
            kind,
            env,
            attribute: true,
            file: true,
            section: true,
            scope: Scope::Eval,
            default,
            doc,
        }
    }

    /// A setting of one eval that only the code holds: the attribute alone.
    const fn code(key: &'static str, kind: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self { file: false, section: false, ..Self::eval(key, kind, None, default, doc) }
    }

    /// A setting of the whole run: environment and judge.toml.
    const fn run(
        key: &'static str,
        kind: &'static str,
        env: &'static str,
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        Self { attribute: false, section: false, scope: Scope::Run, ..Self::eval(key, kind, Some(env), default, doc) }
    }

    /// Whether its value is a number (whole or not).
    pub fn is_number(&self) -> bool {
        self.kind == NUMBER || self.kind == WHOLE
    }

    /// Whether `key` names this setting, by its key or an alias.
    pub fn is(&self, key: &str) -> bool {
        self.key == key || self.aliases.contains(&key)
    }
}

const NUMBER: &str = "number";
const WHOLE: &str = "whole number";
const TEXT: &str = "string";
const WORD: &str = "word";
const PATH: &str = "path";

/// Every setting, in the order the attribute's documentation lists its keys.
pub const SETTINGS: &[Setting] = &[
    Setting::code("rubric", TEXT, "none: required", "what a good output does; the judge grades against it"),
    Setting::eval("threshold", NUMBER, Some("JUDGE_THRESHOLD"), "0.7", "pass mark of the reduced score"),
    Setting::code("input", TEXT, "none", "the input the output answers, shown to the judge"),
    Setting::code("expected", TEXT, "none", "a reference answer, for reference-guided grading"),
    Setting::eval("samples", WHOLE, Some("JUDGE_SAMPLES"), "1", "outputs generated and judged per eval"),
    Setting::eval("trim", NUMBER, Some("JUDGE_TRIM"), "0.15", "fraction of scores dropped at each end"),
    Setting::eval("reduce", WORD, Some("JUDGE_REDUCE"), "trimmed_mean", "how the samples' scores reduce"),
    Setting::eval("scoring", WORD, Some("JUDGE_SCORING"), "weighted", "weighted by token probabilities, or stated"),
    Setting::eval("levels", "array of strings", None, "none", "rubric levels: bands of the scale"),
    Setting::eval("criteria", "table", None, "none", "criteria scored separately in one call"),
    Setting {
        aliases: &["baseline"],
        file: false,
        ..Setting::eval("compare_with", "string or function", None, "none", "the output each sample is compared with")
    },
    Setting::eval("steps", "\"auto\" or array of strings", Some("JUDGE_STEPS"), "none", "G-Eval's evaluation steps"),
    Setting::eval("judge", "provider:model", Some("JUDGE_MODEL"), "none", "the judge"),
    Setting::eval("judges", "array of provider:model", Some("JUDGE_MODELS"), "one judge", "an ensemble of judges"),
    Setting::eval("combine", WORD, Some("JUDGE_COMBINE"), "mean", "how an ensemble's scores combine"),
    Setting::eval("max_spread", NUMBER, Some("JUDGE_MAX_SPREAD"), "none", "largest unflagged spread of an ensemble"),
    Setting::eval("on_disagreement", WORD, Some("JUDGE_ON_DISAGREEMENT"), "flag", "what a flagged disagreement does"),
    Setting::eval("temperature", NUMBER, Some("JUDGE_TEMPERATURE"), "0.0", "judge sampling temperature"),
    Setting::eval("max_tokens", WHOLE, Some("JUDGE_MAX_TOKENS"), "provider's", "longest judge reply, tokens"),
    Setting::eval("seed", WHOLE, Some("JUDGE_SEED"), "none", "sampling seed, where the provider takes one"),
    Setting::eval("timeout", NUMBER, Some("JUDGE_TIMEOUT"), "120", "limit on one judge request, seconds"),
    Setting::eval(
        "snapshot",
        "true, false or \"strict\"",
        Some("JUDGE_SNAPSHOT"),
        "false",
        "snapshot the verdict with insta",
    ),
    Setting::code("name", TEXT, "the function's", "the eval's name"),
    Setting::code("crate", "path", "judge_runtime", "the path of judge-runtime, when renamed"),
    Setting::run("max_concurrency", WHOLE, "JUDGE_MAX_CONCURRENCY", "16", "judge requests in flight at once"),
    Setting::run("cache", WORD, "JUDGE_CACHE", "on", "verdict cache mode"),
    Setting::run("cache_dir", PATH, "JUDGE_CACHE_DIR", "target/judge-cache", "verdict cache directory"),
    Setting::run("rationales", WORD, "JUDGE_RATIONALES", "lowest", "rationales in a failure"),
    Setting::run("deadline", NUMBER, "JUDGE_DEADLINE", "900", "limit on one whole eval, seconds"),
    Setting::run("max_attempts", WHOLE, "JUDGE_MAX_ATTEMPTS", "6", "attempts of a transiently failing request"),
    Setting::run(
        "requests_per_minute",
        WHOLE,
        "JUDGE_REQUESTS_PER_MINUTE",
        "unlimited",
        "requests per minute to one provider",
    ),
    Setting::run(
        "tokens_per_minute",
        WHOLE,
        "JUDGE_TOKENS_PER_MINUTE",
        "unlimited",
        "tokens per minute to one provider",
    ),
    Setting::run("max_judge_calls", WHOLE, "JUDGE_MAX_JUDGE_CALLS", "unlimited", "the run's budget of judge calls"),
    Setting::run("max_judge_tokens", WHOLE, "JUDGE_MAX_JUDGE_TOKENS", "unlimited", "the run's budget of judge tokens"),
    Setting::run("max_output_chars", WHOLE, "JUDGE_MAX_OUTPUT_CHARS", "50000", "output length shown to the judge"),
    Setting::run("report_dir", PATH, "JUDGE_REPORT_DIR", "none", "every report of a test binary"),
    Setting::run("report_json", PATH, "JUDGE_REPORT_JSON", "none", "the JSON report's file"),
    Setting::run("report_junit", PATH, "JUDGE_REPORT_JUNIT", "none", "the JUnit report's file"),
    Setting::run("report_html", PATH, "JUDGE_REPORT_HTML", "none", "the HTML report's file"),
    Setting::run("report_markdown", PATH, "JUDGE_REPORT_MARKDOWN", "none", "the Markdown report's file"),
    Setting::run("score_baseline", PATH, "JUDGE_SCORE_BASELINE", "none", "scores to compare with"),
    Setting::run("save_score_baseline", PATH, "JUDGE_SAVE_SCORE_BASELINE", "none", "file to save this run's scores to"),
    Setting::run(
        "max_score_drop",
        NUMBER,
        "JUDGE_MAX_SCORE_DROP",
        "none",
        "largest allowed fall below the score baseline",
    ),
    Setting::run("progress", WORD, "JUDGE_PROGRESS", "auto", "progress on long runs"),
    Setting { file: false, ..Setting::run("config", PATH, "JUDGE_CONFIG", "judge.toml", "the judge.toml to read") },
];

/// The setting that `key` names (by its key or an alias).
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.is(key))
}

/// The setting whose key is `key`; panics on a key that is not declared (a bug of judge).
pub fn get(key: &str) -> &'static Setting {
    find(key).unwrap_or_else(|| panic!("`{key}` is not a declared setting"))
}

/// The keys that `place` takes, in the order of [`SETTINGS`], joined for a message.
pub fn keys(place: impl Fn(&Setting) -> bool) -> String {
    SETTINGS.iter().filter(|s| place(s)).map(|s| s.key).collect::<Vec<_>>().join(", ")
}

/// The deprecation note of an alias: "`baseline` is the old name of `compare_with`".
pub fn alias_note(alias: &str) -> Option<String> {
    let setting = SETTINGS.iter().find(|s| s.aliases.contains(&alias))?;
    Some(format!("`{alias}` is the old name of `{}`, still accepted; write `{}`", setting.key, setting.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_declared_once() {
        for (i, s) in SETTINGS.iter().enumerate() {
            let names = std::iter::once(s.key).chain(s.aliases.iter().copied());
            for name in names {
                assert_eq!(SETTINGS.iter().position(|o| o.is(name)), Some(i), "{name} declared twice");
            }
            assert_eq!(s.scope == Scope::Run, !s.attribute && !s.section, "{}", s.key);
            if let Some(env) = s.env {
                assert!(env.starts_with("JUDGE_"), "{env}");
            }
        }
        assert_eq!(find("baseline").map(|s| s.key), Some("compare_with"));
        assert!(alias_note("baseline").unwrap().contains("write `compare_with`"));
        assert!(keys(|s| s.file).starts_with("threshold, samples"));
    }

    /// Every row of the README's settings table is declared, with the same variable and key, and
    /// every declared setting but the code's own (rubric, input, …) has its row.
    #[test]
    fn the_readme_table_matches_the_declarations() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let start = readme.find("| setting | attribute | environment | judge.toml | default |").unwrap();
        let rows: Vec<Vec<&str>> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| line.trim_matches('|').split(" | ").collect())
            .collect();
        let documented = |s: &Setting| {
            rows.iter().any(|row| {
                let (attribute, env, file, default) = (row[1], row[2], row[3], row[4]);
                let env_ok = match s.env {
                    Some(var) => env.contains(var) || env.contains(&format!("_{}`", var.rsplit('_').next().unwrap())),
                    None => env == "—",
                };
                let file_ok = if s.file || s.section { file.contains(s.key) } else { file == "—" };
                let attribute_ok = attribute.contains(&format!("{} =", s.key)) == s.attribute;
                env_ok && file_ok && attribute_ok && default.contains(s.default)
            })
        };
        for s in SETTINGS.iter().filter(|s| s.env.is_some() || s.file || s.section) {
            assert!(documented(s), "README.md's settings table has no row for `{}` as declared: {s:?}", s.key);
        }
        for row in &rows {
            let names_one = SETTINGS.iter().any(|s| {
                s.env.is_some_and(|var| row[2].contains(var)) || (s.file || s.section) && row[3].contains(s.key)
            });
            assert!(names_one, "README.md's settings table documents an undeclared setting: {row:?}");
        }
    }
}
