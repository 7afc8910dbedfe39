//! Rules that involve more than one attribute or field, checked before expansion.

use crate::ast::{Field, Input};
use crate::attr::validate::RuleKind;
use crate::ctxt::Ctxt;
use crate::types::{self, Kind};

/// Runs every check, recording errors in `cx`.
pub fn check(cx: &Ctxt, input: &Input) {
    check_primary_key(cx, input);
    check_columns_unique(cx, input);
    check_updatable(cx, input);
    check_behaviours(cx, input);
    check_relations(cx, input);
    check_version(cx, input);
    for field in &input.fields {
        check_sql_type(cx, input, field);
        check_rules(cx, field);
    }
}

// Exactly one field is the primary key: every repository operation addresses rows by it,
// and composite keys are not supported. A nullable key could not address a row. A misspelt
// `primary_key` was already reported as unknown; "no primary key" would only repeat it.
fn check_primary_key(cx: &Ctxt, input: &Input) {
    let keys: Vec<&Field> = input.fields.iter().filter(|f| f.is_primary_key()).collect();
    match keys.as_slice() {
        [] if input.fields.iter().any(|f| f.attrs.misspelt_primary_key) => {}
        [] => cx.error_spanned_by(
            input.ident,
            format!(
                "`{}` has no primary key\nhelp: mark the key field with `#[kysera(primary_key)]` (add `generated` if the database assigns it)",
                input.ident
            ),
        ),
        [key] => {
            if key.nullable {
                cx.error_spanned_by(
                    key.ty,
                    format!(
                        "the primary key cannot be an `Option`: a row without a key cannot be found again\nhelp: use `{}`; for a key the database assigns, add `generated`",
                        types::display(key.inner_ty)
                    ),
                );
            }
            if let Some(span) = key.attrs.skip_update {
                cx.syn_error(syn::Error::new(span, "`skip_update` has no effect on the primary key, which is never updated"));
            }
        }
        [_, rest @ ..] => {
            for extra in rest {
                let span = extra.attrs.primary_key.expect("filtered on primary_key");
                cx.syn_error(syn::Error::new(
                    span,
                    "a second `primary_key`: composite primary keys are not supported\nhelp: keep `primary_key` on exactly one field",
                ));
            }
        }
    }
}

// Two fields mapped to one column would make INSERT and UPDATE name the column twice.
fn check_columns_unique(cx: &Ctxt, input: &Input) {
    for (i, field) in input.fields.iter().enumerate() {
        if input.fields[..i]
            .iter()
            .any(|earlier| earlier.column == field.column)
        {
            cx.error_spanned_by(
                field.ident,
                format!("column `{}` is mapped by two fields", field.column),
            );
        }
    }
}

// The Update struct needs at least one field, or there is nothing a patch could change.
fn check_updatable(cx: &Ctxt, input: &Input) {
    if !input.fields.is_empty() && !input.fields.iter().any(|f| f.in_update()) {
        cx.error_spanned_by(
            input.ident,
            "every field is the key, generated or `skip_update`: nothing could be updated",
        );
    }
}

// A generated table needs a SQL type for every column; with `schema = ...` the existing
// table module supplies them.
fn check_sql_type(cx: &Ctxt, input: &Input, field: &Field) {
    if input.attrs.schema.is_some() || field.attrs.sql_type.is_some() {
        return;
    }
    if types::portable_sql_type(field.inner_ty).is_none() {
        cx.error_spanned_by(
            field.inner_ty,
            format!(
                "no SQL type is known for `{}`\nhelp: name one with `#[kysera(sql_type = diesel::sql_types::Text)]` (any Diesel SQL type), or point at an existing table with `#[kysera(schema = crate::schema::{})]`",
                types::display(field.inner_ty),
                input.table_name()
            ),
        );
    }
}

// Rules check values of a certain kind; a rule on a field of another kind can never pass
// or is meaningless, so it is a compile error rather than a surprise at run time. Types the
// derive does not recognise are left to the compiler (the rule functions' trait bounds).
fn check_rules(cx: &Ctxt, field: &Field) {
    let kind = types::kind(field.inner_ty);
    if kind == Kind::Unknown {
        return;
    }
    for rule in &field.attrs.rules {
        let allowed: &[Kind] = match rule.kind {
            RuleKind::Email | RuleKind::Url | RuleKind::Regex(_) => &[Kind::Text],
            RuleKind::Length { .. } | RuleKind::NonEmpty => &[Kind::Text, Kind::List],
            RuleKind::Range { .. } => &[Kind::Number],
            RuleKind::Custom(_) => continue,
        };
        if !allowed.contains(&kind) {
            let wanted = match allowed {
                [Kind::Text] => "text (`String`)",
                [Kind::Number] => "numbers",
                _ => "text or lists",
            };
            cx.syn_error(syn::Error::new(
                rule.span,
                format!(
                    "validation rule `{}` applies to {wanted}, but `{}` is `{}`\nhelp: remove `{}`, or check this field with `custom = path::to_fn`",
                    rule.kind.name(),
                    field.ident,
                    types::display(field.ty),
                    rule.kind.name(),
                ),
            ));
        }
    }
}

// Behaviours name their columns; each must be a field of the right type, or the generated
// writes would not compile (or would write the wrong column).
pub fn check_behaviours(cx: &Ctxt, input: &Input) {
    use crate::ast::Role;
    let b = &input.attrs.behaviours;
    let is_timestamp = |ty: &syn::Type| matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "NaiveDateTime"));
    if let Some(t) = &b.timestamps {
        match input.fields.iter().find(|f| f.role == Role::CreatedAt) {
            None => cx.syn_error(syn::Error::new(
                t.span,
                format!("`#[timestamps]` needs a `{}: chrono::NaiveDateTime` field\nhelp: add the field, or name the column with `#[timestamps(created_at = \"...\")]`", t.created_at),
            )),
            Some(f) if f.nullable || !is_timestamp(f.inner_ty) => {
                cx.error_spanned_by(f.ty, "the created-at column of `#[timestamps]` must be `chrono::NaiveDateTime`")
            }
            Some(_) => {}
        }
        let updated = input.fields.iter().find(|f| f.role == Role::UpdatedAt);
        if updated.is_none() && t.updated_at_named {
            cx.syn_error(syn::Error::new(
                t.span,
                format!(
                    "`#[timestamps]` names `{}` as its updated-at column, but no field maps to it",
                    t.updated_at
                ),
            ));
        }
        if let Some(f) = updated {
            if !is_timestamp(f.inner_ty) {
                cx.error_spanned_by(f.ty, "the updated-at column of `#[timestamps]` must be `chrono::NaiveDateTime` or `Option<chrono::NaiveDateTime>`");
            }
            if !t.updated_on_insert && !f.nullable {
                cx.error_spanned_by(f.ty, "`updated_on_insert = false` leaves the column empty on insert: make it `Option<chrono::NaiveDateTime>`");
            }
        }
    }
    if let Some(s) = &b.soft_delete {
        match input.fields.iter().find(|f| f.role == Role::DeletedAt) {
            None => cx.syn_error(syn::Error::new(
                s.span,
                format!("`#[soft_delete]` needs a `{}: Option<chrono::NaiveDateTime>` field\nhelp: add the field, or name the column with `#[soft_delete(column = \"...\")]`", s.column),
            )),
            Some(f) if !f.nullable || !is_timestamp(f.inner_ty) => {
                cx.error_spanned_by(f.ty, "the column of `#[soft_delete]` must be `Option<chrono::NaiveDateTime>`")
            }
            Some(_) => {}
        }
    }
    if let Some(a) = &b.audited {
        let columns: Vec<String> = input.fields.iter().map(|f| f.column.to_string()).collect();
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        for column in a.exclude.iter().chain(&a.redact) {
            if !input.fields.iter().any(|f| &f.column == column) {
                let help = match crate::symbol::closest(&column.to_string(), &columns) {
                    Some(near) => format!("help: did you mean `{near}`?"),
                    None => format!("help: expected one of {}", crate::symbol::one_of(&columns)),
                };
                cx.error_spanned_by(
                    column,
                    format!("`{column}` is not a column of `{}`\n{help}", input.ident),
                );
            }
        }
    }
}

// A `belongs_to` reads its foreign key from a field: it must exist. Two relations with one
// loader name would generate the same method twice.
fn check_relations(cx: &Ctxt, input: &Input) {
    use crate::attr::relation::Kind;
    let relations = &input.attrs.relations;
    for (i, relation) in relations.iter().enumerate() {
        if relation.kind == Kind::BelongsTo {
            let fk = relation.foreign_key_column();
            if !input.fields.iter().any(|f| f.column == fk) {
                let columns: Vec<String> = input
                    .fields
                    .iter()
                    .map(|f| format!("`{}`", f.column))
                    .collect();
                let message = format!(
                    "`belongs_to` needs the foreign-key column `{fk}`, which `{}` does not have\nhelp: name it with `foreign_key = \"...\"`; the columns are {}",
                    input.ident,
                    columns.join(", ")
                );
                match &relation.foreign_key {
                    Some(lit) => cx.error_spanned_by(lit, message),
                    None => cx.error_spanned_by(&relation.target, message),
                }
            }
        }
        let target = relation.target.segments.last().map(|s| s.ident.to_string());
        let repeated_parent = relation.kind == Kind::BelongsTo
            && relations[..i].iter().any(|r| {
                r.kind == Kind::BelongsTo
                    && r.target.segments.last().map(|s| s.ident.to_string()) == target
            });
        if repeated_parent {
            cx.syn_error(syn::Error::new(
                relation.span,
                format!(
                    "a second `belongs_to({})`: a model belongs to a parent model once\nhelp: keep one; filter on `{}` for the other relation",
                    target.unwrap_or_default(),
                    relation.foreign_key_column()
                ),
            ));
            continue;
        }
        let name = relation.loader_name();
        if relations[..i].iter().any(|r| r.loader_name() == name) {
            cx.syn_error(syn::Error::new(
                relation.span,
                format!("a second relation loaded by `load_{name}`\nhelp: give one of them another `name = \"...\"`"),
            ));
        }
    }
}

// The version counts writes: an integer the derive writes itself (1, then +1), so it cannot be
// the key, generated, nullable or a second counter.
fn check_version(cx: &Ctxt, input: &Input) {
    let mut seen = false;
    for field in input.fields.iter().filter(|f| f.attrs.version.is_some()) {
        let span = field.attrs.version.expect("filtered on version");
        if seen {
            cx.syn_error(syn::Error::new(
                span,
                "a second `version` field\nhelp: keep `version` on one integer field",
            ));
        }
        seen = true;
        let integer = matches!(field.ty, syn::Type::Path(p) if p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| ["i16", "i32", "i64"].iter().any(|t| s.ident == t)));
        if !integer {
            cx.error_spanned_by(
                field.ty,
                format!("a `version` field must be `i16`, `i32` or `i64`, not `{}`\nhelp: optimistic locking counts writes in an integer column", types::display(field.ty)),
            );
        }
        if field.is_primary_key()
            || field.attrs.generated.is_some()
            || field.attrs.skip_update.is_some()
        {
            cx.syn_error(syn::Error::new(
                span,
                "`version` cannot be combined with `primary_key`, `generated` or `skip_update`: kysera writes it on every insert and update",
            ));
        }
    }
}
