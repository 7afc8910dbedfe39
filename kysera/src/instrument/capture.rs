//! Reads the SQL and the bind parameters out of the query Diesel hands to its
//! instrumentation.
//!
//! Diesel exposes a statement only as `&dyn DebugQuery` (`Debug + Display`). Its `Display`
//! text is `<sql> -- binds: [<bind>, ...]` for built queries and the bare SQL for raw text
//! (`batch_execute`, transaction control). `Display` is used rather than `Debug` because it
//! writes the SQL unescaped: the `Debug` form escapes every quote, which then has to be
//! undone, and that showed in the benchmark.
//!
//! The split is made at the first ` -- binds: [`: Diesel's generated SQL never contains it,
//! while a bind value might. The one case it gets wrong is raw SQL that itself contains
//! ` -- binds: [` and ends with `]`, which is then split there.

use std::fmt::Write as _;

use diesel::connection::DebugQuery;

/// What separates the SQL from the binds in Diesel's `Display` text.
const BINDS_MARKER: &str = " -- binds: [";

/// The SQL and the bind parameters (each in its `Debug` form) of `query`. `scratch` is a
/// reusable buffer.
pub(crate) fn capture(query: &dyn DebugQuery, scratch: &mut String) -> (String, Vec<String>) {
    scratch.clear();
    if write!(scratch, "{query}").is_err() {
        // A query Diesel cannot print (it failed to build); its text is all there is.
        return (std::mem::take(scratch), Vec::new());
    }
    split(scratch)
}

/// Splits Diesel's `Display` text into the SQL and the binds.
fn split(text: &str) -> (String, Vec<String>) {
    if let Some(at) = text.find(BINDS_MARKER) {
        if let Some(list) = text[at + BINDS_MARKER.len()..].strip_suffix(']') {
            return (text[..at].to_string(), split_list(list));
        }
    }
    (text.to_string(), Vec::new())
}

/// Splits a `Debug` list body at its top-level commas (not those inside strings, brackets or
/// parentheses).
fn split_list(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    if list.is_empty() {
        return items;
    }
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    for (i, c) in list.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(list[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(list[start..].trim().to_string());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_built_query() {
        let text = r#"SELECT "a" FROM t WHERE x = ? AND y IN (?, ?) -- binds: [1, "it's, \"quoted\" -- binds: [", Some([1, 2]), None]"#;
        let (sql, binds) = split(text);
        assert_eq!(sql, r#"SELECT "a" FROM t WHERE x = ? AND y IN (?, ?)"#);
        assert_eq!(
            binds,
            vec![
                "1",
                r#""it's, \"quoted\" -- binds: [""#,
                "Some([1, 2])",
                "None"
            ]
        );
    }

    #[test]
    fn raw_sql_has_no_binds() {
        assert_eq!(split("BEGIN"), ("BEGIN".to_string(), vec![]));
        assert_eq!(
            split("SELECT 1 -- binds: []"),
            ("SELECT 1".to_string(), vec![])
        );
        let odd = "SELECT 1 -- binds: [ not closed";
        assert_eq!(split(odd), (odd.to_string(), vec![]));
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn captures_a_real_diesel_query() {
        use diesel::sql_types::{BigInt, Text};
        let query = diesel::sql_query("SELECT 1 WHERE x = ? AND y = ?")
            .bind::<Text, _>("a\"da")
            .bind::<BigInt, _>(7i64);
        let debug = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query);
        let mut scratch = String::new();
        let (sql, binds) = capture(&debug, &mut scratch);
        assert_eq!(sql, "SELECT 1 WHERE x = ? AND y = ?");
        assert_eq!(binds, vec![r#""a\"da""#, "7"]);
    }
}
