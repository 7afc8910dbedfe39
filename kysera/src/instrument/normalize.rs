//! Statement normalisation for the profiler: statements that differ only in their values
//! (literals, bind parameters, the length of an `IN` list or of a multi-row `VALUES`, the
//! rows of a `CASE WHEN ... THEN` batch) become one statement.
//!
//! `SELECT * FROM t WHERE id IN ($1, $2, $3) AND name = 'x'` → `SELECT * FROM t WHERE id IN
//! (?...) AND name = ?`.

use super::lexer::{spaced_tokens, Token};

/// Any single value: a literal or a bind parameter.
const VALUE: &str = "?";
/// A parenthesised list of values, whatever its length.
const VALUE_LIST: &str = "(?...)";

/// Writes the normalised form of `sql` into `out` (cleared first). Spacing follows the
/// original (one space wherever it had whitespace), so `count(*)` and `IN (?...)` both read
/// naturally and one statement always normalises the same way.
pub(crate) fn normalize_into(sql: &str, out: &mut String) {
    out.clear();
    let toks: Vec<(bool, Token<'_>)> = spaced_tokens(sql).collect();
    let mut parts: Vec<(bool, &str)> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let (space, token) = toks[i];
        if let Some(len) = value_list_len(&toks[i..]) {
            // `(?...), (?...)` (the rows of a multi-row VALUES) are one list.
            let repeated = parts.len() >= 2
                && parts[parts.len() - 1].1 == ","
                && parts[parts.len() - 2].1 == VALUE_LIST;
            if repeated {
                parts.pop();
            } else {
                parts.push((space, VALUE_LIST));
            }
            i += len;
            continue;
        }
        let text = match token {
            Token::Placeholder | Token::Str(_) | Token::Number(_) => VALUE,
            Token::Word(w) | Token::Punct(w) => w,
            // Quoted identifiers keep the backend's own quotes (`"` or `` ` ``).
            Token::Quoted(name) => quoted_span(sql, name),
        };
        parts.push((space, text));
        i += 1;
    }
    fold_case_arms(&mut parts);
    for (n, (space, text)) in parts.iter().enumerate() {
        if *space && n > 0 {
            out.push(' ');
        }
        out.push_str(text);
    }
}

/// The form of `sql` the profiler groups statements by: literals and bind parameters become
/// `?`, value lists of any length (`IN (...)`, the rows of a multi-row `VALUES`) become
/// `(?...)`, repeated `WHEN ... THEN ?` arms of a `CASE` become one, whitespace is collapsed.
///
/// ```
/// use kysera::instrument::normalize_statement;
///
/// assert_eq!(
///     normalize_statement("SELECT * FROM t WHERE id IN ($1, $2, $3) AND name = 'x'"),
///     "SELECT * FROM t WHERE id IN (?...) AND name = ?"
/// );
/// ```
pub fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    normalize_into(sql, &mut out);
    out
}

/// If `toks` starts with `( value [, value]* )`, the number of tokens it spans.
fn value_list_len(toks: &[(bool, Token<'_>)]) -> Option<usize> {
    if !toks.first()?.1.is_punct("(") {
        return None;
    }
    let mut i = 1;
    loop {
        match toks.get(i)?.1 {
            Token::Placeholder | Token::Str(_) | Token::Number(_) => i += 1,
            _ => return None,
        }
        match toks.get(i)?.1 {
            t if t.is_punct(",") => i += 1,
            t if t.is_punct(")") => return Some(i + 1),
            _ => return None,
        }
    }
}

/// `name` is a slice of `sql` without its quotes; widen it by one byte on each side.
fn quoted_span<'a>(sql: &'a str, name: &'a str) -> &'a str {
    let start = name.as_ptr() as usize - sql.as_ptr() as usize;
    let end = (start + name.len() + 1).min(sql.len());
    sql.get(start.saturating_sub(1)..end).unwrap_or(name)
}

/// `CASE WHEN k = ? THEN ? WHEN k = ? THEN ? ... END` (a bulk update of n rows) keeps one arm
/// per distinct arm shape.
fn fold_case_arms(parts: &mut Vec<(bool, &str)>) {
    let mut i = 0;
    let mut previous: Option<(usize, usize)> = None;
    while i < parts.len() {
        let word = parts[i].1;
        if !word.eq_ignore_ascii_case("WHEN") {
            if word.eq_ignore_ascii_case("END") || word.eq_ignore_ascii_case("ELSE") {
                previous = None;
            }
            i += 1;
            continue;
        }
        let Some(then) = parts[i..]
            .iter()
            .position(|p| p.1.eq_ignore_ascii_case("THEN"))
        else {
            break;
        };
        // The arm is `WHEN ... THEN <one token>`.
        let end = (i + then + 2).min(parts.len());
        if let Some((start, len)) = previous {
            if end - i == len && parts[start..start + len] == parts[i..end] {
                parts.drain(i..end);
                continue;
            }
        }
        previous = Some((i, end - i));
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn values_become_placeholders() {
        assert_eq!(
            normalize("SELECT  a, b FROM t\n WHERE id = 42 AND name = 'x''y' AND c = $3 LIMIT ?"),
            "SELECT a, b FROM t WHERE id = ? AND name = ? AND c = ? LIMIT ?"
        );
    }

    #[test]
    fn lists_of_any_length_are_one_statement() {
        let one = normalize(r#"SELECT "t"."id" FROM "t" WHERE "t"."id" IN ($1)"#);
        let three = normalize(r#"SELECT "t"."id" FROM "t" WHERE "t"."id" IN ($1, $2, $3)"#);
        assert_eq!(one, three);
        assert_eq!(one, r#"SELECT "t"."id" FROM "t" WHERE "t"."id" IN (?...)"#);
    }

    #[test]
    fn multi_row_values_are_one_statement() {
        assert_eq!(
            normalize("INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?), (?, DEFAULT)"),
            "INSERT INTO `t` (`a`, `b`) VALUES (?...), (?, DEFAULT)"
        );
        assert_eq!(
            normalize("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) RETURNING id"),
            normalize("INSERT INTO t (a, b) VALUES (?, ?) RETURNING id")
        );
    }

    #[test]
    fn bulk_update_arms_fold() {
        let two =
            "UPDATE t SET n = CASE WHEN id = ? THEN ? WHEN id = ? THEN ? END WHERE id IN (?, ?)";
        let one = "UPDATE t SET n = CASE WHEN id = ? THEN ? END WHERE id IN (?)";
        assert_eq!(normalize(two), normalize(one));
        assert_eq!(
            normalize(one),
            "UPDATE t SET n = CASE WHEN id = ? THEN ? END WHERE id IN (?...)"
        );
    }

    #[test]
    fn subqueries_and_calls_are_kept() {
        assert_eq!(
            normalize("SELECT count(*) FROM t WHERE a IN (SELECT b FROM u) AND x::text = 'y'"),
            "SELECT count(*) FROM t WHERE a IN (SELECT b FROM u) AND x::text = ?"
        );
        assert_eq!(
            normalize("SAVEPOINT diesel_savepoint_1"),
            "SAVEPOINT diesel_savepoint_1"
        );
    }
}
