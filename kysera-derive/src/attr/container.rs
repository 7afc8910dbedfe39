//! Struct-level attributes: `#[kysera(table = "users", schema = crate::schema::users)]`.

use syn::spanned::Spanned;

use super::behaviours::{Behaviours, NAMES};
use super::relation::{self, Relation};
use super::{unknown, Once};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// What the struct's attributes say.
pub struct Container {
    /// Table name in the database (`table = "..."`), with the span of its literal.
    pub table: Option<syn::LitStr>,
    /// Path of an existing Diesel table module (`schema = path`), instead of generating one.
    pub schema: Option<syn::Path>,
    /// `#[timestamps]`, `#[soft_delete]`, `#[audited]`.
    pub behaviours: Behaviours,
    /// `belongs_to(...)`, `has_many(...)`, `has_one(...)`, `many_to_many(...)`, in order.
    pub relations: Vec<Relation>,
}

impl Container {
    /// Parses every `#[kysera(...)]` on the struct, recording errors in `cx`.
    pub fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut table = Once::new(TABLE);
        let mut schema = Once::new(SCHEMA);
        let mut behaviours = Behaviours::default();
        let mut relations = Vec::new();
        behaviours.read_attrs(cx, attrs);
        for attr in attrs.iter().filter(|a| a.path().is_ident(KYSERA)) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(TABLE) {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    if !is_identifier(&lit.value()) {
                        cx.error_spanned_by(
                            &lit,
                            "table name must be a valid identifier (letters, digits, `_`)",
                        );
                    }
                    table.set(cx, meta.path.span(), lit);
                } else if meta.path.is_ident(SCHEMA) {
                    let path: syn::Path = meta.value()?.parse()?;
                    schema.set(cx, meta.path.span(), path);
                } else if let Some(kind) = relation::kind_of(&meta) {
                    relations.push(relation::parse(cx, kind, &meta)?);
                } else if let Some(name) = NAMES.iter().find(|n| meta.path.is_ident(n)) {
                    behaviours.read_kysera_key(cx, name, &meta)?;
                } else {
                    unknown(cx, &meta, "kysera struct attribute", CONTAINER_KEYS)?;
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }
        Container {
            table: table.get().map(|(_, v)| v),
            schema: schema.get().map(|(_, v)| v),
            behaviours,
            relations,
        }
    }
}

/// True for names usable as a Rust identifier and an unquoted SQL name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
