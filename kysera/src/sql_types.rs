//! SQL types kysera adds to Diesel's, for values every backend stores but Diesel maps on some
//! backends only.
//!
//! [`Uuid`] (feature `uuid`): the SQL type of a [`kysera::Uuid`](crate::Uuid) field (a
//! wrapper of `uuid::Uuid`). PostgreSQL stores it in its native `uuid` type; SQLite and
//! MySQL/MariaDB, which have none, as its hyphenated lower-case text (declare the column
//! `CHAR(36)` on MySQL, `TEXT` on SQLite), so keys sort and compare as text there and read
//! naturally in a SQL console. `#[derive(Repository)]` maps `kysera::Uuid` fields to it.

#[cfg(feature = "uuid")]
pub use self::uuid_type::Uuid;
#[cfg(feature = "uuid")]
pub use self::uuid_type::UuidValue;

#[cfg(feature = "uuid")]
mod uuid_type {
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    use std::io::Write as _;

    use diesel::deserialize::{self, FromSql};
    use diesel::serialize::{self, IsNull, Output, ToSql};

    /// A UUID column: native `uuid` on PostgreSQL, hyphenated text elsewhere.
    #[derive(
        Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
    )]
    #[cfg_attr(
        feature = "postgres",
        diesel(postgres_type(oid = 2950, array_oid = 2951))
    )]
    #[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
    #[cfg_attr(feature = "mysql", diesel(mysql_type(name = "String")))]
    pub struct Uuid;

    /// A UUID value with this crate's SQL type: [`crate::Uuid`]. (Diesel's traits cannot be
    /// implemented for `uuid::Uuid` itself outside Diesel, hence the wrapper.)
    #[derive(
        Debug,
        Clone,
        Copy,
        PartialEq,
        Eq,
        Hash,
        PartialOrd,
        Ord,
        Default,
        diesel::expression::AsExpression,
        diesel::deserialize::FromSqlRow,
    )]
    #[diesel(sql_type = Uuid)]
    pub struct UuidValue(pub uuid::Uuid);

    impl UuidValue {
        /// Wraps `value` (make one with the `uuid` crate: `Uuid::new_v4()` with its `v4` feature).
        pub fn new(value: uuid::Uuid) -> Self {
            UuidValue(value)
        }
    }

    impl From<uuid::Uuid> for UuidValue {
        fn from(value: uuid::Uuid) -> Self {
            UuidValue(value)
        }
    }

    impl From<UuidValue> for uuid::Uuid {
        fn from(value: UuidValue) -> Self {
            value.0
        }
    }

    impl std::fmt::Display for UuidValue {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.hyphenated().fmt(f)
        }
    }

    impl std::str::FromStr for UuidValue {
        type Err = uuid::Error;
        fn from_str(text: &str) -> Result<Self, Self::Err> {
            uuid::Uuid::parse_str(text).map(UuidValue)
        }
    }

    /// The text SQLite and MySQL store.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    fn text(value: &UuidValue) -> String {
        value.0.hyphenated().to_string()
    }

    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    fn parse(text: &str) -> deserialize::Result<UuidValue> {
        uuid::Uuid::parse_str(text)
            .map(UuidValue)
            .map_err(|e| format!("not a UUID ({e}): {text:?}").into())
    }

    #[cfg(feature = "postgres")]
    impl ToSql<Uuid, diesel::pg::Pg> for UuidValue {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
            out.write_all(self.0.as_bytes())?;
            Ok(IsNull::No)
        }
    }

    #[cfg(feature = "postgres")]
    impl FromSql<Uuid, diesel::pg::Pg> for UuidValue {
        fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
            uuid::Uuid::from_slice(value.as_bytes())
                .map(UuidValue)
                .map_err(Into::into)
        }
    }

    #[cfg(feature = "sqlite")]
    impl ToSql<Uuid, diesel::sqlite::Sqlite> for UuidValue {
        fn to_sql<'b>(
            &'b self,
            out: &mut Output<'b, '_, diesel::sqlite::Sqlite>,
        ) -> serialize::Result {
            out.set_value(text(self));
            Ok(IsNull::No)
        }
    }

    #[cfg(feature = "sqlite")]
    impl FromSql<Uuid, diesel::sqlite::Sqlite> for UuidValue {
        fn from_sql(value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let text =
                <String as FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::from_sql(
                    value,
                )?;
            parse(&text)
        }
    }

    #[cfg(feature = "mysql")]
    impl ToSql<Uuid, diesel::mysql::Mysql> for UuidValue {
        fn to_sql<'b>(
            &'b self,
            out: &mut Output<'b, '_, diesel::mysql::Mysql>,
        ) -> serialize::Result {
            out.write_all(text(self).as_bytes())?;
            Ok(IsNull::No)
        }
    }

    #[cfg(feature = "mysql")]
    impl FromSql<Uuid, diesel::mysql::Mysql> for UuidValue {
        fn from_sql(value: diesel::mysql::MysqlValue<'_>) -> deserialize::Result<Self> {
            let text =
                <String as FromSql<diesel::sql_types::Text, diesel::mysql::Mysql>>::from_sql(
                    value,
                )?;
            parse(&text)
        }
    }
}
