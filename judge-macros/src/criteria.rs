//! The `criteria` key: `criteria = { accuracy = "…", clarity = { rubric = "…", weight = 2,
//! threshold = 0.6 } }`. Checked as the runtime checks it (`judge-runtime`'s `settings/criteria.rs`),
//! every problem spanned at its token.

use proc_macro2::{Delimiter, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token};

/// One criterion as written.
pub(crate) struct CriterionArg {
    pub name: Ident,
    pub rubric: LitStr,
    pub weight: Option<f64>,
    pub threshold: Option<f64>,
}

const SHAPE: &str = "`criteria` is a table of named rubrics, e.g. criteria = { accuracy = \"states the right \
                     facts\", clarity = { rubric = \"reads well\", weight = 0.5, threshold = 0.6 } }";

/// Reads the value of `criteria`: one brace-delimited token tree. Errors are collected, so that
/// one compile shows them all.
pub(crate) fn parse(value: &TokenTree, errors: &mut Vec<syn::Error>) -> Option<Vec<CriterionArg>> {
    let TokenTree::Group(group) = value else {
        errors.push(syn::Error::new(value.span(), SHAPE));
        return None;
    };
    if group.delimiter() != Delimiter::Brace {
        errors.push(syn::Error::new(group.span(), SHAPE));
        return None;
    }
    let entries = match (|input: ParseStream| entries(input)).parse2(group.stream()) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let before = errors.len();
    if let Err(reason) = judge_rules::criteria::count(entries.len()) {
        errors.push(syn::Error::new(group.span(), reason));
    }
    for (i, c) in entries.iter().enumerate() {
        // The name is a field of the judge's JSON reply: plain ASCII, no raw identifier.
        if let Err(reason) = judge_rules::criteria::name(&c.name.to_string()) {
            errors.push(syn::Error::new(c.name.span(), reason));
        }
        if entries[..i].iter().any(|other| other.name == c.name) {
            errors.push(syn::Error::new(c.name.span(), format!("criterion `{}` is named twice", c.name)));
        }
        if c.rubric.value().trim().is_empty() {
            errors.push(syn::Error::new(c.rubric.span(), format!("the rubric of criterion `{}` is empty", c.name)));
        }
    }
    (errors.len() == before).then_some(entries)
}

fn entries(input: ParseStream) -> syn::Result<Vec<CriterionArg>> {
    let mut entries = Vec::new();
    while !input.is_empty() {
        let name: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), SHAPE))?;
        input.parse::<Token![=]>()?;
        entries.push(if input.peek(LitStr) {
            CriterionArg { rubric: input.parse()?, name, weight: None, threshold: None }
        } else if input.peek(syn::token::Brace) {
            let fields;
            syn::braced!(fields in input);
            criterion(name, &fields)?
        } else {
            return Err(input.error(format!(
                "criterion `{name}` is a rubric string, or {{ rubric = \"…\", weight = 2, threshold = 0.6 }}"
            )));
        });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(entries)
}

/// `{ rubric = "…", weight = 2, threshold = 0.6 }`.
fn criterion(name: Ident, fields: ParseStream) -> syn::Result<CriterionArg> {
    let (mut rubric, mut weight, mut threshold) = (None, None, None);
    let brace_span = fields.span();
    while !fields.is_empty() {
        let field: Ident = fields.parse()?;
        fields.parse::<Token![=]>()?;
        let set = match field.to_string().as_str() {
            "rubric" => rubric.is_some(),
            "weight" => weight.is_some(),
            "threshold" => threshold.is_some(),
            _ => false,
        };
        if set {
            return Err(syn::Error::new(field.span(), format!("`{field}` set twice in criterion `{name}`")));
        }
        match field.to_string().as_str() {
            "rubric" => rubric = Some(fields.parse::<LitStr>()?),
            "weight" => {
                let (v, span) = number(fields)?;
                judge_rules::criteria::weight(v).map_err(|reason| syn::Error::new(span, reason))?;
                weight = Some(v);
            }
            "threshold" => {
                let (v, span) = number(fields)?;
                judge_rules::criteria::threshold(v).map_err(|reason| syn::Error::new(span, reason))?;
                threshold = Some(v);
            }
            other => {
                return Err(syn::Error::new(
                    field.span(),
                    format!(
                        "unknown field `{other}` of criterion `{name}`; fields: {}",
                        judge_rules::criteria::FIELDS.join(", ")
                    ),
                ));
            }
        }
        if fields.is_empty() {
            break;
        }
        fields.parse::<Token![,]>()?;
    }
    let rubric = rubric.ok_or_else(|| {
        syn::Error::new(brace_span, format!("criterion `{name}` needs a rubric: {name} = {{ rubric = \"…\" }}"))
    })?;
    Ok(CriterionArg { name, rubric, weight, threshold })
}

/// A number literal, possibly negated, with its span.
fn number(input: ParseStream) -> syn::Result<(f64, proc_macro2::Span)> {
    let span = input.span();
    let negative = input.parse::<Option<Token![-]>>()?.is_some();
    let lit: syn::Lit = input.parse()?;
    let v = match &lit {
        syn::Lit::Float(f) => f.base10_parse::<f64>()?,
        syn::Lit::Int(i) => i.base10_parse::<f64>()?,
        _ => return Err(syn::Error::new(lit.span(), "a number literal, e.g. 2 or 0.6")),
    };
    Ok((if negative { -v } else { v }, span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn read(tokens: proc_macro2::TokenStream) -> Result<Vec<CriterionArg>, Vec<String>> {
        let tree = tokens.into_iter().next().expect("one token tree");
        let mut errors = Vec::new();
        parse(&tree, &mut errors).ok_or_else(|| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_plain_and_detailed_criteria() {
        let c = read(quote!({ accuracy = "right", clarity = { rubric = "clear", weight = 0.5, threshold = 0.6 } }))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((c[0].name.to_string(), c[0].weight), ("accuracy".to_owned(), None));
        assert_eq!((c[1].rubric.value(), c[1].weight, c[1].threshold), ("clear".to_owned(), Some(0.5), Some(0.6)));
    }

    #[test]
    fn rejects_what_the_runtime_rejects() {
        let first = |t| read(t).err().expect("an error")[0].clone();
        assert!(first(quote!("accuracy")).contains("table of named rubrics"));
        assert!(first(quote!({ accuracy = "r" })).contains("at least two"));
        assert!(first(quote!({ a = "r", a = "s" })).contains("named twice"));
        assert!(first(quote!({ a = "r", b = { weight = 2 } })).contains("needs a rubric"));
        assert!(first(quote!({ a = "r", b = { rubric = "s", wieght = 2 } })).contains("unknown field `wieght`"));
        assert!(first(quote!({ a = "r", b = { rubric = "s", weight = 0 } })).contains("above 0"));
        assert!(first(quote!({ a = "r", b = { rubric = "s", threshold = 1.5 } })).contains("0.0..=1.0"));
        assert!(first(quote!({ a = "r", b = 3 })).contains("a rubric string"));
        assert!(first(quote!({ a = "r", b = " " })).contains("empty"));
        assert!(first(quote!({ a = "r", r#b = "s" })).contains("ASCII letters"));
        assert!(first(quote!({ a = "r", b = { rubric = "s", rubric = "t" } })).contains("`rubric` set twice"));
    }
}
