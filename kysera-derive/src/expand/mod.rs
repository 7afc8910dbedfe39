//! Code generation: one file per generated artefact.

mod create;
mod json;
mod model;
mod relations;
mod repository;
mod table;
mod update;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Field, Input};

/// Everything `#[derive(Repository)]` emits for a checked input: the public items, then every
/// trait impl inside an anonymous `const` so no helper name leaks.
pub fn expand(input: &Input) -> TokenStream {
    let table_alias = table::alias(input);
    let table = table::expand(input);
    let (create, create_impls) = create::expand(input);
    let (update, update_impls) = update::expand(input);
    let (repository, repository_impls) = repository::expand(input);
    let model = model::expand(input);
    let (loaders, relation_impls) = relations::expand(input);
    let repository_ident = input.repository_ident();
    let loaders = (!loaders.is_empty()).then(|| {
        quote! {
            #[allow(dead_code)]
            impl<'c> #repository_ident<'c> {
                #loaders
            }
        }
    });
    quote! {
        #table
        #table_alias
        #create
        #update
        #repository
        #loaders
        #[doc(hidden)]
        #[allow(non_upper_case_globals, non_snake_case, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #model
            #create_impls
            #update_impls
            #repository_impls
            #relation_impls
        };
    }
}

/// `<#table::#column as Column>::NAME`: the column's SQL name, whoever declared the table.
fn column_name(input: &Input, field: &Field) -> TokenStream {
    let table = input.table_path();
    let column = &field.column;
    quote!(<#table::#column as ::kysera::__private::diesel::Column>::NAME)
}
