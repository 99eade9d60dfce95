//! Parsing the attribute's `key = value` arguments. Every problem is collected, spanned at the
//! offending token, so that one compile shows them all.

use judge_rules::settings::Setting;
use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Token, UnOp};

/// Every key the attribute accepts, in the order the documentation lists them: the settings that
/// judge-rules declares for the attribute.
pub(crate) fn keys() -> String {
    judge_rules::settings::keys(|s| s.attribute)
}

/// The parsed arguments; a key that was not given is `None`.
#[derive(Default)]
pub(crate) struct EvalArgs {
    pub rubric: Option<LitStr>,
    pub threshold: Option<f64>,
    pub input: Option<LitStr>,
    pub expected: Option<LitStr>,
    /// `dataset`: a file of cases, relative to the crate's manifest directory.
    pub dataset: Option<LitStr>,
    /// `min_pass_rate`, and where it is written.
    pub min_pass_rate: Option<(f64, Span)>,
    /// `samples`, and where it is written (for the checks against `reduce` and the bounds).
    pub samples: Option<(judge_rules::Samples, Span)>,
    pub trim: Option<f64>,
    /// `reduce`, and where it is written (for the check against `samples`).
    pub reduce: Option<(judge_rules::Reduce, Span)>,
    /// `scoring`: true for `"weighted"`.
    pub scoring: Option<bool>,
    /// `levels`: descriptions of bands of the 0–10 scale, `"A-B: text"`.
    pub levels: Option<Vec<LitStr>>,
    /// `criteria`: named rubrics scored separately.
    pub criteria: Option<Vec<crate::criteria::CriterionArg>>,
    /// `compare_with` (or its old name, `baseline`): a text, or the path of a function that
    /// produces one.
    pub compare_with: Option<CompareWith>,
    /// The `baseline` key, when the old name of `compare_with` was written: warned of.
    pub deprecated_baseline: Option<syn::Ident>,
    /// `steps`: `None` inside for `"auto"`, else the given steps.
    pub steps: Option<Option<Vec<LitStr>>>,
    pub judge: Option<LitStr>,
    /// `judges`: an ensemble, `"provider:model"` each.
    pub judges: Option<Vec<LitStr>>,
    pub combine: Option<judge_rules::words::Combine>,
    pub max_spread: Option<f64>,
    pub on_disagreement: Option<judge_rules::words::OnDisagreement>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub timeout: Option<f64>,
    pub snapshot: Option<Snapshot>,
    pub name: Option<LitStr>,
    pub krate: Option<syn::Path>,
    /// The settings read by their kind alone (a number in its range, one of its words, a text),
    /// by key: every attribute key that needs no reading of its own.
    pub by_kind: Vec<(&'static str, KindValue)>,
    /// Where each key is written, for the checks that span several keys.
    pub keys: Vec<(&'static str, Span)>,
}

/// A value read by its setting's kind.
pub(crate) enum KindValue {
    /// A number, in the setting's range.
    Number(f64),
    /// A whole number, in the setting's range.
    Whole(u64),
    /// A text: one of the setting's words, or any non-empty text.
    Text(LitStr),
    /// An array of the setting's words (`probes`).
    Texts(Vec<LitStr>),
}

/// The `compare_with` key: what the outputs are compared with.
pub(crate) enum CompareWith {
    Text(LitStr),
    Function(syn::Path),
}

/// The `snapshot` key: `true`, `false` or `"strict"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Snapshot {
    Off,
    On,
    Strict,
}

/// Parses `args`; returns what could be read and every error found.
pub(crate) fn parse(args: TokenStream) -> (EvalArgs, Vec<syn::Error>) {
    let mut parsed = EvalArgs::default();
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        // A bare `key` would otherwise fail in `meta.value()` with "expected `=`", spanned at the
        // end of the arguments, which rustc shows as the whole attribute.
        let has_value = !(meta.input.is_empty() || meta.input.peek(Token![,]));
        // `criteria = { name = "…", … }` is not an expression: read it as one token tree.
        if key == "criteria" && has_value {
            let tree: proc_macro2::TokenTree = meta.value()?.parse()?;
            if seen.contains(&key) {
                errors.push(syn::Error::new_spanned(&meta.path, "`criteria` set twice in #[llm_eval]"));
                return Ok(());
            }
            seen.push(key);
            if let Some(criteria) = crate::criteria::parse(&tree, &mut errors) {
                parsed.criteria = Some(criteria);
            }
            return Ok(());
        }
        let value: Option<Expr> = if has_value { Some(meta.value()?.parse()?) } else { None };
        let Some(setting) = judge_rules::settings::find(&key).filter(|s| s.attribute) else {
            let shown = if key.is_empty() { path_text(&meta.path) } else { key.clone() };
            errors.push(syn::Error::new_spanned(
                &meta.path,
                format!("unknown key `{shown}` in #[llm_eval]; valid keys are: {}", keys()),
            ));
            return Ok(());
        };
        // An old name counts as its setting: `baseline` and `compare_with` together are one set twice.
        if seen.iter().any(|k| k == setting.key) {
            errors.push(syn::Error::new_spanned(&meta.path, format!("`{key}` set twice in #[llm_eval]")));
            return Ok(());
        }
        seen.push(setting.key.to_owned());
        parsed.keys.push((setting.key, syn::spanned::Spanned::span(&meta.path)));
        if key != setting.key {
            parsed.deprecated_baseline = meta.path.get_ident().cloned();
        }
        let Some(value) = value else {
            let example = match key.as_str() {
                "snapshot" => "true",
                "criteria" => "{ accuracy = \"...\", clarity = \"...\" }",
                "levels" => "[\"0-4: wrong\", \"5-10: right\"]",
                "probes" => "[\"position\", \"verbosity\"]",
                _ if setting.is_number() => "1",
                _ => "\"...\"",
            };
            errors.push(syn::Error::new_spanned(&meta.path, format!("`{key}` needs a value, e.g. {key} = {example}")));
            return Ok(());
        };
        if let Err(error) = set(&mut parsed, setting, &key, &value) {
            errors.push(error);
        }
        Ok(())
    });
    let syntax_ok = match parser.parse2(args) {
        Ok(()) => true,
        Err(error) => {
            errors.push(error);
            false
        }
    };
    // `at_least(k)` needs k samples; adaptive samples need ordered bounds and a central reducer.
    match parsed.samples {
        Some((judge_rules::Samples::Fixed(samples), _)) => {
            if let Some((reduce, span)) = parsed.reduce
                && let Err(reason) = judge_rules::reduce::check_samples(reduce, samples)
            {
                errors.push(syn::Error::new(span, format!("`reduce`: {reason} (`samples`)")));
            }
        }
        Some((judge_rules::Samples::Adaptive, span)) => {
            let bound = |key: &str| match parsed.by_kind.iter().find(|(k, _)| *k == key) {
                Some((_, KindValue::Whole(v))) => *v as u32,
                _ => judge_rules::settings::get(key).default.parse().expect("a whole default"),
            };
            let reduce = parsed.reduce.map_or(judge_rules::Reduce::TrimmedMean, |(reduce, _)| reduce);
            if let Err(reason) =
                judge_rules::samples::check_adaptive(bound("min_samples"), bound("max_samples"), reduce)
            {
                errors.push(syn::Error::new(parsed.reduce.map_or(span, |(_, span)| span), reason));
            }
        }
        None => {}
    }
    // Ensemble settings beside one judge would do nothing.
    if let Some(judge) = parsed.judge.as_ref().filter(|_| parsed.judges.is_none()) {
        let set = [("combine", parsed.combine.is_some()), ("max_spread", parsed.max_spread.is_some())];
        let on = [("on_disagreement", parsed.on_disagreement.is_some())];
        for (key, _) in set.into_iter().chain(on).filter(|(_, set)| *set) {
            errors.push(syn::Error::new(
                judge.span(),
                format!("`{key}` applies to an ensemble of judges, but `judge` names one: use `judges = [...]`"),
            ));
        }
    }
    if let (Some(judge), Some(_)) = (&parsed.judge, &parsed.judges) {
        errors.push(syn::Error::new(judge.span(), "set `judge` (one judge) or `judges` (an ensemble), not both"));
    }
    let (levels, criteria) = (parsed.levels.as_ref(), parsed.criteria.is_some());
    if let Some(conflict) = judge_rules::techniques::conflict(levels.is_some(), criteria, parsed.compare_with.is_some())
    {
        // Spanned at the value of the setting the error names (the levels stand for the criteria).
        let (written, span) = match &parsed.compare_with {
            Some(compare_with) if conflict.key == "compare_with" => (
                parsed.deprecated_baseline.as_ref().map_or_else(|| "compare_with".to_owned(), ToString::to_string),
                match compare_with {
                    CompareWith::Text(text) => text.span(),
                    CompareWith::Function(path) => syn::spanned::Spanned::span(path),
                },
            ),
            _ => (conflict.key.to_owned(), levels.and_then(|l| l.first()).map_or_else(Span::call_site, LitStr::span)),
        };
        errors.push(syn::Error::new(span, format!("`{written}` {}", conflict.reason())));
    }
    // A dataset's rows give the input and the reference answer; a gate needs rows.
    if parsed.dataset.is_some() {
        for (key, value) in [("input", &parsed.input), ("expected", &parsed.expected)] {
            if let Some(value) = value {
                errors.push(syn::Error::new(
                    value.span(),
                    format!(
                        "`{key}` comes from each row of the dataset (its `{key}` field): remove it from #[llm_eval]"
                    ),
                ));
            }
        }
    } else {
        if let Some((_, span)) = parsed.min_pass_rate {
            errors.push(syn::Error::new(
                span,
                "`min_pass_rate` is the share of a dataset's rows that must pass: add `dataset = \"cases.jsonl\"`, \
                 or remove it",
            ));
        }
        // The synthetic validation makes its pairs from a dataset's rows.
        let synthetic = ["validate", "generator", "max_pairs", "min_accuracy"];
        for (key, span) in parsed.keys.iter().filter(|(key, _)| synthetic.contains(key)) {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "`{key}` belongs to the synthetic validation of a dataset's judge, which makes its pairs from \
                     the rows: add `dataset = \"cases.jsonl\"`, or remove it"
                ),
            ));
        }
    }
    // A rubric that was given but invalid, or arguments that stopped parsing early, already
    // have their error.
    if syntax_ok && !seen.iter().any(|key| key == "rubric") {
        errors.push(syn::Error::new(
            Span::call_site(),
            "#[llm_eval] needs a rubric: #[llm_eval(rubric = \"what a good output does\")]",
        ));
    }
    (parsed, errors)
}

/// Reads the value of `setting`, written `key` (its name or an old one).
fn set(args: &mut EvalArgs, setting: &'static Setting, key: &str, value: &Expr) -> syn::Result<()> {
    match setting.key {
        "rubric" => args.rubric = Some(non_empty(string(key, value)?, key)?),
        "input" => args.input = Some(string(key, value)?),
        "expected" => args.expected = Some(non_empty(string(key, value)?, key)?),
        "dataset" => args.dataset = Some(non_empty(string(key, value)?, key)?),
        "min_pass_rate" => args.min_pass_rate = Some((in_range(key, value)?, syn::spanned::Spanned::span(value))),
        "name" => {
            let name = non_empty(string(key, value)?, key)?;
            if name.value().chars().any(char::is_whitespace) || name.value().contains("::") {
                return Err(syn::Error::new(name.span(), "`name` is one path segment: no spaces, no `::`"));
            }
            args.name = Some(name);
        }
        "judge" => args.judge = Some(judge_spec(key, string(key, value)?)?),
        "generator" => args.by_kind.push((setting.key, KindValue::Text(judge_spec(key, string(key, value)?)?))),
        "judges" => {
            const SHAPE: &str =
                "`judges` is an array of judges, e.g. judges = [\"openai:gpt-4.1\", \"anthropic:claude-sonnet-4-5\"]";
            let judges = strings(key, value, SHAPE)?
                .into_iter()
                .map(|judge| judge_spec(key, judge))
                .collect::<syn::Result<Vec<_>>>()?;
            let specs: Vec<String> = judges.iter().map(LitStr::value).collect();
            judge_rules::words::ensemble(&specs.iter().map(String::as_str).collect::<Vec<_>>()).map_err(
                |(index, reason)| match index.and_then(|i| judges.get(i)) {
                    Some(judge) => syn::Error::new(judge.span(), format!("{reason} in `judges`")),
                    None => {
                        syn::Error::new_spanned(value, format!("{reason}; for one, use `judge = \"provider:model\"`"))
                    }
                },
            )?;
            args.judges = Some(judges);
        }
        "probes" => {
            let names = strings(
                key,
                value,
                "`probes` is an array of bias probes, e.g. probes = [\"position\", \"verbosity\"]",
            )?;
            let words: Vec<String> = names.iter().map(LitStr::value).collect();
            judge_rules::words::probes(&words)
                .map_err(|(index, reason)| rule_error(key, names[index].span(), reason))?;
            args.by_kind.push((setting.key, KindValue::Texts(names)));
        }
        "steps" => {
            const SHAPE: &str = "`steps` is \"auto\" (the judge writes them once, cached) or the evaluation \
                                 steps, e.g. steps = [\"Check the number\", \"Check the reason\"]";
            args.steps = Some(match value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if s.value() == judge_rules::steps::AUTO => None,
                Expr::Array(array) => {
                    let steps =
                        array.elems.iter().map(|e| non_empty(string(key, e)?, key)).collect::<syn::Result<Vec<_>>>()?;
                    judge_rules::steps::count(steps.len(), judge_rules::steps::MIN_GIVEN)
                        .map_err(|reason| syn::Error::new_spanned(value, format!("`steps`: {reason}")))?;
                    Some(steps)
                }
                _ => return Err(syn::Error::new_spanned(value, SHAPE)),
            });
        }
        "combine" => {
            let combine = string(key, value)?;
            args.combine = Some(
                judge_rules::words::combine(&combine.value())
                    .map_err(|reason| rule_error(key, combine.span(), reason))?,
            );
        }
        "max_spread" => args.max_spread = Some(in_range(key, value)?),
        "on_disagreement" => {
            let action = string(key, value)?;
            args.on_disagreement = Some(
                judge_rules::words::OnDisagreement::parse(&action.value())
                    .map_err(|reason| rule_error(key, action.span(), reason))?,
            );
        }
        "crate" => args.krate = Some(string(key, value)?.parse()?),
        "compare_with" => {
            args.compare_with = Some(match value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => CompareWith::Text(non_empty(s.clone(), key)?),
                Expr::Path(path) if path.qself.is_none() => CompareWith::Function(path.path.clone()),
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        format!(
                            "`{key}` is the text to compare with, {key} = \"...\", or a function that returns it, \
                             {key} = path::to::function"
                        ),
                    ));
                }
            });
        }
        "levels" => {
            const SHAPE: &str =
                "`levels` is an array of bands of the 0-10 scale, e.g. levels = [\"0-4: wrong\", \"5-10: right\"]";
            let levels = strings(key, value, SHAPE)?;
            let texts: Vec<String> = levels.iter().map(LitStr::value).collect();
            // The attribute's levels are bands of the default 0–10 scale.
            judge_rules::levels::bands(&texts, 0, 10).map_err(|e| match e.index.and_then(|i| levels.get(i)) {
                Some(level) => syn::Error::new(level.span(), e.reason),
                None => syn::Error::new_spanned(value, e.reason),
            })?;
            args.levels = Some(levels);
        }
        "scoring" => {
            let scoring = string(key, value)?;
            args.scoring = Some(
                judge_rules::words::scoring(&scoring.value())
                    .map_err(|reason| rule_error(key, scoring.span(), reason))?,
            );
        }
        "reduce" => {
            let reduce = string(key, value)?;
            let rule =
                judge_rules::reduce::parse(&reduce.value()).map_err(|reason| rule_error(key, reduce.span(), reason))?;
            args.reduce = Some((rule, reduce.span()));
        }
        "threshold" => args.threshold = Some(in_range(key, value)?),
        "trim" => args.trim = Some(in_range(key, value)?),
        "samples" => {
            let samples = match value {
                Expr::Lit(ExprLit { lit: Lit::Str(word), .. }) if word.value() == judge_rules::samples::ADAPTIVE => {
                    judge_rules::Samples::Adaptive
                }
                Expr::Lit(ExprLit { lit: Lit::Str(word), .. }) => {
                    return Err(syn::Error::new(
                        word.span(),
                        format!(
                            "`samples` is a whole number in 1..=10000 or \"adaptive\" (drawn until the score is \
                             decided), not {:?}",
                            word.value()
                        ),
                    ));
                }
                _ => judge_rules::Samples::Fixed(in_range(key, value)? as u32),
            };
            args.samples = Some((samples, syn::spanned::Spanned::span(value)));
        }
        "temperature" => args.temperature = Some(in_range(key, value)?),
        "max_tokens" => args.max_tokens = Some(in_range(key, value)? as u32),
        "seed" => args.seed = Some(whole(key, value)?),
        "timeout" => args.timeout = Some(in_range(key, value)?),
        "snapshot" => {
            args.snapshot = Some(match value {
                Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) if b.value => Snapshot::On,
                Expr::Lit(ExprLit { lit: Lit::Bool(_), .. }) => Snapshot::Off,
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if s.value() == "strict" => Snapshot::Strict,
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        "`snapshot` is true, false or \"strict\" (a changed snapshot then fails the eval)",
                    ));
                }
            });
        }
        // `criteria` is read apart; every other key is read by its kind.
        _ => args.by_kind.push((setting.key, by_kind(setting, key, value)?)),
    }
    Ok(())
}

/// Reads the value of a setting that needs no reading of its own, by its declared kind: a number in
/// its range, one of its words, or a text.
fn by_kind(setting: &Setting, key: &str, value: &Expr) -> syn::Result<KindValue> {
    if let Some(range) = setting.range {
        let v = number(key, value)?;
        range.check(v).map_err(|reason| syn::Error::new_spanned(value, reason))?;
        return Ok(if range.whole { KindValue::Whole(v as u64) } else { KindValue::Number(v) });
    }
    let text = non_empty(string(key, value)?, key)?;
    if let Some(words) = setting.words.filter(|words| !words.contains(&text.value().as_str())) {
        let reason = format!("{:?} is not one of: {}", text.value(), words.join(", "));
        return Err(rule_error(key, text.span(), reason));
    }
    Ok(KindValue::Text(text))
}

/// A number literal in the range judge-rules declares for the setting `key`.
fn in_range(key: &str, value: &Expr) -> syn::Result<f64> {
    let range = judge_rules::settings::get(key).range();
    let v = number(range.key, value)?;
    range.check(v).map_err(|reason| syn::Error::new_spanned(value, reason))?;
    Ok(v)
}

/// Checks a `"provider:model"` (or `"local"`) of `judge` or `judges`.
fn judge_spec(key: &str, judge: LitStr) -> syn::Result<LitStr> {
    match judge_rules::judge::read(&judge.value()) {
        Ok(_) => Ok(judge),
        Err(reason) => Err(rule_error(key, judge.span(), reason)),
    }
}

/// A rule of judge-rules broken by the value of `key`, at `span`.
fn rule_error(key: &str, span: Span, reason: String) -> syn::Error {
    syn::Error::new(span, format!("`{key}`: {reason}"))
}

/// An array of string literals; `shape`, spanned at the value, when it is not an array.
fn strings(key: &str, value: &Expr, shape: &str) -> syn::Result<Vec<LitStr>> {
    let Expr::Array(array) = value else {
        return Err(syn::Error::new_spanned(value, shape));
    };
    array.elems.iter().map(|e| string(key, e)).collect()
}

fn string(key: &str, value: &Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(value, format!("`{key}` must be a string literal, e.g. {key} = \"...\""))),
    }
}

fn non_empty(s: LitStr, key: &str) -> syn::Result<LitStr> {
    if s.value().trim().is_empty() {
        Err(syn::Error::new(s.span(), format!("`{key}` must not be empty")))
    } else {
        Ok(s)
    }
}

/// A numeric literal, possibly negated (so that `-0.1` gets a range error, not a type error).
fn number(key: &str, value: &Expr) -> syn::Result<f64> {
    let not_a_number = || syn::Error::new_spanned(value, format!("`{key}` must be a number literal"));
    let (negative, lit) = match value {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return Err(not_a_number()),
        },
        _ => return Err(not_a_number()),
    };
    let v = match lit {
        Lit::Float(f) => f.base10_parse::<f64>()?,
        Lit::Int(i) => i.base10_parse::<f64>()?,
        _ => return Err(not_a_number()),
    };
    Ok(if negative { -v } else { v })
}

/// A whole-number literal that fits a `u64` (a seed), read exactly rather than through `f64`.
fn whole(key: &str, value: &Expr) -> syn::Result<u64> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse::<u64>(),
        _ => Err(syn::Error::new_spanned(value, format!("`{key}` must be a whole number ≥ 0, e.g. {key} = 42"))),
    }
}

fn path_text(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(args: TokenStream) -> Vec<String> {
        parse(args).1.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_setting_without_a_reading_of_its_own_is_read_by_its_kind() {
        let (args, errs) = parse(quote! { rubric = "r", on_tie = "fail" });
        assert!(errs.is_empty());
        assert!(matches!(args.by_kind.as_slice(), [("on_tie", KindValue::Text(word))] if word.value() == "fail"));
        let wrong = errors(quote! { rubric = "r", on_tie = "maybe" });
        assert_eq!(wrong, ["`on_tie`: \"maybe\" is not one of: pass, fail"]);
        assert!(errors(quote! { rubric = "r", on_tie = 1 })[0].contains("must be a string literal"));
    }

    #[test]
    fn reads_every_key() {
        let (args, errs) = parse(quote! {
            rubric = "r", threshold = 0.8, input = "i", expected = "e", samples = 7, trim = 0.2,
            judge = "openai:gpt-4.1-mini", name = "renamed", crate = "my_judge",
            temperature = 0.3, max_tokens = 400, seed = 18446744073709551615, timeout = 2.5,
            snapshot = "strict"
        });
        assert!(errs.is_empty(), "{:?}", errs.iter().map(ToString::to_string).collect::<Vec<_>>());
        assert_eq!(args.rubric.unwrap().value(), "r");
        assert_eq!(args.snapshot, Some(Snapshot::Strict));
        assert_eq!(parse(quote! { rubric = "r", scoring = "stated" }).0.scoring, Some(false));
        let levels = parse(quote! { rubric = "r", levels = ["0-4: wrong", "5-9: close", "10: right"] }).0.levels;
        assert_eq!(levels.map(|l| l.len()), Some(3));
        assert!(errors(quote! { rubric = "r", levels = ["0-4: wrong", "6-10: right"] })[0].contains("go on from 5"));
        assert!(errors(quote! { rubric = "r", levels = ["0-4: wrong", "5-8: right"] })[0].contains("must reach 10"));
        assert!(errors(quote! { rubric = "r", levels = "0-10: all" })[0].contains("an array"));
        assert!(errors(quote! { rubric = "r", levels = ["0-10 all", "x"] })[0].contains("A-B: description"));
        assert!(errors(quote! { rubric = "r", scoring = "probable" })[0].contains("\"weighted\""));
        assert!(errors(quote! { rubric = "r", reduce = "max" })[0].contains("median, min, at_least(k)"));
        assert!(errors(quote! { rubric = "r", reduce = "at_least(0)" })[0].contains("whole number of samples ≥ 1"));
        assert!(errors(quote! { rubric = "r", reduce = "at_least(3)", samples = 2 })[0].contains("needs at least 3"));
        assert!(errors(quote! { rubric = "r", reduce = "at_least(3)", samples = 3 }).is_empty());
        assert!(errors(quote! { rubric = "r", judges = ["openai:a"] })[0].contains("at least two judges; for one"));
        let twice = errors(quote! { rubric = "r", judges = ["openai:a", "openai:b", "openai: a"] });
        assert_eq!(twice, ["this judge is named twice in `judges`"]);
        assert_eq!(parse(quote! { rubric = "r", snapshot = true }).0.snapshot, Some(Snapshot::On));
        assert_eq!(parse(quote! { rubric = "r", snapshot = false }).0.snapshot, Some(Snapshot::Off));
        assert!(errors(quote! { rubric = "r", snapshot = 1 })[0].contains("true, false or \"strict\""));
        assert_eq!(args.threshold, Some(0.8));
        assert_eq!(args.samples.map(|s| s.0), Some(judge_rules::Samples::Fixed(7)));
        assert_eq!(args.trim, Some(0.2));
        assert_eq!(args.judge.unwrap().value(), "openai:gpt-4.1-mini");
        assert_eq!(args.name.unwrap().value(), "renamed");
        assert!(args.krate.unwrap().is_ident("my_judge"));
        assert_eq!(args.input.unwrap().value(), "i");
        assert_eq!(args.expected.unwrap().value(), "e");
        assert_eq!(
            (args.temperature, args.max_tokens, args.seed, args.timeout),
            (Some(0.3), Some(400), Some(u64::MAX), Some(2.5))
        );
    }

    #[test]
    fn integers_are_numbers() {
        let (args, errs) = parse(quote! { rubric = "r", threshold = 1 });
        assert!(errs.is_empty());
        assert_eq!(args.threshold, Some(1.0));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let errs = errors(quote! { rubric = "r", rubric = "s", treshold = 0.5, threshold = 1.5, samples = 0 });
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("`rubric` set twice"));
        assert!(errs[1].contains("unknown key `treshold`") && errs[1].contains("valid keys are: rubric, threshold"));
        assert!(errs[2].contains("`threshold` must be in 0.0..=1.0, found 1.5"));
        assert!(errs[3].contains("`samples` must be a whole number"));
    }

    #[test]
    fn a_rubric_is_required() {
        assert!(errors(quote! { threshold = 0.5 })[0].contains("needs a rubric"));
        assert!(errors(quote! {})[0].contains("needs a rubric"));
        assert!(errors(quote! { rubric = "  " })[0].contains("`rubric` must not be empty"));
    }

    #[test]
    fn a_bare_key_needs_a_value() {
        assert_eq!(errors(quote! { rubric }), ["`rubric` needs a value, e.g. rubric = \"...\""]);
        assert_eq!(errors(quote! { rubric = "r", samples, trim = 0.1 }), ["`samples` needs a value, e.g. samples = 1"]);
        assert!(errors(quote! { rubric = "r", verbose })[0].contains("unknown key `verbose`"));
    }

    #[test]
    fn values_are_type_checked() {
        assert!(errors(quote! { rubric = 3 })[0].contains("`rubric` must be a string literal"));
        assert!(errors(quote! { rubric = "r", threshold = "high" })[0].contains("`threshold` must be a number"));
        assert!(errors(quote! { rubric = "r", trim = -0.1 })[0].contains("found -0.1"));
        assert!(errors(quote! { rubric = "r", trim = 0.5 })[0].contains("0.0..0.5"));
        assert!(errors(quote! { rubric = "r", samples = 2.5 })[0].contains("whole number"));
        assert!(errors(quote! { rubric = "r", judge = "gpt-4" })[0].contains("provider:model"));
        assert!(errors(quote! { rubric = "r", judge = "acme:x" })[0].contains("unknown provider \"acme\""));
        assert!(errors(quote! { rubric = "r", judge = "local" }).is_empty());
        assert!(errors(quote! { rubric = "r", judge = "anthropic:claude-x" }).is_empty());
        assert!(errors(quote! { rubric = "r", temperature = 2.5 })[0].contains("0.0..=2.0"));
        assert!(errors(quote! { rubric = "r", max_tokens = 0 })[0].contains("1..=1000000"));
        assert!(errors(quote! { rubric = "r", seed = -1 })[0].contains("whole number ≥ 0"));
        assert!(errors(quote! { rubric = "r", seed = 1.5 })[0].contains("whole number ≥ 0"));
        assert!(errors(quote! { rubric = "r", timeout = 0 })[0].contains("(0, 86400]"));
        assert!(errors(quote! { rubric = "r", name = "a b" })[0].contains("one path segment"));
    }
}
