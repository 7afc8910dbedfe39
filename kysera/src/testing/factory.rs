//! [`Factory`]: valid Create structs (`NewUser`...) from a sequence number, with overrides.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Result;
use crate::model::Model;
use crate::ops::Writable;
use crate::repository::Repo;

type Build<N> = dyn Fn(u64) -> N + Send + Sync;

/// Builds Create structs from a sequence number, so every value is distinct (unique emails,
/// names...) and valid, and writes them through a repository.
///
/// The sequence starts at 1 and belongs to the factory: every built value takes the next
/// number, atomically, so a factory shared between threads (in a `static`, behind an `Arc`)
/// never hands out a number twice. Values created through [`Factory::create`] go through the
/// repository like any other write: validation, timestamps, audit and plugins apply.
///
/// ```
/// use kysera::prelude::*;
/// use kysera::testing::Factory;
///
/// #[derive(Repository, Debug, Clone, PartialEq)]
/// #[kysera(table = "users")]
/// pub struct User {
///     #[kysera(primary_key, generated)]
///     pub id: i64,
///     #[kysera(validate(email))]
///     pub email: String,
///     pub admin: bool,
/// }
///
/// # fn main() -> kysera::Result<()> {
/// let users_factory = Factory::new(|n| NewUser { email: format!("user{n}@example.com"), admin: false });
/// assert_eq!(users_factory.build().email, "user1@example.com");
/// let admin = users_factory.build_with(|u| u.admin = true);
/// assert_eq!((admin.email.as_str(), admin.admin), ("user2@example.com", true));
///
/// let conn = Conn::establish("sqlite::memory:")?;
/// conn.batch_execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, admin BOOLEAN NOT NULL)")?;
/// let users = conn.repo::<User>();
/// let created = users_factory.create_many(&users, 3)?;
/// assert_eq!(created[2].email, "user5@example.com");
/// assert_eq!(users.count()?, 3);
/// # Ok(()) }
/// ```
pub struct Factory<N> {
    build: Box<Build<N>>,
    next: AtomicU64,
}

impl<N> std::fmt::Debug for Factory<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factory")
            .field("builds", &std::any::type_name::<N>())
            .field("next", &self.next.load(Ordering::Relaxed))
            .finish()
    }
}

impl<N> Factory<N> {
    /// A factory building each value with `build(sequence_number)`, numbers from 1.
    pub fn new(build: impl Fn(u64) -> N + Send + Sync + 'static) -> Self {
        Factory {
            build: Box::new(build),
            next: AtomicU64::new(1),
        }
    }

    /// The same factory with its sequence starting at `first`.
    pub fn starting_at(self, first: u64) -> Self {
        self.next.store(first, Ordering::Relaxed);
        self
    }

    /// The number the next value will get.
    pub fn peek_sequence(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// Starts the sequence at 1 again (values built afterwards repeat earlier ones).
    pub fn reset(&self) {
        self.next.store(1, Ordering::Relaxed);
    }

    fn take_sequence(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// The next value.
    pub fn build(&self) -> N {
        (self.build)(self.take_sequence())
    }

    /// The next value, changed by `overrides` (set the fields a test cares about).
    pub fn build_with(&self, overrides: impl FnOnce(&mut N)) -> N {
        let mut value = self.build();
        overrides(&mut value);
        value
    }

    /// The next `count` values.
    pub fn build_many(&self, count: usize) -> Vec<N> {
        (0..count).map(|_| self.build()).collect()
    }

    /// The next `count` values, each changed by `overrides(index, &mut value)` (index from 0).
    pub fn build_many_with(
        &self,
        count: usize,
        mut overrides: impl FnMut(usize, &mut N),
    ) -> Vec<N> {
        (0..count)
            .map(|i| {
                let mut value = self.build();
                overrides(i, &mut value);
                value
            })
            .collect()
    }

    /// Builds the next value and creates it through `repo` ([`Repo::create`]).
    pub fn create<M>(&self, repo: &Repo<'_, M>) -> Result<M>
    where
        M: Model<New = N> + for<'a> Writable<'a>,
    {
        repo.create(&self.build())
    }

    /// Builds the next value, applies `overrides`, and creates it through `repo`.
    pub fn create_with<M>(&self, repo: &Repo<'_, M>, overrides: impl FnOnce(&mut N)) -> Result<M>
    where
        M: Model<New = N> + for<'a> Writable<'a>,
    {
        repo.create(&self.build_with(overrides))
    }

    /// Builds the next `count` values and creates them through `repo` in one
    /// [`Repo::create_many`] (one transaction, multi-row inserts).
    pub fn create_many<M>(&self, repo: &Repo<'_, M>, count: usize) -> Result<Vec<M>>
    where
        M: Model<New = N> + for<'a> Writable<'a>,
    {
        repo.create_many(&self.build_many(count))
    }
}
