//! Derive macros for kysera.
use proc_macro::TokenStream;

/// `#[derive(Repository)]`.
#[proc_macro_derive(Repository, attributes(kysera, soft_delete, audited, timestamps))]
pub fn derive_repository(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
