//! Read scopes: the conditions every read of a repository carries (soft delete, plugin
//! scopes such as a tenant filter), combined with the key condition of one operation into a
//! single `WHERE` predicate.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Double, HasSqlType, Text};
use diesel::QueryResult;
use serde_json::Value;

use crate::filter::{ErasedBackend, Predicate};
use crate::model::Model;

/// One condition on a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `column IS NULL`.
    IsNull(String),
    /// `column IS NOT NULL`.
    IsNotNull(String),
    /// `column = value` (`IS NULL` for [`ScopeValue::Null`]).
    Eq(String, ScopeValue),
    /// Matches no row (`1=0`): a scope that cannot be satisfied, such as a tenant filter
    /// without a current tenant.
    Never,
}

impl Condition {
    /// `column = value`.
    pub fn eq(column: impl Into<String>, value: impl Into<ScopeValue>) -> Self {
        Condition::Eq(column.into(), value.into())
    }
}

/// A value a scope compares a column with. Integers bind as `BIGINT`, floats as `DOUBLE`.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeValue {
    /// SQL NULL (the condition becomes `IS NULL`).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

macro_rules! scope_value_from {
    ($($t:ty => $variant:ident $(as $cast:ty)?),*) => {$(
        impl From<$t> for ScopeValue {
            fn from(v: $t) -> Self {
                ScopeValue::$variant(v $(as $cast)?)
            }
        }
    )*};
}
scope_value_from!(bool => Bool, i16 => Int as i64, i32 => Int as i64, i64 => Int, u16 => Int as i64,
    u32 => Int as i64, f32 => Float as f64, f64 => Float, String => Text);

impl From<&str> for ScopeValue {
    fn from(v: &str) -> Self {
        ScopeValue::Text(v.to_string())
    }
}

impl TryFrom<&Value> for ScopeValue {
    type Error = crate::Error;
    fn try_from(value: &Value) -> crate::Result<Self> {
        Ok(match value {
            Value::Null => ScopeValue::Null,
            Value::Bool(b) => ScopeValue::Bool(*b),
            Value::String(s) => ScopeValue::Text(s.clone()),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ScopeValue::Int(i),
                None => ScopeValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Array(_) | Value::Object(_) => {
                return Err(crate::Error::InvalidArgument(
                    "a scope compares a column with a scalar, not an array or object".into(),
                ))
            }
        })
    }
}

/// The conditions every read of one repository call carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    conditions: Vec<Condition>,
}

impl Scope {
    /// Adds a condition.
    pub fn push(&mut self, condition: Condition) {
        self.conditions.push(condition);
    }

    /// True when reads are not restricted.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// The conditions, in the order added.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// How many bind parameters the conditions take.
    pub fn bind_count(&self) -> usize {
        self.conditions
            .iter()
            .filter(|c| matches!(c, Condition::Eq(_, value) if *value != ScopeValue::Null))
            .count()
    }
}

/// Which rows of the key column an operation addresses.
pub enum Keys<M: Model> {
    /// Every row in scope.
    All,
    /// One key.
    One(M::Id),
    /// Several keys (an empty list matches nothing).
    Many(Vec<M::Id>),
    /// Keys greater than this one: the next stretch of a walk in key order.
    After(M::Id),
}

impl<M: Model> Clone for Keys<M> {
    fn clone(&self) -> Self {
        match self {
            Keys::All => Keys::All,
            Keys::One(id) => Keys::One(id.clone()),
            Keys::Many(ids) => Keys::Many(ids.clone()),
            Keys::After(id) => Keys::After(id.clone()),
        }
    }
}

/// `<scope conditions> AND <key condition> AND <filters>`, as one Diesel expression.
pub struct Where<M: Model> {
    scope: Scope,
    keys: Keys<M>,
    filters: Vec<Predicate>,
    key: M::PrimaryKey,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Where<M> {
    /// The predicate for `keys` within `scope`.
    pub fn new(scope: Scope, keys: Keys<M>) -> Self {
        Where {
            scope,
            keys,
            filters: Vec::new(),
            key: M::PrimaryKey::default(),
            model: PhantomData,
        }
    }

    /// The same predicate also requiring every one of `filters`.
    pub fn filtered(mut self, filters: &[Predicate]) -> Self {
        self.filters.extend(filters.iter().cloned());
        self
    }

    /// True when the predicate restricts rows beyond its keys (a scope or a filter).
    pub fn has_conditions(&self) -> bool {
        !self.scope.is_empty() || !self.filters.is_empty()
    }

    /// The key condition.
    pub fn keys(&self) -> &Keys<M> {
        &self.keys
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

impl<M: Model> Expression for Where<M> {
    type SqlType = Bool;
}

impl<M: Model> ValidGrouping<()> for Where<M> {
    type IsAggregate = is_aggregate::No;
}

impl<M: Model, QS> AppearsOnTable<QS> for Where<M> where M::PrimaryKey: AppearsOnTable<QS> {}

impl<M: Model> QueryId for Where<M> {
    type QueryId = ();
    // Conditions and key lists vary at run time.
    const HAS_STATIC_QUERY_ID: bool = false;
}

type PkType<M> = <<M as Model>::PrimaryKey as Expression>::SqlType;

impl<M, DB> QueryFragment<DB> for Where<M>
where
    M: Model,
    DB: Backend + HasSqlType<PkType<M>>,
    DB: HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Bool>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    String: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
    M::PrimaryKey: QueryFragment<DB>,
    M::Id: ToSql<PkType<M>, DB>,
    DB: ErasedBackend,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(");
        let mut first = true;
        for condition in &self.scope.conditions {
            if !first {
                out.push_sql(" AND ");
            }
            first = false;
            walk_condition(condition, &mut out)?;
        }
        match &self.keys {
            Keys::All => {
                if first {
                    out.push_sql("1=1");
                }
            }
            Keys::One(id) => {
                if !first {
                    out.push_sql(" AND ");
                }
                self.key.walk_ast(out.reborrow())?;
                out.push_sql(" = ");
                out.push_bind_param::<PkType<M>, M::Id>(id)?;
            }
            Keys::After(id) => {
                if !first {
                    out.push_sql(" AND ");
                }
                self.key.walk_ast(out.reborrow())?;
                out.push_sql(" > ");
                out.push_bind_param::<PkType<M>, M::Id>(id)?;
            }
            Keys::Many(ids) => {
                if !first {
                    out.push_sql(" AND ");
                }
                if ids.is_empty() {
                    out.push_sql("1=0");
                } else {
                    self.key.walk_ast(out.reborrow())?;
                    out.push_sql(" IN (");
                    for (i, id) in ids.iter().enumerate() {
                        if i > 0 {
                            out.push_sql(", ");
                        }
                        out.push_bind_param::<PkType<M>, M::Id>(id)?;
                    }
                    out.push_sql(")");
                }
            }
        }
        for filter in &self.filters {
            out.push_sql(" AND (");
            DB::walk_erased(&*filter.0, out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(")");
        Ok(())
    }
}

fn walk_condition<'b, DB>(
    condition: &'b Condition,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Bool>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    String: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
{
    match condition {
        Condition::IsNull(column) | Condition::Eq(column, ScopeValue::Null) => {
            out.push_identifier(column)?;
            out.push_sql(" IS NULL");
        }
        Condition::IsNotNull(column) => {
            out.push_identifier(column)?;
            out.push_sql(" IS NOT NULL");
        }
        Condition::Never => out.push_sql("1=0"),
        Condition::Eq(column, value) => {
            out.push_identifier(column)?;
            out.push_sql(" = ");
            push_value(value, out)?;
        }
    }
    Ok(())
}

/// Binds a scalar with the SQL type matching its kind.
pub(crate) fn push_value<'b, DB>(
    value: &'b ScopeValue,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Double> + HasSqlType<Text> + HasSqlType<Bool>,
    i64: ToSql<BigInt, DB>,
    f64: ToSql<Double, DB>,
    String: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
{
    match value {
        ScopeValue::Bool(b) => out.push_bind_param::<Bool, bool>(b),
        ScopeValue::Text(s) => out.push_bind_param::<Text, String>(s),
        ScopeValue::Int(i) => out.push_bind_param::<BigInt, i64>(i),
        ScopeValue::Float(f) => out.push_bind_param::<Double, f64>(f),
        ScopeValue::Null => {
            out.push_sql("NULL");
            Ok(())
        }
    }
}
