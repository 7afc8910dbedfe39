//! `Validate` impls for the model, its Create struct and its Update struct, from the same
//! field rules.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::ast::{Field, Input};
use crate::attr::validate::RuleKind;
use crate::types::{self, Kind};

/// How a struct holds a field's value.
#[derive(Clone, Copy)]
pub enum Shape {
    /// As declared on the model: `T`, or `Option<T>` for nullable columns.
    Plain,
    /// In the Update struct: `Option<T>`, or `Option<Option<T>>` for nullable columns.
    Patch,
}

/// Name of the shared function returning field `field`'s compiled regex number `index`.
fn regex_fn(field: &Field, index: usize) -> Ident {
    format_ident!("__kysera_regex_{}_{}", field.ident, index)
}

/// One `fn` per `regex = "..."` rule, compiling the pattern once per process.
pub fn regex_statics(input: &Input) -> TokenStream {
    let fns = input.fields.iter().flat_map(|field| {
        field
            .attrs
            .rules
            .iter()
            .enumerate()
            .filter_map(move |(i, rule)| {
                let RuleKind::Regex(pattern) = &rule.kind else {
                    return None;
                };
                let name = regex_fn(field, i);
                Some(quote! {
                    fn #name() -> &'static ::kysera::__private::Regex {
                        static RE: ::kysera::__private::OnceLock<::kysera::__private::Regex> =
                            ::kysera::__private::OnceLock::new();
                        RE.get_or_init(|| ::kysera::__private::rules::compile(#pattern))
                    }
                })
            })
    });
    quote!(#(#fns)*)
}

/// `impl Validate for #ty`, checking `fields` held in `shape`.
pub fn impl_validate<'a>(
    ty: &Ident,
    fields: impl Iterator<Item = &'a Field<'a>>,
    shape: Shape,
) -> TokenStream {
    let checks = fields.filter(|f| !f.attrs.rules.is_empty()).map(|field| {
        let ident = field.ident;
        let calls = rule_calls(field);
        match (shape, field.nullable) {
            (Shape::Plain, false) => quote!({ let __v = &self.#ident; #calls }),
            (Shape::Plain, true) | (Shape::Patch, false) => {
                quote!(if let ::core::option::Option::Some(__v) = &self.#ident { #calls })
            }
            (Shape::Patch, true) => quote! {
                if let ::core::option::Option::Some(::core::option::Option::Some(__v)) = &self.#ident { #calls }
            },
        }
    });
    quote! {
        #[automatically_derived]
        impl ::kysera::__private::Validate for #ty {
            fn validate(&self) -> ::core::result::Result<(), ::kysera::__private::ValidationErrors> {
                #[allow(unused_mut)]
                let mut __errors = ::kysera::__private::ValidationErrors::default();
                #(#checks)*
                __errors.into_result()
            }
        }
    }
}

/// The rule calls for one field, with `__v: &T` in scope.
fn rule_calls(field: &Field) -> TokenStream {
    let name = field.ident.to_string();
    let numeric = types::kind(field.inner_ty) == Kind::Number;
    let calls = field.attrs.rules.iter().enumerate().map(|(i, rule)| {
        let span = rule.span;
        let rules = quote!(::kysera::__private::rules);
        match &rule.kind {
            RuleKind::Email => quote_spanned!(span=> #rules::email(__v, #name, &mut __errors);),
            RuleKind::Url => quote_spanned!(span=> #rules::url(__v, #name, &mut __errors);),
            RuleKind::NonEmpty => {
                quote_spanned!(span=> #rules::non_empty(__v, #name, &mut __errors);)
            }
            RuleKind::Length { min, max } => {
                let min = optional(min.as_ref().map(|m| quote!(#m)));
                let max = optional(max.as_ref().map(|m| quote!(#m)));
                quote_spanned!(span=> #rules::length(__v, #min, #max, #name, &mut __errors);)
            }
            RuleKind::Range { min, max } => {
                // Numeric literals are cast so `min = 0` works on an `f64` field.
                let bound = |e: &syn::Expr| {
                    if numeric {
                        quote!((#e) as _)
                    } else {
                        quote!(#e)
                    }
                };
                let min = optional(min.as_deref().map(bound));
                let max = optional(max.as_deref().map(bound));
                quote_spanned!(span=> #rules::range(__v, #min, #max, #name, &mut __errors);)
            }
            RuleKind::Regex(_) => {
                let re = regex_fn(field, i);
                quote_spanned!(span=> #rules::regex(__v, #re(), #name, &mut __errors);)
            }
            RuleKind::Custom(path) => {
                quote_spanned!(span=> #rules::custom(__v, #path, #name, &mut __errors);)
            }
        }
    });
    quote!(#(#calls)*)
}

fn optional(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
