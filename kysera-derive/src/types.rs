//! What the derive knows about Rust field types: nullability, the portable SQL type, and
//! which validation rules apply.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

/// The `T` of `Option<T>`, or `None` when `ty` is not an `Option`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// A type as the user would write it (`std::time::Duration`, not `std :: time :: Duration`),
/// for error messages.
pub fn display(ty: &Type) -> String {
    let mut text = quote!(#ty).to_string();
    const TIGHTEN: &[(&str, &str)] = &[
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        (" ;", ";"),
    ];
    for (spaced, tight) in TIGHTEN {
        text = text.replace(spaced, tight);
    }
    text
}

/// Name of the last path segment (`NaiveDateTime` for `chrono::NaiveDateTime`).
fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        Type::Reference(r) => last_ident(&r.elem),
        Type::Group(g) => last_ident(&g.elem),
        Type::Paren(p) => last_ident(&p.elem),
        _ => None,
    }
}

fn is_vec_u8(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident != "Vec" {
        return false;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(GenericArgument::Type(inner)) if last_ident(inner).as_deref() == Some("u8"))
}

/// The Diesel SQL type a (non-`Option`) Rust type maps to on every backend, if it has one.
pub fn portable_sql_type(ty: &Type) -> Option<TokenStream> {
    if is_vec_u8(ty) {
        return Some(quote!(Binary));
    }
    // `uuid::Uuid` itself cannot bind (Diesel's traits are not implementable for it outside
    // Diesel); `kysera::Uuid` (or `Uuid` imported from kysera) can.
    if matches!(ty, Type::Path(p) if p.path.segments.first().is_some_and(|s| s.ident == "uuid")) {
        return None;
    }
    let sql = match last_ident(ty)?.as_str() {
        "i16" => quote!(SmallInt),
        "i32" => quote!(Integer),
        "i64" => quote!(BigInt),
        "f32" => quote!(Float),
        "f64" => quote!(Double),
        "bool" => quote!(Bool),
        "String" => quote!(Text),
        "NaiveDateTime" => quote!(Timestamp),
        "NaiveDate" => quote!(Date),
        "NaiveTime" => quote!(Time),
        "Value" => quote!(Json),
        // `kysera::Uuid` (feature `uuid`): native on PostgreSQL, text elsewhere.
        "Uuid" => quote!(::kysera::sql_types::Uuid),
        _ => return None,
    };
    Some(sql)
}

/// The `kysera::model::SqlKind` variant of a field: the kind of its portable SQL type, or of
/// its `sql_type = ...` override when that names the same kind of value (`VarChar` for a
/// `String`). Anything else is `Other`: the runtime cannot bind values of it by kind.
pub fn sql_kind(inner_ty: &Type, sql_type: Option<&Type>) -> &'static str {
    let Some(portable) = portable_sql_type(inner_ty) else {
        return "Other";
    };
    let portable = portable.to_string();
    let of_rust_type = kind_of_sql_type(portable.rsplit("::").next().unwrap_or("").trim());
    match sql_type.and_then(last_ident) {
        None => of_rust_type,
        Some(name) if kind_of_sql_type(&name) == of_rust_type => of_rust_type,
        Some(_) => "Other",
    }
}

/// The `SqlKind` variant a Diesel SQL type name (or one of its backend aliases) belongs to.
fn kind_of_sql_type(name: &str) -> &'static str {
    match name {
        "SmallInt" | "Smallint" | "Int2" => "SmallInt",
        "Integer" | "Int4" => "Integer",
        "BigInt" | "Bigint" | "Int8" => "BigInt",
        "Float" | "Float4" => "Float",
        "Double" | "Float8" => "Double",
        "Bool" => "Bool",
        "Text" | "VarChar" | "Varchar" => "Text",
        "Timestamp" | "Datetime" => "Timestamp",
        "Date" => "Date",
        "Time" => "Time",
        "Binary" | "Blob" | "Bytea" => "Binary",
        "Json" | "Jsonb" => "Json",
        "Uuid" => "Uuid",
        _ => "Other",
    }
}

/// Broad kinds of field types, for checking validation rules at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `String` or `&str`.
    Text,
    /// An integer or float.
    Number,
    /// A `Vec<T>`.
    List,
    /// Anything else we recognise (bool, dates, JSON...): no text or number rule applies.
    Other,
    /// A type the derive does not know; rules are checked by the compiler instead.
    Unknown,
}

/// The kind of a (non-`Option`) type.
pub fn kind(ty: &Type) -> Kind {
    match last_ident(ty).as_deref() {
        Some("String" | "str") => Kind::Text,
        Some(
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
            | "usize" | "f32" | "f64",
        ) => Kind::Number,
        Some("Vec") => Kind::List,
        Some(
            "bool" | "NaiveDateTime" | "NaiveDate" | "NaiveTime" | "DateTime" | "Value" | "Uuid",
        ) => Kind::Other,
        _ => Kind::Unknown,
    }
}

/// True for integer types MySQL's `LAST_INSERT_ID()` can be converted into.
pub fn is_insert_id_integer(ty: &Type) -> bool {
    matches!(
        last_ident(ty).as_deref(),
        Some("i16" | "i32" | "i64" | "u16" | "u32" | "u64")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).expect("a type")
    }

    #[test]
    fn kind_follows_the_rust_type_and_agreeing_overrides() {
        assert_eq!(sql_kind(&ty("chrono::NaiveDateTime"), None), "Timestamp");
        assert_eq!(sql_kind(&ty("i16"), None), "SmallInt");
        assert_eq!(sql_kind(&ty("Vec<u8>"), None), "Binary");
        let varchar = ty("diesel::sql_types::VarChar");
        assert_eq!(sql_kind(&ty("String"), Some(&varchar)), "Text");
        // An override naming another kind of value cannot be bound by kind.
        let tz = ty("diesel::sql_types::Timestamptz");
        assert_eq!(sql_kind(&ty("NaiveDateTime"), Some(&tz)), "Other");
        assert_eq!(sql_kind(&ty("kysera::Uuid"), None), "Uuid");
    }
}
