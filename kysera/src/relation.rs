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

use crate::error::Result;
use crate::filter::Predicate;
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
