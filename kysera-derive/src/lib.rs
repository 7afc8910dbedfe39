//! Derive macros for [kysera](https://docs.rs/kysera).
//!
//! `#[derive(Repository)]` reads a plain struct and emits the Diesel table module, a Create
//! struct (`NewUser`), an Update struct (`UserUpdate`), field validation and a repository
//! type (`UserRepository`). The generated code only describes the struct; every operation
//! lives in the `kysera` crate. See the `kysera` documentation for the attributes.

mod ast;
mod attr;
mod ctxt;
mod embed;
mod expand;
mod symbol;
mod transactional;
mod types;
mod valid;

use proc_macro::TokenStream;
use syn::DeriveInput;

/// Derives a repository for a struct mapped to one table.
///
/// Struct attribute: `#[kysera(table = "users")]` (default: snake-case name plus `s`), or
/// `#[kysera(schema = crate::schema::users)]` to use an existing Diesel table module.
/// Relations, in the same attribute: `belongs_to(User)` (foreign key `user_id`, or
/// `foreign_key = "author_id"`), `has_many(Post)`, `has_one(Profile)`,
/// `many_to_many(Tag, through = PostTag)`, each with an optional `name = "..."` for its
/// `load_<name>` loader.
///
/// Field attributes, inside `#[kysera(...)]`: `primary_key`, `generated` (the database fills
/// it in: left out of the Create and Update structs), `column = "name"`, `sql_type = Type`,
/// `skip_update`, `version` (optimistic locking on an integer field), and `validate(email,
/// url, length(min = 1, max = 100), range(min = 0, max = 10), regex = "...", non_empty,
/// custom = path::to_fn)`.
#[proc_macro_derive(Repository, attributes(kysera, timestamps, soft_delete, audited))]
pub fn derive_repository(input: TokenStream) -> TokenStream {
    derive_repository_inner(input.into()).into()
}

/// Embeds a migrations directory (default `"migrations"`, relative to the crate's
/// `Cargo.toml`) as `&'static [kysera::migrate::EmbeddedMigration]`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::expand(input.into())
        .unwrap_or_else(|err| err.to_compile_error())
        .into()
}

/// Runs a function's body in a transaction on its `&Conn` parameter: committed when it
/// returns `Ok`, rolled back on `Err`; a savepoint when called inside another transaction.
///
/// Arguments: `isolation = "serializable"` (or `read_committed`, `repeatable_read`,
/// `read_uncommitted`), `read_only`, `retries = N` (re-run the whole body after a
/// serialization failure or deadlock; the body must then not consume its arguments, and
/// its error type must implement `kysera::transaction::TransactionError`), and
/// `conn = parameter` when the connection parameter is not the first `&Conn`.
#[proc_macro_attribute]
pub fn transactional(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    transactional::expand(args.into(), item.clone())
        .unwrap_or_else(|err| {
            // Keep the function as written, so the error is the only one reported.
            let error = err.to_compile_error();
            quote::quote!(#item #error)
        })
        .into()
}

/// The derive on `proc_macro2` tokens, so it can be tested without a compiler.
pub(crate) fn derive_repository_inner(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    try_expand(&input).unwrap_or_else(|err| err.to_compile_error())
}

fn try_expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let cx = ctxt::Ctxt::new();
    let parsed = ast::Input::from_ast(&cx, input);
    if let Some(parsed) = &parsed {
        valid::check(&cx, parsed);
    }
    cx.check()?;
    let parsed = parsed.expect("errors reported above when the input is not a struct");
    Ok(expand::expand(&parsed))
}
