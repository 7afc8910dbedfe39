//! The migration runner: bookkeeping compatible with Diesel, a lock so concurrent runners apply
//! each migration once, checksums, and MySQL's non-transactional DDL handled honestly.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::QueryableByName;

use super::source::{Migration, Migrations};
use crate::connection::dispatch;
use crate::error::{BackendKind, Error, Result};
use crate::executor::Conn;

/// How far `up` or `down` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every pending migration (up) or every applied one (down).
    All,
    /// This many migrations.
    Steps(usize),
    /// Up to and including (up), or back to and excluding (down), this version or name.
    To(String),
}

/// Which way a migration ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `up.sql`.
    Up,
    /// `down.sql`.
    Down,
}

/// One migration the runner ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Directory name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Which way.
    pub direction: Direction,
    /// How long it took.
    pub duration: Duration,
}

/// Where one migration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied; `changed` when its file differs from what ran.
    Applied {
        /// When it ran (UTC).
        at: NaiveDateTime,
        /// How long it took, when kysera ran it.
        duration_ms: Option<i64>,
        /// True when `up.sql` changed since it ran.
        changed: bool,
    },
    /// Not applied yet.
    Pending,
    /// Recorded as applied, but its directory is gone.
    Missing {
        /// When it ran (UTC).
        at: NaiveDateTime,
    },
}

/// A migration and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Version.
    pub version: String,
    /// Directory name (for a missing migration, as recorded).
    pub name: String,
    /// Where it stands.
    pub state: MigrationState,
    /// `metadata.toml` description, if any.
    pub description: Option<String>,
    /// `metadata.toml` breaking flag.
    pub breaking: bool,
    /// `metadata.toml` estimated duration.
    pub estimated_duration: Option<String>,
}

/// Loads rows of `$ty` from raw SQL on whichever backend the connection has.
macro_rules! load {
    ($conn:expr, $ty:ty, $sql:expr) => {{
        use diesel::RunQueryDsl;
        let sql: &str = $sql;
        $conn.with_connection(|c| dispatch!(c, c => diesel::sql_query(sql).load::<$ty>(c)))?.map_err(Error::from)
    }};
}

#[derive(QueryableByName)]
struct AppliedRow {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    checksum: Option<String>,
    #[diesel(sql_type = Timestamp)]
    run_on: NaiveDateTime,
    #[diesel(sql_type = Nullable<BigInt>)]
    duration_ms: Option<i64>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Runs migrations on one connection.
pub struct Migrator<'a> {
    conn: &'a Conn,
    migrations: &'a Migrations,
    lock_timeout: Duration,
    accept_changed: bool,
}

impl<'a> Migrator<'a> {
    /// A runner for `migrations` on `conn` (lock timeout 60 s, changed migrations refused).
    pub fn new(conn: &'a Conn, migrations: &'a Migrations) -> Self {
        Migrator {
            conn,
            migrations,
            lock_timeout: Duration::from_secs(60),
            accept_changed: false,
        }
    }

    /// How long to wait for another runner to finish.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Accepts applied migrations whose files changed, recording their new checksums.
    pub fn accept_changed(mut self, accept: bool) -> Self {
        self.accept_changed = accept;
        self
    }

    fn backend(&self) -> BackendKind {
        self.conn.backend()
    }

    /// Creates the bookkeeping tables: Diesel's `__diesel_schema_migrations` (so Diesel and
    /// kysera see the same history) and kysera's own `kysera_migrations` and lock row.
    pub fn setup(&self) -> Result<()> {
        let (ignore, on_conflict) = match self.backend() {
            BackendKind::Sqlite => ("OR IGNORE ", ""),
            BackendKind::Postgres => ("", " ON CONFLICT DO NOTHING"),
            BackendKind::Mysql => ("IGNORE ", ""),
        };
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
                 version VARCHAR(50) PRIMARY KEY NOT NULL,
                 run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
             CREATE TABLE IF NOT EXISTS kysera_migrations (
                 version VARCHAR(50) PRIMARY KEY NOT NULL,
                 name VARCHAR(255) NOT NULL,
                 checksum VARCHAR(64) NOT NULL,
                 duration_ms BIGINT NOT NULL);
             CREATE TABLE IF NOT EXISTS kysera_migration_lock (
                 id INTEGER PRIMARY KEY NOT NULL,
                 holder BIGINT NOT NULL);
             INSERT {ignore}INTO kysera_migration_lock (id, holder) VALUES (1, 0){on_conflict};"
        );
        match self.backend() {
            // Concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL's catalog: serialise it
            // with a transaction-scoped advisory lock (safe behind transaction poolers).
            BackendKind::Postgres => self.conn.transaction(|tx| {
                tx.batch_execute("SELECT pg_advisory_xact_lock(7242593520716101)")?;
                tx.batch_execute(&sql)
            }),
            _ => self.conn.batch_execute(&sql),
        }
    }

    fn applied_rows(&self) -> Result<Vec<AppliedRow>> {
        load!(
            self.conn,
            AppliedRow,
            "SELECT d.version AS version, k.name AS name, k.checksum AS checksum, d.run_on AS run_on, k.duration_ms AS duration_ms
             FROM __diesel_schema_migrations d LEFT JOIN kysera_migrations k ON k.version = d.version
             ORDER BY d.version"
        )
    }

    /// Every migration with its state, oldest first, then recorded ones whose files are gone.
    pub fn status(&self) -> Result<Vec<MigrationStatus>> {
        self.setup()?;
        let applied = self.applied_rows()?;
        let mut out = Vec::new();
        for m in self.migrations.iter() {
            let state = match applied.iter().find(|a| a.version == m.version) {
                Some(a) => MigrationState::Applied {
                    at: a.run_on,
                    duration_ms: a.duration_ms,
                    changed: a.checksum.as_deref().is_some_and(|c| c != m.checksum),
                },
                None => MigrationState::Pending,
            };
            out.push(MigrationStatus {
                version: m.version.clone(),
                name: m.name.clone(),
                state,
                description: m.metadata.description.clone(),
                breaking: m.metadata.breaking,
                estimated_duration: m.metadata.estimated_duration.clone(),
            });
        }
        for a in applied
            .iter()
            .filter(|a| self.migrations.iter().all(|m| m.version != a.version))
        {
            out.push(MigrationStatus {
                version: a.version.clone(),
                name: a.name.clone().unwrap_or_else(|| a.version.clone()),
                state: MigrationState::Missing { at: a.run_on },
                description: None,
                breaking: false,
                estimated_duration: None,
            });
        }
        Ok(out)
    }

    /// The migrations `up(target)` would run, in order (for dry runs).
    pub fn plan_up(&self, target: &Target) -> Result<Vec<&'a Migration>> {
        self.setup()?;
        let applied = self.applied_rows()?;
        let pending: Vec<&Migration> = self
            .migrations
            .iter()
            .filter(|m| applied.iter().all(|a| a.version != m.version))
            .collect();
        Ok(match target {
            Target::All => pending,
            Target::Steps(n) => pending.into_iter().take(*n).collect(),
            Target::To(to) => {
                let stop = self
                    .migrations
                    .find(to)
                    .ok_or_else(|| Error::Migration(format!("no migration `{to}`")))?;
                pending
                    .into_iter()
                    .filter(|m| m.version <= stop.version)
                    .collect()
            }
        })
    }

    /// The migrations `down(target)` would revert, newest first (for dry runs).
    pub fn plan_down(&self, target: &Target) -> Result<Vec<&'a Migration>> {
        self.setup()?;
        let applied = self.applied_rows()?;
        let mut done: Vec<&Migration> = Vec::new();
        for a in applied.iter().rev() {
            match self.migrations.iter().find(|m| m.version == a.version) {
                Some(m) => done.push(m),
                None => {
                    return Err(Error::Migration(format!(
                        "applied migration {} has no directory: cannot revert past it",
                        a.name.as_deref().unwrap_or(&a.version)
                    )))
                }
            }
        }
        Ok(match target {
            Target::All => done,
            Target::Steps(n) => done.into_iter().take(*n).collect(),
            Target::To(to) => {
                let stop = self
                    .migrations
                    .find(to)
                    .ok_or_else(|| Error::Migration(format!("no migration `{to}`")))?;
                done.into_iter()
                    .filter(|m| m.version > stop.version)
                    .collect()
            }
        })
    }

    /// Refuses to run when an applied migration's file changed (unless accepted, in which
    /// case the new checksum is recorded); adopts migrations Diesel applied.
    fn check_integrity(&self) -> Result<()> {
        let applied = self.applied_rows()?;
        let mut changed = Vec::new();
        for a in &applied {
            let Some(m) = self.migrations.iter().find(|m| m.version == a.version) else {
                continue;
            };
            match &a.checksum {
                None => self.record_kysera(m, 0)?,
                Some(sum) if *sum != m.checksum => {
                    if self.accept_changed {
                        self.exec(
                            "UPDATE kysera_migrations SET checksum = ? WHERE version = ?",
                            &[&m.checksum, &m.version],
                        )?;
                    } else {
                        changed.push(m.name.clone());
                    }
                }
                Some(_) => {}
            }
        }
        if changed.is_empty() {
            Ok(())
        } else {
            Err(Error::MigrationChanged(changed))
        }
    }

    /// Applies pending migrations up to `target`; returns what ran (empty: nothing to do).
    pub fn up(&self, target: Target) -> Result<Vec<Applied>> {
        self.run(Direction::Up, &target)
    }

    /// Reverts applied migrations (one with `Target::Steps(1)`); returns what ran.
    pub fn down(&self, target: Target) -> Result<Vec<Applied>> {
        self.run(Direction::Down, &target)
    }

    /// Reverts and re-applies the last `steps` migrations.
    pub fn redo(&self, steps: usize) -> Result<Vec<Applied>> {
        let mut done = self.down(Target::Steps(steps))?;
        let count = done.len();
        done.extend(self.up(Target::Steps(count))?);
        Ok(done)
    }

    /// Reverts every applied migration.
    pub fn reset(&self) -> Result<Vec<Applied>> {
        self.down(Target::All)
    }

    /// Drops every table and view of the database, then applies every migration.
    pub fn fresh(&self) -> Result<Vec<Applied>> {
        self.drop_everything()?;
        self.up(Target::All)
    }

    fn run(&self, direction: Direction, target: &Target) -> Result<Vec<Applied>> {
        self.setup()?;
        self.prepare_lock_wait()?;
        // MySQL commits DDL implicitly, which would release a row lock mid-migration: hold a
        // named lock for the whole run instead.
        let mysql = self.backend() == BackendKind::Mysql;
        if mysql {
            self.mysql_lock()?;
        }
        let result = self.run_locked(direction, target);
        if mysql {
            let _ = self
                .conn
                .batch_execute("DO RELEASE_LOCK('kysera_migrations')");
        }
        // Back to the connection's usual waiting (it may return to a pool).
        let _ = match self.backend() {
            BackendKind::Sqlite => self.conn.batch_execute("PRAGMA busy_timeout = 5000"),
            BackendKind::Postgres => self.conn.batch_execute("RESET lock_timeout"),
            BackendKind::Mysql => Ok(()),
        };
        result
    }

    fn run_locked(&self, direction: Direction, target: &Target) -> Result<Vec<Applied>> {
        self.check_integrity()?;
        let plan = match direction {
            Direction::Up => self.plan_up(target)?,
            Direction::Down => self.plan_down(target)?,
        };
        // Refuse scripts without a statement before anything runs: PostgreSQL rejects them as
        // empty queries, so they would fail halfway through a run on that backend only.
        for m in &plan {
            let (file, sql) = match direction {
                Direction::Up => ("up.sql", Some(m.up.as_str())),
                Direction::Down => ("down.sql", m.down.as_deref()),
            };
            if sql.is_some_and(super::source::is_blank) {
                return Err(Error::Migration(format!(
                    "{}/{file} has only comments: write its SQL first",
                    m.name
                )));
            }
        }
        let mut done = Vec::new();
        for m in plan {
            if let Some(applied) = self.apply(m, direction)? {
                done.push(applied);
            }
        }
        Ok(done)
    }

    /// Runs one migration with its bookkeeping; `None` when another runner already did.
    fn apply(&self, m: &Migration, direction: Direction) -> Result<Option<Applied>> {
        let sql = match direction {
            Direction::Up => m.up.as_str(),
            Direction::Down => m.down.as_deref().ok_or_else(|| {
                Error::Migration(format!("{} has no down.sql: it cannot be reverted", m.name))
            })?,
        };
        let step = || -> Result<Option<Applied>> {
            let applied = self.is_applied(&m.version)?;
            if applied == (direction == Direction::Up) {
                return Ok(None);
            }
            let started = Instant::now();
            self.conn
                .batch_execute(sql)
                .map_err(|e| self.failed(m, direction, e))?;
            let duration = started.elapsed();
            match direction {
                Direction::Up => {
                    self.exec(
                        "INSERT INTO __diesel_schema_migrations (version) VALUES (?)",
                        &[&m.version],
                    )?;
                    self.record_kysera(m, duration.as_millis() as i64)?;
                }
                Direction::Down => {
                    self.exec(
                        "DELETE FROM __diesel_schema_migrations WHERE version = ?",
                        &[&m.version],
                    )?;
                    self.exec(
                        "DELETE FROM kysera_migrations WHERE version = ?",
                        &[&m.version],
                    )?;
                }
            }
            Ok(Some(Applied {
                name: m.name.clone(),
                version: m.version.clone(),
                direction,
                duration,
            }))
        };
        let transactional = m.metadata.run_in_transaction && self.backend() != BackendKind::Mysql;
        if transactional {
            // The migration, its bookkeeping and the lock row commit together.
            self.conn.transaction(|_| {
                self.take_row_lock()?;
                step()
            })
        } else {
            step()
        }
    }

    fn failed(&self, m: &Migration, direction: Direction, err: Error) -> Error {
        let which = if direction == Direction::Up {
            "up.sql"
        } else {
            "down.sql"
        };
        if self.backend() == BackendKind::Mysql {
            Error::Migration(format!(
                "{}/{which} failed: {err}. MySQL cannot roll back DDL, so statements before the failing one may have been applied; \
                 the migration is NOT recorded. Inspect the schema, undo what ran (see down.sql), fix the script and run again.",
                m.name
            ))
        } else {
            Error::Migration(format!(
                "{}/{which} failed and was rolled back: {err}",
                m.name
            ))
        }
    }

    fn is_applied(&self, version: &str) -> Result<bool> {
        use diesel::RunQueryDsl;
        let sql = "SELECT COUNT(*) AS n FROM __diesel_schema_migrations WHERE version = ";
        let rows: Vec<Count> = self
            .conn
            .with_connection(|c| {
                dispatch!(c, c => {
                    let q = format!("{sql}{}", placeholder(c, 1));
                    diesel::sql_query(q).bind::<Text, _>(version).load::<Count>(c)
                })
            })?
            .map_err(Error::from)?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }

    fn record_kysera(&self, m: &Migration, duration_ms: i64) -> Result<()> {
        use diesel::RunQueryDsl;
        self.conn
            .with_connection(|c| dispatch!(c, c => {
                let q = format!(
                    "INSERT INTO kysera_migrations (version, name, checksum, duration_ms) VALUES ({}, {}, {}, {})",
                    placeholder(c, 1), placeholder(c, 2), placeholder(c, 3), placeholder(c, 4)
                );
                diesel::sql_query(q)
                    .bind::<Text, _>(&m.version)
                    .bind::<Text, _>(&m.name)
                    .bind::<Text, _>(&m.checksum)
                    .bind::<BigInt, _>(duration_ms)
                    .execute(c)
            }))?
            .map(drop)
            .map_err(Error::from)
    }

    /// Runs `sql` with `?` placeholders bound to `args` as text.
    fn exec(&self, sql: &str, args: &[&str]) -> Result<()> {
        use diesel::RunQueryDsl;
        self.conn
            .with_connection(|c| dispatch!(c, c => {
                let mut n = 0;
                let q: String = sql.split('?').enumerate().map(|(i, part)| {
                    if i == 0 { part.to_string() } else { n += 1; format!("{}{part}", placeholder(c, n)) }
                }).collect();
                let mut query = diesel::sql_query(q).into_boxed();
                for arg in args {
                    query = query.bind::<Text, _>(arg.to_string());
                }
                query.execute(c)
            }))?
            .map(drop)
            .map_err(Error::from)
    }

    /// Makes waiting for another runner last up to the lock timeout.
    fn prepare_lock_wait(&self) -> Result<()> {
        let ms = self.lock_timeout.as_millis();
        match self.backend() {
            BackendKind::Sqlite => self
                .conn
                .batch_execute(&format!("PRAGMA busy_timeout = {ms}")),
            BackendKind::Postgres => self.conn.batch_execute(&format!("SET lock_timeout = {ms}")),
            BackendKind::Mysql => Ok(()),
        }
    }

    /// Locks the lock row until the current transaction ends: concurrent runners queue here.
    /// Transaction-scoped, so it holds behind a transaction-pooling proxy too.
    fn take_row_lock(&self) -> Result<()> {
        self.conn
            .batch_execute("UPDATE kysera_migration_lock SET holder = holder + 1 WHERE id = 1")
            .map_err(|e| match e {
                e if e.is_transient() => Error::Migration(format!(
                    "timed out after {:?} waiting for another migration runner: {e}",
                    self.lock_timeout
                )),
                e => e,
            })
    }

    fn mysql_lock(&self) -> Result<()> {
        let secs = self.lock_timeout.as_secs().max(1);
        let got: Vec<Count> = load!(
            self.conn,
            Count,
            &format!(
                "SELECT CAST(COALESCE(GET_LOCK('kysera_migrations', {secs}), 0) AS SIGNED) AS n"
            )
        )?;
        if got.first().is_some_and(|r| r.n == 1) {
            Ok(())
        } else {
            Err(Error::Migration(format!(
                "timed out after {secs}s waiting for another migration runner"
            )))
        }
    }

    fn drop_everything(&self) -> Result<()> {
        let (list, quote, off, on): (&str, fn(&str) -> String, &str, &str) = match self.backend() {
            BackendKind::Sqlite => (
                "SELECT name AS name, type AS kind FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
                |n| format!("\"{}\"", n.replace('"', "\"\"")),
                "PRAGMA foreign_keys = OFF;",
                "PRAGMA foreign_keys = ON;",
            ),
            BackendKind::Postgres => (
                "SELECT table_name::text AS name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind
                 FROM information_schema.tables WHERE table_schema = current_schema()",
                |n| format!("\"{}\"", n.replace('"', "\"\"")),
                "",
                "",
            ),
            BackendKind::Mysql => (
                "SELECT CAST(table_name AS CHAR) AS name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind
                 FROM information_schema.tables WHERE table_schema = DATABASE()",
                |n| format!("`{}`", n.replace('`', "``")),
                "SET FOREIGN_KEY_CHECKS = 0;",
                "SET FOREIGN_KEY_CHECKS = 1;",
            ),
        };
        let objects: Vec<NameRow> = load!(self.conn, NameRow, list)?;
        let cascade = if self.backend() == BackendKind::Postgres {
            " CASCADE"
        } else {
            ""
        };
        let mut sql = String::from(off);
        for o in objects
            .iter()
            .filter(|o| o.kind == "view")
            .chain(objects.iter().filter(|o| o.kind == "table"))
        {
            sql.push_str(&format!(
                " DROP {} IF EXISTS {}{cascade};",
                o.kind.to_uppercase(),
                quote(&o.name)
            ));
        }
        sql.push_str(on);
        self.conn.batch_execute(&sql)
    }
}

/// The bind placeholder number `n` (1-based) in raw SQL for `conn`'s backend.
fn placeholder<C: 'static>(_conn: &C, n: usize) -> String {
    if std::any::TypeId::of::<C>() == pg_type_id() {
        format!("${n}")
    } else {
        "?".to_string()
    }
}

#[cfg(feature = "postgres")]
fn pg_type_id() -> std::any::TypeId {
    std::any::TypeId::of::<diesel::PgConnection>()
}

#[cfg(not(feature = "postgres"))]
fn pg_type_id() -> std::any::TypeId {
    std::any::TypeId::of::<()>()
}
