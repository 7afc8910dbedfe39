//! [`Plugin`]: user-written behaviour that runs around every repository write and read.
//!
//! Plugins are registered on a [`Database`](crate::Database) (or a [`Conn`](crate::Conn))
//! and apply, in registration order, to every repository made from it, inside a transaction
//! exactly as outside one. A single call can leave one out by name with
//! [`Repo::without_plugins`](crate::Repo::without_plugins).

use std::time::Duration;

use crate::audit::Operation;

/// The plugins of a database or connection, in registration order.
pub(crate) type Plugins = std::sync::Arc<[std::sync::Arc<dyn Plugin>]>;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::json::JsonMap;
use crate::model::ColumnInfo;
use crate::scope::Condition;

/// A write about to happen, as plugins see it.
#[derive(Debug)]
pub struct BeforeWrite<'a> {
    /// The table written to.
    pub table: &'static str,
    /// The model's columns.
    pub columns: &'static [ColumnInfo],
    /// What kind of write.
    pub operation: Operation,
    /// The connection's context.
    pub context: &'a Context,
    /// The values written, keyed by column: one map per inserted row, or the patch of an
    /// update (only the columns it sets; one map per row for `bulk_update`). Empty for
    /// deletes and restores. Plugins may change them; the changed values are validated again.
    pub values: &'a mut Vec<JsonMap>,
}

/// A write that happened, as plugins see it.
#[derive(Debug)]
pub struct AfterWrite<'a> {
    /// The table written to.
    pub table: &'static str,
    /// What kind of write.
    pub operation: Operation,
    /// The connection's context.
    pub context: &'a Context,
    /// The rows as stored afterwards, keyed by column (as they were, for hard deletes).
    pub rows: &'a [JsonMap],
}

/// A read about to happen, as plugins see it.
#[derive(Debug)]
pub struct ReadScope<'a> {
    /// The table read.
    pub table: &'static str,
    /// The model's columns.
    pub columns: &'static [ColumnInfo],
    /// The connection's context.
    pub context: &'a Context,
}

impl ReadScope<'_> {
    /// True when the model has a column named `column`.
    pub fn has_column(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.column == column)
    }
}

/// An executed statement, as plugins see it.
#[derive(Debug)]
pub struct QueryEvent<'a> {
    /// The SQL, with placeholders.
    pub sql: &'a str,
    /// How long it took.
    pub duration: Duration,
    /// The error, if it failed.
    pub error: Option<&'a str>,
}

/// Behaviour added to repositories without changing kysera. Every hook has a default that
/// does nothing.
///
/// ```
/// use kysera::plugin::{BeforeWrite, Plugin};
///
/// /// Refuses writes outside office hours... or, here, writes to the `ledger` table.
/// struct ReadOnlyLedger;
/// impl Plugin for ReadOnlyLedger {
///     fn name(&self) -> &str { "read-only-ledger" }
///     fn before_write(&self, write: &mut BeforeWrite<'_>) -> kysera::Result<()> {
///         if write.table == "ledger" {
///             return Err(kysera::Error::plugin(self.name(), "the ledger is append-only"));
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// Unique name, used to turn the plugin off for one call.
    fn name(&self) -> &str;

    /// Runs before a write: may change the values or refuse with an error.
    fn before_write(&self, write: &mut BeforeWrite<'_>) -> Result<()> {
        let _ = write;
        Ok(())
    }

    /// Runs after a write, in the same transaction: an error rolls the write back.
    fn after_write(&self, write: &AfterWrite<'_>) -> Result<()> {
        let _ = write;
        Ok(())
    }

    /// Conditions added to every read of the repository (and to the rows writes may touch).
    fn read_scope(&self, read: &ReadScope<'_>) -> Vec<Condition> {
        let _ = read;
        Vec::new()
    }

    /// Observes every statement run through a connection that has this plugin.
    fn on_query(&self, query: &QueryEvent<'_>) {
        let _ = query;
    }

    /// Observes every error a repository operation returns.
    fn on_error(&self, table: &'static str, error: &Error) {
        let _ = (table, error);
    }
}
