//! Emptying the tables between tests: [`Cleaner`] and its [`Strategy`].

use diesel::sql_types::BigInt;
use diesel::QueryableByName;

use super::fk_order::{children_first, Cycle};
use super::rollback::rollback;
use super::schema::Schema;
use super::source::ConnectionSource;
use super::sql::Statement;
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;

/// How a [`Cleaner`] leaves the database empty for the next test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Empties every table and restarts its sequence or auto-increment counter, so ids start
    /// at 1 again.
    ///
    /// - PostgreSQL: one `TRUNCATE TABLE ... RESTART IDENTITY CASCADE` (without `CASCADE`
    ///   when tables are kept, so a kept table referencing a cleaned one is an error, not
    ///   silently emptied), inside a transaction.
    /// - MySQL: `TRUNCATE TABLE` per table with `FOREIGN_KEY_CHECKS` off (restored after).
    ///   `TRUNCATE` commits implicitly, so it is refused inside a transaction.
    /// - SQLite: `DELETE FROM` per table, children first (with `defer_foreign_keys` when the
    ///   tables reference each other in a cycle), and their `sqlite_sequence` rows removed,
    ///   inside a transaction.
    Truncate,
    /// `DELETE FROM` per table, every table before the tables it references, in one
    /// transaction. Sequences keep counting. Tables whose foreign keys form a cycle cannot be
    /// ordered: that is an [`Error::InvalidArgument`] naming them, and nothing is deleted.
    /// A table referencing itself is emptied by its one `DELETE` (MySQL checks foreign keys
    /// row by row, so there that `DELETE` can fail unless the key is `ON DELETE CASCADE` or
    /// `SET NULL`).
    DeleteInFkOrder,
    /// Nothing to delete: the test runs in a transaction that is rolled back
    /// ([`rollback`](super::rollback)). Only meaningful with [`Cleaner::run`].
    Rollback,
}

/// Empties every table of the database except migration bookkeeping and the tables kept.
///
/// ```
/// use kysera::testing::{Cleaner, Strategy};
/// # fn main() -> kysera::Result<()> {
/// let conn = kysera::Conn::establish("sqlite::memory:")?;
/// conn.batch_execute(
///     "CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
///      CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id));
///      CREATE TABLE countries (code TEXT PRIMARY KEY);
///      INSERT INTO authors (name) VALUES ('Le Guin');
///      INSERT INTO books (author_id) VALUES (1);
///      INSERT INTO countries VALUES ('NZ');",
/// )?;
/// let emptied = Cleaner::new(Strategy::DeleteInFkOrder).keep(&["countries"]).clean(&conn)?;
/// assert_eq!(emptied, vec!["books", "authors"]);
/// kysera::assert_row_count!(conn, "countries", 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaner {
    strategy: Strategy,
    keep: Vec<String>,
}

impl Cleaner {
    /// A cleaner for every user table.
    pub fn new(strategy: Strategy) -> Self {
        Cleaner {
            strategy,
            keep: Vec::new(),
        }
    }

    /// Leaves `tables` as they are (reference data seeded once); each must exist.
    pub fn keep(mut self, tables: &[&str]) -> Self {
        self.keep.extend(tables.iter().map(|t| t.to_string()));
        self
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Empties the tables now; returns their names in the order they were emptied.
    ///
    /// With [`Strategy::Rollback`] there is nothing to empty after the fact: that is an
    /// [`Error::InvalidArgument`] pointing to [`Cleaner::run`].
    pub fn clean<S: ConnectionSource + ?Sized>(&self, source: &S) -> Result<Vec<String>> {
        if self.strategy == Strategy::Rollback {
            return Err(Error::InvalidArgument(
                "Strategy::Rollback cleans by never committing: run the test through \
                 Cleaner::run or kysera::testing::rollback"
                    .into(),
            ));
        }
        let conn = source.connection()?;
        let schema = Schema::introspect(&conn)?;
        for kept in &self.keep {
            schema.require(kept)?;
        }
        let tables: Vec<&str> = schema
            .table_names()
            .into_iter()
            .filter(|name| !self.keep.iter().any(|kept| kept == name))
            .collect();
        if tables.is_empty() {
            return Ok(Vec::new());
        }
        match (self.strategy, conn.backend()) {
            (Strategy::DeleteInFkOrder, _) => {
                let order = children_first(&tables, &schema.foreign_keys).map_err(cycle_error)?;
                conn.transaction(|tx| {
                    delete_all(tx, &order)?;
                    Ok(order)
                })
            }
            (_, BackendKind::Postgres) => {
                let restart = Statement::new("TRUNCATE TABLE ")
                    .identifiers(tables.iter().copied())
                    .sql(" RESTART IDENTITY");
                let sql = if self.keep.is_empty() {
                    restart.sql(" CASCADE")
                } else {
                    restart
                }
                .render(BackendKind::Postgres)?;
                conn.transaction(|tx| tx.batch_execute(&sql))?;
                Ok(tables.iter().map(|t| t.to_string()).collect())
            }
            (_, BackendKind::Mysql) => truncate_mysql(&conn, &tables),
            (_, BackendKind::Sqlite) => truncate_sqlite(&conn, &tables, &schema),
        }
    }

    /// Runs a test body with this strategy: [`Strategy::Rollback`] runs `f` in a transaction
    /// that is rolled back; the others empty the tables first, then run `f`, so each test
    /// starts from empty tables whatever the previous one left (even if it panicked).
    pub fn run<S, T, E, F>(&self, source: &S, f: F) -> std::result::Result<T, E>
    where
        S: ConnectionSource + ?Sized,
        F: FnOnce(&Conn) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        if self.strategy == Strategy::Rollback {
            return rollback(source, f);
        }
        let conn = source.connection()?;
        self.clean(&*conn)?;
        f(&conn)
    }
}

/// Empties every table except migration bookkeeping with `strategy`: shorthand for
/// [`Cleaner::new(strategy).clean(source)`](Cleaner::clean).
pub fn clean<S: ConnectionSource + ?Sized>(source: &S, strategy: Strategy) -> Result<Vec<String>> {
    Cleaner::new(strategy).clean(source)
}

fn cycle_error(cycle: Cycle) -> Error {
    Error::InvalidArgument(format!(
        "the foreign keys between tables {} form a cycle, so no DELETE order empties them; \
         use Strategy::Truncate, or keep them",
        cycle.tables.join(", ")
    ))
}

fn delete_all(conn: &Conn, tables: &[String]) -> Result<()> {
    for table in tables {
        Statement::new("DELETE FROM ")
            .identifier(table)
            .execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn truncate_mysql(conn: &Conn, tables: &[&str]) -> Result<Vec<String>> {
    if conn.in_transaction() {
        return Err(Error::InvalidArgument(
            "Strategy::Truncate on MySQL commits the open transaction (TRUNCATE commits \
             implicitly): use Strategy::DeleteInFkOrder inside a transaction"
                .into(),
        ));
    }
    let checks: Vec<Flag> = conn.load(diesel::sql_query(
        "SELECT CAST(@@SESSION.foreign_key_checks AS SIGNED) AS n",
    ))?;
    let restore = if checks.first().is_some_and(|f| f.n == 0) {
        "SET FOREIGN_KEY_CHECKS = 0"
    } else {
        "SET FOREIGN_KEY_CHECKS = 1"
    };
    conn.batch_execute("SET FOREIGN_KEY_CHECKS = 0")?;
    let truncated = tables.iter().try_for_each(|table| {
        let sql = Statement::new("TRUNCATE TABLE ")
            .identifier(table)
            .render(BackendKind::Mysql)?;
        conn.batch_execute(&sql)
    });
    // Restored whatever happened, so the session does not go on without its checks.
    let restored = conn.batch_execute(restore);
    truncated?;
    restored?;
    Ok(tables.iter().map(|t| t.to_string()).collect())
}

fn truncate_sqlite(conn: &Conn, tables: &[&str], schema: &Schema) -> Result<Vec<String>> {
    let (order, cyclic) = match children_first(tables, &schema.foreign_keys) {
        Ok(order) => (order, false),
        Err(_) => (tables.iter().map(|t| t.to_string()).collect(), true),
    };
    let has_sequences = !conn
        .load::<Flag, _>(diesel::sql_query(
            "SELECT 1 AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
        ))?
        .is_empty();
    conn.transaction(|tx| {
        if cyclic {
            // Checked at commit instead, when every table of the cycle is empty.
            tx.batch_execute("PRAGMA defer_foreign_keys = ON")?;
        }
        delete_all(tx, &order)?;
        if has_sequences {
            let mut reset = Statement::new("DELETE FROM sqlite_sequence WHERE name IN (");
            for (i, table) in order.iter().enumerate() {
                if i > 0 {
                    reset = reset.sql(", ");
                }
                reset = reset.bind(table.as_str());
            }
            reset.sql(")").execute(tx)?;
        }
        if cyclic {
            tx.batch_execute("PRAGMA defer_foreign_keys = OFF")?;
        }
        Ok(order)
    })
}
