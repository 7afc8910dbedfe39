//! One named database: a primary pool and the replica pools reads rotate over.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::database::Database;
use crate::error::Result;
use crate::executor::Conn;
use crate::resilience::CircuitBreaker;

/// How long a replica that failed to lend a connection is skipped before reads try it again.
const REPLICA_COOLDOWN: Duration = Duration::from_secs(5);

/// A primary and its read replicas.
#[derive(Debug)]
pub(super) struct Cluster {
    pub(super) primary: Database,
    pub(super) replicas: Vec<Database>,
    /// One per replica: a replica that failed is skipped for [`REPLICA_COOLDOWN`], so reads
    /// do not each wait out its connection timeout.
    breakers: Vec<CircuitBreaker>,
    next_replica: AtomicUsize,
}

impl Cluster {
    pub(super) fn new(primary: Database, replicas: Vec<Database>) -> Self {
        let breakers = replicas
            .iter()
            .map(|_| CircuitBreaker::new(1, REPLICA_COOLDOWN))
            .collect();
        Cluster {
            primary,
            replicas,
            breakers,
            next_replica: AtomicUsize::new(0),
        }
    }

    /// The replica whose turn it is, or the primary when there are none.
    pub(super) fn reader(&self) -> &Database {
        if self.replicas.is_empty() {
            return &self.primary;
        }
        let turn = self.next_replica.fetch_add(1, Ordering::Relaxed);
        &self.replicas[turn % self.replicas.len()]
    }

    /// A connection for reads: each replica in turn, then the primary when no replica can
    /// lend one (down, or its pool exhausted), so reads survive a lost replica. A replica
    /// that failed is skipped for a few seconds before it is tried again.
    pub(super) fn read_conn(&self) -> Result<Conn> {
        if self.replicas.is_empty() {
            return self.primary.conn();
        }
        let start = self.next_replica.fetch_add(1, Ordering::Relaxed);
        for offset in 0..self.replicas.len() {
            let i = (start + offset) % self.replicas.len();
            if let Ok(conn) = self.breakers[i].call(|| self.replicas[i].conn()) {
                return Ok(conn);
            }
        }
        self.primary.conn()
    }

    /// Every pool of this database: the primary first, then the replicas.
    pub(super) fn pools(&self) -> impl Iterator<Item = (Role, &Database)> {
        std::iter::once((Role::Primary, &self.primary)).chain(
            self.replicas
                .iter()
                .enumerate()
                .map(|(i, db)| (Role::Replica(i + 1), db)),
        )
    }
}

/// Which pool of a named database a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The primary.
    Primary,
    /// Replica number `n`, counting from 1 in configuration order.
    Replica(usize),
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Primary => f.write_str("primary"),
            Role::Replica(n) => write!(f, "replica {n}"),
        }
    }
}
