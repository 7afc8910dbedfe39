//! `validate(email, url, length(min = 1, max = 100), range(min = 0, max = 10),
//! regex = "...", non_empty, custom = path::to_fn)`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use super::{skip_value, unknown};
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// One validation rule on a field.
pub struct Rule {
    /// Span of the rule's name, for errors about the rule.
    pub span: Span,
    /// The rule and its arguments.
    pub kind: RuleKind,
}

/// The rules `validate(...)` accepts.
pub enum RuleKind {
    /// A valid email address.
    Email,
    /// An absolute URL.
    Url,
    /// Length bounds (characters for text, elements for lists).
    Length { min: Option<syn::LitInt>, max: Option<syn::LitInt> },
    /// Numeric bounds, inclusive; any expression of the field's type.
    Range { min: Option<syn::Expr>, max: Option<syn::Expr> },
    /// A regular expression the value must match (checked at compile time).
    Regex(syn::LitStr),
    /// Not empty (whitespace-only text counts as empty).
    NonEmpty,
    /// A user function `fn(&T) -> Result<(), String>`.
    Custom(syn::Path),
}

impl RuleKind {
    /// The rule's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Email => EMAIL,
            RuleKind::Url => URL,
            RuleKind::Length { .. } => LENGTH,
            RuleKind::Range { .. } => RANGE,
            RuleKind::Regex(_) => REGEX,
            RuleKind::NonEmpty => NON_EMPTY,
            RuleKind::Custom(_) => CUSTOM,
        }
    }
}

/// Parses the inside of `validate(...)` into `rules`.
pub fn parse_rules(cx: &Ctxt, meta: &ParseNestedMeta, rules: &mut Vec<Rule>) -> syn::Result<()> {
    meta.parse_nested_meta(|rule| {
        let span = rule.path.span();
        let kind = if rule.path.is_ident(EMAIL) {
            RuleKind::Email
        } else if rule.path.is_ident(URL) {
            RuleKind::Url
        } else if rule.path.is_ident(NON_EMPTY) {
            RuleKind::NonEmpty
        } else if rule.path.is_ident(REGEX) {
            let lit: syn::LitStr = rule.value()?.parse()?;
            if let Err(err) = regex_syntax::Parser::new().parse(&lit.value()) {
                cx.error_spanned_by(&lit, format!("invalid regular expression: {err}"));
            }
            RuleKind::Regex(lit)
        } else if rule.path.is_ident(CUSTOM) {
            RuleKind::Custom(rule.value()?.parse()?)
        } else if rule.path.is_ident(LENGTH) {
            let (min, max) = parse_bounds(cx, &rule, |input| input.parse::<syn::LitInt>())?;
            if let (Some(a), Some(b)) = (&min, &max) {
                if a.base10_parse::<u64>().ok() > b.base10_parse::<u64>().ok() {
                    cx.error_spanned_by(b, "length `max` is smaller than `min`");
                }
            }
            RuleKind::Length { min, max }
        } else if rule.path.is_ident(RANGE) {
            let (min, max) = parse_bounds(cx, &rule, |input| input.parse::<syn::Expr>())?;
            RuleKind::Range { min, max }
        } else {
            return unknown(cx, &rule, "validation rule", RULES);
        };
        rules.push(Rule { span, kind });
        Ok(())
    })
}

/// Parses `(min = a, max = b)`; at least one bound is required.
fn parse_bounds<T>(
    cx: &Ctxt,
    rule: &ParseNestedMeta,
    parse: impl Fn(syn::parse::ParseStream) -> syn::Result<T>,
) -> syn::Result<(Option<T>, Option<T>)> {
    let name = rule.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
    if !rule.input.peek(syn::token::Paren) {
        cx.error_spanned_by(&rule.path, format!("`{name}` needs bounds\nhelp: write `{name}(min = 1, max = 100)`"));
        return Ok((None, None));
    }
    let mut min = None;
    let mut max = None;
    rule.parse_nested_meta(|bound| {
        if bound.path.is_ident("min") {
            min = Some(parse(bound.value()?)?);
        } else if bound.path.is_ident("max") {
            max = Some(parse(bound.value()?)?);
        } else {
            cx.error_spanned_by(&bound.path, format!("unknown bound in `{name}`\nhelp: expected `min` or `max`"));
            skip_value(&bound)?;
        }
        Ok(())
    })?;
    if min.is_none() && max.is_none() {
        cx.error_spanned_by(&rule.path, format!("`{name}` needs `min`, `max` or both"));
    }
    Ok((min, max))
}
