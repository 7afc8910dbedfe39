//! SQL fragments that render on every enabled backend, behind one object-safe trait.
//!
//! The repository picks the backend at run time, so a filter or an ordering handed to it
//! must be able to render for whichever backend the connection turns out to be. A typed Diesel
//! expression (`users::age.ge(18)`) already implements `QueryFragment` for each backend;
//! [`AnyFragment`] erases it into a trait object with one `walk` per backend, and
//! [`ErasedBackend`] picks the right one inside a generic `walk_ast`.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::QueryResult;

macro_rules! backend_fragment {
    ($feature:literal, $db:ty, $name:ident) => {
        #[doc = concat!("`QueryFragment` on the ", $feature, " backend (anything when it is disabled).")]
        #[cfg(feature = $feature)]
        pub trait $name: QueryFragment<$db> {}
        #[cfg(feature = $feature)]
        impl<T: QueryFragment<$db> + ?Sized> $name for T {}
        #[doc = concat!("`QueryFragment` on the ", $feature, " backend (anything when it is disabled).")]
        #[cfg(not(feature = $feature))]
        pub trait $name {}
        #[cfg(not(feature = $feature))]
        impl<T: ?Sized> $name for T {}
    };
}

backend_fragment!("sqlite", diesel::sqlite::Sqlite, SqliteFragment);
backend_fragment!("postgres", diesel::pg::Pg, PgFragment);
backend_fragment!("mysql", diesel::mysql::Mysql, MysqlFragment);

/// A fragment that renders on every enabled backend.
pub trait AnyFragment: Send + Sync {
    /// Renders on SQLite.
    #[cfg(feature = "sqlite")]
    fn walk_sqlite<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()>;
    /// Renders on PostgreSQL.
    #[cfg(feature = "postgres")]
    fn walk_pg<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()>;
    /// Renders on MySQL.
    #[cfg(feature = "mysql")]
    fn walk_mysql<'b>(&'b self, out: AstPass<'_, 'b, diesel::mysql::Mysql>) -> QueryResult<()>;
}

impl<T> AnyFragment for T
where
    T: SqliteFragment + PgFragment + MysqlFragment + Send + Sync,
{
    #[cfg(feature = "sqlite")]
    fn walk_sqlite<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        self.walk_ast(out)
    }
    #[cfg(feature = "postgres")]
    fn walk_pg<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        self.walk_ast(out)
    }
    #[cfg(feature = "mysql")]
    fn walk_mysql<'b>(&'b self, out: AstPass<'_, 'b, diesel::mysql::Mysql>) -> QueryResult<()> {
        self.walk_ast(out)
    }
}

/// A backend that can render an [`AnyFragment`]: each enabled backend.
pub trait ErasedBackend: Backend {
    /// Renders `fragment` for this backend.
    fn walk_erased<'b>(
        fragment: &'b dyn AnyFragment,
        out: AstPass<'_, 'b, Self>,
    ) -> QueryResult<()>;
}

macro_rules! erased_backend {
    ($feature:literal, $db:ty, $walk:ident) => {
        #[cfg(feature = $feature)]
        impl ErasedBackend for $db {
            fn walk_erased<'b>(
                fragment: &'b dyn AnyFragment,
                out: AstPass<'_, 'b, Self>,
            ) -> QueryResult<()> {
                fragment.$walk(out)
            }
        }
    };
}

erased_backend!("sqlite", diesel::sqlite::Sqlite, walk_sqlite);
erased_backend!("postgres", diesel::pg::Pg, walk_pg);
erased_backend!("mysql", diesel::mysql::Mysql, walk_mysql);
