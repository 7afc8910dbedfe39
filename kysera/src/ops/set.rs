//! `UPDATE table SET col = ?, ... WHERE <scope and keys>`: the writes of soft delete, restore
//! and touch, whose columns are named at run time.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Double, HasSqlType, Text, Timestamp};
use diesel::{Expression, QueryResult, RunQueryDsl};

use crate::model::Model;
use crate::scope::Where;

/// A value assigned by [`SetWhere`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetValue {
    /// A UTC timestamp.
    At(NaiveDateTime),
    /// SQL NULL.
    Null,
}

/// `UPDATE <table> SET <assignments> WHERE <predicate> [RETURNING <model columns>]`.
pub struct SetWhere<M: Model> {
    assignments: Vec<(&'static str, SetValue)>,
    predicate: Where<M>,
    returning: Option<M::Selection>,
}

impl<M: Model> SetWhere<M> {
    /// The statement; `returning` adds `RETURNING` of the model's columns.
    pub fn new(
        assignments: Vec<(&'static str, SetValue)>,
        predicate: Where<M>,
        returning: bool,
    ) -> Self {
        SetWhere {
            assignments,
            predicate,
            returning: returning.then(M::Selection::default),
        }
    }
}

impl<M: Model> QueryId for SetWhere<M> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<M: Model> Query for SetWhere<M> {
    type SqlType = <M::Selection as Expression>::SqlType;
}

impl<M: Model, C> RunQueryDsl<C> for SetWhere<M> {}

impl<M, DB> QueryFragment<DB> for SetWhere<M>
where
    M: Model,
    DB: Backend + HasSqlType<Timestamp>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    Where<M>: QueryFragment<DB>,
    M::Selection: QueryFragment<DB>,
    DB: HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Bool>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("UPDATE ");
        out.push_identifier(M::TABLE_NAME)?;
        out.push_sql(" SET ");
        for (i, (column, value)) in self.assignments.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(column)?;
            out.push_sql(" = ");
            match value {
                SetValue::At(at) => out.push_bind_param::<Timestamp, NaiveDateTime>(at)?,
                SetValue::Null => out.push_sql("NULL"),
            }
        }
        out.push_sql(" WHERE ");
        self.predicate.walk_ast(out.reborrow())?;
        if let Some(selection) = &self.returning {
            out.push_sql(" RETURNING ");
            selection.walk_ast(out.reborrow())?;
        }
        Ok(())
    }
}
