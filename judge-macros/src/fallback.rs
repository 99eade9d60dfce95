//! What is emitted when the attribute has errors: the item unchanged, so IDEs and the rest of the
//! crate keep working, and one `compile_error!` per problem.

use proc_macro2::TokenStream;

pub(crate) fn with_errors(item: TokenStream, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote::quote! {
        #item
        #(#errors)*
    }
}
