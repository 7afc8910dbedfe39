//! The CLI's error type, with the error codes of the kysera CLI specification.
//!
//! | Code   | Meaning                    |
//! |--------|----------------------------|
//! | `E001` | Database connection failed |
//! | `E002` | Migration failed           |
//! | `E003` | Configuration error        |
//! | `E004` | Plugin error               |
//! | `E005` | Generation error           |
//!
//! Every message is passed through [`kysera::mask_password`] when the error is built, so no
//! rendering of an [`Error`] (text, JSON, `Debug`) can show a password from a database URL.
//! [`crate::output::Output::report`] prints an error in the specification's layout: title and
//! code, the cause, then numbered suggestions.

use std::fmt;
use std::io;
use std::process::ExitCode;

use serde::Serialize;

/// Result type of the CLI's commands.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The specification's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorCode {
    /// Database connection failed.
    E001,
    /// Migration failed.
    E002,
    /// Configuration error.
    E003,
    /// Plugin error.
    E004,
    /// Generation error.
    E005,
}

impl ErrorCode {
    /// The code as printed, such as `"E001"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::E001 => "E001",
            ErrorCode::E002 => "E002",
            ErrorCode::E003 => "E003",
            ErrorCode::E004 => "E004",
            ErrorCode::E005 => "E005",
        }
    }

    /// The headline printed next to the code, such as "Database connection failed".
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::E001 => "Database connection failed",
            ErrorCode::E002 => "Migration failed",
            ErrorCode::E003 => "Configuration error",
            ErrorCode::E004 => "Plugin error",
            ErrorCode::E005 => "Generation error",
        }
    }

    /// Suggestions printed when the error does not bring its own.
    fn default_suggestions(self) -> &'static [&'static str] {
        match self {
            ErrorCode::E001 => &[
                "Check the connection string (--database-url or DATABASE_URL)",
                "Check that the database server is running and reachable",
            ],
            ErrorCode::E002 => &[
                "Review the migration file named above",
                "Check whether the migration was already applied",
            ],
            ErrorCode::E003 => &[
                "Fix the configuration file (--config or KYSERA_CONFIG)",
                "Check the values given on the command line and in the environment",
            ],
            ErrorCode::E004 => &["Check the plugin configuration"],
            ErrorCode::E005 => &["Verify the template files"],
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// The cause, password-masked.
    pub message: String,
    /// Numbered in the output; empty means "use the code's defaults".
    pub suggestions: Vec<String>,
}

impl Details {
    fn new(message: impl fmt::Display) -> Self {
        Details {
            message: kysera::mask_password(&message.to_string()),
            suggestions: Vec::new(),
        }
    }
}

impl fmt::Display for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything a `kysera` command can fail with.
///
/// Build the coded variants with the constructors ([`Error::connection`], ...), which mask
/// passwords; add specific advice with [`Error::with_suggestion`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `E001`: the database could not be reached.
    #[error("database connection failed: {0}")]
    Connection(Details),
    /// `E002`: a migration could not be applied or rolled back.
    #[error("migration failed: {0}")]
    Migration(Details),
    /// `E003`: the configuration file, flags or environment are invalid.
    #[error("configuration error: {0}")]
    Config(Details),
    /// `E004`: a plugin failed or is misconfigured.
    #[error("plugin error: {0}")]
    Plugin(Details),
    /// `E005`: code generation failed.
    #[error("generation error: {0}")]
    Generation(Details),
    /// A database error outside the coded categories (a constraint violation, a missing row).
    #[error("database error: {0}")]
    Database(Details),
    /// A destructive command was not confirmed (declined at the prompt, or run without
    /// `--force` where no prompt is possible).
    #[error("not confirmed: {0}")]
    NotConfirmed(Details),
    /// Writing output or reading a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// `E001` with the given cause.
    pub fn connection(message: impl fmt::Display) -> Self {
        Error::Connection(Details::new(message))
    }

    /// `E002` with the given cause.
    pub fn migration(message: impl fmt::Display) -> Self {
        Error::Migration(Details::new(message))
    }

    /// `E003` with the given cause.
    pub fn config(message: impl fmt::Display) -> Self {
        Error::Config(Details::new(message))
    }

    /// `E004` with the given cause.
    pub fn plugin(message: impl fmt::Display) -> Self {
        Error::Plugin(Details::new(message))
    }

    /// `E005` with the given cause.
    pub fn generation(message: impl fmt::Display) -> Self {
        Error::Generation(Details::new(message))
    }

    /// A destructive command that was not confirmed (no code).
    pub fn not_confirmed(message: impl fmt::Display) -> Self {
        Error::NotConfirmed(Details::new(message))
    }

    /// Adds a suggestion (replacing the code's default suggestions, which are shown only when
    /// an error has none of its own). Does nothing on [`Error::Io`].
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        if let Some(details) = self.details_mut() {
            details
                .suggestions
                .push(kysera::mask_password(&suggestion.into()));
        }
        self
    }

    /// The specification's code, if the error has one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Connection(_) => Some(ErrorCode::E001),
            Error::Migration(_) => Some(ErrorCode::E002),
            Error::Config(_) => Some(ErrorCode::E003),
            Error::Plugin(_) => Some(ErrorCode::E004),
            Error::Generation(_) => Some(ErrorCode::E005),
            Error::Database(_) | Error::NotConfirmed(_) | Error::Io(_) => None,
        }
    }

    /// The headline: the code's title, or a generic one for uncoded errors.
    pub fn title(&self) -> &'static str {
        match (self.code(), self) {
            (Some(code), _) => code.title(),
            (None, Error::Database(_)) => "Database error",
            (None, Error::NotConfirmed(_)) => "Not confirmed",
            (None, _) => "I/O error",
        }
    }

    /// The cause, password-masked.
    pub fn message(&self) -> String {
        match self {
            Error::Io(err) => kysera::mask_password(&err.to_string()),
            _ => self
                .details()
                .map(|d| d.message.clone())
                .unwrap_or_default(),
        }
    }

    /// The suggestions to print: the error's own, else the code's defaults.
    pub fn suggestions(&self) -> Vec<String> {
        match (self.details(), self.code()) {
            (Some(details), _) if !details.suggestions.is_empty() => details.suggestions.clone(),
            (_, Some(code)) => code
                .default_suggestions()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// True when stdout was closed by the reader (`kysera ... | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }

    /// The process exit code for this error: always 1. (Usage errors exit with 2 from clap.)
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::FAILURE
    }

    /// The error as the JSON object printed under `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.code(),
                "title": self.title(),
                "message": self.message(),
                "suggestions": self.suggestions(),
            }
        })
    }

    fn details(&self) -> Option<&Details> {
        match self {
            Error::Connection(d)
            | Error::Migration(d)
            | Error::Config(d)
            | Error::Plugin(d)
            | Error::Generation(d)
            | Error::Database(d)
            | Error::NotConfirmed(d) => Some(d),
            Error::Io(_) => None,
        }
    }

    fn details_mut(&mut self) -> Option<&mut Details> {
        match self {
            Error::Connection(d)
            | Error::Migration(d)
            | Error::Config(d)
            | Error::Plugin(d)
            | Error::Generation(d)
            | Error::Database(d)
            | Error::NotConfirmed(d) => Some(d),
            Error::Io(_) => None,
        }
    }
}

/// Connection and pool failures become `E001`, migration failures (including an applied
/// migration whose file changed) `E002`, configuration problems `E003`, the rest an uncoded
/// database error.
impl From<kysera::Error> for Error {
    fn from(err: kysera::Error) -> Self {
        match &err {
            kysera::Error::Connection { .. } | kysera::Error::PoolTimeout { .. } => {
                Error::connection(&err)
            }
            kysera::Error::BackendNotEnabled(_) => Error::connection(&err)
                .with_suggestion("Install a kysera binary built with that backend's cargo feature"),
            kysera::Error::Config(_) | kysera::Error::InvalidArgument(_) => Error::config(&err),
            kysera::Error::Migration(message) => Error::migration(message),
            kysera::Error::MigrationChanged(names) => Error::migration(format!(
                "applied migration{} changed since {} ran: {}. Nothing was run.",
                if names.len() == 1 { "" } else { "s" },
                if names.len() == 1 { "it" } else { "they" },
                names.join(", ")
            ))
            .with_suggestion(
                "Restore the original up.sql (e.g. `git checkout -- <migrations dir>/<name>/up.sql`)",
            )
            .with_suggestion("Put the change in a new migration: kysera migrate create <name>")
            .with_suggestion(
                "If the edit is harmless (comments, formatting), record it: run again with --accept-changed",
            ),
            _ => Error::Database(Details::new(&err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_mask_passwords() {
        let err = Error::connection("cannot reach postgres://app:hunter2@db:5432/app")
            .with_suggestion("Try mysql://root:hunter2@localhost/app");
        let shown = format!("{err} {err:?} {}", err.to_json());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app:***@db:5432/app"), "{shown}");
    }

    #[test]
    fn codes_and_titles() {
        assert_eq!(Error::connection("x").code(), Some(ErrorCode::E001));
        assert_eq!(Error::migration("x").code(), Some(ErrorCode::E002));
        assert_eq!(Error::config("x").code(), Some(ErrorCode::E003));
        assert_eq!(Error::plugin("x").code(), Some(ErrorCode::E004));
        assert_eq!(Error::generation("x").code(), Some(ErrorCode::E005));
        assert_eq!(Error::migration("x").title(), "Migration failed");
        let io = Error::from(io::Error::other("disk full"));
        assert_eq!((io.code(), io.title()), (None, "I/O error"));
    }

    #[test]
    fn own_suggestions_replace_the_defaults() {
        assert_eq!(Error::config("bad").suggestions().len(), 2);
        let err = Error::config("bad").with_suggestion("Remove the `pool` key");
        assert_eq!(err.suggestions(), vec!["Remove the `pool` key".to_string()]);
    }

    #[test]
    fn broken_pipe_is_recognised() {
        assert!(Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).is_broken_pipe());
        assert!(!Error::from(io::Error::from(io::ErrorKind::NotFound)).is_broken_pipe());
        assert!(!Error::connection("x").is_broken_pipe());
    }

    #[test]
    fn kysera_errors_map_to_codes() {
        let err = Error::from(kysera::Error::Config("no URL".into()));
        assert_eq!(err.code(), Some(ErrorCode::E003));
        let err = Error::from(kysera::DatabaseUrl::parse("oracle://u:pw@h/d").unwrap_err());
        assert_eq!(err.code(), Some(ErrorCode::E003));
        let err = Error::from(kysera::Error::BackendNotEnabled("mysql"));
        assert_eq!(err.code(), Some(ErrorCode::E001));
        let err = Error::from(kysera::Error::Migration("001_x/up.sql failed".into()));
        assert_eq!(err.code(), Some(ErrorCode::E002));
        let err = Error::from(kysera::Error::MigrationChanged(vec!["001_x".into()]));
        assert_eq!(err.code(), Some(ErrorCode::E002));
        assert!(err.message().contains("001_x"));
        assert!(err
            .suggestions()
            .iter()
            .any(|s| s.contains("--accept-changed")));
    }

    #[test]
    fn json_shape() {
        let json = Error::connection("refused").to_json();
        assert_eq!(json["error"]["code"], "E001");
        assert_eq!(json["error"]["title"], "Database connection failed");
        assert_eq!(json["error"]["message"], "refused");
        assert!(json["error"]["suggestions"].is_array());
    }
}
