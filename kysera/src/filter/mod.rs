//! Filters and orderings for repository reads and bulk writes.
//!
//! Two kinds of filter reach a repository, and both become a [`Predicate`]:
//!
//! - **Typed**: any Diesel boolean expression on the model's table, as it is
//!   (`posts::author_id.eq(7).and(posts::published.eq(true))`). Diesel's DSL is the typed
//!   where-builder: columns, types and operators are checked by the compiler.
//! - **Run-time**: a [`Filter`] naming columns by string, for filters that arrive as data (a
//!   query string, the CLI). It is checked against the model's columns when used: an unknown
//!   column is [`Error::UnknownColumn`](crate::Error::UnknownColumn), a value that does not
//!   fit its column (text for an integer) is [`Error::InvalidFilter`](crate::Error::InvalidFilter),
//!   never SQL text.
//!
//! The repository's scopes (soft delete, tenant plugins) always apply on top.

mod checked;
mod fragment;
mod json;
mod order;
mod runtime;

use std::sync::Arc;

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::sql_types::BoolOrNullableBool;

pub use crate::pagination::Direction;
pub use fragment::{AnyFragment, ErasedBackend, MysqlFragment, PgFragment, SqliteFragment};
pub use order::{IntoOrder, OrderBy, OrderTerm};
pub use runtime::{Comparison, Filter, TextMatch};

use crate::error::Result;
use crate::model::Model;

/// A filter ready to render on any enabled backend.
#[derive(Clone)]
pub struct Predicate(pub(crate) Arc<dyn AnyFragment>);

impl std::fmt::Debug for Predicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Predicate")
    }
}

/// Something a repository of `M` accepts as a filter: a Diesel boolean expression on `M`'s
/// table, or a run-time [`Filter`] (checked against `M`'s columns).
pub trait IntoPredicate<M: Model> {
    /// The predicate, or why the filter does not fit `M`.
    fn into_predicate(self) -> Result<Predicate>;
}

impl<M, E> IntoPredicate<M> for E
where
    M: Model,
    E: Expression
        + AppearsOnTable<M::Table>
        + ValidGrouping<(), IsAggregate = diesel::expression::is_aggregate::No>,
    E::SqlType: BoolOrNullableBool,
    E: AnyFragment + 'static,
{
    fn into_predicate(self) -> Result<Predicate> {
        Ok(Predicate(Arc::new(self)))
    }
}

impl<M: Model> IntoPredicate<M> for Filter {
    fn into_predicate(self) -> Result<Predicate> {
        self.predicate_for::<M>()
    }
}

impl<M: Model> IntoPredicate<M> for &Filter {
    fn into_predicate(self) -> Result<Predicate> {
        self.predicate_for::<M>()
    }
}

impl Filter {
    /// This filter checked against the columns of `M`.
    fn predicate_for<M: Model>(&self) -> Result<Predicate> {
        Ok(Predicate(Arc::new(checked::Checked::new::<M>(self)?)))
    }
}

pub(crate) use checked::column_of;
