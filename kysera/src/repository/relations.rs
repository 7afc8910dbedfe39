//! Batched relation loading (see [`crate::relation`]): one statement per relation level,
//! grouped back to the parents in their order.

use std::collections::HashMap;

#[allow(unused_imports)]
use super::*;
use crate::filter::AnyFragment;
use crate::relation::{BelongsTo, RelatedFilter};

impl<'c, M: Supported> Repo<'c, M> {
    /// The children of each parent (has many): `result[i]` holds the rows of `M` whose foreign
    /// key refers to the `i`-th parent, ordered by key. One statement for all the parents
    /// (keys chunked by 10,000); this repository's scope and plugins apply.
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "users")]
    /// # pub struct User { #[kysera(primary_key, generated)] pub id: i64, pub name: String }
    /// #[derive(Repository, Debug, Clone, PartialEq)]
    /// #[kysera(table = "posts", belongs_to(User, foreign_key = "author_id"))]
    /// pub struct Post { #[kysera(primary_key, generated)] pub id: i64, pub author_id: i64, pub title: String }
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    /// #   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
    /// #   INSERT INTO users (id, name) VALUES (1, 'Ada'), (2, 'Bo');
    /// #   INSERT INTO posts (author_id, title) VALUES (1, 'a'), (1, 'b')")?;
    /// let users = conn.repo::<User>().find_all()?;
    /// let posts = conn.repo::<Post>().children_of(&users)?;
    /// assert_eq!(posts[0].len(), 2); // Ada's
    /// assert!(posts[1].is_empty()); // Bo's
    /// # Ok(()) }
    /// ```
    pub fn children_of<'p, P>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
    ) -> Result<Vec<Vec<M>>>
    where
        P: Model + 'p,
        M: BelongsTo<P> + Clone,
    {
        self.children_of_where(parents, Find::new())
    }

    /// [`Repo::children_of`], keeping only the children `find` selects, in its order (then by
    /// key). `find` must have no limit or offset: they would apply to all the parents at once.
    pub fn children_of_where<'p, P>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
        find: Find<M>,
    ) -> Result<Vec<Vec<M>>>
    where
        P: Model + 'p,
        M: BelongsTo<P> + Clone,
    {
        let find = no_page(find)?;
        let parent_ids: Vec<P::Id> = parents.into_iter().map(Model::id).collect();
        let mut groups: HashMap<P::Id, Vec<M>> = HashMap::with_capacity(parent_ids.len());
        for chunk in unique(&parent_ids).chunks(IDS_PER_STATEMENT) {
            let referencing = M::referencing(chunk.to_vec())?;
            for row in self.load_find_and(&find, Keys::All, Some(referencing), None, true)? {
                if let Some(parent) = row.parent_id() {
                    groups.entry(parent).or_default().push(row);
                }
            }
        }
        if !find.is_ordered() {
            // Key order without an ORDER BY: the database sorts nothing, and each group,
            // read through the foreign key's index, is usually in key order already.
            for group in groups.values_mut() {
                if !group.is_sorted_by_key(Model::id) {
                    group.sort_by_cached_key(Model::id);
                }
            }
        }
        Ok(hand_out(&parent_ids, groups, Vec::new()))
    }

    /// The child of each parent (has one): the first row (by key) of `M` whose foreign key
    /// refers to it, or `None`. One statement for all the parents.
    pub fn child_of<'p, P>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
    ) -> Result<Vec<Option<M>>>
    where
        P: Model + 'p,
        M: BelongsTo<P> + Clone,
    {
        let children = self.children_of(parents)?;
        Ok(children.into_iter().map(|c| c.into_iter().next()).collect())
    }

    /// The parent of each child (belongs to): `result[i]` is the row of `M` the `i`-th child
    /// refers to, or `None` when its foreign key is NULL or the parent is out of this
    /// repository's scope (soft-deleted). One statement for all the children.
    pub fn parents_of<'a, C>(
        &self,
        children: impl IntoIterator<Item = &'a C>,
    ) -> Result<Vec<Option<M>>>
    where
        C: BelongsTo<M> + 'a,
        M: Clone,
    {
        let wanted: Vec<Option<M::Id>> = children.into_iter().map(BelongsTo::parent_id).collect();
        let ids: Vec<M::Id> = wanted.iter().flatten().cloned().collect();
        let rows = self.find_by_ids(&unique(&ids))?;
        let by_id: HashMap<M::Id, M> = rows.into_iter().map(|row| (row.id(), row)).collect();
        Ok(wanted
            .iter()
            .map(|id| id.as_ref().and_then(|id| by_id.get(id).cloned()))
            .collect())
    }

    /// The rows of `M` linked to each parent through the join model `J` (many to many:
    /// posts → `post_tags` → tags), ordered by `M`'s key. Two statements for all the parents:
    /// the join rows, then the linked rows; the scopes and plugins of both models apply.
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "posts")]
    /// # pub struct Post { #[kysera(primary_key, generated)] pub id: i64, pub title: String }
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "tags")]
    /// # pub struct Tag { #[kysera(primary_key, generated)] pub id: i64, pub name: String }
    /// #[derive(Repository, Debug, Clone, PartialEq)]
    /// #[kysera(table = "post_tags", belongs_to(Post), belongs_to(Tag))]
    /// pub struct PostTag { #[kysera(primary_key, generated)] pub id: i64, pub post_id: i64, pub tag_id: i64 }
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
    /// #   CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    /// #   CREATE TABLE post_tags (id INTEGER PRIMARY KEY, post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL);
    /// #   INSERT INTO posts (id, title) VALUES (1, 'a'), (2, 'b');
    /// #   INSERT INTO tags (id, name) VALUES (1, 'rust'), (2, 'sql');
    /// #   INSERT INTO post_tags (post_id, tag_id) VALUES (1, 2), (1, 1), (2, 2)")?;
    /// let posts = conn.repo::<Post>().find_all()?;
    /// let tags = conn.repo::<Tag>().through::<PostTag, _>(&posts)?;
    /// let names: Vec<Vec<&str>> = tags.iter().map(|t| t.iter().map(|t| t.name.as_str()).collect()).collect();
    /// assert_eq!(names, [vec!["rust", "sql"], vec!["sql"]]);
    /// # Ok(()) }
    /// ```
    pub fn through<'p, J, P>(&self, parents: impl IntoIterator<Item = &'p P>) -> Result<Vec<Vec<M>>>
    where
        P: Model + 'p,
        J: BelongsTo<P> + BelongsTo<M> + Supported + Clone,
        M: Clone,
    {
        self.through_where::<J, P>(parents, Find::new())
    }

    /// [`Repo::through`], keeping only the linked rows `find` selects, in its order (then by
    /// key). `find` must have no limit or offset. With more than 10,000 distinct linked rows
    /// the order holds within each batch of 10,000 keys.
    pub fn through_where<'p, J, P>(
        &self,
        parents: impl IntoIterator<Item = &'p P>,
        find: Find<M>,
    ) -> Result<Vec<Vec<M>>>
    where
        P: Model + 'p,
        J: BelongsTo<P> + BelongsTo<M> + Supported + Clone,
        M: Clone,
    {
        let find = no_page(find)?;
        let links = self.related::<J>().children_of::<P>(parents)?;
        let linked: Vec<M::Id> = links
            .iter()
            .flatten()
            .filter_map(<J as BelongsTo<M>>::parent_id)
            .collect();
        // Each linked row once, in `find`'s order; its rank orders every parent's list.
        let mut rows: Vec<M> = Vec::new();
        for chunk in unique(&linked).chunks(IDS_PER_STATEMENT) {
            rows.extend(self.load_find_and(
                &find,
                Keys::Many(chunk.to_vec()),
                None,
                None,
                false,
            )?);
        }
        let rank: HashMap<M::Id, usize> =
            rows.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
        Ok(links
            .iter()
            .map(|links| {
                let mut ranks: Vec<usize> = links
                    .iter()
                    .filter_map(|link| <J as BelongsTo<M>>::parent_id(link))
                    .filter_map(|id| rank.get(&id).copied())
                    .collect();
                ranks.sort_unstable();
                ranks.dedup();
                ranks.into_iter().map(|i| rows[i].clone()).collect()
            })
            .collect())
    }

    /// A filter on this model's rows whose parent (through `M: BelongsTo<P>`) matches
    /// `filter` within the parent repository's scope, for [`Find::filter`]: posts whose author
    /// is named Ada, and never those of a soft-deleted author. One statement with a subquery
    /// (`author_id IN (SELECT id FROM users WHERE <scope> AND <filter>)`).
    ///
    /// ```
    /// # use kysera::prelude::*;
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "users")]
    /// # #[soft_delete]
    /// # pub struct User { #[kysera(primary_key, generated)] pub id: i64, pub name: String, pub deleted_at: Option<chrono::NaiveDateTime> }
    /// # #[derive(Repository, Debug, Clone, PartialEq)]
    /// # #[kysera(table = "posts", belongs_to(User, foreign_key = "author_id"))]
    /// # pub struct Post { #[kysera(primary_key, generated)] pub id: i64, pub author_id: i64, pub title: String }
    /// use diesel::prelude::*;
    /// use kysera::Find;
    /// # fn main() -> kysera::Result<()> {
    /// # let conn = kysera::Conn::establish("sqlite::memory:")?;
    /// # conn.batch_execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, deleted_at TIMESTAMP);
    /// #   CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id BIGINT NOT NULL, title TEXT NOT NULL);
    /// #   INSERT INTO users (id, name) VALUES (1, 'Ada'), (2, 'Ada');
    /// #   INSERT INTO posts (author_id, title) VALUES (1, 'kept'), (2, 'by a deleted Ada')")?;
    /// # conn.repo::<User>().delete(2)?;
    /// let posts = conn.repo::<Post>();
    /// let by_ada = posts.where_parent::<User>(users::name.eq("Ada"))?;
    /// let found = posts.find(Find::new().filter(by_ada))?;
    /// assert_eq!(found.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["kept"]);
    /// # Ok(()) }
    /// ```
    pub fn where_parent<P>(&self, filter: impl IntoPredicate<P>) -> Result<RelatedFilter<M>>
    where
        P: Supported,
        M: BelongsTo<P>,
        Where<P>: AnyFragment + 'static,
    {
        let parents = self.related::<P>();
        let condition =
            Where::new(parents.scope(), Keys::All).filtered(&[filter.into_predicate()?]);
        Ok(RelatedFilter::in_subquery(
            (M::TABLE_NAME, <M as BelongsTo<P>>::FOREIGN_KEY),
            (P::TABLE_NAME, P::PRIMARY_KEY),
            Predicate(Arc::new(condition)),
        ))
    }

    /// A filter on this model's rows that have at least one child (through `C:
    /// BelongsTo<M>`) matching `filter` within the child repository's scope: users with a
    /// published post, never counting soft-deleted posts (`id IN (SELECT author_id FROM posts
    /// WHERE <scope> AND <filter>)`).
    pub fn where_children<C>(&self, filter: impl IntoPredicate<C>) -> Result<RelatedFilter<M>>
    where
        C: BelongsTo<M> + Supported,
        Where<C>: AnyFragment + 'static,
    {
        let children = self.related::<C>();
        let condition =
            Where::new(children.scope(), Keys::All).filtered(&[filter.into_predicate()?]);
        Ok(RelatedFilter::in_subquery(
            (M::TABLE_NAME, M::PRIMARY_KEY),
            (C::TABLE_NAME, <C as BelongsTo<M>>::FOREIGN_KEY),
            Predicate(Arc::new(condition)),
        ))
    }

    /// The repository of another model on the same connection, with this one's validation
    /// mode and skipped plugins (and the other model's own soft-delete scope): what the
    /// generated `load_<relation>` methods load through.
    pub fn related<N: Model>(&self) -> Repo<'c, N> {
        Repo {
            conn: self.conn,
            validation: self.validation,
            deleted: Deleted::Exclude,
            skip: self.skip,
            model: PhantomData,
        }
    }
}

/// Refuses a limit or offset: across a batch of parents it would cut some parents' rows.
fn no_page<M: Model>(find: Find<M>) -> Result<Find<M>> {
    let find = find.checked()?;
    if find.page().is_some() {
        return Err(Error::InvalidArgument(
            "a relation loads the related rows of every parent at once: a limit or offset \
             would apply to all the parents together, not to each; filter instead"
                .into(),
        ));
    }
    Ok(find)
}

/// The distinct keys of `ids`, sorted (so repeated loads bind the same lists).
fn unique<Id: Clone + Ord>(ids: &[Id]) -> Vec<Id> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    unique
}

/// Each parent's group, in the parents' order: moved out for a parent listed once, cloned for
/// one listed several times.
fn hand_out<Id, T>(parent_ids: &[Id], mut groups: HashMap<Id, T>, empty: T) -> Vec<T>
where
    Id: Eq + std::hash::Hash,
    T: Clone,
{
    let mut remaining: HashMap<&Id, usize> = HashMap::with_capacity(parent_ids.len());
    for id in parent_ids {
        *remaining.entry(id).or_default() += 1;
    }
    parent_ids
        .iter()
        .map(|id| {
            let left = remaining.get_mut(id).expect("counted above");
            *left -= 1;
            let group = if *left == 0 {
                groups.remove(id)
            } else {
                groups.get(id).cloned()
            };
            group.unwrap_or_else(|| empty.clone())
        })
        .collect()
}
