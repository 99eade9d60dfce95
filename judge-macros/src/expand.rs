//! The expansion: the function as written, plus an `EvalCase` submitted to the runtime's registry.
//! Generated code names only `<crate>::__private` paths (`::judge_runtime` unless `crate = "..."`).

use judge_rules::Reduce;
use judge_rules::judge::{JudgeSpec, Provider};
use judge_rules::words::{Combine, OnDisagreement};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr, ReturnType};

use crate::args::{self, EvalArgs, Snapshot};
use crate::fallback;
use crate::validate::{self, ReturnKind, RowParam};

/// `#[llm_eval(args)] item`, expanded; on any error, the item unchanged plus every error.
pub(crate) fn llm_eval(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, mut errors) = args::parse(args);
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.push(syn::Error::new_spanned(
                &item,
                "#[llm_eval] goes on a function that returns the output to judge",
            ));
            return fallback::with_errors(item, errors);
        }
    };
    let (kind, row, fn_errors) = validate::function(&function, args.dataset.is_some());
    errors.extend(fn_errors);
    if !errors.is_empty() {
        return fallback::with_errors(item, errors);
    }
    let ignore = take_ignore(&mut function);
    let case = eval_case(&args, &function, kind, row.as_ref(), ignore);
    quote! {
        #function
        #case
    }
}

/// Removes `#[ignore]` / `#[ignore = "..."]` from the function (it is not a `#[test]`, so rustc
/// would not honour it) and reports whether it was there.
fn take_ignore(function: &mut ItemFn) -> bool {
    let before = function.attrs.len();
    function.attrs.retain(|attr| !attr.path().is_ident("ignore"));
    function.attrs.len() != before
}

fn eval_case(
    args: &EvalArgs,
    function: &ItemFn,
    kind: ReturnKind,
    row: Option<&RowParam>,
    ignore: bool,
) -> TokenStream {
    let krate = args.krate.as_ref().map_or_else(|| quote!(::judge_runtime), |path| quote!(#path));
    let private = quote!(#krate::__private);
    let ident = &function.sig.ident;
    let name = args.name.as_ref().map_or_else(|| ident.to_string(), LitStr::value);
    let rubric = args.rubric.as_ref().expect("validated: a rubric is present");
    let opt_str = |s: &Option<LitStr>| match s {
        Some(s) => quote!(#private::Some(#s)),
        None => quote!(#private::None),
    };
    let opt_num = |n: Option<f64>| match n {
        Some(n) => quote!(#private::Some(#n)),
        None => quote!(#private::None),
    };
    let (input, expected) = (opt_str(&args.input), opt_str(&args.expected));
    let dataset = opt_str(&args.dataset);
    let min_pass_rate = opt_num(args.min_pass_rate.map(|(rate, _)| rate));
    let judge = match &args.judge {
        Some(judge) => {
            let judge = judge_value(&private, judge);
            quote!(#private::Some(#judge))
        }
        None => quote!(#private::None),
    };
    let reduce = match args.reduce {
        Some((reduce, _)) => {
            let reduce = reduce_value(&private, reduce);
            quote!(#private::Some(#reduce))
        }
        None => quote!(#private::None),
    };
    let levels = match &args.levels {
        Some(levels) => {
            let bands = levels.iter().map(|level| band_value(&private, level));
            quote!(#private::Some(&[#(#bands),*]))
        }
        None => quote!(#private::None),
    };
    let criteria = match &args.criteria {
        Some(criteria) => {
            let defs = criteria.iter().map(|c| {
                let name = c.name.to_string();
                let rubric = &c.rubric;
                let weight = opt_num(c.weight);
                let threshold = opt_num(c.threshold);
                quote!(#private::CriterionDef { name: #name, rubric: #rubric, weight: #weight, threshold: #threshold })
            });
            quote!(#private::Some(&[#(#defs),*]))
        }
        None => quote!(#private::None),
    };
    let compare_with = match &args.compare_with {
        Some(args::CompareWith::Text(text)) => quote!(#private::Some(#private::CompareWith::Text(#text))),
        Some(args::CompareWith::Function(path)) => {
            // The signature is out of sight: the call's value converts as a Result if it is one.
            let call = quote_spanned!(path.span()=> {
                #[allow(unused_imports)]
                use #private::{ResultOutput as _, ValueOutput as _};
                #private::Produced::new(#path()).into_output()
            });
            quote!(#private::Some(#private::CompareWith::Function(#private::OutputFn::Sync(|| #call))))
        }
        None => quote!(#private::None),
    };
    let steps = match &args.steps {
        Some(None) => quote!(#private::Some(#private::StepsDef::Auto)),
        Some(Some(steps)) => quote!(#private::Some(#private::StepsDef::Given(&[#(#steps),*]))),
        None => quote!(#private::None),
    };
    let judges = match &args.judges {
        Some(judges) => {
            let judges = judges.iter().map(|judge| judge_value(&private, judge));
            quote!(#private::Some(&[#(#judges),*]))
        }
        None => quote!(#private::None),
    };
    let combine = match args.combine {
        Some(Combine::Mean) => quote!(#private::Some(#private::Combine::Mean)),
        Some(Combine::Median) => quote!(#private::Some(#private::Combine::Median)),
        Some(Combine::Majority) => quote!(#private::Some(#private::Combine::Majority)),
        None => quote!(#private::None),
    };
    let on_disagreement = match args.on_disagreement {
        Some(OnDisagreement::Flag) => quote!(#private::Some(#private::OnDisagreement::Flag)),
        Some(OnDisagreement::Fail) => quote!(#private::Some(#private::OnDisagreement::Fail)),
        None => quote!(#private::None),
    };
    let max_spread = opt_num(args.max_spread);
    let scoring = match args.scoring {
        Some(weighted) => quote!(#private::Some(#weighted)),
        None => quote!(#private::None),
    };
    let (threshold, trim) = (opt_num(args.threshold), opt_num(args.trim));
    let (temperature, timeout) = (opt_num(args.temperature), opt_num(args.timeout));
    let samples = match args.samples {
        Some((judge_rules::Samples::Fixed(n), _)) => quote!(#private::Some(#private::Samples::Fixed(#n))),
        Some((judge_rules::Samples::Adaptive, _)) => quote!(#private::Some(#private::Samples::Adaptive)),
        None => quote!(#private::None),
    };
    let max_tokens = match args.max_tokens {
        Some(n) => quote!(#private::Some(#n)),
        None => quote!(#private::None),
    };
    let snapshot = match args.snapshot {
        Some(Snapshot::Off) => quote!(#private::Some(#private::SnapshotMode::Off)),
        Some(Snapshot::On) => quote!(#private::Some(#private::SnapshotMode::On)),
        Some(Snapshot::Strict) => quote!(#private::Some(#private::SnapshotMode::Strict)),
        None => quote!(#private::None),
    };
    let seed = match args.seed {
        Some(n) => quote!(#private::Some(#n)),
        None => quote!(#private::None),
    };

    // rustc reports a return type that is not an output at the conversion's argument, the call of
    // the function. That call is spanned from the first to the last token of the return type (as
    // `syn::Error::new_spanned` does), so the error underlines the whole type, not the attribute.
    let (ret_span, ret_end) = match &function.sig.output {
        ReturnType::Type(_, ty) => {
            let mut tokens = ty.to_token_stream().into_iter().map(|token| token.span());
            let first = tokens.next().unwrap_or_else(|| ty.span());
            (first, tokens.last().unwrap_or(first))
        }
        ReturnType::Default => (ident.span(), ident.span()),
    };
    let mut callee = ident.clone();
    callee.set_span(ret_span);
    // A dataset's row, read as the function's parameter (`__row`), is passed as it takes it.
    let arg = match row {
        Some(RowParam { by_ref: true, .. }) => quote!(&__row),
        Some(RowParam { by_ref: false, .. }) => quote!(__row),
        None => quote!(),
    };
    let call = if function.sig.asyncness.is_some() {
        quote_spanned!(ret_end=> #callee(#arg).await)
    } else {
        quote_spanned!(ret_end=> #callee(#arg))
    };
    let convert = match kind {
        ReturnKind::Value => quote_spanned!(ret_span=> #private::from_value(#call)),
        ReturnKind::Result => quote_spanned!(ret_span=> #private::from_result(#call)),
    };
    let text = quote!(::std::string::String);
    let output = match (row, function.sig.asyncness.is_some()) {
        (None, true) => quote! {
            #private::OutputFn::Async(|| -> #private::OutputFuture {
                #private::Box::pin(async { #convert })
            })
        },
        (None, false) => quote!(#private::OutputFn::Sync(|| #convert)),
        (Some(RowParam { ty, .. }), is_async) => {
            // Spanned at the parameter's type: a type that cannot be read from a row is
            // underlined there.
            let read = quote_spanned!(ty.span()=> <#ty as #private::FromRow>::from_row(__row)?);
            if is_async {
                quote! {
                    #private::OutputFn::AsyncRow(|__row: &#private::Row|
                        -> ::core::result::Result<#private::OutputFuture, #text> {
                        let __row: #ty = #read;
                        #private::Ok(#private::Box::pin(async move { #convert }))
                    })
                }
            } else {
                quote! {
                    #private::OutputFn::SyncRow(|__row: &#private::Row|
                        -> ::core::result::Result<::core::result::Result<#text, #text>, #text> {
                        let __row: #ty = #read;
                        #private::Ok(#convert)
                    })
                }
            }
        }
    };
    let by_kind = args.by_kind.iter().map(|(key, value)| {
        let value = match value {
            args::KindValue::Number(v) => quote!(#private::AttributeValue::Number(#v)),
            args::KindValue::Whole(v) => quote!(#private::AttributeValue::Whole(#v)),
            args::KindValue::Text(text) => quote!(#private::AttributeValue::Text(#text)),
            args::KindValue::Texts(texts) => quote!(#private::AttributeValue::Texts(&[#(#texts),*])),
        };
        quote!((#key, #value))
    });
    let line = quote_spanned!(ident.span()=> ::core::line!());
    // `baseline`, the old name of `compare_with`: a deprecated constant named by the key's own
    // token, so that stable rustc warns at the key.
    let deprecated = args.deprecated_baseline.as_ref().map(|key| quote!(let () = #private::deprecated::#key;));

    quote! {
        #[doc(hidden)]
        const _: () = {
            #deprecated
            #private::inventory::submit! {
                #private::EvalCase {
                    module_path: ::core::module_path!(),
                    name: #name,
                    rubric: #rubric,
                    dataset: #dataset,
                    min_pass_rate: #min_pass_rate,
                    input: #input,
                    expected: #expected,
                    threshold: #threshold,
                    samples: #samples,
                    trim: #trim,
                    judge: #judge,
                    temperature: #temperature,
                    max_tokens: #max_tokens,
                    seed: #seed,
                    timeout: #timeout,
                    reduce: #reduce,
                    levels: #levels,
                    criteria: #criteria,
                    compare_with: #compare_with,
                    judges: #judges,
                    steps: #steps,
                    combine: #combine,
                    max_spread: #max_spread,
                    on_disagreement: #on_disagreement,
                    scoring: #scoring,
                    snapshot: #snapshot,
                    by_kind: &[#(#by_kind),*],
                    // Expanded here, in the eval's crate: insta writes the snapshot beside this file.
                    snapshot_hook: |snapshot: &#private::Snapshot| {
                        snapshot.settings().bind(|| {
                            #private::insta::assert_snapshot!(snapshot.name(), snapshot.body());
                        })
                    },
                    ignore: #ignore,
                    file: ::core::file!(),
                    line: #line,
                    output: #output,
                }
            }
        };
    }
}

/// A `reduce` value as the expression that builds it: `__private::Reduce::AtLeast(3u32)`.
fn reduce_value(private: &TokenStream, reduce: Reduce) -> TokenStream {
    match reduce {
        Reduce::TrimmedMean => quote!(#private::Reduce::TrimmedMean),
        Reduce::Mean => quote!(#private::Reduce::Mean),
        Reduce::Median => quote!(#private::Reduce::Median),
        Reduce::Min => quote!(#private::Reduce::Min),
        Reduce::AtLeast(k) => quote!(#private::Reduce::AtLeast(#k)),
        Reduce::PassAll => quote!(#private::Reduce::PassAll),
    }
}

/// A judge the attribute named (checked when it was read) as the value that builds it:
/// `__private::JudgeSpec { provider: __private::Provider::OpenAi, model: __private::Cow::Borrowed("m") }`.
fn judge_value(private: &TokenStream, judge: &LitStr) -> TokenStream {
    let spec = JudgeSpec::parse(&judge.value()).expect("the attribute's judges are checked when read");
    let provider = match spec.provider {
        Provider::OpenAi => quote!(OpenAi),
        Provider::Anthropic => quote!(Anthropic),
        Provider::Ollama => quote!(Ollama),
        Provider::Vllm => quote!(Vllm),
        Provider::OpenRouter => quote!(OpenRouter),
        Provider::Local => quote!(Local),
    };
    let model = &*spec.model;
    quote!(#private::JudgeSpec { provider: #private::Provider::#provider, model: #private::Cow::Borrowed(#model) })
}

/// A level the attribute wrote (checked when it was read) as the band that builds it:
/// `__private::Band { min: 0u32, max: 4u32, description: __private::Cow::Borrowed("wrong") }`.
fn band_value(private: &TokenStream, level: &LitStr) -> TokenStream {
    let band = judge_rules::levels::band(&level.value()).expect("the attribute's levels are checked when read");
    let (min, max, description) = (band.min, band.max, &*band.description);
    quote!(#private::Band { min: #min, max: #max, description: #private::Cow::Borrowed(#description) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        llm_eval(args, item).to_string()
    }

    #[test]
    fn keeps_the_function_and_registers_a_case() {
        let out = expand(
            quote!(rubric = "r", samples = 3),
            quote!(
                fn answer() -> String {
                    String::new()
                }
            ),
        );
        assert!(out.contains("fn answer () -> String"), "{out}");
        assert!(out.contains("inventory :: submit !"), "{out}");
        assert!(out.contains(":: judge_runtime :: __private :: EvalCase"), "{out}");
        assert!(out.contains("OutputFn :: Sync"), "{out}");
        assert!(
            out.contains(
                "samples : :: judge_runtime :: __private :: Some (:: judge_runtime :: __private :: Samples :: Fixed \
                 (3u32))"
            ),
            "{out}"
        );
    }

    #[test]
    fn words_are_emitted_as_typed_values() {
        let item = quote!(
            fn answer() -> String {
                String::new()
            }
        );
        let out = expand(
            quote!(
                rubric = "r",
                samples = 3,
                reduce = "at_least(3)",
                judges = ["openai:a", "openai:b"],
                combine = "median",
                max_spread = 0.3,
                on_disagreement = "fail",
                scoring = "stated"
            ),
            item.clone(),
        );
        let private = ":: judge_runtime :: __private ::";
        for expected in [
            format!("reduce : {private} Some ({private} Reduce :: AtLeast (3u32))"),
            format!("combine : {private} Some ({private} Combine :: Median)"),
            format!("on_disagreement : {private} Some ({private} OnDisagreement :: Fail)"),
            format!("scoring : {private} Some (false)"),
        ] {
            assert!(out.contains(&expected), "{expected} in {out}");
        }
        let judge = |model: &str| {
            format!(
                "{private} JudgeSpec {{ provider : {private} Provider :: OpenAi , model : {private} Cow :: Borrowed (\"{model}\") }}"
            )
        };
        let judges = format!("judges : {private} Some (& [{} , {}])", judge("a"), judge("b"));
        assert!(out.contains(&judges), "{judges} in {out}");
        let out = expand(
            quote!(
                rubric = "r",
                reduce = "pass_all",
                judge = "ollama:qwen2.5:7b",
                levels = ["0-4: wrong", "5-10: right"]
            ),
            item,
        );
        assert!(out.contains(&format!("reduce : {private} Some ({private} Reduce :: PassAll)")), "{out}");
        assert!(out.contains(&format!("combine : {private} None")), "{out}");
        assert!(
            out.contains(&format!("Provider :: Ollama , model : {private} Cow :: Borrowed (\"qwen2.5:7b\")")),
            "{out}"
        );
        let band = format!(
            "{private} Band {{ min : 0u32 , max : 4u32 , description : {private} Cow :: Borrowed (\"wrong\") }}"
        );
        assert!(out.contains(&band), "{band} in {out}");
    }

    #[test]
    fn async_functions_are_awaited_and_results_unwrapped() {
        let out = expand(
            quote!(rubric = "r"),
            quote!(
                async fn a() -> anyhow::Result<String> {
                    todo!()
                }
            ),
        );
        assert!(out.contains("OutputFn :: Async"), "{out}");
        assert!(out.contains("from_result (a () . await)"), "{out}");
    }

    #[test]
    fn ignore_is_taken_off_the_function() {
        let out = expand(
            quote!(rubric = "r"),
            quote!(
                #[ignore]
                fn a() -> &'static str {
                    ""
                }
            ),
        );
        assert!(!out.contains("# [ignore]"), "{out}");
        assert!(out.contains("ignore : true"), "{out}");
    }

    #[test]
    fn crate_renames_every_path() {
        let out = expand(
            quote!(rubric = "r", crate = "judge"),
            quote!(
                fn a() -> String {
                    todo!()
                }
            ),
        );
        assert!(!out.contains("judge_runtime"), "{out}");
        assert!(out.contains("judge :: __private :: EvalCase"), "{out}");
    }

    #[test]
    fn baseline_is_the_old_name_of_compare_with() {
        let item = quote!(
            fn a() -> String {
                todo!()
            }
        );
        let new = expand(quote!(rubric = "r", compare_with = "old"), item.clone());
        assert!(new.contains("compare_with : :: judge_runtime :: __private :: Some (:: judge_runtime :: __private :: CompareWith :: Text (\"old\"))"), "{new}");
        assert!(!new.contains("deprecated"), "{new}");
        let old = expand(quote!(rubric = "r", baseline = "old"), item.clone());
        let warning = "let () = :: judge_runtime :: __private :: deprecated :: baseline ;";
        assert!(old.contains(warning), "{old}");
        let words = |s: &str| s.replace(warning, "").split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(words(&old), words(&new), "the same case, with a deprecation warning");
        let both = expand(quote!(rubric = "r", compare_with = "a", baseline = "b"), item);
        assert!(both.contains("`baseline` set twice"), "{both}");
    }

    #[test]
    fn errors_keep_the_function() {
        let out = expand(
            quote!(threshold = 2.0),
            quote!(
                fn a(x: u8) -> String {
                    todo!()
                }
            ),
        );
        assert!(out.contains("fn a (x : u8) -> String"), "{out}");
        assert_eq!(out.matches("compile_error !").count(), 3, "{out}");
    }
}
