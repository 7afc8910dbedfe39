//! The repository wrapper (`UserRepository<'c>`): a local type, so users add their own
//! finders in an `impl` block; it derefs to `kysera::Repo` for every generic operation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Input;

/// The struct definition and inherent methods (public) and its trait impls (private).
pub fn expand(input: &Input) -> (TokenStream, TokenStream) {
    let vis = input.vis;
    let model = input.ident;
    let ident = input.repository_ident();
    let table = input.table_path();
    let finders = input
        .fields
        .iter()
        // The key has find_by_id; JSON has no equality operator on PostgreSQL.
        .filter(|f| !f.is_primary_key() && !is_json(f.inner_ty))
        .map(|f| {
            let (column, inner) = (&f.column, f.inner_ty);
            let find_by = format_ident!("find_by_{}", f.ident);
            let find_one_by = format_ident!("find_one_by_{}", f.ident);
            let doc_many = format!("Rows whose `{}` equals `value`, ordered by key.", f.column);
            let doc_one = format!("The first row (by key) whose `{}` equals `value`.", f.column);
            quote! {
                #[doc = #doc_many]
                #vis fn #find_by(&self, value: impl ::core::convert::Into<#inner>) -> ::kysera::Result<::std::vec::Vec<#model>> {
                    self.0.find_by(#table::#column, value.into())
                }
                #[doc = #doc_one]
                #vis fn #find_one_by(&self, value: impl ::core::convert::Into<#inner>) -> ::kysera::Result<::core::option::Option<#model>> {
                    self.0.find_one_by(#table::#column, value.into())
                }
            }
        });
    let timestamp_finders = timestamp_finders(input);
    let doc = format!(
        "The repository of [`{model}`]: every operation of [`kysera::Repo`] plus a typed finder per column. Add your own finders in an `impl {ident}<'_>` block."
    );
    let item = quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #ident<'c>(::kysera::Repo<'c, #model>);

        #[allow(dead_code)]
        impl<'c> #ident<'c> {
            #(#finders)*
            #timestamp_finders
        }
    };
    let impls = quote! {
        #[automatically_derived]
        impl<'c> ::core::convert::From<::kysera::Repo<'c, #model>> for #ident<'c> {
            #[inline]
            fn from(repo: ::kysera::Repo<'c, #model>) -> Self {
                #ident(repo)
            }
        }
        #[automatically_derived]
        impl<'c> ::core::ops::Deref for #ident<'c> {
            type Target = ::kysera::Repo<'c, #model>;
            #[inline]
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };
    (item, impls)
}

fn is_json(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Value"))
}

/// Finders of `#[timestamps]` models: by creation and update time, newest first.
fn timestamp_finders(input: &Input) -> TokenStream {
    use crate::ast::Role;
    let (vis, model, table) = (input.vis, input.ident, input.table_path());
    let Some(created) = input.fields.iter().find(|f| f.role == Role::CreatedAt) else {
        return TokenStream::new();
    };
    let d = quote!(::kysera::__private::diesel);
    let key = &input.primary_key().column;
    let created = &created.column;
    let ts = quote!(::kysera::__private::chrono::NaiveDateTime);
    let result = quote!(::kysera::Result<::std::vec::Vec<#model>>);
    let mut out = quote! {
        /// Rows created strictly after `at`, ordered by key.
        #vis fn created_after(&self, at: #ts) -> #result {
            use #d::{ExpressionMethods as _, QueryDsl as _};
            self.0.load(self.0.query().filter(#table::#created.gt(at)).order(#table::#key))
        }
        /// Rows created strictly before `at`, ordered by key.
        #vis fn created_before(&self, at: #ts) -> #result {
            use #d::{ExpressionMethods as _, QueryDsl as _};
            self.0.load(self.0.query().filter(#table::#created.lt(at)).order(#table::#key))
        }
        /// Rows created from `from` to `to`, both included, ordered by key.
        #vis fn created_between(&self, from: #ts, to: #ts) -> #result {
            use #d::{ExpressionMethods as _, QueryDsl as _};
            self.0.load(self.0.query().filter(#table::#created.between(from, to)).order(#table::#key))
        }
        /// The `n` most recently created rows, newest first.
        #vis fn recently_created(&self, n: i64) -> #result {
            use #d::{ExpressionMethods as _, QueryDsl as _};
            self.0.load(self.0.query().order((#table::#created.desc(), #table::#key.desc())).limit(n))
        }
    };
    if let Some(updated) = input.fields.iter().find(|f| f.role == Role::UpdatedAt) {
        let updated = &updated.column;
        out.extend(quote! {
            /// Rows updated strictly after `at`, ordered by key.
            #vis fn updated_after(&self, at: #ts) -> #result {
                use #d::{ExpressionMethods as _, QueryDsl as _};
                self.0.load(self.0.query().filter(#table::#updated.gt(at)).order(#table::#key))
            }
            /// The `n` most recently updated rows, newest first.
            #vis fn recently_updated(&self, n: i64) -> #result {
                use #d::{ExpressionMethods as _, QueryDsl as _};
                self.0.load(self.0.query().order((#table::#updated.desc(), #table::#key.desc())).limit(n))
            }
        });
    }
    out
}
