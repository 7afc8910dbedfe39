//! [`ConnectionSource`]: what the helpers accept where they need a connection — a [`Conn`], a
//! [`Database`] pool or a [`TestDatabase`](super::TestDatabase).

use crate::database::Database;
use crate::error::Result;
use crate::executor::Conn;

/// Something the test helpers can run on: a connection, or a pool to borrow one from.
///
/// A [`Conn`] is used as it is (so helpers called inside a transaction join it); a
/// [`Database`] lends a pooled connection for the duration of one helper call.
pub trait ConnectionSource {
    /// A connection to run on.
    fn connection(&self) -> Result<ConnRef<'_>>;
}

/// A connection lent to a helper: borrowed from a [`Conn`], or owned (taken from a pool and
/// returned to it when dropped). Derefs to [`Conn`].
#[derive(Debug)]
pub struct ConnRef<'a>(Lent<'a>);

#[derive(Debug)]
enum Lent<'a> {
    Borrowed(&'a Conn),
    // Boxed: a `Conn` is much larger than a reference.
    Owned(Box<Conn>),
}

impl<'a> ConnRef<'a> {
    /// Lends the caller's own connection.
    pub fn borrowed(conn: &'a Conn) -> Self {
        ConnRef(Lent::Borrowed(conn))
    }

    /// Lends a connection for the duration of one helper call (a pooled one goes back to its
    /// pool when dropped).
    pub fn owned(conn: Conn) -> Self {
        ConnRef(Lent::Owned(Box::new(conn)))
    }
}

impl std::ops::Deref for ConnRef<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match &self.0 {
            Lent::Borrowed(conn) => conn,
            Lent::Owned(conn) => conn,
        }
    }
}

impl ConnectionSource for Conn {
    fn connection(&self) -> Result<ConnRef<'_>> {
        Ok(ConnRef::borrowed(self))
    }
}

impl ConnectionSource for Database {
    fn connection(&self) -> Result<ConnRef<'_>> {
        self.conn().map(ConnRef::owned)
    }
}

impl<S: ConnectionSource + ?Sized> ConnectionSource for &S {
    fn connection(&self) -> Result<ConnRef<'_>> {
        (**self).connection()
    }
}
