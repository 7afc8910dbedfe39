//! The cursor token: `base64url(version ‖ payload ‖ tag)` without padding.
//!
//! The payload is a small JSON object: the ordering's fingerprint, the side of the position
//! the next page lies on, and the position's values tagged by kind. The tag is HMAC-SHA256
//! under the application's [`CursorKey`] when one is configured (clients cannot forge a
//! position), otherwise SHA-256 of the same bytes (corruption and truncation are caught,
//! forgery is not). The tag is checked before the payload is parsed.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::cursor::{MAX_TOKEN_LEN, VERSION};
pub use crate::error::CursorError;
use crate::error::{Error, Result};

/// Length of the authentication tag (SHA-256 or HMAC-SHA256).
const TAG_LEN: usize = 32;
/// Shortest secret a [`CursorKey`] accepts.
const MIN_KEY_LEN: usize = 16;

/// The secret that signs cursors (HMAC-SHA256), so that clients cannot forge positions.
///
/// Keep it out of source control and share it between the instances that serve the same
/// API: a cursor signed with one key is refused under another.
#[derive(Clone)]
pub struct CursorKey {
    mac: Arc<Hmac<Sha256>>,
}

impl CursorKey {
    /// A key from a secret of at least 16 bytes (32 random bytes is a good choice).
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self> {
        let secret = secret.as_ref();
        if secret.len() < MIN_KEY_LEN {
            return Err(Error::InvalidArgument(format!(
                "a cursor key needs at least {MIN_KEY_LEN} bytes, got {}",
                secret.len()
            )));
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|e| Error::InvalidArgument(format!("cursor key: {e}")))?;
        Ok(CursorKey { mac: Arc::new(mac) })
    }

    fn tag(&self, bytes: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = (*self.mac).clone();
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }

    fn verify(&self, bytes: &[u8], tag: &[u8]) -> bool {
        let mut mac = (*self.mac).clone();
        mac.update(bytes);
        // Constant-time comparison: the tag is a secret-dependent value.
        mac.verify_slice(tag).is_ok()
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(<secret>)")
    }
}

/// Which side of the position a cursor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Side {
    /// The rows after the position: a next-page cursor.
    #[serde(rename = "a")]
    After,
    /// The rows before the position: a previous-page cursor.
    #[serde(rename = "b")]
    Before,
}

/// What a cursor says, before its values are checked against the ordering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Payload {
    /// Fingerprint of table and ordering.
    #[serde(rename = "o")]
    pub ordering: String,
    /// Side of the position.
    #[serde(rename = "s")]
    pub side: Side,
    /// The position's values in order-column order, tagged by kind.
    #[serde(rename = "k")]
    pub values: Vec<Value>,
    /// True when the row at the position itself belongs to the page (the cursors of an
    /// empty page, whose position is that of the cursor it was read from).
    #[serde(rename = "i", default, skip_serializing_if = "std::ops::Not::not")]
    pub inclusive: bool,
}

/// The token for `payload`, signed with `key` or checksummed without one.
pub(crate) fn encode(payload: &Payload, key: Option<&CursorKey>) -> Result<String> {
    let json = serde_json::to_vec(payload)
        .map_err(|e| Error::Query(format!("cursor could not be encoded: {e}")))?;
    let mut bytes = Vec::with_capacity(1 + json.len() + TAG_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(&json);
    let tag = match key {
        Some(key) => key.tag(&bytes),
        None => checksum(&bytes),
    };
    bytes.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Reads a token made by [`encode`] with the same key (or none), checking the tag first.
pub(crate) fn decode(token: &str, key: Option<&CursorKey>) -> Result<Payload, CursorError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(CursorError::TooLong);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| CursorError::Encoding)?;
    // version + "{}" at the very least + tag
    if bytes.len() < 1 + 2 + TAG_LEN {
        return Err(CursorError::Truncated);
    }
    let (signed, tag) = bytes.split_at(bytes.len() - TAG_LEN);
    let genuine = match key {
        Some(key) => key.verify(signed, tag),
        None => checksum(signed) == tag,
    };
    if !genuine {
        // A cursor of another version is reported as such, not as a bad tag: its tag may be
        // computed differently.
        return Err(match signed[0] {
            VERSION => CursorError::Tag,
            other => CursorError::Version(other),
        });
    }
    if signed[0] != VERSION {
        return Err(CursorError::Version(signed[0]));
    }
    serde_json::from_slice(&signed[1..]).map_err(|e| CursorError::Payload(e.to_string()))
}

fn checksum(bytes: &[u8]) -> [u8; TAG_LEN] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        Payload {
            ordering: "abc".into(),
            side: Side::After,
            values: vec![Value::Null, serde_json::json!(["i8", 7])],
            inclusive: false,
        }
    }

    #[test]
    fn round_trips_with_and_without_a_key() {
        let key = CursorKey::new([7u8; 32]).unwrap();
        for key in [None, Some(&key)] {
            let token = encode(&payload(), key).unwrap();
            assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
            assert_eq!(decode(&token, key).unwrap(), payload());
        }
    }

    #[test]
    fn every_damage_is_a_typed_error() {
        let token = encode(&payload(), None).unwrap();
        assert_eq!(decode("***", None), Err(CursorError::Encoding));
        assert_eq!(decode("", None), Err(CursorError::Truncated));
        assert_eq!(decode(&token[..8], None), Err(CursorError::Truncated));
        // Every single-character change and every truncation is refused without a panic.
        for i in 0..token.len() {
            let mut damaged = token.clone().into_bytes();
            damaged[i] = if damaged[i] == b'A' { b'B' } else { b'A' };
            let damaged = String::from_utf8(damaged).unwrap();
            assert!(decode(&damaged, None).is_err(), "change at {i} accepted");
            assert!(
                decode(&token[..i], None).is_err(),
                "truncation at {i} accepted"
            );
        }
        assert_eq!(
            decode(&"A".repeat(MAX_TOKEN_LEN + 1), None),
            Err(CursorError::TooLong)
        );
    }

    #[test]
    fn signatures_bind_the_key() {
        let a = CursorKey::new(b"first secret key!").unwrap();
        let b = CursorKey::new(b"second secret key").unwrap();
        let token = encode(&payload(), Some(&a)).unwrap();
        assert_eq!(decode(&token, Some(&b)), Err(CursorError::Tag));
        assert_eq!(decode(&token, None), Err(CursorError::Tag));
        let unsigned = encode(&payload(), None).unwrap();
        assert_eq!(decode(&unsigned, Some(&a)), Err(CursorError::Tag));
        assert!(CursorKey::new(b"short").is_err());
        assert_eq!(format!("{a:?}"), "CursorKey(<secret>)");
    }

    #[test]
    fn other_versions_and_bad_payloads_are_named() {
        let mut bytes = vec![9u8];
        bytes.extend_from_slice(b"{}");
        let tag = checksum(&bytes);
        bytes.extend_from_slice(&tag);
        assert_eq!(
            decode(&URL_SAFE_NO_PAD.encode(&bytes), None),
            Err(CursorError::Version(9))
        );
        let mut bytes = vec![VERSION];
        bytes.extend_from_slice(b"{\"x\":1}");
        let tag = checksum(&bytes);
        bytes.extend_from_slice(&tag);
        assert!(matches!(
            decode(&URL_SAFE_NO_PAD.encode(&bytes), None),
            Err(CursorError::Payload(_))
        ));
    }
}
