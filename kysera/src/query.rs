//! Bounds that say "this Diesel query runs on every enabled backend".
//!
//! A query built with Diesel's DSL is backend-neutral until it is run. These traits let
//! [`Conn`](crate::Conn) accept such a query and run it on whichever backend the connection
//! has, so custom finders are written once for SQLite, PostgreSQL and MySQL.

use diesel::query_dsl::methods::ExecuteDsl;
use diesel::query_dsl::LoadQuery;

macro_rules! per_backend_bound {
    ($feature:literal, $conn:ty, $load:ident, $exec:ident) => {
        #[doc = concat!("`LoadQuery` on the ", $feature, " backend (any type when it is disabled).")]
        #[cfg(feature = $feature)]
        pub trait $load<'q, U>: LoadQuery<'q, $conn, U> {}
        #[cfg(feature = $feature)]
        impl<'q, U, T: LoadQuery<'q, $conn, U>> $load<'q, U> for T {}
        #[doc = concat!("`LoadQuery` on the ", $feature, " backend (any type when it is disabled).")]
        #[cfg(not(feature = $feature))]
        pub trait $load<'q, U> {}
        #[cfg(not(feature = $feature))]
        impl<'q, U, T> $load<'q, U> for T {}

        #[doc = concat!("`ExecuteDsl` on the ", $feature, " backend (any type when it is disabled).")]
        #[cfg(feature = $feature)]
        pub trait $exec: ExecuteDsl<$conn> {}
        #[cfg(feature = $feature)]
        impl<T: ExecuteDsl<$conn>> $exec for T {}
        #[doc = concat!("`ExecuteDsl` on the ", $feature, " backend (any type when it is disabled).")]
        #[cfg(not(feature = $feature))]
        pub trait $exec {}
        #[cfg(not(feature = $feature))]
        impl<T> $exec for T {}
    };
}

per_backend_bound!(
    "sqlite",
    diesel::SqliteConnection,
    SqliteLoad,
    SqliteExecute
);
per_backend_bound!("postgres", diesel::PgConnection, PgLoad, PgExecute);
per_backend_bound!("mysql", diesel::MysqlConnection, MysqlLoad, MysqlExecute);

/// A Diesel query that loads rows of `U` on every enabled backend.
pub trait Loadable<'q, U>: SqliteLoad<'q, U> + PgLoad<'q, U> + MysqlLoad<'q, U> {}
impl<'q, U, T: SqliteLoad<'q, U> + PgLoad<'q, U> + MysqlLoad<'q, U>> Loadable<'q, U> for T {}

/// A Diesel statement that executes on every enabled backend.
pub trait Executable: SqliteExecute + PgExecute + MysqlExecute {}
impl<T: SqliteExecute + PgExecute + MysqlExecute> Executable for T {}
