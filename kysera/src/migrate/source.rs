//! Migration files: `migrations/<version>_<name>/{up.sql, down.sql, metadata.toml}`, the
//! layout Diesel projects already have, read from disk or embedded at compile time.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// `metadata.toml` of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// What the migration does.
    pub description: Option<String>,
    /// True when the change breaks older application versions.
    #[serde(default)]
    pub breaking: bool,
    /// Rough duration ("2m"), shown by status and list.
    pub estimated_duration: Option<String>,
    /// Diesel's flag: `false` runs the migration outside a transaction.
    #[serde(default = "default_true")]
    pub run_in_transaction: bool,
}

fn default_true() -> bool {
    true
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            description: None,
            breaking: false,
            estimated_duration: None,
            run_in_transaction: true,
        }
    }
}

/// One migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version: the directory name before the first `_`, dashes removed (as Diesel does).
    pub version: String,
    /// The full directory name (`2024-01-01-000000_create_users`).
    pub name: String,
    /// The `up.sql` script.
    pub up: String,
    /// The `down.sql` script, when there is one.
    pub down: Option<String>,
    /// `metadata.toml`, or defaults.
    pub metadata: Metadata,
    /// SHA-256 of `up.sql` with line endings normalised, hex.
    pub checksum: String,
}

/// A migration as `embed_migrations!` stores it in the binary.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// Directory name.
    pub name: &'static str,
    /// `up.sql`.
    pub up: &'static str,
    /// `down.sql`, if present.
    pub down: Option<&'static str>,
    /// `metadata.toml`, if present.
    pub metadata: Option<&'static str>,
}

impl Migration {
    /// A migration from its parts; `metadata` is the text of `metadata.toml`.
    pub fn new(name: &str, up: &str, down: Option<&str>, metadata: Option<&str>) -> Result<Self> {
        let version = version_of(name)?;
        let metadata = match metadata {
            Some(text) => toml::from_str::<Metadata>(text)
                .map_err(|e| Error::Migration(format!("{name}/metadata.toml: {e}")))?,
            None => Metadata::default(),
        };
        if up.trim().is_empty() {
            return Err(Error::Migration(format!("{name}/up.sql is empty")));
        }
        Ok(Migration {
            version,
            name: name.to_string(),
            checksum: checksum(up),
            up: up.to_string(),
            down: down.map(str::to_string),
            metadata,
        })
    }
}

/// True for SQL with nothing but whitespace and comments (PostgreSQL rejects it as an empty
/// query, so it would fail only on that backend).
pub(crate) fn is_blank(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.split_once("*/") {
                Some((_, tail)) => rest = tail,
                None => return true,
            }
        } else {
            return rest.is_empty();
        }
    }
}

/// SHA-256 of a script with CRLF and CR turned into LF, so a change of line endings alone is
/// not a change.
pub fn checksum(sql: &str) -> String {
    let normalised = sql.replace("\r\n", "\n").replace('\r', "\n");
    let digest = Sha256::digest(normalised.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn version_of(name: &str) -> Result<String> {
    let (version, rest) = name.split_once('_').unwrap_or((name, ""));
    let version: String = version.chars().filter(|c| *c != '-').collect();
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit()) || rest.is_empty() {
        return Err(Error::Migration(format!(
            "`{name}` is not a migration directory name: expected <version>_<name>, e.g. 2024-01-31-120000_create_users"
        )));
    }
    Ok(version)
}

/// An ordered set of migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    items: Vec<Migration>,
}

impl Migrations {
    /// Reads every `<version>_<name>/` directory under `dir`. Other files are ignored;
    /// a directory without `up.sql`, a bad name or a bad `metadata.toml` is an error.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::Migration(format!(
                "cannot read migrations directory {}: {e}",
                dir.display()
            ))
        })?;
        let mut items = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::Migration(format!("{}: {e}", dir.display())))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "00000000000000_diesel_initial_setup" {
                continue;
            }
            let read = |file: &str| -> Result<Option<String>> {
                match std::fs::read_to_string(path.join(file)) {
                    Ok(text) => Ok(Some(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::Migration(format!("{name}/{file}: {e}"))),
                }
            };
            let up =
                read("up.sql")?.ok_or_else(|| Error::Migration(format!("{name} has no up.sql")))?;
            items.push(Migration::new(
                &name,
                &up,
                read("down.sql")?.as_deref(),
                read("metadata.toml")?.as_deref(),
            )?);
        }
        Self::new(items)
    }

    /// The migrations `embed_migrations!` put in the binary.
    pub fn from_embedded(embedded: &[EmbeddedMigration]) -> Result<Self> {
        let items = embedded
            .iter()
            .map(|m| Migration::new(m.name, m.up, m.down, m.metadata))
            .collect::<Result<Vec<_>>>()?;
        Self::new(items)
    }

    /// Sorts by version; two migrations with one version are an error.
    pub fn new(mut items: Vec<Migration>) -> Result<Self> {
        items.sort_by(|a, b| a.version.cmp(&b.version));
        if let Some(pair) = items.windows(2).find(|w| w[0].version == w[1].version) {
            return Err(Error::Migration(format!(
                "`{}` and `{}` have the same version {}",
                pair[0].name, pair[1].name, pair[0].version
            )));
        }
        Ok(Migrations { items })
    }

    /// The migrations, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Migration> {
        self.items.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The migration with this version or directory name.
    pub fn find(&self, target: &str) -> Option<&Migration> {
        let version: String = target
            .split('_')
            .next()
            .unwrap_or(target)
            .chars()
            .filter(|c| *c != '-')
            .collect();
        self.items
            .iter()
            .find(|m| m.name == target || m.version == target || m.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_diesel() {
        let m = Migration::new(
            "2024-01-31-120000_create_users",
            "CREATE TABLE t (id INT);",
            None,
            None,
        )
        .unwrap();
        assert_eq!(m.version, "20240131120000");
        assert!(Migration::new("create_users", "x", None, None).is_err());
        assert!(Migration::new("2024_", "x", None, None).is_err());
        assert!(Migration::new("001_x", "  ", None, None).is_err());
        assert!(is_blank("-- nothing yet\n/* really */\n"));
        assert!(!is_blank("-- create\nCREATE TABLE t (id INT);"));
    }

    #[test]
    fn line_endings_do_not_change_the_checksum() {
        assert_eq!(checksum("a\r\nb\r\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb\n"), checksum("a\nc\n"));
    }

    #[test]
    fn metadata_is_parsed_and_checked() {
        let m = Migration::new(
            "001_x",
            "SELECT 1;",
            None,
            Some("description = \"d\"\nbreaking = true\nestimated_duration = \"2m\""),
        )
        .unwrap();
        assert_eq!(
            (m.metadata.description.as_deref(), m.metadata.breaking),
            (Some("d"), true)
        );
        let err =
            Migration::new("001_x", "SELECT 1;", None, Some("breaking = \"yes\"")).unwrap_err();
        assert!(err.to_string().contains("001_x/metadata.toml"), "{err}");
        assert!(Migration::new("001_x", "SELECT 1;", None, Some("unknown = 1")).is_err());
    }

    #[test]
    fn duplicate_versions_are_rejected() {
        let a = Migration::new("001_a", "SELECT 1;", None, None).unwrap();
        let b = Migration::new("001_b", "SELECT 1;", None, None).unwrap();
        assert!(Migrations::new(vec![a, b]).is_err());
    }
}
