//! Why a keyset cursor was refused ([`CursorError`]), and the limits its text is checked
//! against. Here, below pagination, so the error type needs nothing above it.

/// The format of the bytes inside a cursor; bumped when they change.
pub(crate) const VERSION: u8 = 1;
/// Longest token accepted: far above any real position, low enough to refuse abuse cheaply.
pub(crate) const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Why a cursor was refused. Every failure to read a cursor is one of these, inside
/// [`Error::InvalidCursor`](super::Error::InvalidCursor); none panics and none yields a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The text is not base64url (unpadded).
    #[error("not a base64url token")]
    Encoding,
    /// Too short to hold a version, a payload and a tag.
    #[error("too short to be a cursor (truncated?)")]
    Truncated,
    /// Longer than any cursor kysera makes.
    #[error("longer than {MAX_TOKEN_LEN} characters")]
    TooLong,
    /// Made by a format version this build does not read.
    #[error("cursor format version {0} is not supported (expected {VERSION})")]
    Version(u8),
    /// The checksum or signature does not match the contents.
    #[error("checksum or signature mismatch: the cursor was corrupted, truncated, forged or signed with another key")]
    Tag,
    /// The tag matched but the contents are not a cursor payload.
    #[error("malformed payload: {0}")]
    Payload(String),
    /// The cursor was made for another table or another ordering.
    #[error("the cursor belongs to another table or ordering")]
    Ordering,
    /// A cursor for the other direction: a previous-page cursor passed as `after`, or the
    /// reverse.
    #[error("this cursor reads the {found} page; pass it to `CursorRequest::{expected}`")]
    Direction {
        /// What the cursor reads: `next` or `previous`.
        found: &'static str,
        /// The request it belongs to: `after` or `before`.
        expected: &'static str,
    },
    /// A position value does not fit its column.
    #[error("value of column `{column}`: {reason}")]
    Value {
        /// The order column.
        column: String,
        /// What is wrong with the value.
        reason: String,
    },
}

impl From<CursorError> for super::Error {
    fn from(reason: CursorError) -> Self {
        super::Error::InvalidCursor { reason }
    }
}
