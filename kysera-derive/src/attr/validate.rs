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
    Length {
        min: Option<syn::LitInt>,
        max: Option<syn::LitInt>,
    },
    /// Numeric bounds, inclusive; any expression of the field's type.
    Range {
        min: Option<Box<syn::Expr>>,
        max: Option<Box<syn::Expr>>,
    },
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
                cx.error_spanned_by(&lit, regex_message(&lit.value(), &err));
            }
            RuleKind::Regex(lit)
        } else if rule.path.is_ident(CUSTOM) {
            RuleKind::Custom(rule.value()?.parse()?)
        } else if rule.path.is_ident(LENGTH) {
            let (min, max) = parse_bounds(cx, &rule, |input| input.parse::<syn::LitInt>())?;
            if let (Some(a), Some(b)) = (&min, &max) {
                if a.base10_parse::<u64>().ok() > b.base10_parse::<u64>().ok() {
                    cx.error_spanned_by(
                        b,
                        format!("length `max = {b}` is smaller than `min = {a}`\nhelp: no value could pass; `max` must be at least `min`"),
                    );
                }
            }
            RuleKind::Length { min, max }
        } else if rule.path.is_ident(RANGE) {
            let (min, max) = parse_bounds(cx, &rule, |input| input.parse::<syn::Expr>().map(Box::new))?;
            RuleKind::Range { min, max }
        } else {
            return unknown(cx, &rule, "validation rule", RULES).map(drop);
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
    let name = rule
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_default();
    let needs_bounds = format!("`{name}` needs a `min` or `max` bound\nhelp: write `{name}(min = 1, max = 100)`, or only one of the two");
    if !rule.input.peek(syn::token::Paren) {
        cx.error_spanned_by(&rule.path, needs_bounds);
        return Ok((None, None));
    }
    // syn rejects empty parentheses with a generic message; report `length()` like `length`.
    let ahead = rule.input.fork();
    let content;
    syn::parenthesized!(content in ahead);
    if content.is_empty() {
        let _content;
        syn::parenthesized!(_content in rule.input);
        cx.error_spanned_by(&rule.path, needs_bounds);
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
            cx.error_spanned_by(
                &bound.path,
                format!("unknown bound in `{name}`\nhelp: expected `min` or `max`"),
            );
            skip_value(&bound)?;
        }
        Ok(())
    })?;
    if min.is_none() && max.is_none() {
        cx.error_spanned_by(&rule.path, needs_bounds);
    }
    Ok((min, max))
}

/// "invalid regular expression `(`: unclosed group", without regex-syntax's multi-line
/// rendering (which prints its own `error:` line inside ours).
fn regex_message(pattern: &str, err: &regex_syntax::Error) -> String {
    let (kind, offset) = match err {
        regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span().start.offset),
        regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span().start.offset),
        _ => (err.to_string(), 0),
    };
    let at = if pattern.chars().count() > 1 {
        format!(" at byte {offset}")
    } else {
        String::new()
    };
    format!(
        "invalid regular expression `{pattern}`: {kind}{at}\nhelp: see https://docs.rs/regex/latest/regex/#syntax"
    )
}
