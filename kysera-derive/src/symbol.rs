//! Attribute key names, in one place.

/// The namespace every kysera attribute lives under.
pub const KYSERA: &str = "kysera";

// Container keys.
pub const TABLE: &str = "table";
pub const SCHEMA: &str = "schema";
pub const BELONGS_TO: &str = "belongs_to";
pub const HAS_MANY: &str = "has_many";
pub const HAS_ONE: &str = "has_one";
pub const MANY_TO_MANY: &str = "many_to_many";
pub const CONTAINER_KEYS: &[&str] = &[
    TABLE,
    SCHEMA,
    "timestamps",
    "soft_delete",
    "audited",
    BELONGS_TO,
    HAS_MANY,
    HAS_ONE,
    MANY_TO_MANY,
];

// Relation options.
pub const FOREIGN_KEY: &str = "foreign_key";
pub const THROUGH: &str = "through";
pub const NAME: &str = "name";

// Field keys.
pub const PRIMARY_KEY: &str = "primary_key";
pub const GENERATED: &str = "generated";
pub const COLUMN: &str = "column";
pub const SQL_TYPE: &str = "sql_type";
pub const SKIP_UPDATE: &str = "skip_update";
pub const VALIDATE: &str = "validate";
pub const VERSION: &str = "version";
pub const FIELD_KEYS: &[&str] = &[
    PRIMARY_KEY,
    GENERATED,
    COLUMN,
    SQL_TYPE,
    SKIP_UPDATE,
    VALIDATE,
    VERSION,
];

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

/// The key in `keys` closest to a misspelt `name` (at most two edits away), for "did you
/// mean" hints.
pub fn closest<'a>(name: &str, keys: &[&'a str]) -> Option<&'a str> {
    keys.iter()
        .map(|key| (edit_distance(name, key), *key))
        .filter(|(distance, _)| *distance <= 2 && *distance < name.chars().count())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

/// Levenshtein distance, counting characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("primry_key", FIELD_KEYS), Some(PRIMARY_KEY));
        assert_eq!(closest("tabel", CONTAINER_KEYS), Some(TABLE));
        assert_eq!(closest("emial", RULES), Some(EMAIL));
        assert_eq!(closest("nullable", FIELD_KEYS), None);
        assert_eq!(closest("x", RULES), None);
    }
}
