//! Connections to any enabled backend, chosen at run time by URL.
//!
//! [`AnyConnection`] wraps Diesel's own connection types, so every query runs on the native
//! driver of its backend; kysera dispatches once per call with a `match`.

pub(crate) mod any;
pub(crate) mod key_columns;
pub(crate) mod pool;
pub(crate) mod url;

pub use any::AnyConnection;
pub(crate) use key_columns::unique_key_columns;
pub use url::{mask_password, DatabaseUrl};

/// Runs `$body` with `$c` bound to the concrete Diesel connection inside an [`AnyConnection`].
macro_rules! dispatch {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::connection::AnyConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::connection::AnyConnection::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::connection::AnyConnection::Mysql($c) => $body,
        }
    };
}
pub(crate) use dispatch;
