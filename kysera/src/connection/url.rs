//! Connection URLs: which backend a URL picks, and masking its password for display.

use crate::error::{BackendKind, Error, Result};

/// A parsed connection target.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: BackendKind,
    /// What the backend's driver is given: a file path or `:memory:` for SQLite, the URL
    /// itself for the servers.
    target: String,
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path`, `sqlite::memory:`, `postgres://...`,
    /// `postgresql://...`, `mysql://...` or `mariadb://...`.
    ///
    /// ```
    /// use kysera::{BackendKind, DatabaseUrl};
    /// let url = DatabaseUrl::parse("postgres://app:secret@localhost/app").unwrap();
    /// assert_eq!(url.backend(), BackendKind::Postgres);
    /// assert_eq!(url.to_string(), "postgres://app:***@localhost/app");
    /// assert_eq!(DatabaseUrl::parse("sqlite::memory:").unwrap().target(), ":memory:");
    /// assert!(DatabaseUrl::parse("oracle://x").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let (scheme, rest) = url.split_once(':').ok_or_else(|| {
            Error::Config(format!(
                "`{}` is not a database URL: expected sqlite://, postgres:// or mysql://",
                mask_password(url)
            ))
        })?;
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "file" => BackendKind::Sqlite,
            "postgres" | "postgresql" => BackendKind::Postgres,
            "mysql" | "mariadb" => BackendKind::Mysql,
            other => {
                return Err(Error::Config(format!(
                    "unsupported database URL scheme `{other}`: expected sqlite, postgres or mysql"
                )))
            }
        };
        let target = match backend {
            BackendKind::Sqlite => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(Error::Config(
                        "SQLite URL has no path: use sqlite://path/to/file.db or sqlite::memory:"
                            .into(),
                    ));
                }
                path.to_string()
            }
            BackendKind::Mysql => format!("mysql:{rest}"),
            BackendKind::Postgres => url.to_string(),
        };
        Ok(DatabaseUrl { backend, target })
    }

    /// The backend the URL picks.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// What the driver connects to (contains the password, if any: never log it).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// True for an in-memory SQLite database.
    pub fn is_sqlite_memory(&self) -> bool {
        self.backend == BackendKind::Sqlite && self.target == ":memory:"
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend {
            BackendKind::Sqlite => write!(f, "sqlite://{}", self.target),
            _ => f.write_str(&mask_password(&self.target)),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

pub use crate::mask::mask_password;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_backend_from_scheme() {
        let cases = [
            ("sqlite://data/app.db", BackendKind::Sqlite, "data/app.db"),
            ("sqlite:app.db", BackendKind::Sqlite, "app.db"),
            ("sqlite::memory:", BackendKind::Sqlite, ":memory:"),
            (
                "postgresql://u@h/d",
                BackendKind::Postgres,
                "postgresql://u@h/d",
            ),
            (
                "mysql://root@127.0.0.1:3306/test",
                BackendKind::Mysql,
                "mysql://root@127.0.0.1:3306/test",
            ),
            (
                "mariadb://root@h/test",
                BackendKind::Mysql,
                "mysql://root@h/test",
            ),
        ];
        for (input, backend, target) in cases {
            let url = DatabaseUrl::parse(input).unwrap();
            assert_eq!(url.backend(), backend, "{input}");
            assert_eq!(url.target(), target, "{input}");
        }
    }

    #[test]
    fn rejects_unknown_and_empty() {
        assert!(matches!(
            DatabaseUrl::parse("mssql://x"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("no scheme"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn masks_passwords_everywhere() {
        assert_eq!(
            mask_password("postgres://a:b@h:5432/d"),
            "postgres://a:***@h:5432/d"
        );
        assert_eq!(mask_password("postgres://a@h/d"), "postgres://a@h/d");
        assert_eq!(
            mask_password("failed to connect to 'mysql://u:p%40ss@h/d': refused"),
            "failed to connect to 'mysql://u:***@h/d': refused"
        );
        let err = DatabaseUrl::parse("oracle://u:topsecret@h")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
        let shown = DatabaseUrl::parse("mysql://u:topsecret@h/d")
            .unwrap()
            .to_string();
        assert!(!shown.contains("topsecret"), "{shown}");
    }
}
