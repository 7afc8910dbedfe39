//! `pk IN (?, ?, ...)` over a model's primary key, as a Diesel expression.
//!
//! Diesel's own `eq_any` names its right-hand side through a projection that generic code
//! cannot name or normalise reliably; this plain struct keeps the bounds of the blanket
//! operations simple. An empty list renders `1=0`, like Diesel's.

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType};
use diesel::QueryResult;

use crate::model::Model;

/// `primary_key IN (ids...)` for model `M`.
pub struct KeyIn<M: Model> {
    key: M::PrimaryKey,
    ids: Vec<M::Id>,
}

impl<M: Model> KeyIn<M> {
    /// The predicate matching rows whose key is in `ids`.
    pub fn new(ids: Vec<M::Id>) -> Self {
        KeyIn {
            key: M::PrimaryKey::default(),
            ids,
        }
    }
}

impl<M: Model> Expression for KeyIn<M> {
    type SqlType = Bool;
}

impl<M: Model> ValidGrouping<()> for KeyIn<M> {
    type IsAggregate = is_aggregate::No;
}

impl<M: Model, QS> AppearsOnTable<QS> for KeyIn<M> where M::PrimaryKey: AppearsOnTable<QS> {}

impl<M: Model> QueryId for KeyIn<M> {
    type QueryId = ();
    // The number of binds varies with the list, so the statement text does too.
    const HAS_STATIC_QUERY_ID: bool = false;
}

type PkType<M> = <<M as Model>::PrimaryKey as Expression>::SqlType;

impl<M, DB> QueryFragment<DB> for KeyIn<M>
where
    M: Model,
    DB: Backend + HasSqlType<PkType<M>>,
    M::PrimaryKey: QueryFragment<DB>,
    M::Id: ToSql<PkType<M>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.ids.is_empty() {
            out.push_sql("1=0");
            return Ok(());
        }
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, id) in self.ids.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<PkType<M>, M::Id>(id)?;
        }
        out.push_sql(")");
        Ok(())
    }
}
