//! A primary key as text: the `entity_id` of audit rows and the key of [`Error::NotFound`].
//!
//! People, SQL and the CLI read these, so a key is stored as its plain text: an integer in
//! decimal, a string as itself (no quotes, no escaping), a UUID hyphenated. Other key types
//! fall back to their `Debug` form. Composite keys, when they come, will be a JSON array of
//! their parts.
//!
//! [`Error::NotFound`]: crate::Error::NotFound

use serde_json::Value;

use crate::json::ToJson;

/// The text of a key whose value has a JSON form.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Autoref dispatch for generated code: `(&KeyText(id)).text()`.
pub struct KeyText<'a, T: ?Sized>(pub &'a T);

/// Picked when the key has a JSON form (every type the derive maps).
pub trait ViaJsonKey {
    /// The key as text.
    fn text(&self) -> String;
}
impl<T: ToJson + ?Sized> ViaJsonKey for KeyText<'_, T> {
    fn text(&self) -> String {
        text_of(&self.0.to_json())
    }
}

/// Picked otherwise: the key's `Debug` form.
pub trait ViaDebugKey {
    /// The key as text.
    fn text(&self) -> String;
}
impl<T: std::fmt::Debug + ?Sized> ViaDebugKey for &KeyText<'_, T> {
    fn text(&self) -> String {
        format!("{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Opaque(#[allow(dead_code)] u8);

    #[test]
    // The borrow is the dispatch under test, as generated code writes it.
    #[allow(clippy::needless_borrow)]
    fn plain_text_for_mapped_types_debug_otherwise() {
        assert_eq!((&KeyText(&42i64)).text(), "42");
        assert_eq!((&KeyText(&"a\"b\\c\td".to_string())).text(), "a\"b\\c\td");
        assert_eq!((&KeyText(&Opaque(7))).text(), "Opaque(7)");
    }
}
