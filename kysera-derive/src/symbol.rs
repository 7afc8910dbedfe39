//! Attribute key names, in one place.

/// The namespace every kysera attribute lives under.
pub const KYSERA: &str = "kysera";

// Container keys.
pub const TABLE: &str = "table";
pub const SCHEMA: &str = "schema";
pub const CONTAINER_KEYS: &[&str] = &[TABLE, SCHEMA];

// Field keys.
pub const PRIMARY_KEY: &str = "primary_key";
pub const GENERATED: &str = "generated";
pub const COLUMN: &str = "column";
pub const SQL_TYPE: &str = "sql_type";
pub const SKIP_UPDATE: &str = "skip_update";
pub const VALIDATE: &str = "validate";
pub const FIELD_KEYS: &[&str] = &[PRIMARY_KEY, GENERATED, COLUMN, SQL_TYPE, SKIP_UPDATE, VALIDATE];

// Validation rules.
pub const EMAIL: &str = "email";
pub const URL: &str = "url";
pub const LENGTH: &str = "length";
pub const RANGE: &str = "range";
pub const REGEX: &str = "regex";
pub const NON_EMPTY: &str = "non_empty";
pub const CUSTOM: &str = "custom";
pub const RULES: &[&str] = &[EMAIL, URL, LENGTH, RANGE, REGEX, NON_EMPTY, CUSTOM];

/// "`a`, `b` or `c`", for help messages.
pub fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}
