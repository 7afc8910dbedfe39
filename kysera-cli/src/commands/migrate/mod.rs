//! `kysera migrate ...`: drives [`kysera::migrate::Migrator`], the runner applications use,
//! so the CLI and the library share one implementation and one bookkeeping table.
//!
//! Runs go one migration at a time through the runner (`up(Target::To(name))`,
//! `down(Target::Steps(1))`), so each line is printed as its migration finishes and a failure
//! leaves the lines of the migrations that did run on screen.

pub mod create;

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use indicatif::{ProgressBar, ProgressStyle};
use kysera::migrate::{
    Applied, Direction, Migration, MigrationState, MigrationStatus, Migrations, Migrator, Target,
};
use kysera::Conn;
use serde::Serialize;

use crate::cli::{
    DownArgs, FreshArgs, GlobalArgs, ListArgs, MigrateArgs, MigrateCommand, RedoArgs, ResetArgs,
    UpArgs,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::output::Output;

/// A progress bar is shown (on a terminal) when more migrations than this run.
const PROGRESS_THRESHOLD: usize = 5;

/// Runs a `kysera migrate` subcommand.
pub fn run(args: &MigrateArgs, global: &GlobalArgs, output: &Output) -> Result<()> {
    let config = Config::load(global)?;
    let dir = args
        .directory
        .clone()
        .unwrap_or_else(|| config.migrations_dir.clone());
    if let MigrateCommand::Create(create_args) = &args.command {
        return create::run(create_args, &dir, config.backend(), output);
    }
    let migrations = load_migrations(&dir)?;
    let conn = connect(&config)?;
    let ctx = Context {
        config: &config,
        dir: &dir,
        migrations: &migrations,
        conn: &conn,
        output,
    };
    match &args.command {
        MigrateCommand::Create(_) => unreachable!("handled above"),
        MigrateCommand::Up(a) => ctx.up(a),
        MigrateCommand::Down(a) => ctx.down(a),
        MigrateCommand::Redo(a) => ctx.redo(a),
        MigrateCommand::Status(_) => ctx.status(),
        MigrateCommand::List(a) => ctx.list(a),
        MigrateCommand::Reset(a) => ctx.reset(a),
        MigrateCommand::Fresh(a) => ctx.fresh(a),
    }
}

/// Reads the migrations directory; a missing directory holds no migrations.
fn load_migrations(dir: &Path) -> Result<Migrations> {
    if !dir.exists() {
        return Ok(Migrations::default());
    }
    Migrations::from_dir(dir).map_err(|e| {
        Error::from(e)
            .with_suggestion(format!(
                "Each entry of {} must be a <version>_<name>/ directory with up.sql (and down.sql)",
                dir.display()
            ))
            .with_suggestion("Create migrations with: kysera migrate create <name>")
    })
}

/// One connection to the configured database; failures are `E001` naming the (masked) URL.
fn connect(config: &Config) -> Result<Conn> {
    Conn::establish(config.database_url()).map_err(|e| {
        let err = Error::from(e);
        match err {
            Error::Connection(_) => Error::connection(format!(
                "{} (database: {})",
                err.message().trim_end(),
                config.masked_url()
            ))
            .with_suggestion(format!(
                "Check the connection string, given by {}",
                match &config.database_url_source {
                    crate::config::Source::Default =>
                        "the default (sqlite://kysera.db); set [database] url in kysera.toml, DATABASE_URL or --database-url".to_string(),
                    crate::config::Source::File => format!(
                        "[database] url in {}",
                        config.file.as_deref().unwrap_or(Path::new("kysera.toml")).display()
                    ),
                    crate::config::Source::Env(var) => var.to_string(),
                    crate::config::Source::Flag(flag) => flag.to_string(),
                }
            ))
            .with_suggestion("Check that the database server is running and reachable"),
            other => other,
        }
    })
}

/// Asks before a destructive command. `--force` skips the question; without a terminal on
/// stdin there is nobody to ask, so the command is refused.
fn confirm(warning: &str, force: bool, command: &str) -> Result<()> {
    if force {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        return Err(Error::not_confirmed(format!(
            "{warning} Refusing to continue without confirmation: stdin is not a terminal."
        ))
        .with_suggestion(format!(
            "Run 'kysera {command} --force' to skip the confirmation"
        )));
    }
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "⚠️  WARNING: {warning}")?;
    write!(stderr, "? Are you sure? (y/N) ")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(
            Error::not_confirmed("cancelled: nothing was changed").with_suggestion(format!(
                "Run 'kysera {command} --force' to skip the confirmation"
            )),
        )
    }
}

/// A migration as `--json` prints it (status, list, and the runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationInfo {
    /// Version (digits of the directory name's prefix).
    pub version: String,
    /// Directory name.
    pub name: String,
    /// `applied`, `pending` or `missing`.
    pub state: &'static str,
    /// When it was applied (UTC, `YYYY-MM-DD HH:MM:SS`).
    pub applied_at: Option<String>,
    /// How long it took when kysera ran it.
    pub duration_ms: Option<i64>,
    /// True when its up.sql changed since it ran.
    pub changed: bool,
    /// `metadata.toml` description.
    pub description: Option<String>,
    /// `metadata.toml` breaking flag.
    pub breaking: bool,
    /// `metadata.toml` estimated duration.
    pub estimated_duration: Option<String>,
}

impl From<&MigrationStatus> for MigrationInfo {
    fn from(s: &MigrationStatus) -> Self {
        let (state, at, duration_ms, changed) = match &s.state {
            MigrationState::Applied {
                at,
                duration_ms,
                changed,
            } => ("applied", Some(at), *duration_ms, *changed),
            MigrationState::Pending => ("pending", None, None, false),
            MigrationState::Missing { at } => ("missing", Some(at), None, false),
        };
        MigrationInfo {
            version: s.version.clone(),
            name: s.name.clone(),
            state,
            applied_at: at.map(fmt_time),
            duration_ms,
            changed,
            description: s.description.clone(),
            breaking: s.breaking,
            estimated_duration: s.estimated_duration.clone(),
        }
    }
}

fn fmt_time(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `migrate status --json`.
#[derive(Debug, Serialize)]
struct StatusReport {
    database: DatabaseInfo,
    directory: String,
    applied: Vec<MigrationInfo>,
    pending: Vec<MigrationInfo>,
    changed: Vec<String>,
    missing: Vec<MigrationInfo>,
}

#[derive(Debug, Serialize)]
struct DatabaseInfo {
    backend: kysera::BackendKind,
    url: String,
}

/// One migration of a run, for `--json`.
#[derive(Debug, Serialize)]
struct RunItem {
    name: String,
    version: String,
    direction: &'static str,
    duration_ms: u128,
}

/// A run (`up`, `down`, `redo`, `reset`, `fresh`) for `--json`.
#[derive(Debug, Serialize)]
struct RunReport {
    command: &'static str,
    migrations: Vec<RunItem>,
    total_ms: u128,
}

/// A dry run for `--json`.
#[derive(Debug, Serialize)]
struct DryRunReport {
    dry_run: bool,
    direction: &'static str,
    migrations: Vec<DryRunItem>,
}

#[derive(Debug, Serialize)]
struct DryRunItem {
    name: String,
    version: String,
    sql: Option<String>,
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "↑",
        Direction::Down => "↓",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "migration"
    } else {
        "migrations"
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// Everything a migrate subcommand works with.
struct Context<'a> {
    config: &'a Config,
    dir: &'a Path,
    migrations: &'a Migrations,
    conn: &'a Conn,
    output: &'a Output,
}

/// One step of a run.
struct Step<'m> {
    migration: &'m Migration,
    direction: Direction,
}

impl<'a> Context<'a> {
    fn migrator(&self, accept_changed: bool) -> Migrator<'a> {
        Migrator::new(self.conn, self.migrations)
            .lock_timeout(self.config.lock_timeout)
            .accept_changed(accept_changed)
    }

    /// Reports applied migrations whose up.sql changed, by name, before anything runs (the
    /// runner checks again under its lock).
    fn check_changed(&self, migrator: &Migrator<'_>, accept_changed: bool) -> Result<()> {
        if accept_changed {
            return Ok(());
        }
        let changed: Vec<String> = migrator
            .status()?
            .into_iter()
            .filter(|s| matches!(s.state, MigrationState::Applied { changed: true, .. }))
            .map(|s| s.name)
            .collect();
        if changed.is_empty() {
            Ok(())
        } else {
            Err(kysera::Error::MigrationChanged(changed).into())
        }
    }

    fn up(&self, args: &UpArgs) -> Result<()> {
        let migrator = self.migrator(args.accept_changed);
        self.check_changed(&migrator, args.accept_changed)?;
        let target = match (&args.steps, &args.to) {
            (Some(n), _) => Target::Steps(*n),
            (None, Some(to)) => Target::To(self.known_target(to)?),
            (None, None) => Target::All,
        };
        let plan = migrator.plan_up(&target)?;
        if args.dry_run {
            return self.dry_run(&plan, Direction::Up);
        }
        let steps: Vec<Step> = plan
            .into_iter()
            .map(|migration| Step {
                migration,
                direction: Direction::Up,
            })
            .collect();
        self.execute("up", &migrator, steps)
    }

    fn down(&self, args: &DownArgs) -> Result<()> {
        let migrator = self.migrator(args.accept_changed);
        self.check_changed(&migrator, args.accept_changed)?;
        let target = match (&args.steps, &args.to, args.all) {
            (_, _, true) => Target::All,
            (Some(n), _, _) => Target::Steps(*n),
            (None, Some(to), _) => Target::To(self.known_target(to)?),
            (None, None, false) => Target::Steps(1),
        };
        let plan = migrator.plan_down(&target)?;
        if args.dry_run {
            return self.dry_run(&plan, Direction::Down);
        }
        if args.all {
            confirm_roll_back_all(plan.len(), args.force, "migrate down --all")?;
        }
        self.execute("down", &migrator, down_steps(plan))
    }

    fn redo(&self, args: &RedoArgs) -> Result<()> {
        let migrator = self.migrator(args.accept_changed);
        self.check_changed(&migrator, args.accept_changed)?;
        let plan = migrator.plan_down(&Target::Steps(args.steps))?;
        let mut steps: Vec<Step> = plan
            .iter()
            .map(|m| Step {
                migration: m,
                direction: Direction::Down,
            })
            .collect();
        steps.extend(plan.iter().rev().map(|m| Step {
            migration: m,
            direction: Direction::Up,
        }));
        self.execute("redo", &migrator, steps)
    }

    fn reset(&self, args: &ResetArgs) -> Result<()> {
        let migrator = self.migrator(args.accept_changed);
        self.check_changed(&migrator, args.accept_changed)?;
        let plan = migrator.plan_down(&Target::All)?;
        confirm_roll_back_all(plan.len(), args.force, "migrate reset")?;
        self.execute("reset", &migrator, down_steps(plan))
    }

    fn fresh(&self, args: &FreshArgs) -> Result<()> {
        confirm(
            &format!(
                "This will DROP ALL TABLES and views of {}!",
                self.config.masked_url()
            ),
            args.force,
            "migrate fresh",
        )?;
        for m in self.migrations.iter() {
            self.check_statements(m, Direction::Up)?;
        }
        let migrator = self.migrator(false);
        let started = Instant::now();
        if !self.output.quiet() && !self.output.json() {
            let mut out = self.output.stdout();
            writeln!(out, "Dropping all tables...")?;
            out.flush()?;
        }
        let applied = migrator.fresh().map_err(|e| self.run_error(e, None))?;
        let total = started.elapsed();
        if self.output.json() {
            return self.output.print_json(&RunReport {
                command: "fresh",
                migrations: applied.iter().map(run_item).collect(),
                total_ms: ms(total),
            });
        }
        let mut out = self.output.stdout();
        for a in &applied {
            if !self.output.quiet() {
                writeln!(
                    out,
                    "{} {} ✓ ({}ms)",
                    arrow(a.direction),
                    a.name,
                    ms(a.duration)
                )?;
            }
        }
        if applied.is_empty() {
            writeln!(
                out,
                "✅ Dropped all tables; no migrations to apply ({}ms)",
                ms(total)
            )?;
        } else {
            writeln!(
                out,
                "✅ Dropped all tables; {} {} applied in {}ms",
                applied.len(),
                plural(applied.len()),
                ms(total)
            )?;
        }
        out.flush()?;
        Ok(())
    }

    /// Refuses, before anything runs, a script with nothing but comments (PostgreSQL and
    /// MySQL reject an empty query, SQLite would record a migration that did nothing) or a
    /// missing down.sql.
    fn check_statements(&self, m: &Migration, direction: Direction) -> Result<()> {
        let (file, sql) = match direction {
            Direction::Up => ("up.sql", Some(m.up.as_str())),
            Direction::Down => ("down.sql", m.down.as_deref()),
        };
        let path = self.dir.join(&m.name).join(file);
        match sql {
            None => Err(Error::migration(format!(
                "{} has no down.sql: it cannot be reverted. Nothing was run.",
                m.name
            ))
            .with_suggestion(format!("Write {} to undo up.sql", path.display()))),
            Some(sql) if !has_statements(sql) => Err(Error::migration(format!(
                "{}/{file} has no SQL statements, only comments. Nothing was run.",
                m.name
            ))
            .with_suggestion(format!("Write the migration's SQL in {}", path.display()))
            .with_suggestion("For a deliberate no-op, write a statement such as `SELECT 1;`")),
            Some(_) => Ok(()),
        }
    }

    /// `--to` must name a migration that exists.
    fn known_target(&self, to: &str) -> Result<String> {
        match self.migrations.find(to) {
            Some(m) => Ok(m.name.clone()),
            None => Err(
                Error::migration(format!("no migration `{to}` in {}", self.dir.display()))
                    .with_suggestion("Give a version (20240101120000) or a directory name")
                    .with_suggestion("Run 'kysera migrate list' to see the migrations"),
            ),
        }
    }

    /// Prints each migration's SQL in order; changes nothing.
    fn dry_run(&self, plan: &[&Migration], direction: Direction) -> Result<()> {
        let sql = |m: &Migration| -> Option<String> {
            match direction {
                Direction::Up => Some(m.up.clone()),
                Direction::Down => m.down.clone(),
            }
        };
        if self.output.json() {
            return self.output.print_json(&DryRunReport {
                dry_run: true,
                direction: direction_name(direction),
                migrations: plan
                    .iter()
                    .map(|m| DryRunItem {
                        name: m.name.clone(),
                        version: m.version.clone(),
                        sql: sql(m),
                    })
                    .collect(),
            });
        }
        let mut out = self.output.stdout();
        if plan.is_empty() {
            writeln!(
                out,
                "{}",
                match direction {
                    Direction::Up => "Nothing to migrate",
                    Direction::Down => "Nothing to roll back",
                }
            )?;
            out.flush()?;
            return Ok(());
        }
        let verb = match direction {
            Direction::Up => "applied",
            Direction::Down => "rolled back",
        };
        writeln!(
            out,
            "-- Dry run: {} {} would be {verb}; nothing is changed.",
            plan.len(),
            plural(plan.len())
        )?;
        let file = match direction {
            Direction::Up => "up.sql",
            Direction::Down => "down.sql",
        };
        for m in plan {
            writeln!(out)?;
            writeln!(out, "-- {} {} ({file})", arrow(direction), m.name)?;
            match sql(m) {
                Some(text) => {
                    write!(out, "{text}")?;
                    if !text.ends_with('\n') {
                        writeln!(out)?;
                    }
                }
                None => writeln!(out, "-- (no down.sql: this migration cannot be reverted)")?,
            }
        }
        out.flush()?;
        Ok(())
    }

    /// Runs the steps one by one through the runner, printing each as it finishes.
    fn execute(
        &self,
        command: &'static str,
        migrator: &Migrator<'_>,
        steps: Vec<Step>,
    ) -> Result<()> {
        let output = self.output;
        let json = output.json();
        for step in &steps {
            self.check_statements(step.migration, step.direction)?;
        }
        let mut out = output.stdout();
        if steps.is_empty() {
            if json {
                drop(out);
                return output.print_json(&RunReport {
                    command,
                    migrations: Vec::new(),
                    total_ms: 0,
                });
            }
            let message = match command {
                "up" => "Nothing to migrate",
                "redo" => "Nothing to redo",
                _ => "Nothing to roll back",
            };
            writeln!(out, "{message}")?;
            out.flush()?;
            return Ok(());
        }
        let progress = (!json
            && !output.quiet()
            && steps.len() > PROGRESS_THRESHOLD
            && io::stdout().is_terminal()
            && io::stderr().is_terminal())
        .then(|| {
            let bar = ProgressBar::new(steps.len() as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
                bar.set_style(style);
            }
            bar
        });
        if !json && !output.quiet() {
            let header = match command {
                "up" => "Running migrations...",
                "redo" => "Redoing migrations...",
                _ => "Rolling back migrations...",
            };
            writeln!(out, "{header}")?;
            out.flush()?;
        }
        let started = Instant::now();
        let mut done: Vec<Applied> = Vec::new();
        for step in &steps {
            if let Some(bar) = &progress {
                bar.set_message(step.migration.name.clone());
            }
            let result = match step.direction {
                Direction::Up => migrator.up(Target::To(step.migration.name.clone())),
                Direction::Down => migrator.down(Target::Steps(1)),
            };
            match result {
                Ok(applied) => {
                    for a in applied {
                        let line =
                            format!("{} {} ✓ ({}ms)", arrow(a.direction), a.name, ms(a.duration));
                        match &progress {
                            Some(bar) => {
                                bar.println(line);
                                bar.inc(1);
                            }
                            None if !json && !output.quiet() => {
                                writeln!(out, "{line}")?;
                                out.flush()?;
                            }
                            None => {}
                        }
                        done.push(a);
                    }
                }
                Err(e) => {
                    let line = format!("{} {} ✗", arrow(step.direction), step.migration.name);
                    match &progress {
                        Some(bar) => {
                            bar.println(line);
                            bar.abandon();
                        }
                        None if !json => {
                            writeln!(out, "{line}")?;
                            out.flush()?;
                        }
                        None => {}
                    }
                    return Err(self.run_error(e, Some(step)));
                }
            }
        }
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        let total = started.elapsed();
        if json {
            drop(out);
            return output.print_json(&RunReport {
                command,
                migrations: done.iter().map(run_item).collect(),
                total_ms: ms(total),
            });
        }
        let n = done.len();
        let summary = match command {
            "up" => format!("{n} {} applied in {}ms", plural(n), ms(total)),
            "redo" => format!("{} {} redone in {}ms", n / 2, plural(n / 2), ms(total)),
            _ => format!("{n} {} rolled back in {}ms", plural(n), ms(total)),
        };
        writeln!(out, "✅ {summary}")?;
        out.flush()?;
        Ok(())
    }

    /// A failed step as `E002` naming the file, with suggestions.
    fn run_error(&self, err: kysera::Error, step: Option<&Step>) -> Error {
        let is_migration = matches!(
            err,
            kysera::Error::Migration(_) | kysera::Error::MigrationChanged(_)
        );
        let err = Error::from(err);
        if !is_migration || matches!(err, Error::Migration(ref d) if !d.suggestions.is_empty()) {
            return err;
        }
        let mut err = err;
        if let Some(step) = step {
            let file = match step.direction {
                Direction::Up => "up.sql",
                Direction::Down => "down.sql",
            };
            let path: PathBuf = self.dir.join(&step.migration.name).join(file);
            err = err.with_suggestion(format!("Fix {} and run the command again", path.display()));
        }
        err.with_suggestion("Run 'kysera migrate status' to verify what is applied")
            .with_suggestion("Use 'kysera migrate down' to roll back what was applied")
    }

    fn statuses(&self) -> Result<Vec<MigrationStatus>> {
        Ok(self.migrator(false).status()?)
    }

    fn status(&self) -> Result<()> {
        let statuses = self.statuses()?;
        let infos: Vec<MigrationInfo> = statuses.iter().map(MigrationInfo::from).collect();
        let by_state = |state: &str| -> Vec<MigrationInfo> {
            infos.iter().filter(|i| i.state == state).cloned().collect()
        };
        let report = StatusReport {
            database: DatabaseInfo {
                backend: self.config.backend(),
                url: self.config.masked_url(),
            },
            directory: self.dir.display().to_string(),
            applied: by_state("applied"),
            pending: by_state("pending"),
            changed: infos
                .iter()
                .filter(|i| i.changed)
                .map(|i| i.name.clone())
                .collect(),
            missing: by_state("missing"),
        };
        if self.output.json() {
            return self.output.print_json(&report);
        }
        let width = infos
            .iter()
            .map(|i| i.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = self.output.stdout();
        writeln!(out, "📊 Migration Status")?;
        writeln!(out)?;
        writeln!(out, "Executed ({}):", report.applied.len())?;
        if report.applied.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for i in &report.applied {
            let mut when = i.applied_at.clone().unwrap_or_default();
            if let Some(d) = i.duration_ms {
                when.push_str(&format!(", {d}ms"));
            }
            let mark = if i.changed { "!" } else { "✓" };
            write!(out, "  {mark} {:width$}  ({when})", i.name)?;
            if i.changed {
                write!(out, "  CHANGED since it ran")?;
            }
            writeln!(out, "{}", metadata_suffix(i))?;
        }
        writeln!(out)?;
        writeln!(out, "Pending ({}):", report.pending.len())?;
        if report.pending.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for i in &report.pending {
            let line = format!("  - {:width$}{}", i.name, metadata_suffix(i));
            writeln!(out, "{}", line.trim_end())?;
        }
        if !report.changed.is_empty() {
            writeln!(out)?;
            writeln!(out, "Changed ({}):", report.changed.len())?;
            for name in &report.changed {
                writeln!(
                    out,
                    "  ! {name}  (up.sql differs from what ran; see --accept-changed)"
                )?;
            }
        }
        if !report.missing.is_empty() {
            writeln!(out)?;
            writeln!(out, "Missing ({}):", report.missing.len())?;
            for i in &report.missing {
                writeln!(
                    out,
                    "  ? {:width$}  (applied {}, directory not found)",
                    i.name,
                    i.applied_at.as_deref().unwrap_or("")
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "Database: {}", report.database.backend)?;
        writeln!(out, "Connection: {}", report.database.url)?;
        writeln!(out, "Directory: {}", report.directory)?;
        out.flush()?;
        Ok(())
    }

    fn list(&self, args: &ListArgs) -> Result<()> {
        let infos: Vec<MigrationInfo> = self
            .statuses()?
            .iter()
            .map(MigrationInfo::from)
            .filter(|i| {
                if args.pending {
                    i.state == "pending"
                } else if args.executed {
                    i.state == "applied"
                } else {
                    true
                }
            })
            .collect();
        if self.output.json() {
            return self.output.print_json(&infos);
        }
        let mut out = self.output.stdout();
        if infos.is_empty() {
            writeln!(out, "No migrations")?;
        }
        let width = infos
            .iter()
            .map(|i| i.name.chars().count())
            .max()
            .unwrap_or(0);
        for i in &infos {
            let (mark, state) = match (i.state, i.changed) {
                ("applied", true) => (
                    "!",
                    format!("changed, applied {}", i.applied_at.as_deref().unwrap_or("")),
                ),
                ("applied", false) => (
                    "✓",
                    format!("applied {}", i.applied_at.as_deref().unwrap_or("")),
                ),
                ("missing", _) => ("?", "missing".to_string()),
                _ => ("-", "pending".to_string()),
            };
            writeln!(
                out,
                "{mark} {:width$}  {state}{}",
                i.name,
                metadata_suffix(i)
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

/// True when `sql` has something besides whitespace, `;`, `--` and `/* */` comments.
pub fn has_statements(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, tail)| tail);
        } else {
            return !rest.is_empty();
        }
    }
}

fn metadata_suffix(i: &MigrationInfo) -> String {
    let mut parts = Vec::new();
    if i.breaking {
        parts.push("BREAKING".to_string());
    }
    if let Some(d) = &i.estimated_duration {
        parts.push(format!("~{d}"));
    }
    if let Some(d) = &i.description {
        parts.push(d.clone());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("  [{}]", parts.join("; "))
    }
}

fn run_item(a: &Applied) -> RunItem {
    RunItem {
        name: a.name.clone(),
        version: a.version.clone(),
        direction: direction_name(a.direction),
        duration_ms: ms(a.duration),
    }
}

/// Asks before rolling back every applied migration (nothing to ask when none is applied).
fn confirm_roll_back_all(applied: usize, force: bool, command: &str) -> Result<()> {
    if applied == 0 {
        return Ok(());
    }
    confirm(
        &format!("This will roll back ALL applied migrations ({applied})!"),
        force,
        command,
    )
}

/// Each migration of a down plan, as a step.
fn down_steps(plan: Vec<&Migration>) -> Vec<Step<'_>> {
    plan.into_iter()
        .map(|migration| Step {
            migration,
            direction: Direction::Down,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_only_scripts_have_no_statements() {
        assert!(!has_statements(""));
        assert!(!has_statements("-- Your SQL goes here\n"));
        assert!(!has_statements("/* a */ ;\n-- b\n\n"));
        assert!(has_statements("-- x\nSELECT 1;"));
        assert!(has_statements("/* a */ DROP TABLE t;"));
    }
}
