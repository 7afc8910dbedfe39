//! `Model` and `Queryable` for the user's struct: the data the runtime works from.

use proc_macro2::TokenStream;
use quote::quote;

use super::validate::{impl_validate, regex_statics, Shape};
use crate::ast::Input;
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
        quote! {
            ::kysera::__private::ColumnInfo {
                field: #field, column: #column, nullable: #nullable,
                primary_key: #primary_key, generated: #generated,
            }
        }
    });
    let insert_binds = input.fields.iter().filter(|f| f.in_create()).count();
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
    let regexes = regex_statics(input);

    quote! {
        #regexes

        #[automatically_derived]
        impl ::kysera::__private::Model for #model {
            type Table = #table::table;
            type PrimaryKey = #table::#key_column;
            type Selection = (#(#table::#columns,)*);
            type Id = #key_ty;
            type New = #create;
            type Update = #update;
            type Repository<'__c> = #repository<'__c>;
            const TABLE_NAME: &'static str = #table_name;
            const PRIMARY_KEY: &'static str = <#table::#key_column as #d::Column>::NAME;
            const PRIMARY_KEY_GENERATED: bool = #key_generated;
            const COLUMNS: &'static [::kysera::__private::ColumnInfo] = &[#(#column_infos),*];
            const INSERT_BINDS: usize = #insert_binds;
            #[inline]
            fn id(&self) -> #key_ty {
                ::core::clone::Clone::clone(&self.#key_ident)
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

        #validate
    }
}
