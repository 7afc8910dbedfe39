//! What `#[timestamps]`, `#[soft_delete]` and `#[audited]` ask of a model, as data the
//! repository reads.

/// Column names of `#[timestamps]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamps {
    /// Set on insert (default `created_at`).
    pub created_at: &'static str,
    /// Set on every write (default `updated_at`); `None` when the model has no such column.
    pub updated_at: Option<&'static str>,
    /// Whether an insert also sets `updated_at` (default true).
    pub updated_on_insert: bool,
}

/// Settings of `#[audited]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    /// Record old and new values (default true); when false only the operation is recorded.
    pub capture_values: bool,
    /// Columns left out of recorded values (passwords).
    pub exclude: &'static [&'static str],
    /// Columns whose values are recorded as `"[REDACTED]"`.
    pub redact: &'static [&'static str],
}

/// The behaviours of a model; all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Behaviours {
    /// `#[timestamps]`.
    pub timestamps: Option<Timestamps>,
    /// `#[soft_delete]`: the deleted-at column.
    pub soft_delete: Option<&'static str>,
    /// `#[audited]`.
    pub audit: Option<Audit>,
}

impl Behaviours {
    /// No behaviour.
    pub const NONE: Behaviours = Behaviours {
        timestamps: None,
        soft_delete: None,
        audit: None,
    };
}
