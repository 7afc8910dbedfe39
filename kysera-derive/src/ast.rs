//! The struct as the derive sees it: fields with their parsed attributes and derived names.

use proc_macro2::Ident;
use quote::format_ident;
use syn::{Data, DeriveInput, Fields, Type, Visibility};

use crate::attr::container::Container;
use crate::attr::field::FieldAttrs;
use crate::ctxt::Ctxt;
use crate::types;

/// A `#[derive(Repository)]` struct.
pub struct Input<'a> {
    /// The struct's name (`User`).
    pub ident: &'a Ident,
    /// The struct's visibility, given to every generated public item.
    pub vis: &'a Visibility,
    /// Struct-level attributes.
    pub attrs: Container,
    /// Named fields, in declaration order.
    pub fields: Vec<Field<'a>>,
}

/// One named field.
pub struct Field<'a> {
    /// The field's name.
    pub ident: &'a Ident,
    /// The field's visibility.
    pub vis: &'a Visibility,
    /// The field's type as written.
    pub ty: &'a Type,
    /// `T` for `Option<T>`, else the type itself.
    pub inner_ty: &'a Type,
    /// True for `Option<T>` fields (nullable columns).
    pub nullable: bool,
    /// Field-level attributes.
    pub attrs: FieldAttrs,
    /// The column's identifier in the table module.
    pub column: Ident,
    /// The field's doc comments, repeated on the Create and Update structs.
    pub docs: Vec<&'a syn::Attribute>,
    /// What a behaviour makes of this field.
    pub role: Role,
}

/// The part a field plays in a behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An ordinary column.
    Plain,
    /// `#[timestamps]`' created-at column: optional on create (default now), never updated.
    CreatedAt,
    /// `#[timestamps]`' updated-at column: optional on create and update (default now).
    UpdatedAt,
    /// `#[soft_delete]`'s column: written only by soft delete and restore.
    DeletedAt,
    /// `#[kysera(version)]`: 1 on insert; an update names the version it read and adds 1.
    Version,
}

impl Field<'_> {
    /// True for the primary key.
    pub fn is_primary_key(&self) -> bool {
        self.attrs.primary_key.is_some()
    }

    /// True when a caller supplies this field on create.
    pub fn in_create(&self) -> bool {
        match self.role {
            Role::CreatedAt | Role::UpdatedAt => true,
            Role::DeletedAt | Role::Version => false,
            Role::Plain => self.attrs.generated.is_none(),
        }
    }

    /// True for timestamps `#[timestamps]` fills in (optional in the Create struct).
    pub fn is_managed_timestamp(&self) -> bool {
        matches!(self.role, Role::CreatedAt | Role::UpdatedAt)
    }

    /// True when a patch may change this field.
    pub fn in_update(&self) -> bool {
        match self.role {
            Role::UpdatedAt | Role::Version => true,
            Role::CreatedAt | Role::DeletedAt => false,
            Role::Plain => {
                !self.is_primary_key()
                    && self.attrs.generated.is_none()
                    && self.attrs.skip_update.is_none()
            }
        }
    }
}

impl<'a> Input<'a> {
    /// Reads a derive input, recording unsupported shapes in `cx`; `None` when it is not a
    /// struct with named fields.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = Container::from_ast(cx, &input.attrs);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(fields, "`#[derive(Repository)]` needs named fields; tuple structs are not supported\nhelp: name each field: `struct User { id: i64, ... }`");
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(&input.ident, "`#[derive(Repository)]` needs a struct with named fields, one per column\nhelp: declare the columns: `struct User { id: i64, ... }`");
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(data.enum_token, "`#[derive(Repository)]` works on structs, not enums\nhelp: a repository maps one struct to one table");
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(data.union_token, "`#[derive(Repository)]` works on structs, not unions\nhelp: a repository maps one struct to one table");
                return None;
            }
        };
        // Checked after the fields' attributes are parsed (their errors still count), but no
        // further: a type parameter has no SQL type, which would only repeat this error.
        let generic = input.generics.params.first();
        if let Some(param) = generic {
            cx.error_spanned_by(param, "`#[derive(Repository)]` does not support generic structs or lifetimes\nhelp: give every field a concrete, owned type: each column has one SQL type");
        }
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = FieldAttrs::from_ast(cx, &field.attrs);
                let column = match &attrs.column {
                    Some(lit) => Ident::new(&lit.value(), lit.span()),
                    None => ident.clone(),
                };
                let (inner_ty, nullable) = match types::option_inner(&field.ty) {
                    Some(inner) => (inner, true),
                    None => (&field.ty, false),
                };
                let docs = field
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("doc"))
                    .collect();
                Some(Field {
                    ident,
                    vis: &field.vis,
                    ty: &field.ty,
                    inner_ty,
                    nullable,
                    attrs,
                    column,
                    docs,
                    role: Role::Plain,
                })
            })
            .collect::<Vec<_>>();
        let mut fields = fields;
        let behaviours = &attrs.behaviours;
        for field in &mut fields {
            if field.attrs.version.is_some() {
                field.role = Role::Version;
            }
            let column = field.column.to_string();
            if let Some(t) = &behaviours.timestamps {
                if column == t.created_at {
                    field.role = Role::CreatedAt;
                } else if column == t.updated_at {
                    field.role = Role::UpdatedAt;
                }
            }
            if behaviours
                .soft_delete
                .as_ref()
                .is_some_and(|s| s.column == column)
            {
                field.role = Role::DeletedAt;
            }
        }
        if generic.is_some() {
            return None;
        }
        Some(Input {
            ident: &input.ident,
            vis: &input.vis,
            attrs,
            fields,
        })
    }

    /// The table name: `table = "..."`, else the last segment of `schema`, else the struct
    /// name in snake case plus `s` (`BlogPost` → `blog_posts`).
    pub fn table_name(&self) -> String {
        if let Some(lit) = &self.attrs.table {
            return lit.value();
        }
        if let Some(last) = self.attrs.schema.as_ref().and_then(|p| p.segments.last()) {
            return last.ident.to_string();
        }
        format!("{}s", snake_case(&self.ident.to_string()))
    }

    /// The path of the table module: the `schema` path, or the generated module's name.
    pub fn table_path(&self) -> syn::Path {
        match &self.attrs.schema {
            Some(path) => path.clone(),
            None => {
                let span = self
                    .attrs
                    .table
                    .as_ref()
                    .map(|l| l.span())
                    .unwrap_or_else(|| self.ident.span());
                Ident::new(&self.table_name(), span).into()
            }
        }
    }

    /// The primary-key field (validation guarantees exactly one before expansion).
    pub fn primary_key(&self) -> &Field<'a> {
        self.fields
            .iter()
            .find(|f| f.is_primary_key())
            .expect("checked by valid::check")
    }

    /// `NewUser`.
    pub fn create_ident(&self) -> Ident {
        format_ident!("New{}", self.ident)
    }

    /// `UserUpdate`.
    pub fn update_ident(&self) -> Ident {
        format_ident!("{}Update", self.ident)
    }

    /// `UserRepository`.
    pub fn repository_ident(&self) -> Ident {
        format_ident!("{}Repository", self.ident)
    }
}

pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_names() {
        assert_eq!(super::snake_case("User"), "user");
        assert_eq!(super::snake_case("BlogPost"), "blog_post");
    }
}
