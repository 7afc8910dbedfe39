//! `INSERT ... ON CONFLICT ... DO UPDATE` (SQLite, PostgreSQL) and
//! `INSERT ... ON DUPLICATE KEY UPDATE` (MySQL), around Diesel's own `INSERT`.
//!
//! The conflict target and the columns to update are chosen at run time, so the clause is
//! written here rather than with Diesel's typed `on_conflict`; the `INSERT` itself (columns,
//! values, their SQL types and the managed timestamps) stays Diesel's.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{Expression, QueryResult, RunQueryDsl};

use crate::model::Model;

/// What an upsert does on conflict: the conflict target, the columns it overwrites with the
/// new row's values, and the soft-delete column it clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictClause {
    /// Columns of the unique key whose conflict turns the insert into an update.
    pub target: Vec<&'static str>,
    /// Columns set to the proposed row's value on conflict.
    pub update: Vec<&'static str>,
    /// The soft-delete column, set to NULL on conflict (the row is restored).
    pub restore: Option<&'static str>,
    /// The table and its `#[kysera(version)]` column, incremented on conflict (qualified:
    /// PostgreSQL would otherwise not know the stored row's from `excluded`'s).
    pub bump: Option<(&'static str, &'static str)>,
}

/// The upsert clause of a backend.
pub trait ConflictSyntax: Backend {
    /// Writes the clause that follows `INSERT ... VALUES (...)`.
    fn walk_conflict(clause: &ConflictClause, out: &mut AstPass<'_, '_, Self>) -> QueryResult<()>;
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn walk_on_conflict<DB: Backend>(
    clause: &ConflictClause,
    out: &mut AstPass<'_, '_, DB>,
) -> QueryResult<()> {
    out.push_sql(" ON CONFLICT (");
    for (i, column) in clause.target.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_identifier(column)?;
    }
    out.push_sql(") DO UPDATE SET ");
    // With nothing to update, a no-op assignment still makes the conflicting row come back
    // through RETURNING (DO NOTHING would return nothing for it).
    let update = if clause.update.is_empty() {
        &clause.target[..1]
    } else {
        &clause.update[..]
    };
    for (i, column) in update.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_identifier(column)?;
        out.push_sql(" = excluded.");
        out.push_identifier(column)?;
    }
    walk_restore_and_bump(clause, out)
}

/// `, deleted_at = NULL` and `, version = version + 1`, as the clause asks.
fn walk_restore_and_bump<DB: Backend>(
    clause: &ConflictClause,
    out: &mut AstPass<'_, '_, DB>,
) -> QueryResult<()> {
    if let Some(column) = clause.restore {
        out.push_sql(", ");
        out.push_identifier(column)?;
        out.push_sql(" = NULL");
    }
    if let Some((table, column)) = clause.bump {
        out.push_sql(", ");
        out.push_identifier(column)?;
        out.push_sql(" = ");
        out.push_identifier(table)?;
        out.push_sql(".");
        out.push_identifier(column)?;
        out.push_sql(" + 1");
    }
    Ok(())
}

#[cfg(feature = "sqlite")]
impl ConflictSyntax for diesel::sqlite::Sqlite {
    fn walk_conflict(clause: &ConflictClause, out: &mut AstPass<'_, '_, Self>) -> QueryResult<()> {
        walk_on_conflict(clause, out)
    }
}

#[cfg(feature = "postgres")]
impl ConflictSyntax for diesel::pg::Pg {
    fn walk_conflict(clause: &ConflictClause, out: &mut AstPass<'_, '_, Self>) -> QueryResult<()> {
        walk_on_conflict(clause, out)
    }
}

#[cfg(feature = "mysql")]
impl ConflictSyntax for diesel::mysql::Mysql {
    fn walk_conflict(clause: &ConflictClause, out: &mut AstPass<'_, '_, Self>) -> QueryResult<()> {
        // MySQL has no conflict target: any unique key's conflict updates. The repository
        // reads the conflicting rows first and back afterwards by the target's values.
        out.push_sql(" ON DUPLICATE KEY UPDATE ");
        let update = if clause.update.is_empty() {
            &clause.target[..1]
        } else {
            &clause.update[..]
        };
        for (i, column) in update.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(column)?;
            // `VALUES(col)` reads the proposed row on MySQL and MariaDB alike.
            out.push_sql(" = VALUES(");
            out.push_identifier(column)?;
            out.push_sql(")");
        }
        walk_restore_and_bump(clause, out)
    }
}

/// The rows an upsert statement stored, and per row whether it inserted it, when the
/// statement itself can say (PostgreSQL's `RETURNING ..., (xmax = 0)`).
#[derive(Debug)]
pub struct Upserts<M> {
    /// The stored rows, in no promised order.
    pub rows: Vec<M>,
    /// `inserted[i]` is true when `rows[i]` was inserted; `None` on backends that cannot
    /// tell from the statement (the repository's locking read tells instead).
    pub inserted: Option<Vec<bool>>,
}

impl<M> Upserts<M> {
    /// Rows without flags.
    pub fn unflagged(rows: Vec<M>) -> Self {
        Upserts {
            rows,
            inserted: None,
        }
    }

    /// Rows paired with their flags.
    pub fn flagged(pairs: Vec<(M, bool)>) -> Self {
        let (rows, inserted) = pairs.into_iter().unzip();
        Upserts {
            rows,
            inserted: Some(inserted),
        }
    }
}

/// The rows the statement stored (MySQL's: those it read back).
impl<M> crate::instrument::rows::ResultRows for Upserts<M> {
    fn rows(&self) -> Option<u64> {
        Some(self.rows.len() as u64)
    }
}

/// [`UpsertStatement`] with `RETURNING` also yielding `(xmax = 0)` (PostgreSQL): true for a
/// row the statement inserted, false for one its conflict clause updated. Read in the
/// statement itself, before any later statement (a foreign-key check's `FOR KEY SHARE`) can
/// lock the row and set `xmax`.
pub struct FlaggedUpsert<I, M: Model>(pub UpsertStatement<I, M>);

impl<I, M: Model> QueryId for FlaggedUpsert<I, M> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<I, M: Model> Query for FlaggedUpsert<I, M> {
    type SqlType = (
        <M::Selection as Expression>::SqlType,
        diesel::sql_types::Bool,
    );
}

impl<I, M: Model, C> RunQueryDsl<C> for FlaggedUpsert<I, M> {}

#[cfg(feature = "postgres")]
impl<I, M> QueryFragment<diesel::pg::Pg> for FlaggedUpsert<I, M>
where
    M: Model,
    UpsertStatement<I, M>: QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(", (xmax = 0)");
        Ok(())
    }
}

/// `<insert> <conflict clause> [RETURNING <model columns>]`.
pub struct UpsertStatement<I, M: Model> {
    insert: I,
    clause: ConflictClause,
    returning: Option<M::Selection>,
}

impl<I, M: Model> UpsertStatement<I, M> {
    /// The statement around Diesel's `insert`; `returning` adds `RETURNING` of the model's
    /// columns.
    pub fn new(insert: I, clause: ConflictClause, returning: bool) -> Self {
        UpsertStatement {
            insert,
            clause,
            returning: returning.then(M::Selection::default),
        }
    }
}

impl<I, M: Model> QueryId for UpsertStatement<I, M> {
    type QueryId = ();
    // The target and the columns updated are chosen at run time.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<I, M: Model> Query for UpsertStatement<I, M> {
    type SqlType = <M::Selection as Expression>::SqlType;
}

impl<I, M: Model, C> RunQueryDsl<C> for UpsertStatement<I, M> {}

impl<I, M, DB> QueryFragment<DB> for UpsertStatement<I, M>
where
    M: Model,
    DB: ConflictSyntax,
    I: QueryFragment<DB>,
    M::Selection: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Cached by its SQL text: a call site's clause does not vary, so a one-row upsert
        // (SQLite's, row by row) is prepared once. A multi-row insert marks itself uncacheable.
        self.insert.walk_ast(out.reborrow())?;
        DB::walk_conflict(&self.clause, &mut out)?;
        if let Some(selection) = &self.returning {
            out.push_sql(" RETURNING ");
            selection.walk_ast(out.reborrow())?;
        }
        Ok(())
    }
}
