//! `JsonFields` impls: field values as a JSON object keyed by column (audit rows, plugins).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Field;

/// How a struct holds each field, for the JSON conversions.
#[derive(Clone, Copy)]
pub enum Holding {
    /// The field's own type (the model).
    Own,
    /// The Create struct: managed timestamps are `Option<T>`, other fields their own type.
    Create,
    /// The Update struct: `Option<own type>`, managed `updated_at` `Option<T>`.
    Update,
}

/// `impl JsonFields for #ty`.
pub fn impl_json(
    ty: &syn::Ident,
    column_name: impl Fn(&Field) -> TokenStream,
    fields: &[&Field],
    holding: Holding,
) -> TokenStream {
    let p = quote!(::kysera::__private);
    let to = fields.iter().map(|f| {
        let (ident, name) = (f.ident, column_name(f));
        match (holding, f.is_managed_timestamp()) {
            (Holding::Update, _) => quote! {
                if let ::core::option::Option::Some(__v) = &self.#ident {
                    __map.insert(::std::string::String::from(#name), (&#p::Json(__v)).json());
                }
            },
            _ => quote! {
                __map.insert(::std::string::String::from(#name), (&#p::Json(&self.#ident)).json());
            },
        }
    });
    let from = fields.iter().map(|f| {
        let (ident, name) = (f.ident, column_name(f));
        let read = |ty: &syn::Type| quote!(|__v| (&#p::FromJsonTag::<#ty>::new()).read(__v));
        let value = match (holding, f.is_managed_timestamp()) {
            (Holding::Update, true) | (Holding::Create, true) => {
                let r = read(f.inner_ty);
                quote!(#p::json::field(__values, #name, #r)?)
            }
            (Holding::Update, false) => {
                let r = read(f.ty);
                quote!(#p::json::field(__values, #name, #r)?)
            }
            (_, false) if f.nullable => {
                let r = read(f.ty);
                quote!(#p::json::field(__values, #name, #r)?.flatten())
            }
            _ => {
                let r = read(f.ty);
                quote!(#p::json::required(__values, #name, #r)?)
            }
        };
        quote!(#ident: #value,)
    });
    quote! {
        #[automatically_derived]
        impl #p::JsonFields for #ty {
            fn to_json(&self) -> #p::JsonMap {
                #[allow(unused_imports)]
                use #p::{ViaToJson as _, ViaTypeName as _};
                let mut __map = #p::JsonMap::new();
                #(#to)*
                __map
            }
            fn from_json(__values: &#p::JsonMap) -> ::core::result::Result<Self, #p::Error> {
                #[allow(unused_imports)]
                use #p::{ViaFromJson as _, ViaUnreadable as _};
                ::core::result::Result::Ok(#ty { #(#from)* })
            }
        }
    }
}
