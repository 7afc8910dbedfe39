//! `kysera init [name]`: a new Cargo project on kysera that builds and runs.
//!
//! The project embeds its migrations, applies them on start and uses a derived repository
//! with the chosen behaviours; the `api` template serves it over HTTP with axum. The files
//! come from `kysera-cli/templates/` (see `render`); this module checks the target
//! directory, writes them and runs `git init`.

mod render;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anstyle::{AnsiColor, Style};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::Output;

pub use render::{File, KyseraSource, Project};

/// The `after_help` of `kysera init`.
pub const EXAMPLES: &str = "\
Examples:
  kysera init my-app
  kysera init my-app --plugins timestamps,soft-delete,audit
  kysera init my-api --template api --database postgres
  kysera init --no-git                      # in the current, empty directory
  kysera init my-app --kysera-path ../kysera/kysera";

const SUCCESS: Style = AnsiColor::Green.on_default().bold();
const EMPHASIS: Style = Style::new().bold();

/// Arguments of `kysera init`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct InitArgs {
    /// Directory to create; its last component is the package name [default: the current directory, which must be empty]
    #[arg(value_name = "NAME")]
    pub name: Option<PathBuf>,

    /// Project template
    #[arg(long, value_enum, default_value_t = Template::Basic)]
    pub template: Template,

    /// Database the project uses
    #[arg(long, value_enum, default_value_t = Backend::Sqlite, value_name = "DATABASE")]
    pub database: Backend,

    /// Behaviours of the generated model, comma-separated
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PLUGINS")]
    pub plugins: Vec<Plugin>,

    /// Do not run `git init`
    #[arg(long)]
    pub no_git: bool,

    /// Depend on a local kysera crate (its directory) instead of the crates.io release
    #[arg(long, value_name = "PATH")]
    pub kysera_path: Option<PathBuf>,
}

/// What the new project does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Template {
    /// A program that migrates, writes a row and reads it back
    Basic,
    /// An HTTP API (axum + tokio) with /health and /users
    Api,
}

impl Template {
    /// The name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Template::Basic => "basic",
            Template::Api => "api",
        }
    }
}

/// The database of the new project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Embedded SQLite (nothing to install)
    Sqlite,
    /// PostgreSQL (DATABASE_URL in .env)
    #[value(alias = "postgresql")]
    Postgres,
    /// MySQL or MariaDB (DATABASE_URL in .env)
    #[value(alias = "mariadb")]
    Mysql,
}

impl Backend {
    /// The name as typed on the command line, also kysera's cargo feature.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }
}

/// A behaviour of the generated model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plugin {
    /// `#[timestamps]`: created_at and updated_at
    Timestamps,
    /// `#[soft_delete]`: deleted_at, deleted rows hidden from reads
    #[value(alias = "soft_delete")]
    SoftDelete,
    /// `#[audited]`: every write recorded in audit_logs
    #[value(alias = "audited")]
    Audit,
}

impl Plugin {
    /// The name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::Timestamps => "timestamps",
            Plugin::SoftDelete => "soft-delete",
            Plugin::Audit => "audit",
        }
    }
}

/// What `kysera init` did; also its `--json` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitReport {
    /// The package name.
    pub name: String,
    /// The project directory.
    pub path: PathBuf,
    /// The template used.
    pub template: Template,
    /// The database.
    pub database: Backend,
    /// The behaviours of the model.
    pub plugins: Vec<Plugin>,
    /// Files written, relative to `path`.
    pub files: Vec<String>,
    /// True when `git init` ran.
    pub git: bool,
}

/// Creates the project described by `args` and prints what was created.
pub fn run(args: &InitArgs, output: &Output) -> Result<()> {
    let report = create(args)?;
    if output.json() {
        return output.print_json(&report);
    }
    let mut out = output.stdout();
    if output.quiet() {
        writeln!(out, "{}", report.path.display())?;
        out.flush()?;
        return Ok(());
    }
    let plugins = if report.plugins.is_empty() {
        "none".to_string()
    } else {
        let names: Vec<_> = report.plugins.iter().map(|p| p.name()).collect();
        names.join(", ")
    };
    writeln!(
        out,
        "{SUCCESS}✓ Created {}{SUCCESS:#} ({} template, {}, plugins: {plugins})",
        report.name,
        report.template.name(),
        report.database.name()
    )?;
    writeln!(out)?;
    for file in &report.files {
        writeln!(out, "  {file}")?;
    }
    if report.git {
        writeln!(out, "  (git repository initialised)")?;
    }
    writeln!(out)?;
    writeln!(out, "{EMPHASIS}Next steps:{EMPHASIS:#}")?;
    let mut step = 1;
    if report.path != Path::new(".") {
        writeln!(out, "  {step}. cd {}", report.path.display())?;
        step += 1;
    }
    if report.database != Backend::Sqlite {
        writeln!(out, "  {step}. Set DATABASE_URL in .env")?;
        step += 1;
    }
    writeln!(out, "  {step}. cargo run")?;
    out.flush()?;
    Ok(())
}

/// Creates the project without printing anything: checks the arguments and the directory,
/// writes the files (removing them again if writing fails) and runs `git init`.
pub fn create(args: &InitArgs) -> Result<InitReport> {
    let (dir, shown_path) = match &args.name {
        Some(path) => (path.clone(), path.clone()),
        None => (std::env::current_dir()?, PathBuf::from(".")),
    };
    let name = package_name(&dir)?;
    let kysera = match &args.kysera_path {
        Some(path) => KyseraSource::Path(kysera_path(path)?),
        None => KyseraSource::Registry,
    };
    let mut plugins = args.plugins.clone();
    plugins.sort();
    plugins.dedup();
    let project = Project {
        name: name.clone(),
        template: args.template,
        backend: args.database,
        plugins: plugins.clone(),
        kysera,
        migration_version: kysera::clock::now().format("%Y-%m-%d-%H%M%S").to_string(),
    };

    let created_dir = prepare_dir(&dir)?;
    let files = project.files();
    if let Err(err) = write_files(&dir, &files) {
        // Leave nothing half-made behind.
        if created_dir {
            let _ = fs::remove_dir_all(&dir);
        } else {
            remove_written(&dir, &files);
        }
        return Err(Error::generation(format!(
            "cannot write the project into {}: {err}",
            dir.display()
        )));
    }
    let git = !args.no_git && git_init(&dir);
    Ok(InitReport {
        name,
        path: shown_path,
        template: args.template,
        database: args.database,
        plugins,
        files: files.into_iter().map(|f| f.path).collect(),
        git,
    })
}

/// The package name: the directory's last component, which must be a valid crate name.
fn package_name(dir: &Path) -> Result<String> {
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Error::config(format!(
            "`{}` does not end in a usable project name",
            dir.display()
        ))
        .with_suggestion("Give a name: kysera init my-app")
    })?;
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let starts_with_letter = name.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid_chars || !starts_with_letter {
        return Err(Error::config(format!(
            "`{name}` is not a valid package name: use letters, digits, `-` and `_`, starting with a letter"
        ))
        .with_suggestion("Choose another name, such as my-app"));
    }
    // The generated Cargo.toml depends on these; a package cannot share a dependency's name.
    const TAKEN: &[&str] = &[
        "kysera",
        "diesel",
        "chrono",
        "dotenvy",
        "axum",
        "tokio",
        "serde",
        "serde_json",
        "test",
    ];
    if TAKEN.contains(&name.replace('-', "_").as_str()) {
        return Err(Error::config(format!(
            "`{name}` cannot be the package name: it is the name of a dependency or reserved by Cargo"
        ))
        .with_suggestion(format!("Choose another name, such as {name}-app")));
    }
    Ok(name.to_string())
}

/// The absolute path of a local kysera crate, checked to be one.
fn kysera_path(path: &Path) -> Result<String> {
    let not_kysera = || {
        Error::config(format!(
            "--kysera-path {}: not the directory of the kysera crate",
            path.display()
        ))
        .with_suggestion("Point --kysera-path at the directory holding kysera's Cargo.toml")
    };
    let absolute = fs::canonicalize(path).map_err(|_| not_kysera())?;
    let manifest = fs::read_to_string(absolute.join("Cargo.toml")).map_err(|_| not_kysera())?;
    let is_kysera = manifest
        .lines()
        .any(|line| line.replace(' ', "") == "name=\"kysera\"");
    if !is_kysera {
        return Err(not_kysera());
    }
    absolute
        .to_str()
        .map(|s| s.replace('\\', "/"))
        .ok_or_else(|| Error::config("--kysera-path is not valid UTF-8"))
}

/// Creates `dir` or checks that it is empty. True when it was created here.
fn prepare_dir(dir: &Path) -> Result<bool> {
    let refuse = |what: &str| {
        Error::config(format!("`{}` {what}", dir.display()))
            .with_suggestion("Choose another name, or empty or remove the directory first")
    };
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(refuse("already exists and is not empty"));
            }
            Ok(false)
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|err| {
                Error::generation(format!("cannot create {}: {err}", dir.display()))
            })?;
            Ok(true)
        }
        Err(_) if dir.exists() && !dir.is_dir() => Err(refuse("exists and is not a directory")),
        Err(err) => Err(Error::generation(format!(
            "cannot read {}: {err}",
            dir.display()
        ))),
    }
}

fn write_files(dir: &Path, files: &[File]) -> io::Result<()> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &file.content)?;
    }
    Ok(())
}

/// Removes what [`write_files`] wrote into a directory that existed before.
fn remove_written(dir: &Path, files: &[File]) {
    for file in files {
        let _ = fs::remove_file(dir.join(&file.path));
    }
    for sub in ["src", "migrations"] {
        let _ = fs::remove_dir_all(dir.join(sub));
    }
}

/// Runs `git init` in `dir` unless it already lies inside a git work tree. A missing or
/// failing git is not an error: the project is complete without a repository.
fn git_init(dir: &Path) -> bool {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if git(&["rev-parse", "--is-inside-work-tree"]) {
        return false;
    }
    git(&["init", "--quiet"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(template: Template, backend: Backend, plugins: &[Plugin]) -> Project {
        Project {
            name: "my-app".into(),
            template,
            backend,
            plugins: plugins.to_vec(),
            kysera: KyseraSource::Registry,
            migration_version: "2026-01-31-120000".into(),
        }
    }

    const ALL: &[Plugin] = &[Plugin::Timestamps, Plugin::SoftDelete, Plugin::Audit];

    #[test]
    fn every_placeholder_is_filled() {
        for template in [Template::Basic, Template::Api] {
            for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
                for plugins in [&[][..], ALL, &[Plugin::SoftDelete]] {
                    for file in project(template, backend, plugins).files() {
                        assert!(
                            !file.content.contains("{{") && !file.content.contains("}}"),
                            "{template:?} {backend:?} {plugins:?} {}:\n{}",
                            file.path,
                            file.content
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn cargo_toml_selects_the_backend_feature() {
        let files = project(Template::Basic, Backend::Postgres, &[]).files();
        let cargo = &files[0].content;
        assert!(cargo.contains(
            r#"kysera = { version = "0.1", default-features = false, features = ["derive", "postgres"] }"#
        ));
        assert!(cargo.contains(r#"diesel = { version = "2.3", default-features = false }"#));
        let mut api = project(Template::Api, Backend::Sqlite, &[]);
        api.kysera = KyseraSource::Path("/src/kysera".into());
        let cargo = &api.files()[0].content;
        assert!(cargo.contains(r#"kysera = { path = "/src/kysera", default-features = false, features = ["derive", "sqlite"] }"#));
        assert!(cargo.contains("axum = \"0.8\""));
    }

    #[test]
    fn columns_follow_the_plugins() {
        let p = project(Template::Basic, Backend::Sqlite, ALL);
        let up = p.up_sql();
        for column in [
            "created_at TIMESTAMP NOT NULL",
            "updated_at",
            "deleted_at",
            "CREATE TABLE audit_logs",
            "WHERE deleted_at IS NULL",
        ] {
            assert!(up.contains(column), "{column}:\n{up}");
        }
        assert_eq!(p.down_sql(), "DROP TABLE audit_logs;\nDROP TABLE users;\n");
        let main = &p.files()[1].content;
        for attr in ["#[timestamps]", "#[soft_delete]", "#[audited]"] {
            assert!(main.contains(attr), "{attr}");
        }

        let bare = project(Template::Basic, Backend::Mysql, &[]);
        let up = bare.up_sql();
        assert!(
            up.contains("email VARCHAR(255) NOT NULL UNIQUE") && up.contains("ENGINE = InnoDB")
        );
        assert!(!up.contains("created_at") && !up.contains("audit_logs"));
        assert!(!bare.files()[1].content.contains("#[timestamps]"));
    }

    #[test]
    fn kysera_toml_is_a_valid_cli_configuration() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for plugins in [&[][..], ALL] {
                let files = project(Template::Basic, backend, plugins).files();
                let toml = files.iter().find(|f| f.path == "kysera.toml").unwrap();
                let config =
                    crate::config::parse_str(&toml.content, Path::new("kysera.toml")).unwrap();
                assert_eq!(
                    config.migrations.directory,
                    Some(PathBuf::from("migrations"))
                );
                assert_eq!(config.plugins.len(), plugins.len(), "{}", toml.content);
                let url = config.database.url.as_deref();
                match backend {
                    Backend::Sqlite => assert_eq!(url, Some("sqlite://my-app.db")),
                    _ => assert_eq!(url, None),
                }
            }
        }
    }

    #[test]
    fn empty_placeholder_lines_disappear() {
        let text = render::fill(
            "a\n{{x}}\nb {{y}}\n",
            &[("x", String::new()), ("y", "1".into())],
        );
        assert_eq!(text, "a\nb 1\n");
    }

    #[test]
    fn package_names_are_checked() {
        assert_eq!(package_name(Path::new("/tmp/my-app")).unwrap(), "my-app");
        for bad in ["1app", "my app", "kysera", "diesel", "serde-json"] {
            let err = package_name(Path::new(bad)).unwrap_err();
            assert_eq!(err.code(), Some(crate::ErrorCode::E003), "{bad}");
        }
    }
}
