//! `Model` and `Queryable` for the user's struct: the data the runtime works from.

use proc_macro2::TokenStream;
use quote::quote;

use super::json::{impl_json, Holding};
use super::validate::{impl_validate, regex_statics, Shape};
use crate::ast::{Input, Role};
use crate::types;

pub fn expand(input: &Input) -> TokenStream {
    let d = quote!(::kysera::__private::diesel);
    let model = input.ident;
    let table = input.table_path();
    let table_name = input.table_name();
    let key = input.primary_key();
    let key_column = &key.column;
    let key_ident = key.ident;
    let key_ty = key.ty;
    let key_name = super::column_name(input, key);
    let key_generated = key.attrs.generated.is_some();
    let create = input.create_ident();
    let update = input.update_ident();
    let repository = input.repository_ident();

    let columns: Vec<_> = input.fields.iter().map(|f| &f.column).collect();
    let field_idents: Vec<_> = input.fields.iter().map(|f| f.ident).collect();
    let field_types: Vec<_> = input.fields.iter().map(|f| f.ty).collect();
    let indices = (0..input.fields.len()).map(syn::Index::from);
    let column_infos = input.fields.iter().map(|f| {
        let field = f.ident.to_string();
        let column = super::column_name(input, f);
        let (nullable, primary_key, generated) =
            (f.nullable, f.is_primary_key(), f.attrs.generated.is_some());
        // The version is written by kysera alone (1, then +1), never from a value given.
        let (insertable, updatable) = (f.in_create(), f.in_update() && f.role != Role::Version);
        let kind =
            quote::format_ident!("{}", types::sql_kind(f.inner_ty, f.attrs.sql_type.as_ref()));
        quote! {
            ::kysera::__private::ColumnInfo {
                field: #field, column: #column, nullable: #nullable,
                primary_key: #primary_key, generated: #generated,
                insertable: #insertable, updatable: #updatable,
                kind: ::kysera::__private::SqlKind::#kind,
            }
        }
    });
    // The Create struct's fields, plus the version the insert binds as 1.
    let insert_binds = input
        .fields
        .iter()
        .filter(|f| f.in_create() || f.role == Role::Version)
        .count();
    let new_id = if key_generated {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(::core::clone::Clone::clone(&new.#key_ident)))
    };
    let from_insert_id = if key_generated && types::is_insert_id_integer(key_ty) {
        quote!(<#key_ty as ::kysera::__private::FromInsertId>::from_insert_id(insert_id))
    } else {
        quote!({
            let _ = insert_id;
            ::core::option::Option::None
        })
    };
    let validate = impl_validate(model, input.fields.iter(), Shape::Plain);
    let all: Vec<_> = input.fields.iter().collect();
    let json = impl_json(model, |f| super::column_name(input, f), &all, Holding::Own);
    let behaviours = behaviours(input);
    let version = match input.fields.iter().find(|f| f.role == Role::Version) {
        Some(f) => {
            let name = super::column_name(input, f);
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let row_types = input.fields.iter().map(|f| {
        let (column, ty) = (&f.column, f.ty);
        quote!(#d::dsl::Eq<#table::#column, #ty>)
    });
    let row_values = input.fields.iter().map(|f| {
        let (column, fident) = (&f.column, f.ident);
        quote!(#d::ExpressionMethods::eq(#table::#column, self.#fident))
    });
    let regexes = regex_statics(input);

    quote! {
        #regexes

        #[automatically_derived]
        impl ::kysera::HasRepository for #model {
            type Repository<'__c> = #repository<'__c>;
        }

        #[automatically_derived]
        impl ::kysera::__private::Model for #model {
            type Table = #table::table;
            type PrimaryKey = #table::#key_column;
            type Selection = (#(#table::#columns,)*);
            type Id = #key_ty;
            type New = #create;
            type Update = #update;
            const TABLE_NAME: &'static str = #table_name;
            const PRIMARY_KEY: &'static str = <#table::#key_column as #d::Column>::NAME;
            const PRIMARY_KEY_GENERATED: bool = #key_generated;
            const COLUMNS: &'static [::kysera::__private::ColumnInfo] = &[#(#column_infos),*];
            const INSERT_BINDS: usize = #insert_binds;
            const BEHAVIOURS: ::kysera::__private::Behaviours = #behaviours;
            const VERSION: ::core::option::Option<&'static str> = #version;
            #[inline]
            fn id(&self) -> #key_ty {
                ::core::clone::Clone::clone(&self.#key_ident)
            }
            fn key_text(id: &#key_ty) -> ::std::string::String {
                #[allow(unused_imports)]
                use ::kysera::__private::{ViaDebugKey as _, ViaJsonKey as _};
                (&::kysera::__private::KeyText(id)).text()
            }
            fn key_from_json(
                values: &::kysera::__private::JsonMap,
            ) -> ::core::result::Result<#key_ty, ::kysera::__private::Error> {
                #[allow(unused_imports)]
                use ::kysera::__private::{ViaFromJson as _, ViaUnreadable as _};
                ::kysera::__private::json::required(values, #key_name, |__v| {
                    (&::kysera::__private::FromJsonTag::<#key_ty>::new()).read(__v)
                })
            }
            #[inline]
            fn new_id(new: &#create) -> ::core::option::Option<#key_ty> {
                #new_id
            }
            #[inline]
            fn id_from_insert_id(insert_id: u64) -> ::core::option::Option<#key_ty> {
                #from_insert_id
            }
        }

        #[automatically_derived]
        impl<__DB, __ST> #d::deserialize::Queryable<__ST, __DB> for #model
        where
            __DB: #d::backend::Backend,
            (#(#field_types,)*): #d::deserialize::FromStaticSqlRow<__ST, __DB>,
        {
            type Row = (#(#field_types,)*);
            #[inline]
            fn build(row: Self::Row) -> #d::deserialize::Result<Self> {
                ::core::result::Result::Ok(#model { #(#field_idents: row.#indices,)* })
            }
        }

        // The whole row, generated columns included: restoring a hard-deleted row.
        #[automatically_derived]
        impl #d::Insertable<#table::table> for #model {
            type Values = <(#(#row_types,)*) as #d::Insertable<#table::table>>::Values;
            fn values(self) -> Self::Values {
                #d::Insertable::values((#(#row_values,)*))
            }
        }

        #validate
        #json
    }
}

/// `Behaviours { ... }` from the behaviour attributes, with column names as written.
fn behaviours(input: &Input) -> TokenStream {
    let p = quote!(::kysera::__private);
    let b = &input.attrs.behaviours;
    let name_of = |role: Role| {
        input
            .fields
            .iter()
            .find(|f| f.role == role)
            .map(|f| super::column_name(input, f))
    };
    let timestamps = match (&b.timestamps, name_of(Role::CreatedAt)) {
        (Some(t), Some(created_at)) => {
            let updated_at = match name_of(Role::UpdatedAt) {
                Some(name) => quote!(::core::option::Option::Some(#name)),
                None => quote!(::core::option::Option::None),
            };
            let on_insert = t.updated_on_insert;
            quote!(::core::option::Option::Some(#p::Timestamps { created_at: #created_at, updated_at: #updated_at, updated_on_insert: #on_insert }))
        }
        _ => quote!(::core::option::Option::None),
    };
    let soft_delete = match name_of(Role::DeletedAt) {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let audit = match &b.audited {
        Some(a) => {
            let exclude = a.exclude.iter().map(|c| c.to_string());
            let redact = a.redact.iter().map(|c| c.to_string());
            let values = a.values;
            quote!(::core::option::Option::Some(#p::Audit { capture_values: #values, exclude: &[#(#exclude),*], redact: &[#(#redact),*] }))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(#p::Behaviours { timestamps: #timestamps, soft_delete: #soft_delete, audit: #audit })
}
