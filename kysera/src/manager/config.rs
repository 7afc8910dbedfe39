//! The manager's configuration: named databases, each a primary URL, optional replicas and
//! pool settings, usually read from TOML.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::database::PoolConfig;
use crate::error::{Error, Result};

/// Every named database of an application.
///
/// ```toml
/// [databases.main]
/// url = "postgres://app@primary/app"
/// replicas = ["postgres://app@replica-1/app", "postgres://app@replica-2/app"]
///
/// [databases.main.pool]
/// max_size = 20
/// connection_timeout = "5s"
///
/// [databases.cache]
/// url = "sqlite://cache.db"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerConfig {
    /// The databases, by name.
    #[serde(default)]
    pub databases: BTreeMap<String, NamedDatabaseConfig>,
}

impl ManagerConfig {
    /// Parses TOML; a syntax error or unknown key is [`Error::Config`] with its line and column.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(format!("database manager config: {e}")))
    }
}

/// One named database: where writes go, where reads may go, and its pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedDatabaseConfig {
    /// The primary: writes, transactions, and reads when there is no replica.
    pub url: String,
    /// Read replicas, used in turn for reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<String>,
    /// Pool settings, shared by the primary and each replica.
    #[serde(default)]
    pub pool: PoolSettings,
}

impl NamedDatabaseConfig {
    /// A database at `url` with default pool settings and no replicas.
    pub fn new(url: impl Into<String>) -> Self {
        NamedDatabaseConfig {
            url: url.into(),
            ..Default::default()
        }
    }

    /// Adds a read replica.
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// Sets the pool settings.
    pub fn pool(mut self, pool: PoolSettings) -> Self {
        self.pool = pool;
        self
    }
}

/// Pool settings as configuration spells them; unset fields keep [`PoolConfig`]'s defaults.
/// Durations are `"30s"`, `"500ms"`, `"10m"` or a number of milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_size: Option<u32>,
    /// Idle connections kept ready.
    pub min_idle: Option<u32>,
    /// How long to wait for a free connection.
    #[serde(with = "duration_text", skip_serializing_if = "Option::is_none")]
    pub connection_timeout: Option<Duration>,
    /// Close idle connections after this long.
    #[serde(with = "duration_text", skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    /// Close connections older than this.
    #[serde(with = "duration_text", skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Duration>,
}

impl PoolSettings {
    /// The pool configuration these settings describe.
    pub fn to_pool_config(&self) -> PoolConfig {
        let mut config = PoolConfig::default();
        if let Some(max) = self.max_size {
            config.max_size = max;
        }
        if self.min_idle.is_some() {
            config.min_idle = self.min_idle;
        }
        if let Some(timeout) = self.connection_timeout {
            config.connection_timeout = timeout;
        }
        if self.idle_timeout.is_some() {
            config.idle_timeout = self.idle_timeout;
        }
        if self.max_lifetime.is_some() {
            config.max_lifetime = self.max_lifetime;
        }
        config
    }
}

/// Durations as text with a unit (`ms`, `s`, `m`, `h`) or as whole milliseconds.
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Millis(ms)) => Ok(Some(Duration::from_millis(ms))),
            Some(Raw::Text(text)) => parse(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid duration `{text}`: use a number with ms, s, m or h (\"5s\")"
                ))
            }),
        }
    }

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format!("{}ms", d.as_millis())),
            None => s.serialize_none(),
        }
    }

    pub(super) fn parse(text: &str) -> Option<Duration> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().ok()?;
        let ms = match unit.trim() {
            "ms" => n,
            "s" => n.checked_mul(1_000)?,
            "m" => n.checked_mul(60_000)?,
            "h" => n.checked_mul(3_600_000)?,
            _ => return None,
        };
        Some(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_databases_with_replicas_and_pools() {
        let config = ManagerConfig::from_toml(
            r#"
            [databases.main]
            url = "postgres://app@primary/app"
            replicas = ["postgres://app@replica/app"]
            [databases.main.pool]
            max_size = 4
            connection_timeout = "1500ms"
            idle_timeout = 60000
            [databases.cache]
            url = "sqlite://cache.db"
            "#,
        )
        .unwrap();
        let main = &config.databases["main"];
        assert_eq!(main.replicas, ["postgres://app@replica/app"]);
        let pool = main.pool.to_pool_config();
        assert_eq!(pool.max_size, 4);
        assert_eq!(pool.connection_timeout, Duration::from_millis(1500));
        assert_eq!(pool.idle_timeout, Some(Duration::from_secs(60)));
        assert_eq!(
            config.databases["cache"].pool.to_pool_config(),
            PoolConfig::default()
        );
    }

    #[test]
    fn bad_config_names_the_problem() {
        let unknown = ManagerConfig::from_toml("[databases.main]\nurl = \"x\"\nreplica = []\n");
        let text = unknown.unwrap_err().to_string();
        assert!(
            text.contains("replica") && text.contains("line 3"),
            "{text}"
        );
        let duration = ManagerConfig::from_toml(
            "[databases.main]\nurl = \"x\"\n[databases.main.pool]\nconnection_timeout = \"soon\"\n",
        );
        let text = duration.unwrap_err().to_string();
        assert!(text.contains("invalid duration `soon`"), "{text}");
    }

    #[test]
    fn parses_durations() {
        assert_eq!(duration_text::parse("5s"), Some(Duration::from_secs(5)));
        assert_eq!(duration_text::parse("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration_text::parse("10"), None);
        assert_eq!(duration_text::parse("3 days"), None);
    }
}
