//! The behaviour attributes: `#[timestamps(...)]`, `#[soft_delete(...)]`, `#[audited(...)]`,
//! written bare on the struct or inside `#[kysera(...)]`; both spellings go through here.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use super::unknown;
use crate::ctxt::Ctxt;

/// `#[timestamps(created_at = "...", updated_at = "...", updated_on_insert = bool)]`.
pub struct TimestampsAttr {
    /// Span of the attribute name.
    pub span: Span,
    /// Column set on insert.
    pub created_at: String,
    /// Column set on every write.
    pub updated_at: String,
    /// True when `updated_at = "..."` was written, so the column must exist.
    pub updated_at_named: bool,
    /// Whether inserts also set `updated_at`.
    pub updated_on_insert: bool,
}

/// `#[soft_delete(column = "...")]`.
pub struct SoftDeleteAttr {
    /// Span of the attribute name.
    pub span: Span,
    /// The deleted-at column.
    pub column: String,
}

/// `#[audited(exclude(a, b), redact(c), values = bool)]`.
pub struct AuditedAttr {
    /// Columns left out of recorded values.
    pub exclude: Vec<syn::Ident>,
    /// Columns recorded as `[REDACTED]`.
    pub redact: Vec<syn::Ident>,
    /// Whether old and new values are recorded.
    pub values: bool,
}

/// The behaviours a struct asks for.
#[derive(Default)]
pub struct Behaviours {
    /// `#[timestamps]`.
    pub timestamps: Option<TimestampsAttr>,
    /// `#[soft_delete]`.
    pub soft_delete: Option<SoftDeleteAttr>,
    /// `#[audited]`.
    pub audited: Option<AuditedAttr>,
}

/// Behaviour names, as attributes and as keys inside `#[kysera(...)]`.
pub const NAMES: &[&str] = &["timestamps", "soft_delete", "audited"];

impl Behaviours {
    /// Reads the bare attributes `#[timestamps]`, `#[soft_delete]`, `#[audited]`.
    pub fn read_attrs(&mut self, cx: &Ctxt, attrs: &[syn::Attribute]) {
        for attr in attrs {
            let Some(name) = NAMES.iter().find(|n| attr.path().is_ident(n)) else {
                continue;
            };
            let span = attr.path().span();
            let result = match &attr.meta {
                syn::Meta::Path(_) => {
                    self.set(cx, name, span);
                    Ok(())
                }
                // A second `#[name(...)]` is reported once; its options are not merged in.
                syn::Meta::List(_) if self.set(cx, name, span) => {
                    attr.parse_nested_meta(|meta| self.option(cx, name, &meta))
                }
                syn::Meta::List(_) => Ok(()),
                syn::Meta::NameValue(nv) => {
                    cx.error_spanned_by(nv, format!("write `#[{name}]` or `#[{name}(...)]`"));
                    Ok(())
                }
            };
            if let Err(err) = result {
                cx.syn_error(err);
            }
        }
    }

    /// Reads `soft_delete` / `soft_delete(...)` found as a key inside `#[kysera(...)]`.
    pub fn read_kysera_key(
        &mut self,
        cx: &Ctxt,
        name: &'static str,
        meta: &ParseNestedMeta,
    ) -> syn::Result<()> {
        let fresh = self.set(cx, name, meta.path.span());
        if !meta.input.peek(syn::token::Paren) {
            Ok(())
        } else if fresh {
            meta.parse_nested_meta(|option| self.option(cx, name, &option))
        } else {
            // Consume the options unread, so parsing goes on after the duplicate.
            let content;
            syn::parenthesized!(content in meta.input);
            content.parse::<proc_macro2::TokenStream>().map(drop)
        }
    }

    /// Turns behaviour `name` on with its defaults; `false` (and an error at `span`) when it
    /// is already on, whichever spelling turned it on.
    fn set(&mut self, cx: &Ctxt, name: &str, span: Span) -> bool {
        let duplicate = match name {
            "timestamps" => self.timestamps.is_some(),
            "soft_delete" => self.soft_delete.is_some(),
            _ => self.audited.is_some(),
        };
        if duplicate {
            cx.syn_error(syn::Error::new(
                span,
                format!(
                    "duplicate `{name}` behaviour\nhelp: give it once, with all its options; `#[{name}(...)]` and `#[kysera({name}(...))]` are the same attribute"
                ),
            ));
            return false;
        }
        match name {
            "timestamps" => {
                self.timestamps = Some(TimestampsAttr {
                    span,
                    created_at: "created_at".into(),
                    updated_at: "updated_at".into(),
                    updated_at_named: false,
                    updated_on_insert: true,
                })
            }
            "soft_delete" => {
                self.soft_delete = Some(SoftDeleteAttr {
                    span,
                    column: "deleted_at".into(),
                })
            }
            _ => {
                self.audited = Some(AuditedAttr {
                    exclude: Vec::new(),
                    redact: Vec::new(),
                    values: true,
                })
            }
        }
        true
    }

    /// One option inside `name(...)`, for a behaviour [`Behaviours::set`] has just turned on.
    fn option(&mut self, cx: &Ctxt, name: &str, meta: &ParseNestedMeta) -> syn::Result<()> {
        match name {
            "timestamps" => {
                let t = self.timestamps.as_mut().expect("set above");
                if meta.path.is_ident("created_at") {
                    t.created_at = column_name(cx, meta)?;
                } else if meta.path.is_ident("updated_at") {
                    t.updated_at = column_name(cx, meta)?;
                    t.updated_at_named = true;
                } else if meta.path.is_ident("updated_on_insert") {
                    t.updated_on_insert = meta.value()?.parse::<syn::LitBool>()?.value;
                } else {
                    unknown(
                        cx,
                        meta,
                        "timestamps option",
                        &["created_at", "updated_at", "updated_on_insert"],
                    )?;
                }
            }
            "soft_delete" => {
                let s = self.soft_delete.as_mut().expect("set above");
                if meta.path.is_ident("column") {
                    s.column = column_name(cx, meta)?;
                } else {
                    unknown(cx, meta, "soft_delete option", &["column"])?;
                }
            }
            _ => {
                let a = self.audited.as_mut().expect("set above");
                if meta.path.is_ident("exclude") {
                    a.exclude.extend(idents(meta)?);
                } else if meta.path.is_ident("redact") {
                    a.redact.extend(idents(meta)?);
                } else if meta.path.is_ident("values") {
                    a.values = meta.value()?.parse::<syn::LitBool>()?.value;
                } else {
                    unknown(cx, meta, "audited option", &["exclude", "redact", "values"])?;
                }
            }
        }
        Ok(())
    }
}

fn column_name(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<String> {
    let lit: syn::LitStr = meta.value()?.parse()?;
    if !super::container::is_identifier(&lit.value()) {
        cx.error_spanned_by(
            &lit,
            "column name must be a valid identifier (letters, digits, `_`)",
        );
    }
    Ok(lit.value())
}

fn idents(meta: &ParseNestedMeta) -> syn::Result<Vec<syn::Ident>> {
    let mut out = Vec::new();
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(ident) => out.push(ident.clone()),
            None => return Err(inner.error("expected a column name")),
        }
        Ok(())
    })?;
    Ok(out)
}
