//! The order in which tables can be emptied one `DELETE` at a time: every table before the
//! tables it references.

use std::collections::BTreeSet;

use super::schema::ForeignKey;

/// Tables that reference each other in a cycle, so no order deletes one before the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cycle {
    /// The tables left once every table outside a cycle was ordered, sorted.
    pub tables: Vec<String>,
}

/// Orders `tables` children first: a table comes before every table it references.
///
/// A table referencing itself is not a cycle (one `DELETE` removes all its rows, and the
/// backends check a self-reference at the end of the statement, except MySQL with
/// `RESTRICT`). Foreign keys to or from tables outside `tables` are ignored. Ties are broken
/// by name, so the order is the same on every run.
pub(crate) fn children_first(
    tables: &[&str],
    foreign_keys: &[ForeignKey],
) -> Result<Vec<String>, Cycle> {
    let mut remaining: BTreeSet<&str> = tables.iter().copied().collect();
    let edges: Vec<(&str, &str)> = foreign_keys
        .iter()
        .map(|fk| (fk.child.as_str(), fk.parent.as_str()))
        .filter(|(child, parent)| {
            child != parent && remaining.contains(child) && remaining.contains(parent)
        })
        .collect();
    let mut order = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        // A table no remaining table references can go now.
        let ready: Vec<&str> = remaining
            .iter()
            .copied()
            .filter(|table| {
                !edges
                    .iter()
                    .any(|(child, parent)| parent == table && remaining.contains(child))
            })
            .collect();
        if ready.is_empty() {
            return Err(Cycle {
                tables: remaining.iter().map(|t| t.to_string()).collect(),
            });
        }
        for table in ready {
            remaining.remove(table);
            order.push(table.to_string());
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fk(child: &str, parent: &str) -> ForeignKey {
        ForeignKey {
            child: child.into(),
            parent: parent.into(),
        }
    }

    #[test]
    fn children_come_before_parents() {
        let order = children_first(
            &["users", "posts", "comments", "tags"],
            &[
                fk("posts", "users"),
                fk("comments", "posts"),
                fk("comments", "users"),
            ],
        )
        .unwrap();
        assert_eq!(order, vec!["comments", "tags", "posts", "users"]);
    }

    #[test]
    fn self_references_and_outside_tables_are_ignored() {
        let order = children_first(
            &["categories", "items"],
            &[
                fk("categories", "categories"),
                fk("items", "categories"),
                fk("items", "kept"),
            ],
        )
        .unwrap();
        assert_eq!(order, vec!["items", "categories"]);
    }

    #[test]
    fn a_cycle_names_its_tables() {
        let err = children_first(
            &["a", "b", "c", "d"],
            &[fk("a", "b"), fk("b", "c"), fk("c", "a"), fk("d", "a")],
        )
        .unwrap_err();
        assert_eq!(err.tables, vec!["a", "b", "c"]);
    }
}
