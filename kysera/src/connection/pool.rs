//! The r2d2 manager that opens, checks and discards [`AnyConnection`]s for a
//! [`Database`](crate::Database) pool.

use super::any::AnyConnection;
use super::url::DatabaseUrl;
use crate::error::{Error, Result};

/// Opens [`AnyConnection`]s for r2d2.
#[derive(Debug)]
pub struct ConnectionManager {
    pub(crate) url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = Error;

    fn connect(&self) -> Result<AnyConnection> {
        AnyConnection::establish_url(&self.url)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<()> {
        conn.ping()
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        // A connection handed back inside a transaction (a panic in a closure) must not be
        // reused: the next user would run inside someone else's transaction.
        conn.transaction_depth() > 0
    }
}
