//! Checking the function `#[llm_eval]` is put on: no parameters, not generic, returns an output.

use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

/// How the function's return value becomes an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReturnKind {
    /// Any `IntoEvalOutput` value.
    Value,
    /// A `Result` of such a value.
    Result,
}

/// Every problem with `function`, spanned, and how its return value is read.
pub(crate) fn function(function: &ItemFn) -> (ReturnKind, Vec<syn::Error>) {
    let sig = &function.sig;
    let mut errors = Vec::new();
    // `new_spanned` underlines every parameter / the whole `<...>`; `span()` would give only the
    // first token on stable.
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            "an #[llm_eval] function takes no parameters: the harness calls it once per sample",
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
    (kind, errors)
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
        let (kind, errors) = function(&syn::parse_str(item).unwrap());
        (kind, errors.iter().map(ToString::to_string).collect())
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
