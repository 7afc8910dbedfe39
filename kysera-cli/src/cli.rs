//! The command line itself: global options, subcommands and their arguments.
//!
//! Doc comments on fields and variants are the `--help` text, and every subcommand carries an
//! `after_help` with examples. Adding a subcommand means a variant on [`Command`], an args
//! struct here, a module under `commands/` and one arm in `main.rs`.

use std::convert::Infallible;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{ArgAction, Args, ColorChoice, CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;

const CLI_EXAMPLES: &str = "\
Examples:
  kysera migrate create create_users --template create-table --table users --columns \"email:varchar(255)\"
  kysera migrate up
  kysera migrate status
  kysera version
  kysera version --json
  kysera completions bash > ~/.local/share/bash-completion/completions/kysera
  kysera help completions";

const VERSION_EXAMPLES: &str = "\
Examples:
  kysera version
  kysera version --json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  kysera completions bash > ~/.local/share/bash-completion/completions/kysera
  kysera completions zsh > ~/.zfunc/_kysera
  kysera completions fish > ~/.config/fish/completions/kysera.fish
  kysera completions powershell >> $PROFILE";

/// Database automation for Kysera: migrations, health checks and code generation.
#[derive(Debug, Parser)]
#[command(
    name = "kysera",
    version,
    arg_required_else_help = true,
    after_help = CLI_EXAMPLES
)]
pub struct Cli {
    /// Options accepted by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after any subcommand (`global = true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Global Options")]
pub struct GlobalArgs {
    /// Configuration file to use instead of the one found in the current directory
    #[arg(long, global = true, env = "KYSERA_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Database connection URL (sqlite://, postgres:// or mysql://); overrides the configuration file
    // `hide_env_values`: help must never print the password from the environment.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<SecretUrl>,

    /// Print machine-readable JSON on stdout (errors as JSON on stderr)
    #[arg(long, global = true)]
    pub json: bool,

    /// Show more detail; repeat for even more (-vv)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only results and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Disable colored output (a non-empty NO_COLOR environment variable does the same)
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The subcommands of `kysera`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Create a new Cargo project on kysera: model, migrations and configuration
    #[command(after_help = crate::commands::init::EXAMPLES)]
    Init(crate::commands::init::InitArgs),
    /// Create, apply, roll back and inspect database migrations
    #[command(after_help = MIGRATE_EXAMPLES)]
    Migrate(MigrateArgs),

    /// Print the version and the database backends this binary supports
    #[command(after_help = VERSION_EXAMPLES)]
    Version(VersionArgs),

    /// Print a shell completion script to stdout
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

impl Command {
    /// The subcommand's name as typed on the command line, for "Run 'kysera help ...'" hints.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Migrate(args) => args.command.name(),
            Command::Init(_) => "init",
            Command::Version(_) => "version",
            Command::Completions(_) => "completions",
        }
    }
}

const MIGRATE_EXAMPLES: &str = "\
Examples:
  kysera migrate create add_user_roles
  kysera migrate up
  kysera migrate up --dry-run
  kysera migrate down --steps 2
  kysera migrate status --json
  kysera migrate fresh --force";

const CREATE_EXAMPLES: &str = "\
Examples:
  kysera migrate create add_user_roles
  kysera migrate create create_users --template create-table --table users --columns \"email:varchar(255):not_null:unique,active:boolean\"
  kysera migrate create add_user_columns --template add-columns --table users --columns \"bio:text,avatar_url:varchar(255)\"
  kysera migrate create create_email_index --template create-index --table users --columns email

Column types: text, varchar(n), char(n), smallint, integer, bigint, boolean, real, double,
decimal(p,s), date, time, timestamp, timestamptz, json, jsonb, uuid, blob.
Modifiers after the type: not_null, unique, primary_key.";

const UP_EXAMPLES: &str = "\
Examples:
  kysera migrate up
  kysera migrate up --steps 2
  kysera migrate up --to 20250101120000
  kysera migrate up --dry-run
  kysera migrate up --accept-changed";

const DOWN_EXAMPLES: &str = "\
Examples:
  kysera migrate down
  kysera migrate down --steps 3
  kysera migrate down --to 20250101100000_create_users
  kysera migrate down --all --force
  kysera migrate down --dry-run";

const REDO_EXAMPLES: &str = "\
Examples:
  kysera migrate redo
  kysera migrate redo --steps 2";

const STATUS_EXAMPLES: &str = "\
Examples:
  kysera migrate status
  kysera migrate status --json";

const LIST_EXAMPLES: &str = "\
Examples:
  kysera migrate list
  kysera migrate list --pending
  kysera migrate list --executed --json";

const RESET_EXAMPLES: &str = "\
Examples:
  kysera migrate reset
  kysera migrate reset --force";

const FRESH_EXAMPLES: &str = "\
Examples:
  kysera migrate fresh
  kysera migrate fresh --force";

/// Arguments of `kysera migrate`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct MigrateArgs {
    /// Migrations directory (default: `[migrations] directory`, KYSERA_MIGRATIONS_DIR, then
    /// `migrations`)
    #[arg(short = 'd', long, global = true, value_name = "PATH")]
    pub directory: Option<PathBuf>,

    /// The migration subcommand.
    #[command(subcommand)]
    pub command: MigrateCommand,
}

/// The subcommands of `kysera migrate`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum MigrateCommand {
    /// Create a new migration directory with up.sql and down.sql
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),

    /// Apply pending migrations
    #[command(after_help = UP_EXAMPLES)]
    Up(UpArgs),

    /// Roll back applied migrations (the last one by default)
    #[command(after_help = DOWN_EXAMPLES)]
    Down(DownArgs),

    /// Roll back and re-apply the last migrations
    #[command(after_help = REDO_EXAMPLES)]
    Redo(RedoArgs),

    /// Show applied, pending, changed and missing migrations
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),

    /// List migrations with their state
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),

    /// Roll back every applied migration (asks for confirmation)
    #[command(after_help = RESET_EXAMPLES)]
    Reset(ResetArgs),

    /// Drop every table and view, then apply every migration (asks for confirmation)
    #[command(after_help = FRESH_EXAMPLES)]
    Fresh(FreshArgs),
}

impl MigrateCommand {
    /// The help topic for this subcommand, such as `migrate up`.
    pub fn name(&self) -> &'static str {
        match self {
            MigrateCommand::Create(_) => "migrate create",
            MigrateCommand::Up(_) => "migrate up",
            MigrateCommand::Down(_) => "migrate down",
            MigrateCommand::Redo(_) => "migrate redo",
            MigrateCommand::Status(_) => "migrate status",
            MigrateCommand::List(_) => "migrate list",
            MigrateCommand::Reset(_) => "migrate reset",
            MigrateCommand::Fresh(_) => "migrate fresh",
        }
    }
}

/// Templates of `kysera migrate create`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// Empty up.sql and down.sql
    #[default]
    Default,
    /// CREATE TABLE with an id column, the given columns and timestamps (needs --table)
    CreateTable,
    /// ALTER TABLE skeleton, or ADD COLUMN for the given columns (needs --table)
    AlterTable,
    /// ADD COLUMN for each column (needs --table and --columns)
    AddColumns,
    /// DROP COLUMN for each column; down.sql adds them back (needs --table, --columns with types)
    DropColumns,
    /// CREATE INDEX on the columns (needs --table and --columns)
    CreateIndex,
    /// DROP INDEX on the columns; down.sql recreates it (needs --table and --columns)
    DropIndex,
}

/// Arguments of `kysera migrate create`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CreateArgs {
    /// Migration name in snake_case (`add_user_roles`)
    pub name: String,

    /// What to put in up.sql and down.sql
    #[arg(short, long, value_enum, default_value_t = Template::Default)]
    pub template: Template,

    /// Table for the table templates
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,

    /// Comma-separated columns, `name:type[:modifier...]` (`bio:text,avatar_url:varchar(255)`)
    #[arg(long, value_name = "LIST")]
    pub columns: Option<String>,
}

/// Arguments of `kysera migrate up`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct UpArgs {
    /// Apply at most this many pending migrations
    #[arg(short, long, value_name = "N", conflicts_with = "to")]
    pub steps: Option<usize>,

    /// Apply pending migrations up to and including this version or name
    #[arg(short, long, value_name = "VERSION")]
    pub to: Option<String>,

    /// Print the SQL that would run, in order, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Accept applied migrations whose up.sql changed since they ran (records the new checksum)
    #[arg(long)]
    pub accept_changed: bool,
}

/// Arguments of `kysera migrate down`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct DownArgs {
    /// Roll back this many migrations (default 1)
    #[arg(short, long, value_name = "N", conflicts_with_all = ["to", "all"])]
    pub steps: Option<usize>,

    /// Roll back every migration newer than this version or name (it stays applied)
    #[arg(short, long, value_name = "VERSION", conflicts_with = "all")]
    pub to: Option<String>,

    /// Roll back every applied migration (asks for confirmation)
    #[arg(long)]
    pub all: bool,

    /// Print the SQL that would run, in order, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Skip the confirmation of --all (required when stdin is not a terminal)
    #[arg(long)]
    pub force: bool,

    /// Accept applied migrations whose up.sql changed since they ran
    #[arg(long)]
    pub accept_changed: bool,
}

/// Arguments of `kysera migrate redo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RedoArgs {
    /// How many of the last migrations to roll back and re-apply
    #[arg(short, long, value_name = "N", default_value_t = 1)]
    pub steps: usize,

    /// Accept applied migrations whose up.sql changed since they ran
    #[arg(long)]
    pub accept_changed: bool,
}

/// Arguments of `kysera migrate status` (`--json` is global).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct StatusArgs {}

/// Arguments of `kysera migrate list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ListArgs {
    /// Only migrations not applied yet
    #[arg(long, conflicts_with = "executed")]
    pub pending: bool,

    /// Only applied migrations
    #[arg(long)]
    pub executed: bool,
}

/// Arguments of `kysera migrate reset`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ResetArgs {
    /// Skip the confirmation (required when stdin is not a terminal)
    #[arg(long)]
    pub force: bool,

    /// Accept applied migrations whose up.sql changed since they ran
    #[arg(long)]
    pub accept_changed: bool,
}

/// Arguments of `kysera migrate fresh`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct FreshArgs {
    /// Skip the confirmation (required when stdin is not a terminal)
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `kysera version` (none yet beyond the global `--json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct VersionArgs {}

/// Arguments of `kysera completions`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

impl Cli {
    /// Parses `std::env::args_os()`. See [`Cli::try_parse_args`].
    pub fn try_parse_env() -> Result<Cli, clap::Error> {
        Cli::try_parse_args(std::env::args_os())
    }

    /// Parses the given arguments (the first is the program name).
    ///
    /// Unlike `Cli::try_parse_from`, `--no-color` also applies to clap's own output (help and
    /// usage errors), which is rendered before the flag could be read from the parsed struct.
    /// Clap already honours `NO_COLOR` by itself.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let mut command = Cli::command();
        if requests_no_color(&args) {
            command = command.color(ColorChoice::Never);
        }
        let mut matches = command.try_get_matches_from_mut(args)?;
        let cli =
            Cli::from_arg_matches_mut(&mut matches).map_err(|err| err.format(&mut command))?;
        // `conflicts_with` only sees flags given at the same level; `kysera --quiet version
        // --verbose` puts them on different levels of the same global option set.
        if cli.global.quiet && cli.global.verbose > 0 {
            return Err(command.error(
                clap::error::ErrorKind::ArgumentConflict,
                "the argument '--quiet' cannot be used with '--verbose...'",
            ));
        }
        Ok(cli)
    }
}

/// True when `--no-color` appears before any `--` separator.
fn requests_no_color(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--no-color")
}

/// A database URL as given on the command line or in `DATABASE_URL`, kept verbatim.
///
/// `Debug` and `Display` mask the password (via [`kysera::mask_password`]), so the URL can sit
/// in structs that are logged or printed; [`SecretUrl::expose`] is the only way to the raw text.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// The URL as given, password included: pass it to the driver, never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for SecretUrl {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretUrl(s.to_owned()))
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&kysera::mask_password(&self.0))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_args(std::iter::once("kysera").chain(args.iter().copied()))
    }

    #[test]
    fn command_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_examples() {
        let cli = Cli::command();
        assert!(cli.get_after_help().is_some());
        for sub in cli.get_subcommands() {
            assert!(
                sub.get_after_help().is_some(),
                "`kysera {}` has no after_help examples",
                sub.get_name()
            );
            for nested in sub.get_subcommands() {
                assert!(
                    nested.get_after_help().is_some(),
                    "`kysera {} {}` has no after_help examples",
                    sub.get_name(),
                    nested.get_name()
                );
            }
        }
    }

    #[test]
    fn global_flags_are_accepted_after_the_subcommand() {
        let cli = parse(&[
            "version",
            "--json",
            "-vv",
            "--no-color",
            "--config",
            "k.toml",
        ])
        .unwrap();
        assert_eq!(cli.command, Command::Version(VersionArgs {}));
        assert!(cli.global.json);
        assert!(cli.global.no_color);
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.config, Some(PathBuf::from("k.toml")));
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        for args in [
            &["--quiet", "--verbose", "version"][..],
            &["version", "-q", "-v"],
            &["--quiet", "version", "--verbose"],
            &["-v", "version", "-q"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{args:?}"
            );
        }
    }

    #[test]
    fn migrate_flags_parse_and_conflict() {
        let cli = parse(&["migrate", "up", "--steps", "2", "--dry-run", "--json"]).unwrap();
        let Command::Migrate(args) = cli.command else {
            panic!("not migrate")
        };
        assert_eq!(
            args.command,
            MigrateCommand::Up(UpArgs {
                steps: Some(2),
                dry_run: true,
                ..UpArgs::default()
            })
        );
        assert!(cli.global.json);
        for bad in [
            &["migrate", "up", "--steps", "1", "--to", "x"][..],
            &["migrate", "down", "--all", "--steps", "1"],
            &["migrate", "list", "--pending", "--executed"],
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{bad:?}"
            );
        }
        let cli = parse(&[
            "migrate",
            "--directory",
            "db",
            "create",
            "x",
            "-t",
            "create-table",
        ])
        .unwrap();
        let Command::Migrate(args) = cli.command else {
            panic!("not migrate")
        };
        assert_eq!(args.directory, Some(PathBuf::from("db")));
    }

    #[test]
    fn completions_takes_a_known_shell() {
        let cli = parse(&["completions", "zsh"]).unwrap();
        assert_eq!(
            cli.command,
            Command::Completions(CompletionsArgs { shell: Shell::Zsh })
        );
        let err = parse(&["completions", "tcsh"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn no_color_is_detected_before_the_separator_only() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(requests_no_color(&args(&[
            "kysera",
            "version",
            "--no-color"
        ])));
        assert!(!requests_no_color(&args(&["kysera", "--", "--no-color"])));
        assert!(!requests_no_color(&args(&["--no-color"])));
    }

    #[test]
    fn database_url_is_masked_in_debug_and_display() {
        let cli = parse(&["--database-url", "postgres://app:hunter2@db/app", "version"]).unwrap();
        let url = cli.global.database_url.as_ref().unwrap();
        assert_eq!(url.expose(), "postgres://app:hunter2@db/app");
        assert_eq!(url.to_string(), "postgres://app:***@db/app");
        assert!(!format!("{cli:?}").contains("hunter2"));
    }
}
