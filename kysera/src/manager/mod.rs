//! [`DatabaseManager`]: several named databases in one application, on any mix of backends,
//! with read replicas and transactions by name.
//!
//! ```
//! use kysera::manager::{DatabaseManager, ManagerConfig};
//! use kysera::TransactionOptions;
//! # fn main() -> kysera::Result<()> {
//! let config = ManagerConfig::from_toml(r#"
//!     [databases.main]
//!     url = "sqlite::memory:"
//!     [databases.analytics]
//!     url = "sqlite::memory:"
//! "#)?;
//! let manager = DatabaseManager::from_config(&config)?;
//! manager.transaction("main", &TransactionOptions::new().retries(3), |tx| {
//!     tx.batch_execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
//! })?;
//! assert_eq!(manager.names(), ["analytics", "main"]);
//! assert!(manager.health_all().iter().all(|h| h.report.status == kysera::health::Status::Healthy));
//! # Ok(()) }
//! ```
//!
//! Reads ([`DatabaseManager::read`], [`DatabaseManager::reader`]) go to the replicas in turn
//! and fall back to the primary when no replica can lend a connection; writes and
//! transactions ([`DatabaseManager::get`], [`DatabaseManager::transaction`]) always go to
//! the primary. Replicas lag their primary: read your own writes inside a transaction.

mod cluster;
mod config;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use cluster::Role;
pub use config::{ManagerConfig, NamedDatabaseConfig, PoolSettings};

use cluster::Cluster;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::executor::Conn;
use crate::health::{HealthReport, Thresholds};
use crate::transaction::{TransactionError, TransactionOptions};

/// Named databases, each a primary with optional read replicas. Cheap to clone; clones share
/// the pools.
#[derive(Debug, Clone, Default)]
pub struct DatabaseManager {
    clusters: Arc<RwLock<BTreeMap<String, Arc<Cluster>>>>,
}

/// The health of one pool of a named database.
#[derive(Debug, Clone)]
pub struct NamedHealth {
    /// The database's name.
    pub name: String,
    /// Primary or which replica.
    pub role: Role,
    /// The report.
    pub report: HealthReport,
}

impl DatabaseManager {
    /// A manager with no databases; add them with [`DatabaseManager::add`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects every database of `config` (primaries and replicas). Fails, naming the
    /// database, if any cannot be reached; nothing stays open then.
    pub fn from_config(config: &ManagerConfig) -> Result<Self> {
        let manager = DatabaseManager::new();
        for (name, database) in &config.databases {
            manager.add(name, database)?;
        }
        Ok(manager)
    }

    /// Connects `config` and adds it under `name`, replacing a database of that name.
    pub fn add(&self, name: &str, config: &NamedDatabaseConfig) -> Result<()> {
        if name.trim().is_empty() {
            return Err(Error::Config("a database name cannot be empty".into()));
        }
        let pool = config.pool.to_pool_config();
        let connect = |url: &str, role: Role| {
            Database::connect_with(url, pool.clone())
                .map_err(|e| Error::Config(format!("database `{name}` ({role}): {e}")))
        };
        let primary = connect(&config.url, Role::Primary)?;
        let replicas = config
            .replicas
            .iter()
            .enumerate()
            .map(|(i, url)| connect(url, Role::Replica(i + 1)))
            .collect::<Result<Vec<_>>>()?;
        self.insert(name, Cluster::new(primary, replicas));
        Ok(())
    }

    /// Adds pools you built yourself under `name` (plugins, instrumentation, pool settings
    /// kept as they are).
    pub fn add_database(&self, name: &str, primary: Database, replicas: Vec<Database>) {
        self.insert(name, Cluster::new(primary, replicas));
    }

    fn insert(&self, name: &str, cluster: Cluster) {
        self.write_lock()
            .insert(name.to_string(), Arc::new(cluster));
    }

    /// The names of the databases, sorted.
    pub fn names(&self) -> Vec<String> {
        self.read_lock().keys().cloned().collect()
    }

    fn cluster(&self, name: &str) -> Result<Arc<Cluster>> {
        let clusters = self.read_lock();
        clusters
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownDatabase {
                name: name.to_string(),
                known: clusters.keys().cloned().collect(),
            })
    }

    /// The primary of `name`: for writes, transactions and reads that must see them.
    pub fn get(&self, name: &str) -> Result<Database> {
        Ok(self.cluster(name)?.primary.clone())
    }

    /// The pool reads of `name` should use now: the next replica in turn, or the primary
    /// when there are none. [`DatabaseManager::read`] also falls back when a replica is down.
    pub fn reader(&self, name: &str) -> Result<Database> {
        Ok(self.cluster(name)?.reader().clone())
    }

    /// Runs read-only work on a connection of `name`'s replicas (in turn; the primary when
    /// none can lend a connection).
    pub fn read<T>(&self, name: &str, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let conn = self.cluster(name)?.read_conn()?;
        f(&conn)
    }

    /// Runs `f` on a connection of `name`'s primary, outside a transaction.
    pub fn write<T>(&self, name: &str, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let conn = self.cluster(name)?.primary.conn()?;
        f(&conn)
    }

    /// Runs `f` in a transaction on `name`'s primary, at the options' isolation level; with
    /// retries, a serialization failure or deadlock re-runs the whole closure.
    pub fn transaction<T, E, F>(
        &self,
        name: &str,
        options: &TransactionOptions,
        f: F,
    ) -> std::result::Result<T, E>
    where
        F: FnMut(&Conn) -> std::result::Result<T, E>,
        E: TransactionError,
    {
        let primary = self.cluster(name)?.primary.clone();
        primary.transaction_with(options, f)
    }

    /// The health of every pool (primaries and replicas), by name, with default thresholds.
    pub fn health_all(&self) -> Vec<NamedHealth> {
        self.health_all_with(Thresholds::default())
    }

    /// The health of every pool, judged by `thresholds`.
    pub fn health_all_with(&self, thresholds: Thresholds) -> Vec<NamedHealth> {
        let clusters: Vec<(String, Arc<Cluster>)> = self
            .read_lock()
            .iter()
            .map(|(name, cluster)| (name.clone(), cluster.clone()))
            .collect();
        clusters
            .iter()
            .flat_map(|(name, cluster)| {
                cluster.pools().map(move |(role, db)| NamedHealth {
                    name: name.clone(),
                    role,
                    report: db.health(thresholds),
                })
            })
            .collect()
    }

    /// Removes `name` and shuts its pools down, waiting up to `deadline` for connections in
    /// use to come back (see [`Database::shutdown`]).
    pub fn close(&self, name: &str, deadline: Duration) -> Result<()> {
        self.cluster(name)?;
        let cluster = self.write_lock().remove(name);
        match cluster {
            Some(cluster) => shutdown(&cluster, deadline),
            None => Ok(()),
        }
    }

    /// Removes and shuts down every database; the first error is returned after all have
    /// been asked to stop.
    pub fn close_all(&self, deadline: Duration) -> Result<()> {
        let clusters = std::mem::take(&mut *self.write_lock());
        let mut first_error = None;
        for cluster in clusters.values() {
            if let Err(err) = shutdown(cluster, deadline) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn read_lock(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Cluster>>> {
        self.clusters
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_lock(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Cluster>>> {
        self.clusters
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Shuts down every pool of a cluster against one shared deadline.
fn shutdown(cluster: &Cluster, deadline: Duration) -> Result<()> {
    let until = std::time::Instant::now() + deadline;
    let mut first_error = None;
    for (_, db) in cluster.pools() {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if let Err(err) = db.shutdown(left) {
            first_error.get_or_insert(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}
