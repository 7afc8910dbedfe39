//! [`Context`]: who is acting and on whose behalf, set on a connection for audit rows and
//! plugins (a tenant id, a request id). Nothing global: each connection carries its own.

use std::collections::BTreeMap;

use serde_json::Value;

/// Per-connection facts for audit and plugins.
///
/// ```
/// use kysera::Context;
/// let ctx = Context::new().actor("user:42").metadata(serde_json::json!({"ip": "10.0.0.1"})).with("tenant_id", 7);
/// assert_eq!(ctx.get("tenant_id"), Some(&serde_json::json!(7)));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    actor: Option<String>,
    metadata: Option<Value>,
    values: BTreeMap<String, Value>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// Sets who makes the changes (recorded as `changed_by`).
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Sets free metadata recorded with every audit row.
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Sets a named value for plugins (`"tenant_id"`).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.values.insert(key.into(), value.into());
        self
    }

    /// Who makes the changes.
    pub fn actor_id(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// The audit metadata.
    pub fn metadata_value(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }

    /// A named value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }
}
