//! Checking the function `#[llm_eval]` is put on: no parameters (one, the row, with a `dataset`),
//! not generic, returns an output.

use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

/// How the function's return value becomes an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReturnKind {
    /// Any `IntoEvalOutput` value.
    Value,
    /// A `Result` of such a value.
    Result,
}

/// The parameter of a function driven by a dataset: the row, read as its type.
pub(crate) struct RowParam {
    /// The type read from each row (`Case` for `case: &Case`).
    pub ty: Type,
    /// Whether the function takes it by reference.
    pub by_ref: bool,
}

/// Every problem with `function`, spanned, how its return value is read, and (with a dataset)
/// its row parameter.
pub(crate) fn function(function: &ItemFn, dataset: bool) -> (ReturnKind, Option<RowParam>, Vec<syn::Error>) {
    let sig = &function.sig;
    let mut errors = Vec::new();
    let mut row = None;
    // `new_spanned` underlines every parameter / the whole `<...>`; `span()` would give only the
    // first token on stable.
    if dataset {
        match row_param(function) {
            Ok(param) => row = Some(param),
            Err(error) => errors.push(error),
        }
    } else if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            "an #[llm_eval] function takes no parameters: the harness calls it once per sample (a function \
             driven by a dataset takes its row: add `dataset = \"cases.jsonl\"`)",
        ));
    }
    let generic = "an #[llm_eval] function cannot be generic";
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(&sig.generics, generic));
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(where_clause, generic));
    }
    if let Some(unsafety) = sig.unsafety {
        errors.push(syn::Error::new(unsafety.span(), "an #[llm_eval] function cannot be `unsafe`"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new(variadic.span(), "an #[llm_eval] function cannot be variadic"));
    }
    let kind = match &sig.output {
        ReturnType::Default => {
            errors.push(syn::Error::new(
                sig.ident.span(),
                "an #[llm_eval] function returns the output to judge: add `-> String` \
                 (or &'static str, impl Into<String>, or a Result of one)",
            ));
            ReturnKind::Value
        }
        ReturnType::Type(_, ty) => return_kind(ty),
    };
    (kind, row, errors)
}

/// The one parameter of a function driven by a dataset: `case: &Case`, `row: &MyRow`, `row: MyRow`.
fn row_param(function: &ItemFn) -> syn::Result<RowParam> {
    const TAKES: &str = "takes the row: `fn name(case: &judge_runtime::Case)`, or a type of your own that \
                         implements serde::Deserialize (`row: &MyRow` or `row: MyRow`)";
    let sig = &function.sig;
    let mut inputs = sig.inputs.iter();
    let (Some(first), None) = (inputs.next(), inputs.next()) else {
        return Err(if sig.inputs.is_empty() {
            syn::Error::new(sig.paren_token.span.join(), format!("an #[llm_eval] function with a `dataset` {TAKES}"))
        } else {
            syn::Error::new_spanned(
                &sig.inputs,
                format!("an #[llm_eval] function with a `dataset` {TAKES}: one parameter"),
            )
        });
    };
    let FnArg::Typed(typed) = first else {
        return Err(syn::Error::new_spanned(first, format!("an #[llm_eval] function is not a method; it {TAKES}")));
    };
    match &*typed.ty {
        Type::Reference(reference) if reference.mutability.is_some() => Err(syn::Error::new_spanned(
            &typed.ty,
            "the row is read-only: take it by shared reference (`&Case`) or by value",
        )),
        Type::Reference(reference) => Ok(RowParam { ty: (*reference.elem).clone(), by_ref: true }),
        ty => Ok(RowParam { ty: ty.clone(), by_ref: false }),
    }
}

/// A type whose last path segment is `Result` is read as a `Result` (`Result<T, E>`,
/// `anyhow::Result<T>`, `std::io::Result<T>`).
fn return_kind(ty: &Type) -> ReturnKind {
    match ty {
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(last) if last.ident == "Result" => ReturnKind::Result,
            _ => ReturnKind::Value,
        },
        Type::Paren(inner) => return_kind(&inner.elem),
        Type::Group(inner) => return_kind(&inner.elem),
        _ => ReturnKind::Value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(item: &str) -> (ReturnKind, Vec<String>) {
        let (kind, _, errors) = function(&syn::parse_str(item).unwrap(), false);
        (kind, errors.iter().map(ToString::to_string).collect())
    }

    fn row(item: &str) -> Result<(String, bool), String> {
        let (_, row, errors) = function(&syn::parse_str(item).unwrap(), true);
        match (row, errors.first()) {
            (Some(row), None) => Ok((quote::ToTokens::to_token_stream(&row.ty).to_string(), row.by_ref)),
            (_, Some(error)) => Err(error.to_string()),
            (None, None) => unreachable!("a row or an error"),
        }
    }

    #[test]
    fn a_dataset_function_takes_its_row_by_reference_or_by_value() {
        assert_eq!(row("fn f(case: &Case) -> String { todo!() }"), Ok(("Case".into(), true)));
        assert_eq!(row("async fn f(t: my::Ticket) -> String { todo!() }"), Ok(("my :: Ticket".into(), false)));
        assert!(row("fn f() -> String { todo!() }").unwrap_err().contains("with a `dataset` takes the row"));
        assert!(row("fn f(a: &Case, b: u8) -> String { todo!() }").unwrap_err().contains(": one parameter"));
        assert!(row("fn f(c: &mut Case) -> String { todo!() }").unwrap_err().contains("read-only"));
    }

    #[test]
    fn reads_return_kinds() {
        assert_eq!(check("fn f() -> String { todo!() }"), (ReturnKind::Value, vec![]));
        assert_eq!(check("async fn f() -> anyhow::Result<String> { todo!() }"), (ReturnKind::Result, vec![]));
        assert_eq!(check("fn f() -> Result<&'static str, E> { todo!() }").0, ReturnKind::Result);
        assert_eq!(check("fn f() -> impl Into<String> { \"\" }").0, ReturnKind::Value);
    }

    #[test]
    fn rejects_what_the_harness_cannot_call() {
        assert!(check("fn f(x: u8) -> String { todo!() }").1[0].contains("takes no parameters"));
        assert!(check("fn f<T>() -> String { todo!() }").1[0].contains("cannot be generic"));
        assert!(check("fn f() -> String where String: Clone { todo!() }").1[0].contains("cannot be generic"));
        assert!(check("unsafe fn f() -> String { todo!() }").1[0].contains("cannot be `unsafe`"));
        assert!(check("fn f() {}").1[0].contains("returns the output to judge"));
        assert_eq!(check("fn f<T>(x: T) {}").1.len(), 3);
    }
}
