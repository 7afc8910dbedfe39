//! Parsing of `#[kysera(...)]` attributes.

pub mod behaviours;
pub mod container;
pub mod field;
pub mod relation;
pub mod validate;

use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;
use crate::symbol;

/// Consumes whatever follows an attribute key we could not use (`= value` or `(...)`), so
/// parsing continues with the next key.
pub fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

/// Records "unknown kysera attribute" with a "did you mean" hint and the valid keys, skips
/// its value, and returns the suggested key, if any.
pub fn unknown(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    what: &str,
    valid: &[&'static str],
) -> syn::Result<Option<&'static str>> {
    let name = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| "?".into());
    let suggestion = symbol::closest(&name, valid);
    let help = match suggestion {
        Some(key) => format!(
            "help: did you mean `{key}`?\nnote: expected one of {}",
            symbol::one_of(valid)
        ),
        None => format!("help: expected one of {}", symbol::one_of(valid)),
    };
    cx.error_spanned_by(&meta.path, format!("unknown {what} `{name}`\n{help}"));
    skip_value(meta)?;
    Ok(suggestion)
}

/// A value set at most once, remembering the token that set it for error spans.
pub struct Once<T> {
    name: &'static str,
    value: Option<(proc_macro2::Span, T)>,
}

impl<T> Once<T> {
    /// An unset attribute named `name`.
    pub fn new(name: &'static str) -> Self {
        Once { name, value: None }
    }

    /// Sets the value, or records a duplicate error at `span`.
    pub fn set(&mut self, cx: &Ctxt, span: proc_macro2::Span, value: T) {
        if self.value.is_some() {
            cx.syn_error(syn::Error::new(
                span,
                format!(
                    "duplicate kysera attribute `{0}`\nhelp: remove the second `{0}`",
                    self.name
                ),
            ));
        } else {
            self.value = Some((span, value));
        }
    }

    /// The value and the span of the token that set it.
    pub fn get(self) -> Option<(proc_macro2::Span, T)> {
        self.value
    }
}
