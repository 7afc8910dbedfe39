//! The Diesel table module (`users::table`, `users::email`, ...), unless `schema = ...`
//! points at an existing one.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Input;
use crate::types;

pub fn expand(input: &Input) -> TokenStream {
    if input.attrs.schema.is_some() {
        return TokenStream::new();
    }
    let table = input.table_path();
    let key = &input.primary_key().column;
    let doc = format!(
        "The `{}` table of [`{}`], as Diesel sees it.",
        input.table_name(),
        input.ident
    );
    let columns = input.fields.iter().map(|field| {
        let column = &field.column;
        let sql_type = match &field.attrs.sql_type {
            Some(ty) => quote!(#ty),
            // `valid::check` rejected types without a mapping, so this always succeeds.
            None => types::portable_sql_type(field.inner_ty).unwrap_or_else(|| quote!(Text)),
        };
        let sql_type = if field.nullable {
            quote!(Nullable<#sql_type>)
        } else {
            sql_type
        };
        let docs = &field.docs;
        let doc = format!("The `{column}` column (field `{}`).", field.ident);
        let docs = if docs.is_empty() {
            quote!(#[doc = #doc])
        } else {
            quote!(#(#docs)*)
        };
        quote_spanned!(field.ty.span()=> #docs #column -> #sql_type,)
    });
    quote! {
        ::kysera::__private::diesel::table! {
            use ::kysera::__private::diesel::sql_types::*;
            #[doc = #doc]
            // Diesel's helper items inside the module carry no docs of their own.
            #[allow(missing_docs)]
            #table (#key) {
                #(#columns)*
            }
        }
    }
}

/// `__kysera_table_User`: the name under which a model's table module is re-exported next to
/// the struct, so another model's derive, which only knows the path to `User`, can name the
/// table (`belongs_to(crate::models::User)` → `crate::models::__kysera_table_User::table`).
pub fn alias_ident(model: &proc_macro2::Ident) -> proc_macro2::Ident {
    quote::format_ident!("__kysera_table_{}", model)
}

/// The re-export named by [`alias_ident`]: at most crate-visible, since a user-written table
/// module may not be public.
pub fn alias(input: &Input) -> TokenStream {
    let table = input.table_path();
    let alias = alias_ident(input.ident);
    let vis = match input.vis {
        syn::Visibility::Public(_) => quote!(pub(crate)),
        other => quote!(#other),
    };
    quote! {
        #[doc(hidden)]
        #[allow(unused_imports, non_snake_case)]
        #vis use #table as #alias;
    }
}
