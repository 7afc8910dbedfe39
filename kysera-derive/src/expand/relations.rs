//! Relations: `impl BelongsTo<Parent>` for each `belongs_to`, a `load_<name>` loader on the
//! repository for every relation, and Diesel's join glue for the tables this derive declares.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Input;
use crate::attr::relation::{Kind, Relation};

/// The loaders (inherent methods of the repository) and the trait impls.
pub fn expand(input: &Input) -> (TokenStream, TokenStream) {
    let relations = &input.attrs.relations;
    let loaders = relations.iter().map(|r| loader(input, r)).collect();
    let impls = relations
        .iter()
        .filter(|r| r.kind == Kind::BelongsTo)
        .map(|r| belongs_to(input, r))
        .collect();
    (loaders, impls)
}

fn loader(input: &Input, relation: &Relation) -> TokenStream {
    let (vis, model) = (input.vis, input.ident);
    let target = &relation.target;
    let name = format_ident!("load_{}", relation.loader_name(), span = relation.span);
    let target_name = quote!(#target).to_string().replace(' ', "");
    let result = |item: TokenStream| quote!(::kysera::Result<::std::vec::Vec<#item>>);
    let (doc, ret, body) = match relation.kind {
        Kind::BelongsTo => (
            format!("The `{target_name}` each row refers to (`None` for a NULL foreign key or a parent out of scope), in one statement."),
            result(quote!(::core::option::Option<#target>)),
            quote!(self.0.related::<#target>().parents_of(rows)),
        ),
        Kind::HasMany => (
            format!("The `{target_name}` rows of each row, ordered by key, in one statement."),
            result(quote!(::std::vec::Vec<#target>)),
            quote!(self.0.related::<#target>().children_of::<#model>(rows)),
        ),
        Kind::HasOne => (
            format!("The `{target_name}` of each row (the first by key, or `None`), in one statement."),
            result(quote!(::core::option::Option<#target>)),
            quote!(self.0.related::<#target>().child_of::<#model>(rows)),
        ),
        Kind::ManyToMany => {
            let through = relation.through.as_ref().expect("checked when parsed");
            (
                format!("The `{target_name}` rows linked to each row through `{}`, ordered by key, in two statements.", quote!(#through).to_string().replace(' ', "")),
                result(quote!(::std::vec::Vec<#target>)),
                quote!(self.0.related::<#target>().through::<#through, #model>(rows)),
            )
        }
    };
    quote! {
        #[doc = #doc]
        #vis fn #name<'r>(&self, rows: impl ::core::iter::IntoIterator<Item = &'r #model>) -> #ret {
            #body
        }
    }
}

fn belongs_to(input: &Input, relation: &Relation) -> TokenStream {
    let (model, table) = (input.ident, input.table_path());
    let parent = &relation.target;
    let d = quote!(::kysera::__private::diesel);
    let fk_name = relation.foreign_key_column();
    let Some(field) = input.fields.iter().find(|f| f.column == fk_name) else {
        return TokenStream::new(); // reported by valid::check
    };
    let (fk, ident) = (&field.column, field.ident);
    let parent_id = quote!(<#parent as ::kysera::Model>::Id);
    let read = if field.nullable {
        quote!(::core::clone::Clone::clone(&self.#ident))
    } else {
        quote!(::core::option::Option::Some(::core::clone::Clone::clone(&self.#ident)))
    };
    let self_referencing = parent.segments.last().is_some_and(|s| s.ident == *model);
    let glue = if input.attrs.schema.is_none() && !self_referencing {
        join_glue(&table, fk, parent)
    } else {
        // A table module the user wrote comes with its own `joinable!` and
        // `allow_tables_to_appear_in_same_query!`; a second set would conflict. Diesel cannot
        // join a table to itself without aliases, so a tree (`parent_id`) gets none either.
        TokenStream::new()
    };
    quote! {
        #[automatically_derived]
        impl ::kysera::BelongsTo<#parent> for #model {
            const FOREIGN_KEY: &'static str = <#table::#fk as #d::Column>::NAME;

            #[inline]
            fn parent_id(&self) -> ::core::option::Option<#parent_id> {
                #read
            }

            fn referencing(ids: ::std::vec::Vec<#parent_id>) -> ::kysera::Result<::kysera::filter::Predicate> {
                use #d::ExpressionMethods as _;
                <_ as ::kysera::IntoPredicate<#model>>::into_predicate(#table::#fk.eq_any(ids))
            }
        }
        #glue
    }
}

/// What `joinable!(child -> parent (fk))` and `allow_tables_to_appear_in_same_query!(child,
/// parent)` expand to: `posts::table.inner_join(users::table)` then works in both directions.
/// The parent's table is named through the re-export its own derive put next to it (a
/// projection `<User as Model>::Table` would leak a private `User` into a public impl).
fn join_glue(table: &syn::Path, fk: &syn::Ident, parent: &syn::Path) -> TokenStream {
    let d = quote!(::kysera::__private::diesel);
    let mut alias = parent.clone();
    if let Some(last) = alias.segments.last_mut() {
        last.ident = super::table::alias_ident(&last.ident);
        last.arguments = syn::PathArguments::None;
    }
    let parent_table = quote!(#alias::table);
    let on = quote! {
        #d::dsl::Eq<
            #d::internal::table_macro::NullableExpression<#table::#fk>,
            #d::internal::table_macro::NullableExpression<<#parent_table as #d::Table>::PrimaryKey>,
        >
    };
    let on_expr = quote! {
        #table::#fk.nullable().eq(#d::Table::primary_key(&<#parent_table as ::core::default::Default>::default()).nullable())
    };
    quote! {
        #[automatically_derived]
        impl #d::JoinTo<#parent_table> for #table::table {
            type FromClause = #parent_table;
            type OnClause = #on;
            fn join_target(rhs: #parent_table) -> (Self::FromClause, Self::OnClause) {
                use #d::{ExpressionMethods as _, NullableExpressionMethods as _};
                (rhs, #on_expr)
            }
        }
        #[automatically_derived]
        impl #d::JoinTo<#table::table> for #parent_table {
            type FromClause = #table::table;
            type OnClause = #on;
            fn join_target(rhs: #table::table) -> (Self::FromClause, Self::OnClause) {
                use #d::{ExpressionMethods as _, NullableExpressionMethods as _};
                (rhs, #on_expr)
            }
        }
        #[automatically_derived]
        impl #d::query_source::TableNotEqual<#parent_table> for #table::table {}
        #[automatically_derived]
        impl #d::query_source::TableNotEqual<#table::table> for #parent_table {}
    }
}
