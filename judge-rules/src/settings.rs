//! Every setting of judge, declared once: its key (the attribute's and judge.toml's), its
//! environment variable, where it may be set, its default and what it does. The attribute's list of
//! keys, the runtime's variables, judge.toml's keys and sections, their error messages and the
//! README's settings table all come from [`SETTINGS`].
//!
//! The declarations themselves are in `declarations.rs`, one entry per setting.

use crate::ranges::Range;
use crate::words::{OnTie, Probe, Validate};

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
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// The default, in words. Where the runtime resolves a setting to its default, it reads these
    /// words as it reads a variable's value, so the default is written only here.
    pub default: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
    /// The values a number takes.
    pub range: Option<Range>,
    /// The words a word setting takes, where it takes a fixed few (read by their kind, the
    /// attribute's value is checked against them).
    pub words: Option<&'static [&'static str]>,
}

impl Setting {
    /// A setting of one eval: attribute, environment, judge.toml and its sections.
    const fn eval(kind: &'static str, env: Option<&'static str>, default: &'static str, doc: &'static str) -> Self {
        Self {
            key: "",
            aliases: &[],
            kind,
            env,
            attribute: true,
            file: true,
            section: true,
            scope: Scope::Eval,
            default,
            doc,
            range: None,
            words: None,
        }
    }

    /// A setting of one eval that only the code holds: the attribute alone.
    const fn code(kind: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self { file: false, section: false, ..Self::eval(kind, None, default, doc) }
    }

    /// A setting of the whole run: environment and judge.toml.
    const fn run(kind: &'static str, env: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self { attribute: false, section: false, scope: Scope::Run, ..Self::eval(kind, Some(env), default, doc) }
    }

    /// A setting of the whole run that only judge.toml sets: a table, not a variable.
    const fn file_only(kind: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self { attribute: false, section: false, scope: Scope::Run, ..Self::eval(kind, None, default, doc) }
    }

    /// The setting with the key it is declared under (its range names it too).
    pub const fn named(self, key: &'static str) -> Self {
        let range = match self.range {
            Some(range) => Some(Range { key, ..range }),
            None => None,
        };
        Self { key, range, ..self }
    }

    /// A number within `range`.
    const fn within(self, range: Range) -> Self {
        Self { range: Some(range), ..self }
    }

    /// One of `words`.
    const fn words(self, words: &'static [&'static str]) -> Self {
        Self { words: Some(words), ..self }
    }

    /// Also accepted under the old keys `aliases`.
    const fn aka(self, aliases: &'static [&'static str]) -> Self {
        Self { aliases, ..self }
    }

    /// Not taken by the top of judge.toml.
    const fn not_in_file(self) -> Self {
        Self { file: false, ..self }
    }

    /// Whether its value is a number (whole or not).
    pub fn is_number(&self) -> bool {
        self.kind == NUMBER || self.kind == WHOLE
    }

    /// Whether `key` names this setting, by its key or an alias.
    pub fn is(&self, key: &str) -> bool {
        self.key == key || self.aliases.contains(&key)
    }

    /// The values the number takes; panics for a setting that is not a number (a bug of judge).
    pub fn range(&self) -> Range {
        self.range.unwrap_or_else(|| panic!("`{}` is not a number", self.key))
    }
}

const NUMBER: &str = "number";
const WHOLE: &str = "whole number";
const TEXT: &str = "string";
const WORD: &str = "word";
const PATH: &str = "path";

/// Builds [`SETTINGS`] from the declarations: every entry, in order, named by its key.
macro_rules! settings_list {
    (
        eval { $( $key:ident $(: $ty:ty = $read:expr $(, $defaulted:ident)?)? => $decl:expr; )* }
        run { $( $run_key:ident $(: $run_ty:ty = $run_read:expr $(, $run_defaulted:ident)?)? => $run_decl:expr; )* }
    ) => {
        /// Every setting, in the order the attribute's documentation lists its keys, then the run's.
        pub const SETTINGS: &[Setting] = &[
            $( $decl.named(stringify!($key)), )*
            $( $run_decl.named(stringify!($run_key)), )*
        ];
    };
}

crate::declare_settings!(settings_list);

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
