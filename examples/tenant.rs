//! A multi-tenant plugin written only against kysera's public API.
//!
//! Every read of a model with a `tenant_id` column gets `tenant_id = <current tenant>`, every
//! insert gets the current tenant written into that column, and an update that tries to
//! move a row to another tenant is refused. The current tenant is the connection's context
//! value `"tenant_id"`; with none set, reads see nothing and writes are refused.

use kysera::plugin::{BeforeWrite, Plugin, ReadScope};
use kysera::{Condition, Error, Operation, ScopeValue};

/// Scopes every repository to the tenant in the connection's context.
#[derive(Debug, Clone)]
pub struct TenantPlugin {
    column: &'static str,
}

impl TenantPlugin {
    /// The plugin's name, for `Repo::without_plugins`.
    pub const NAME: &'static str = "tenant";

    /// Scopes on the `tenant_id` column.
    pub fn new() -> Self {
        TenantPlugin {
            column: "tenant_id",
        }
    }

    /// Scopes on another column.
    pub fn on_column(column: &'static str) -> Self {
        TenantPlugin { column }
    }
}

impl Default for TenantPlugin {
    fn default() -> Self {
        TenantPlugin::new()
    }
}

impl Plugin for TenantPlugin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn read_scope(&self, read: &ReadScope<'_>) -> Vec<Condition> {
        if !read.has_column(self.column) {
            return Vec::new();
        }
        match read.context.get("tenant_id").map(ScopeValue::try_from) {
            Some(Ok(tenant)) => vec![Condition::Eq(self.column.to_string(), tenant)],
            // No (usable) tenant: see nothing rather than everything.
            _ => vec![Condition::Never],
        }
    }

    fn before_write(&self, write: &mut BeforeWrite<'_>) -> kysera::Result<()> {
        if !write.columns.iter().any(|c| c.column == self.column) {
            return Ok(());
        }
        let tenant =
            write.context.get("tenant_id").cloned().ok_or_else(|| {
                Error::plugin(Self::NAME, "no tenant_id in the connection's context")
            })?;
        match write.operation {
            Operation::Insert => {
                for row in write.values.iter_mut() {
                    row.insert(self.column.to_string(), tenant.clone());
                }
            }
            Operation::Update
                if write
                    .values
                    .iter()
                    .any(|patch| patch.get(self.column).is_some_and(|v| *v != tenant)) =>
            {
                return Err(Error::plugin(
                    Self::NAME,
                    "a row cannot move to another tenant",
                ));
            }
            // Deletes and restores are confined by the read scope.
            _ => {}
        }
        Ok(())
    }
}
