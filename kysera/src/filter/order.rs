//! Orderings: typed Diesel orderings (`posts::created_at.desc()`) or columns named at run
//! time, checked against the model. The primary key always ends the ordering, so pages are
//! stable when the named columns tie.

use std::marker::PhantomData;
use std::sync::Arc;

use diesel::backend::Backend;
use diesel::expression::{expression_types::NotSelectable, is_aggregate, AppearsOnTable};
use diesel::expression::{Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

use super::fragment::{AnyFragment, ErasedBackend};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::pagination::Direction;

/// One term of an ordering.
#[derive(Clone)]
pub struct OrderTerm(Arc<dyn AnyFragment>);

impl std::fmt::Debug for OrderTerm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderTerm")
    }
}

/// A column of the model named at run time, with a direction.
struct ColumnOrder {
    column: &'static str,
    direction: Direction,
}

impl<DB: Backend> QueryFragment<DB> for ColumnOrder {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_identifier(self.column)?;
        out.push_sql(match self.direction {
            Direction::Asc => " ASC",
            Direction::Desc => " DESC",
        });
        Ok(())
    }
}

impl OrderTerm {
    /// The column named `column` of `M`, checked.
    pub fn column<M: Model>(column: &str, direction: Direction) -> Result<OrderTerm> {
        let info = super::column_of::<M>(column)?;
        Ok(OrderTerm(Arc::new(ColumnOrder {
            column: info.column,
            direction,
        })))
    }

    /// Reads `"-created_at,title"`: columns separated by commas, `-` for descending.
    pub fn parse<M: Model>(text: &str) -> Result<Vec<OrderTerm>> {
        text.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| match t.strip_prefix('-') {
                Some(column) => OrderTerm::column::<M>(column.trim(), Direction::Desc),
                None => OrderTerm::column::<M>(t.strip_prefix('+').unwrap_or(t), Direction::Asc),
            })
            .collect::<Result<Vec<_>>>()
            .and_then(|terms| {
                if terms.is_empty() && !text.trim().is_empty() {
                    Err(Error::InvalidArgument(format!("`{text}` names no column")))
                } else {
                    Ok(terms)
                }
            })
    }
}

/// Something a repository of `M` accepts as an ordering term: a Diesel ordering on `M`'s
/// table (`posts::created_at.desc()`, a bare column), or an [`OrderTerm`].
pub trait IntoOrder<M: Model> {
    /// The term.
    fn into_order(self) -> OrderTerm;
}

impl<M, E> IntoOrder<M> for E
where
    M: Model,
    E: Expression + AppearsOnTable<M::Table> + AnyFragment + 'static,
{
    fn into_order(self) -> OrderTerm {
        OrderTerm(Arc::new(self))
    }
}

impl<M: Model> IntoOrder<M> for OrderTerm {
    fn into_order(self) -> OrderTerm {
        self
    }
}

/// `ORDER BY <terms>, <primary key>` as a Diesel expression for `.order(...)`.
pub struct OrderBy<M: Model> {
    terms: Vec<OrderTerm>,
    key: M::PrimaryKey,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for OrderBy<M> {
    fn clone(&self) -> Self {
        OrderBy::new(self.terms.clone())
    }
}

impl<M: Model> OrderBy<M> {
    /// The ordering by `terms`, then by key.
    pub fn new(terms: Vec<OrderTerm>) -> Self {
        OrderBy {
            terms,
            key: M::PrimaryKey::default(),
            model: PhantomData,
        }
    }
}

impl<M: Model> Expression for OrderBy<M> {
    type SqlType = NotSelectable;
}

impl<M: Model> ValidGrouping<()> for OrderBy<M> {
    type IsAggregate = is_aggregate::No;
}

impl<M: Model, QS> AppearsOnTable<QS> for OrderBy<M> where M::PrimaryKey: AppearsOnTable<QS> {}

impl<M: Model> QueryId for OrderBy<M> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<M, DB> QueryFragment<DB> for OrderBy<M>
where
    M: Model,
    DB: ErasedBackend,
    M::PrimaryKey: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for term in &self.terms {
            DB::walk_erased(&*term.0, out.reborrow())?;
            out.push_sql(", ");
        }
        self.key.walk_ast(out.reborrow())
    }
}
