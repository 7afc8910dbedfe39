//! Relations between models: the foreign key that `#[kysera(belongs_to(Parent))]` declares.
//!
//! One trait carries every relation. `Post: BelongsTo<User>` says that each post refers to one
//! user through a foreign-key column; the other directions are read off the same impl:
//!
//! | relation | load with | one statement per level |
//! |---|---|---|
//! | belongs to (post → author) | [`Repo::parents_of`] | `users WHERE id IN (..)` |
//! | has many (user → posts) | [`Repo::children_of`] | `posts WHERE author_id IN (..)` |
//! | has one (user → profile) | [`Repo::child_of`] | `profiles WHERE user_id IN (..)` |
//! | many to many (post → tags) | [`Repo::through`] | `post_tags WHERE post_id IN (..)`, then `tags WHERE id IN (..)` |
//!
//! Loading is batched the way a DataLoader batches: given the parents of one level, a loader
//! reads the related rows of all of them with one statement (keys chunked by 10,000), then
//! groups them back to the parents, in the parents' order. Nested levels cost one statement
//! each, whatever the number of parents: users → posts → comments is three statements. Each
//! load goes through the related model's repository, so its scope applies (no soft-deleted
//! child appears) and so do its plugins.
//!
//! [`Repo::parents_of`]: crate::Repo::parents_of
//! [`Repo::children_of`]: crate::Repo::children_of
//! [`Repo::child_of`]: crate::Repo::child_of
//! [`Repo::through`]: crate::Repo::through

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::QueryResult;

use crate::error::Result;
use crate::filter::{ErasedBackend, IntoPredicate, Predicate};
use crate::model::Model;

/// `Self` refers to one `P` through a foreign-key column holding `P`'s primary key.
///
/// Implemented by `#[kysera(belongs_to(P))]` (foreign key `p_id`, or
/// `belongs_to(P, foreign_key = "author_id")`). The foreign key's Rust type is `P`'s key type,
/// or an `Option` of it for an optional relation. A model can belong to a given parent model
/// once; a second relation to the same model (a message's sender and recipient) is a filter on
/// its own column.
pub trait BelongsTo<P: Model>: Model {
    /// The foreign-key column's name in the database.
    const FOREIGN_KEY: &'static str;

    /// The key of the parent this row refers to; `None` when the foreign key is NULL.
    fn parent_id(&self) -> Option<P::Id>;

    /// `foreign_key IN (ids)`, typed with the column's SQL type.
    fn referencing(ids: Vec<P::Id>) -> Result<Predicate>;
}

/// A filter on `M` through a relation, built by [`Repo::where_parent`] or
/// [`Repo::where_children`]: `M`'s rows whose related rows match a filter, within the related
/// model's own scope (a soft-deleted parent or child never makes a row match).
///
/// [`Repo::where_parent`]: crate::Repo::where_parent
/// [`Repo::where_children`]: crate::Repo::where_children
#[derive(Debug, Clone)]
pub struct RelatedFilter<M> {
    predicate: Predicate,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> IntoPredicate<M> for RelatedFilter<M> {
    fn into_predicate(self) -> Result<Predicate> {
        Ok(self.predicate)
    }
}

impl<M> RelatedFilter<M> {
    /// `outer_table.outer_column IN (SELECT table.column FROM table WHERE <inner>)`.
    pub(crate) fn in_subquery(
        outer: (&'static str, &'static str),
        inner: (&'static str, &'static str),
        condition: Predicate,
    ) -> Self {
        let fragment = InSubquery {
            outer,
            inner,
            condition,
        };
        RelatedFilter {
            predicate: Predicate(std::sync::Arc::new(fragment)),
            model: PhantomData,
        }
    }
}

/// The SQL of a [`RelatedFilter`]. Identifiers are the models' own (derive-checked) names,
/// quoted by the backend; the inner condition is the related repository's `WHERE`, whose scope
/// columns, unqualified, resolve to the subquery's table.
struct InSubquery {
    outer: (&'static str, &'static str),
    inner: (&'static str, &'static str),
    condition: Predicate,
}

impl<DB: Backend + ErasedBackend> QueryFragment<DB> for InSubquery {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_identifier(self.outer.0)?;
        out.push_sql(".");
        out.push_identifier(self.outer.1)?;
        out.push_sql(" IN (SELECT ");
        out.push_identifier(self.inner.0)?;
        out.push_sql(".");
        out.push_identifier(self.inner.1)?;
        out.push_sql(" FROM ");
        out.push_identifier(self.inner.0)?;
        out.push_sql(" WHERE ");
        DB::walk_erased(&*self.condition.0, out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}
