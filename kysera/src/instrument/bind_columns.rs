//! Which column each bind parameter of a statement belongs to, read from the SQL, so the
//! redaction policy can hide the values of named columns.
//!
//! A bind is placed when the statement compares it with a column (`col = ?`, `? <> col`,
//! `col LIKE ?`, `col BETWEEN ? AND ?`), lists it for a column (`col IN (?, ?)`), assigns it
//! (`SET col = ?`, including the `THEN`/`ELSE` values of `col = CASE ... END`) or inserts it
//! (`INSERT INTO t (a, b) VALUES (?, ?), ...`). Any other bind (`LIMIT ?`, a function
//! argument, a hand-written fragment) has no column.

use super::lexer::{tokens, Token};

/// The column of each placeholder of `sql`, in order.
pub(crate) fn bind_columns(sql: &str) -> Vec<Option<&str>> {
    let toks: Vec<Token<'_>> = tokens(sql).collect();
    let insert = insert_columns(&toks);
    let mut columns = Vec::new();
    let mut depth = 0usize;
    // Open `IN (...)` lists and `VALUES (...)` tuples: (depth, what their values belong to).
    let mut lists: Vec<(usize, List<'_>)> = Vec::new();
    // Open `col = CASE ... END` expressions: the column their THEN/ELSE values are for.
    let mut cases: Vec<Option<&str>> = Vec::new();
    let mut after_values = false;
    for (i, &token) in toks.iter().enumerate() {
        match token {
            Token::Punct("(") => {
                depth += 1;
                let prev = i.checked_sub(1).map(|p| toks[p]);
                if prev.is_some_and(|t| t.is_keyword("IN")) {
                    lists.push((depth, List::In(column_before(&toks, i - 1))));
                } else if after_values && depth == 1 {
                    lists.push((depth, List::Row(0)));
                }
            }
            Token::Punct(")") => {
                if lists.last().is_some_and(|(d, _)| *d == depth) {
                    lists.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Punct(",") => {
                if let Some((d, List::Row(n))) = lists.last_mut() {
                    if *d == depth {
                        *n += 1;
                    }
                }
            }
            Token::Word(w) if w.eq_ignore_ascii_case("VALUES") => after_values = true,
            Token::Word(w) if w.eq_ignore_ascii_case("CASE") => {
                let assigned = i >= 2 && toks[i - 1].is_punct("=");
                cases.push(if assigned { toks[i - 2].ident() } else { None });
            }
            Token::Word(w) if w.eq_ignore_ascii_case("END") => {
                cases.pop();
            }
            Token::Placeholder => {
                let in_list = lists.last().filter(|(d, _)| *d == depth).map(|(_, l)| *l);
                let column = match in_list {
                    Some(List::In(column)) => column,
                    Some(List::Row(n)) => insert.as_ref().and_then(|c| c.get(n).copied()),
                    None => placed(&toks, i, &cases),
                };
                columns.push(column);
            }
            _ => {}
        }
    }
    columns
}

#[derive(Clone, Copy)]
enum List<'a> {
    /// `col IN (...)`.
    In(Option<&'a str>),
    /// The n-th value of a `VALUES` row.
    Row(usize),
}

/// The column of the placeholder at `i` from its neighbours.
fn placed<'a>(toks: &[Token<'a>], i: usize, cases: &[Option<&'a str>]) -> Option<&'a str> {
    let prev = |n: usize| i.checked_sub(n).map(|p| toks[p]);
    let before = prev(1)?;
    if before.is_keyword("THEN") || before.is_keyword("ELSE") {
        return cases.last().copied().flatten();
    }
    if is_comparison(before) {
        return column_before(toks, i - 1);
    }
    if before.is_keyword("BETWEEN") {
        return column_before(toks, i - 1);
    }
    if before.is_keyword("AND") && prev(3).is_some_and(|t| t.is_keyword("BETWEEN")) {
        return column_before(toks, i - 3);
    }
    // `? = col`
    let after = toks.get(i + 1).copied();
    if after.is_some_and(is_comparison) {
        return toks
            .get(i + 2)
            .and_then(|t| t.ident())
            .filter(|w| !is_keyword(w));
    }
    None
}

/// The identifier just before the token at `at` (skipping a `NOT` in `NOT LIKE`/`NOT IN`).
fn column_before<'a>(toks: &[Token<'a>], at: usize) -> Option<&'a str> {
    let mut j = at.checked_sub(1)?;
    if toks[j].is_keyword("NOT") {
        j = j.checked_sub(1)?;
    }
    toks[j].ident().filter(|w| !is_keyword(w))
}

fn is_comparison(t: Token<'_>) -> bool {
    matches!(t, Token::Punct("=" | "<>" | "!=" | "<" | ">" | "<=" | ">="))
        || t.is_keyword("LIKE")
        || t.is_keyword("ILIKE")
}

/// Words that can stand before an operator but are not columns.
fn is_keyword(word: &str) -> bool {
    [
        "WHERE", "AND", "OR", "NOT", "ON", "SET", "WHEN", "SELECT", "NULL",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

/// The column list of `INSERT INTO t (a, b, ...)`, if the statement is one.
fn insert_columns<'a>(toks: &[Token<'a>]) -> Option<Vec<&'a str>> {
    let start = toks.iter().position(|t| t.is_keyword("INSERT"))?;
    let open = start + toks[start..].iter().position(|t| t.is_punct("("))?;
    // Only `INSERT [OR ...] INTO name[.name] (`: no parenthesis before the column list.
    if !toks[start..open].iter().any(|t| t.is_keyword("INTO")) {
        return None;
    }
    let mut columns = Vec::new();
    let mut j = open + 1;
    loop {
        columns.push(toks.get(j)?.ident()?);
        match toks.get(j + 1)? {
            t if t.is_punct(",") => j += 2,
            t if t.is_punct(")") => return Some(columns),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bind_columns;

    #[test]
    fn comparisons_assignments_and_lists() {
        let sql = r#"UPDATE "users" SET "email" = $1, "bio" = $2 WHERE ("users"."id" = $3 AND "users"."name" NOT LIKE $4 AND $5 < "age" AND "id" IN ($6, $7)) LIMIT $8"#;
        assert_eq!(
            bind_columns(sql),
            vec![
                Some("email"),
                Some("bio"),
                Some("id"),
                Some("name"),
                Some("age"),
                Some("id"),
                Some("id"),
                None
            ]
        );
    }

    #[test]
    fn multi_row_inserts() {
        let sql = "INSERT INTO `users` (`email`, `name`, `bio`) VALUES (?, ?, ?), (?, ?, DEFAULT) RETURNING id";
        assert_eq!(
            bind_columns(sql),
            vec![
                Some("email"),
                Some("name"),
                Some("bio"),
                Some("email"),
                Some("name")
            ]
        );
    }

    #[test]
    fn bulk_update_case_and_between() {
        let sql = "UPDATE t SET token = CASE WHEN id = ? THEN ? WHEN id = ? THEN ? ELSE token END, n = lower(?) WHERE ts BETWEEN ? AND ?";
        assert_eq!(
            bind_columns(sql),
            vec![
                Some("id"),
                Some("token"),
                Some("id"),
                Some("token"),
                None,
                Some("ts"),
                Some("ts")
            ]
        );
    }

    #[test]
    fn raw_sql_has_no_binds() {
        assert!(bind_columns("BEGIN").is_empty());
        assert!(bind_columns("INSERT INTO t (a").iter().all(Option::is_none));
    }
}
