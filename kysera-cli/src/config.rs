//! Project configuration: `kysera.toml`, then the environment (and a `.env` file), then the
//! global flags.
//!
//! Precedence, lowest first:
//!
//! 1. built-in defaults (an embedded SQLite database `sqlite://kysera.db`, migrations in
//!    `migrations/`);
//! 2. `kysera.toml` in the current directory, or the file named by `--config` /
//!    `KYSERA_CONFIG` (which must exist);
//! 3. a `.env` file in the current directory, which never overrides variables already set
//!    (loaded by `main` before the command line is parsed, see [`load_dotenv`]);
//! 4. environment variables: `DATABASE_URL`, `KYSERA_MIGRATIONS_DIR`;
//! 5. the flags `--database-url` and `--config`.
//!
//! (`DATABASE_URL` and `KYSERA_CONFIG` are read by clap as the defaults of `--database-url`
//! and `--config`, so a flag wins over its variable.)
//!
//! Relative paths and relative SQLite URLs in the file are relative to the file's directory;
//! from the environment or the command line they are relative to the current directory.
//!
//! ```toml
//! [database]
//! url = "postgres://app@localhost:5432/app"
//! pool = { max_size = 10, min_idle = 2, connection_timeout = "30s", idle_timeout = "10m" }
//!
//! [migrations]
//! directory = "migrations"
//! lock_timeout = "60s"
//!
//! [plugins.audit]
//! enabled = true
//! tables = ["users", "orders"]
//!
//! [generate]
//! models = "src/models"
//! repositories = "src/repositories"
//!
//! [health]
//! slow_query_ms = 100
//!
//! [testing]
//! database_url = "postgres://app@localhost:5432/app_test"
//!
//! [logging]
//! level = "info"
//! format = "pretty"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kysera::{BackendKind, DatabaseUrl};
use serde::{Deserialize, Deserializer, Serialize};

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// The file looked for in the current directory when neither `--config` nor `KYSERA_CONFIG`
/// names one.
pub const CONFIG_FILE: &str = "kysera.toml";

/// The database used when nothing is configured: an embedded SQLite file in the project.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kysera.db";

/// The migrations directory used when nothing is configured.
pub const DEFAULT_MIGRATIONS_DIR: &str = "migrations";

/// The bookkeeping table. It is shared with Diesel (`diesel migration run` and kysera see the
/// same history), so it cannot be renamed.
pub const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// The contents of `kysera.toml`. Every section and key is optional; unknown keys are errors,
/// so a typo is reported instead of silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `[database]`.
    pub database: DatabaseSection,
    /// `[migrations]`.
    pub migrations: MigrationsSection,
    /// `[plugins.<name>]`: plugin settings by plugin name.
    pub plugins: BTreeMap<String, PluginSection>,
    /// `[generate]`.
    pub generate: GenerateSection,
    /// `[health]`.
    pub health: HealthSection,
    /// `[testing]`.
    pub testing: TestingSection,
    /// `[logging]`.
    pub logging: LoggingSection,
}

/// `[database]`: where to connect and the pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSection {
    /// Connection URL (`sqlite://`, `postgres://`, `mysql://`).
    pub url: Option<String>,
    /// Pool settings.
    pub pool: PoolSection,
}

/// `[database.pool]`: maps onto [`kysera::PoolConfig`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSection {
    /// Most connections open at once.
    pub max_size: Option<u32>,
    /// Idle connections kept ready.
    pub min_idle: Option<u32>,
    /// How long to wait for a free connection (`"30s"`).
    #[serde(with = "opt_duration")]
    pub connection_timeout: Option<Duration>,
    /// Close idle connections after (`"10m"`).
    #[serde(with = "opt_duration")]
    pub idle_timeout: Option<Duration>,
    /// Close connections older than this (`"30m"`).
    #[serde(with = "opt_duration")]
    pub max_lifetime: Option<Duration>,
}

/// `[migrations]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MigrationsSection {
    /// Directory of `<version>_<name>/` migration directories (default `migrations`).
    pub directory: Option<PathBuf>,
    /// The bookkeeping table: accepted only as `__diesel_schema_migrations`, the table kysera
    /// shares with Diesel (kysera keeps checksums and durations in `kysera_migrations`).
    pub table: Option<String>,
    /// How long to wait for another migration runner (`"60s"`, the default).
    #[serde(with = "opt_duration")]
    pub lock_timeout: Option<Duration>,
}

/// `[plugins.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct PluginSection {
    /// Whether the plugin is on (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Tables it applies to (`["*"]` for all).
    pub tables: Vec<String>,
    /// The plugin's own settings.
    #[serde(flatten)]
    pub options: BTreeMap<String, toml::Value>,
}

fn yes() -> bool {
    true
}

/// `[generate]`: where generated code goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateSection {
    /// Model structs.
    pub models: Option<PathBuf>,
    /// Repositories.
    pub repositories: Option<PathBuf>,
    /// Diesel `table!` schema file.
    pub schema: Option<PathBuf>,
    /// Migrations created by generators (default: the migrations directory).
    pub migrations: Option<PathBuf>,
}

/// `[health]`: thresholds of `kysera health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthSection {
    /// Queries slower than this many milliseconds are reported.
    pub slow_query_ms: Option<u64>,
    /// Pool usage (percent) above which a warning is shown.
    pub pool_usage_warn_percent: Option<u8>,
    /// Interval of `kysera health watch` (`"60s"`).
    #[serde(with = "opt_duration")]
    pub interval: Option<Duration>,
}

/// `[testing]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestingSection {
    /// The test database.
    pub database_url: Option<String>,
    /// Seed files.
    pub seeds: Option<PathBuf>,
    /// Fixture files.
    pub fixtures: Option<PathBuf>,
}

/// `[logging]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingSection {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: Option<LogLevel>,
    /// `pretty` or `json`.
    pub format: Option<LogFormat>,
    /// Log SQL statements.
    pub queries: Option<bool>,
}

/// Log level of `[logging] level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Log format of `[logging] format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `"30s"`, `"10m"`, `"1h 30m"` (humantime) or a number of milliseconds.
mod opt_duration {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Millis(u64),
            Text(String),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Millis(ms)) => Ok(Some(Duration::from_millis(ms))),
            Some(Raw::Text(text)) => humantime::parse_duration(&text).map(Some).map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid duration `{text}`: {e} (write e.g. \"30s\", \"10m\" or milliseconds)"
                ))
            }),
        }
    }

    pub fn serialize<S: serde::Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }
}

/// Where a setting came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Built-in default.
    Default,
    /// The configuration file.
    File,
    /// An environment variable (possibly from `.env`).
    Env(&'static str),
    /// A command-line flag (or its environment variable, which clap merges).
    Flag(&'static str),
}

/// The configuration after every layer is applied.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// The parsed file (defaults when there is none).
    pub values: FileConfig,
    /// The database URL, password included: pass it to the driver, never print it (use
    /// [`Config::masked_url`]).
    database_url: String,
    /// Where the URL came from.
    pub database_url_source: Source,
    /// The migrations directory.
    pub migrations_dir: PathBuf,
    /// Lock timeout for migration runs.
    pub lock_timeout: Duration,
}

impl Config {
    /// Loads the configuration for the global options, reading the process environment.
    pub fn load(global: &GlobalArgs) -> Result<Config> {
        Config::load_with(global, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with environment lookups through `env` (for tests).
    pub fn load_with(global: &GlobalArgs, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let (file, values) = match &global.config {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::config(format!(
                        "configuration file {} not found",
                        path.display()
                    ))
                    .with_suggestion("Check the path given with --config or KYSERA_CONFIG")
                    .with_suggestion(format!(
                        "Remove the option to use ./{CONFIG_FILE} or the defaults"
                    )));
                }
                (Some(path.clone()), parse_file(path)?)
            }
            None => {
                let path = PathBuf::from(CONFIG_FILE);
                if path.is_file() {
                    let values = parse_file(&path)?;
                    (Some(path), values)
                } else {
                    (None, FileConfig::default())
                }
            }
        };
        let base = file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();

        if let Some(table) = &values.migrations.table {
            if table != MIGRATIONS_TABLE {
                return Err(config_key_error(
                    file.as_deref(),
                    "migrations.table",
                    format!(
                        "the migrations table cannot be renamed to `{table}`: kysera records migrations in `{MIGRATIONS_TABLE}`, the table Diesel uses, so both tools share one history"
                    ),
                )
                .with_suggestion("Remove the `table` key from [migrations]"));
            }
        }

        let (database_url, database_url_source) = match &global.database_url {
            Some(url) if env("DATABASE_URL").as_deref() == Some(url.expose()) => {
                (url.expose().to_string(), Source::Env("DATABASE_URL"))
            }
            Some(url) => (url.expose().to_string(), Source::Flag("--database-url")),
            None => match &values.database.url {
                Some(url) => (relative_sqlite(url, &base), Source::File),
                None => (DEFAULT_DATABASE_URL.to_string(), Source::Default),
            },
        };
        if database_url.trim().is_empty() {
            return Err(Error::config("the database URL is empty").with_suggestion(
                "Set [database] url in kysera.toml, DATABASE_URL or --database-url",
            ));
        }
        DatabaseUrl::parse(&database_url).map_err(|e| {
            Error::from(e).with_suggestion(format!(
                "Fix the database URL given by {}",
                describe_source(&database_url_source, file.as_deref(), "database.url")
            ))
        })?;

        let migrations_dir = match env("KYSERA_MIGRATIONS_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => match &values.migrations.directory {
                Some(dir) => base.join(dir),
                None => base.join(DEFAULT_MIGRATIONS_DIR),
            },
        };
        let lock_timeout = values
            .migrations
            .lock_timeout
            .unwrap_or(Duration::from_secs(60));

        Ok(Config {
            file,
            values,
            database_url,
            database_url_source,
            migrations_dir,
            lock_timeout,
        })
    }

    /// The database URL with its password: for the driver only.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The database URL with the password masked, for display.
    pub fn masked_url(&self) -> String {
        kysera::mask_password(&self.database_url)
    }

    /// The configured backend.
    pub fn backend(&self) -> BackendKind {
        DatabaseUrl::parse(&self.database_url)
            .map(|u| u.backend())
            .unwrap_or(BackendKind::Sqlite)
    }

    /// The pool settings of `[database.pool]` over kysera's defaults.
    pub fn pool_config(&self) -> kysera::PoolConfig {
        let p = &self.values.database.pool;
        let mut config = kysera::PoolConfig::default();
        if let Some(v) = p.max_size {
            config.max_size = v;
        }
        config.min_idle = p.min_idle.or(config.min_idle);
        if let Some(v) = p.connection_timeout {
            config.connection_timeout = v;
        }
        config.idle_timeout = p.idle_timeout.or(config.idle_timeout);
        config.max_lifetime = p.max_lifetime.or(config.max_lifetime);
        config
    }
}

/// Loads `.env` from the current directory into the process environment, without overriding
/// variables that are already set. A missing file is fine; an unreadable or malformed one is
/// an `E003`.
pub fn load_dotenv() -> Result<()> {
    match dotenvy::from_path(".env") {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::config(format!(".env: {e}"))
            .with_suggestion("Fix the .env file: one KEY=value per line")),
    }
}

/// A relative SQLite path in the file is relative to the file's directory.
fn relative_sqlite(url: &str, base: &Path) -> String {
    if base.as_os_str().is_empty() {
        return url.to_string();
    }
    let Ok(parsed) = DatabaseUrl::parse(url) else {
        return url.to_string();
    };
    if parsed.backend() != BackendKind::Sqlite || parsed.is_sqlite_memory() {
        return url.to_string();
    }
    let path = Path::new(parsed.target());
    if path.is_absolute() || parsed.target().starts_with("file:") {
        return url.to_string();
    }
    format!("sqlite://{}", base.join(path).display())
}

fn describe_source(source: &Source, file: Option<&Path>, key: &str) -> String {
    match source {
        Source::Default => "the built-in default".to_string(),
        Source::File => format!(
            "`{key}` in {}",
            file.map(|f| f.display().to_string()).unwrap_or_default()
        ),
        Source::Env(var) => var.to_string(),
        Source::Flag(flag) => format!("{flag} (or DATABASE_URL)"),
    }
}

fn config_key_error(file: Option<&Path>, key: &str, message: String) -> Error {
    let file = file
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| CONFIG_FILE.into());
    Error::config(format!("{file}: key `{key}`: {message}"))
}

/// Reads and parses a configuration file; errors carry the file, line, column and key.
pub fn parse_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!("cannot read {}: {e}", path.display()))
            .with_suggestion("Check the file's permissions")
    })?;
    parse_str(&text, path)
}

/// Parses configuration text; `path` names it in errors.
pub fn parse_str(text: &str, path: &Path) -> Result<FileConfig> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let message = e.message().trim().to_string();
        let location = e.span().map(|span| locate(text, span.start));
        let key = e.span().and_then(|span| key_at(text, span.start));
        let mut out = path.display().to_string();
        if let Some((line, column)) = location {
            out.push_str(&format!(":{line}:{column}"));
        }
        out.push_str(": ");
        if let Some(key) = &key {
            out.push_str(&format!("key `{key}`: "));
        }
        out.push_str(&message);
        if let Some((line, _)) = location {
            if let Some(src) = text.lines().nth(line - 1) {
                out.push_str(&format!("\n  {line} | {}", src.trim_end()));
            }
        }
        let mut err = Error::config(out);
        if let Some((line, _)) = location {
            err = err.with_suggestion(format!("Fix line {line} of {}", path.display()));
        }
        err.with_suggestion(
            "See the keys kysera.toml accepts: [database], [migrations], [plugins.*], [generate], [health], [testing], [logging]",
        )
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn locate(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The dotted key the byte at `offset` belongs to: the `[table]` header above it and the key
/// on its line (`database.pool.max_size`). Best effort, for error messages.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let (line_no, _) = locate(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no - 1)?.trim();
    let header = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l
            .strip_prefix("[[")
            .and_then(|r| r.split("]]").next())
            .or_else(|| l.strip_prefix('[').and_then(|r| r.split(']').next()))?;
        Some(inner.trim().replace(['"', ' '], ""))
    };
    if line.starts_with('[') {
        return header(line);
    }
    let table = lines[..line_no - 1].iter().rev().find_map(|l| header(l));
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().replace(['"', ' '], ""))
        .filter(|k| !k.is_empty() && !k.starts_with('#'));
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(t), None) => Some(t),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileConfig> {
        parse_str(text, Path::new("kysera.toml"))
    }

    #[test]
    fn full_file_parses() {
        let config = parse(
            r#"
[database]
url = "postgres://app@localhost/app"
pool = { max_size = 5, connection_timeout = "10s" }

[migrations]
directory = "db/migrations"
table = "__diesel_schema_migrations"
lock_timeout = 5000

[plugins.audit]
enabled = true
tables = ["users"]
capture_old_values = true

[generate]
models = "src/models"

[health]
slow_query_ms = 250

[testing]
database_url = "sqlite::memory:"

[logging]
level = "debug"
format = "json"
"#,
        )
        .unwrap();
        assert_eq!(config.database.pool.max_size, Some(5));
        assert_eq!(
            config.database.pool.connection_timeout,
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            config.migrations.lock_timeout,
            Some(Duration::from_millis(5000))
        );
        assert_eq!(config.plugins["audit"].tables, ["users"]);
        assert!(config.plugins["audit"]
            .options
            .contains_key("capture_old_values"));
        assert_eq!(config.logging.level, Some(LogLevel::Debug));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let err = parse("[database]\nurl = \"sqlite://a.db\"\n\n[migrations]\ndirectroy = \"x\"\n")
            .unwrap_err();
        let message = err.message();
        assert!(message.starts_with("kysera.toml:5:1: "), "{message}");
        assert!(message.contains("key `migrations.directroy`"), "{message}");
        assert!(message.contains("unknown field"), "{message}");

        let err = parse("[database.pool]\nmax_size = \"ten\"\n").unwrap_err();
        let message = err.message();
        assert!(message.contains(":2:"), "{message}");
        assert!(message.contains("database.pool.max_size"), "{message}");

        let err = parse("[database\nurl = 1").unwrap_err();
        assert!(
            err.message().contains("kysera.toml:1:"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn locate_counts_lines_and_columns() {
        assert_eq!(locate("ab\ncd", 0), (1, 1));
        assert_eq!(locate("ab\ncd", 4), (2, 2));
        assert_eq!(locate("ab\n", 3), (2, 1));
    }

    #[test]
    fn relative_sqlite_paths_follow_the_file() {
        assert_eq!(
            relative_sqlite("sqlite://app.db", Path::new("proj")),
            "sqlite://proj/app.db"
        );
        assert_eq!(
            relative_sqlite("sqlite:///abs/app.db", Path::new("proj")),
            "sqlite:///abs/app.db"
        );
        assert_eq!(
            relative_sqlite("sqlite::memory:", Path::new("proj")),
            "sqlite::memory:"
        );
        assert_eq!(
            relative_sqlite("postgres://u@h/d", Path::new("proj")),
            "postgres://u@h/d"
        );
    }
}
