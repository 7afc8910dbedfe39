//! Field-level attributes: `#[kysera(primary_key, generated, column = "...", sql_type = T,
//! skip_update, validate(...))]`.

use proc_macro2::Span;
use syn::spanned::Spanned;

use super::validate::{parse_rules, Rule};
use super::{unknown, Once};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// What a field's attributes say.
pub struct FieldAttrs {
    /// Span of `primary_key`, when present.
    pub primary_key: Option<Span>,
    /// Span of `generated`, when present: the database fills this column in.
    pub generated: Option<Span>,
    /// The column's name (`column = "..."`), when it differs from the field's.
    pub column: Option<syn::LitStr>,
    /// The Diesel SQL type (`sql_type = path`), overriding the mapping from the Rust type.
    pub sql_type: Option<syn::Type>,
    /// Span of `skip_update`, when present: the field is left out of the Update struct.
    pub skip_update: Option<Span>,
    /// Span of `version`, when present: the optimistic-locking counter.
    pub version: Option<Span>,
    /// Validation rules, in the order written.
    pub rules: Vec<Rule>,
    /// True when an unknown key looked like `primary_key` (already reported), so a missing
    /// primary key is not reported a second time.
    pub misspelt_primary_key: bool,
}

impl FieldAttrs {
    /// Parses every `#[kysera(...)]` on a field, recording errors in `cx`.
    pub fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut primary_key = Once::new(PRIMARY_KEY);
        let mut generated = Once::new(GENERATED);
        let mut column = Once::new(COLUMN);
        let mut sql_type = Once::new(SQL_TYPE);
        let mut skip_update = Once::new(SKIP_UPDATE);
        let mut version = Once::new(VERSION);
        let mut rules = Vec::new();
        let mut misspelt_primary_key = false;
        for attr in attrs.iter().filter(|a| a.path().is_ident(KYSERA)) {
            let result = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                if meta.path.is_ident(PRIMARY_KEY) {
                    primary_key.set(cx, span, ());
                } else if meta.path.is_ident(GENERATED) {
                    generated.set(cx, span, ());
                } else if meta.path.is_ident(SKIP_UPDATE) {
                    skip_update.set(cx, span, ());
                } else if meta.path.is_ident(VERSION) {
                    version.set(cx, span, ());
                } else if meta.path.is_ident(COLUMN) {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    if !super::container::is_identifier(&lit.value()) {
                        cx.error_spanned_by(
                            &lit,
                            "column name must be a valid identifier (letters, digits, `_`)",
                        );
                    }
                    column.set(cx, span, lit);
                } else if meta.path.is_ident(SQL_TYPE) {
                    let ty: syn::Type = meta.value()?.parse()?;
                    sql_type.set(cx, span, ty);
                } else if meta.path.is_ident(VALIDATE) {
                    parse_rules(cx, &meta, &mut rules)?;
                } else {
                    let suggestion = unknown(cx, &meta, "kysera field attribute", FIELD_KEYS)?;
                    misspelt_primary_key |= suggestion == Some(PRIMARY_KEY);
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }
        FieldAttrs {
            primary_key: primary_key.get().map(|(s, _)| s),
            generated: generated.get().map(|(s, _)| s),
            column: column.get().map(|(_, v)| v),
            sql_type: sql_type.get().map(|(_, v)| v),
            skip_update: skip_update.get().map(|(s, _)| s),
            version: version.get().map(|(s, _)| s),
            rules,
            misspelt_primary_key,
        }
    }
}
