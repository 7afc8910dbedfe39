//! The files of a new project: templates from `kysera-cli/templates/` (embedded with
//! `include_str!`) filled with `{{placeholder}}`s, and the SQL of the first migration.
//!
//! No template engine: a placeholder is replaced by text, and a line holding nothing but a
//! placeholder whose text is empty disappears, so optional parts leave no blank lines.

use kysera::BackendKind;

use super::{Backend, Plugin, Template};

const CARGO_TOML: &str = include_str!("../../../templates/common/Cargo.toml.tmpl");
const KYSERA_TOML: &str = include_str!("../../../templates/common/kysera.toml.tmpl");
const ENV: &str = include_str!("../../../templates/common/env.tmpl");
const GITIGNORE: &str = include_str!("../../../templates/common/gitignore.tmpl");
const README: &str = include_str!("../../../templates/common/README.md.tmpl");
const MODEL: &str = include_str!("../../../templates/common/model.rs.tmpl");
const DATABASE_URL_SQLITE: &str =
    include_str!("../../../templates/common/database_url_sqlite.rs.tmpl");
const DATABASE_URL_SERVER: &str =
    include_str!("../../../templates/common/database_url_server.rs.tmpl");
const BASIC_MAIN: &str = include_str!("../../../templates/basic/main.rs.tmpl");
const API_MAIN: &str = include_str!("../../../templates/api/main.rs.tmpl");

/// The table the generated model maps to.
pub const TABLE: &str = "users";

/// Where the generated project gets kysera from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KyseraSource {
    /// crates.io, `version = "0.1"`.
    Registry,
    /// A local checkout of the `kysera` crate (absolute path).
    Path(String),
}

/// Everything that decides the content of a new project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The Cargo package name.
    pub name: String,
    /// `basic` or `api`.
    pub template: Template,
    /// The database the project is set up for.
    pub backend: Backend,
    /// Behaviours of the generated model, without duplicates, in [`Plugin`] order.
    pub plugins: Vec<Plugin>,
    /// Where kysera comes from.
    pub kysera: KyseraSource,
    /// Version part of the first migration's directory name (`2026-01-31-120000`).
    pub migration_version: String,
}

/// One file to write, relative to the project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Content.
    pub content: String,
}

impl Project {
    fn has(&self, plugin: Plugin) -> bool {
        self.plugins.contains(&plugin)
    }

    /// The project's files, in the order they are listed to the user.
    pub fn files(&self) -> Vec<File> {
        let migration = format!("migrations/{}_create_{TABLE}", self.migration_version);
        let file = |path: String, content: String| File { path, content };
        vec![
            file("Cargo.toml".into(), self.cargo_toml()),
            file("src/main.rs".into(), self.main_rs()),
            file(format!("{migration}/up.sql"), self.up_sql()),
            file(format!("{migration}/down.sql"), self.down_sql()),
            file("kysera.toml".into(), self.kysera_toml()),
            file(
                ".env".into(),
                fill(ENV, &[("database_url", self.example_url())]),
            ),
            file(".gitignore".into(), self.gitignore()),
            file("README.md".into(), self.readme()),
        ]
    }

    fn cargo_toml(&self) -> String {
        let features = format!(r#"features = ["derive", "{}"]"#, self.backend.name());
        let kysera = match &self.kysera {
            KyseraSource::Registry => {
                format!(r#"kysera = {{ version = "0.1", default-features = false, {features} }}"#)
            }
            KyseraSource::Path(path) => format!(
                r#"kysera = {{ path = "{}", default-features = false, {features} }}"#,
                toml_escape(path)
            ),
        };
        let (chrono, extra) = match self.template {
            Template::Basic => (r#"chrono = "0.4""#, ""),
            Template::Api => (
                r#"chrono = { version = "0.4", features = ["serde"] }"#,
                concat!(
                    "axum = \"0.8\"\n",
                    "tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\", \"signal\"] }\n",
                    "serde = { version = \"1\", features = [\"derive\"] }\n",
                    "serde_json = \"1\"",
                ),
            ),
        };
        fill(
            CARGO_TOML,
            &[
                ("name", self.name.clone()),
                ("kysera_dependency", kysera),
                ("chrono_dependency", chrono.into()),
                ("template_dependencies", extra.into()),
            ],
        )
    }

    fn model(&self) -> String {
        let mut behaviours = Vec::new();
        let mut fields = Vec::new();
        if self.has(Plugin::Timestamps) {
            behaviours.push("#[timestamps]");
            fields.push("    /// Set on create (UTC).\n    pub created_at: chrono::NaiveDateTime,");
            fields.push(
                "    /// Set on every write (UTC).\n    pub updated_at: chrono::NaiveDateTime,",
            );
        }
        if self.has(Plugin::SoftDelete) {
            behaviours.push("#[soft_delete]");
            fields.push(
                "    /// Set by `delete`; reads leave deleted rows out.\n    pub deleted_at: Option<chrono::NaiveDateTime>,",
            );
        }
        if self.has(Plugin::Audit) {
            behaviours.push("#[audited]");
        }
        let derives = match self.template {
            Template::Basic => "Repository, Debug, Clone, PartialEq",
            Template::Api => "Repository, Debug, Clone, PartialEq, serde::Serialize",
        };
        fill(
            MODEL,
            &[
                ("derives", derives.into()),
                ("table", TABLE.into()),
                ("behaviours", behaviours.join("\n")),
                ("fields", fields.join("\n")),
            ],
        )
        .trim_end()
        .to_string()
    }

    /// Lines of the extra `NewUser` fields, indented by `indent` spaces.
    fn new_user_fields(&self, indent: usize) -> String {
        if !self.has(Plugin::Timestamps) {
            return String::new();
        }
        let pad = " ".repeat(indent);
        format!("{pad}// None: stamped with the current time (UTC).\n{pad}created_at: None,\n{pad}updated_at: None,")
    }

    fn database_url_fn(&self) -> String {
        let template = match self.backend {
            Backend::Sqlite => DATABASE_URL_SQLITE,
            Backend::Postgres | Backend::Mysql => DATABASE_URL_SERVER,
        };
        fill(template, &[("database_url", self.example_url())])
            .trim_end()
            .to_string()
    }

    fn main_rs(&self) -> String {
        let context = |indent: usize| -> String {
            if self.has(Plugin::Audit) {
                let pad = " ".repeat(indent);
                format!(
                    "{pad}// Recorded as `changed_by` in audit_logs.\n{pad}conn.set_context(kysera::Context::new().actor(env!(\"CARGO_PKG_NAME\")));"
                )
            } else {
                String::new()
            }
        };
        match self.template {
            Template::Basic => {
                let mut demo = Vec::new();
                if self.has(Plugin::SoftDelete) {
                    demo.push(
                        "    users.delete(created.id)?;\n    println!(\n        \"soft-deleted: {} live, {} deleted\",\n        users.count()?,\n        users.only_deleted().count()?\n    );\n    println!(\"restored {:?}\", users.restore(created.id)?);",
                    );
                }
                if self.has(Plugin::Audit) {
                    demo.push(
                        "    for entry in users.audit_history(created.id)? {\n        let by = entry.changed_by.as_deref().unwrap_or(\"-\");\n        println!(\"audit: {} by {by} at {}\", entry.operation, entry.changed_at);\n    }",
                    );
                }
                let with_deleted = if self.has(Plugin::SoftDelete) {
                    ".with_deleted()"
                } else {
                    ""
                };
                fill(
                    BASIC_MAIN,
                    &[
                        ("name", self.name.clone()),
                        ("database_title", self.backend.title().into()),
                        ("model", self.model()),
                        ("set_context", context(4)),
                        ("with_deleted", with_deleted.into()),
                        ("new_user_fields", self.new_user_fields(8)),
                        ("demo", demo.join("\n")),
                        ("database_url_fn", self.database_url_fn()),
                    ],
                )
            }
            Template::Api => fill(
                API_MAIN,
                &[
                    ("name", self.name.clone()),
                    ("database_title", self.backend.title().into()),
                    ("model", self.model()),
                    ("set_context", context(8)),
                    ("new_user_fields", self.new_user_fields(12)),
                    ("database_url_fn", self.database_url_fn()),
                ],
            ),
        }
    }

    /// `up.sql`: the table with a column per model field, then `audit_logs` when audited.
    pub fn up_sql(&self) -> String {
        let (id, text, short_text, timestamp) = match self.backend {
            Backend::Sqlite => (
                "INTEGER PRIMARY KEY AUTOINCREMENT",
                "TEXT",
                "TEXT",
                "TIMESTAMP",
            ),
            Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "TEXT", "TEXT", "TIMESTAMP"),
            Backend::Mysql => (
                "BIGINT AUTO_INCREMENT PRIMARY KEY",
                "TEXT",
                "VARCHAR(255)",
                "DATETIME(6)",
            ),
        };
        let soft_delete = self.has(Plugin::SoftDelete);
        let mut columns = vec![
            format!("id {id}"),
            // With soft delete, uniqueness covers live rows only (index below).
            format!(
                "email {short_text} NOT NULL{}",
                if soft_delete { "" } else { " UNIQUE" }
            ),
            format!("name {text} NOT NULL"),
        ];
        if self.has(Plugin::Timestamps) {
            columns.push(format!("created_at {timestamp} NOT NULL"));
            columns.push(format!("updated_at {timestamp} NOT NULL"));
        }
        if soft_delete {
            columns.push(format!("deleted_at {timestamp} NULL"));
            if self.backend == Backend::Mysql {
                // No partial indexes: a generated column that is NULL once the row is deleted.
                columns.push(
                    "email_live VARCHAR(255) AS (IF(deleted_at IS NULL, email, NULL)) VIRTUAL"
                        .into(),
                );
                columns.push("UNIQUE INDEX users_email_live (email_live)".into());
            }
        }
        let engine = if self.backend == Backend::Mysql {
            " ENGINE = InnoDB"
        } else {
            ""
        };
        let mut sql = format!(
            "CREATE TABLE {TABLE} (\n    {}\n){engine};\n",
            columns.join(",\n    ")
        );
        if soft_delete && self.backend != Backend::Mysql {
            sql.push_str(&format!(
                "-- A deleted row keeps its email: only live rows must be unique.\n\
                 CREATE UNIQUE INDEX {TABLE}_email_live ON {TABLE} (email) WHERE deleted_at IS NULL;\n"
            ));
        }
        if self.has(Plugin::Audit) {
            sql.push_str(
                "\n-- The audit log of #[audited] models (kysera::audit::migration_sql).\n",
            );
            sql.push_str(&reindent(kysera::audit::migration_sql(self.backend.kind())));
        }
        sql
    }

    /// `down.sql`: drops what `up.sql` created, in reverse.
    pub fn down_sql(&self) -> String {
        let mut sql = String::new();
        if self.has(Plugin::Audit) {
            sql.push_str("DROP TABLE audit_logs;\n");
        }
        sql.push_str(&format!("DROP TABLE {TABLE};\n"));
        sql
    }

    fn kysera_toml(&self) -> String {
        let url = match self.backend {
            // The same file the program opens without DATABASE_URL (relative to this file).
            Backend::Sqlite => format!("url = \"{}\"", self.example_url()),
            Backend::Postgres | Backend::Mysql => {
                format!("# url = \"{}\"", self.example_url())
            }
        };
        let plugins: Vec<String> = self
            .plugins
            .iter()
            .map(|plugin| {
                let key = match plugin {
                    Plugin::Timestamps => "timestamps",
                    Plugin::SoftDelete => "soft_delete",
                    Plugin::Audit => "audit",
                };
                format!("\n[plugins.{key}]\ntables = [\"{TABLE}\"]")
            })
            .collect();
        fill(
            KYSERA_TOML,
            &[
                ("name", self.name.clone()),
                ("database", self.backend.name().into()),
                ("database_url_line", url),
                ("plugin_sections", plugins.join("\n")),
            ],
        )
    }

    fn gitignore(&self) -> String {
        let sqlite = if self.backend == Backend::Sqlite {
            "*.db\n*.db-journal\n*.db-wal\n*.db-shm"
        } else {
            ""
        };
        fill(GITIGNORE, &[("sqlite_ignores", sqlite.into())])
    }

    fn readme(&self) -> String {
        let plugins_flag = if self.plugins.is_empty() {
            String::new()
        } else {
            let names: Vec<_> = self.plugins.iter().map(|p| p.name()).collect();
            format!(" --plugins {}", names.join(","))
        };
        let (intro, layout) = match self.template {
            Template::Basic => (
                "`cargo run` applies the migrations, creates a user through the derived\nrepository, reads it back and prints it.".to_string(),
                "",
            ),
            Template::Api => (
                "`cargo run` applies the migrations and serves the users over HTTP on\n`127.0.0.1:3000` (set `BIND_ADDR` to change it):\n\n\
                 | route | what |\n|---|---|\n\
                 | `GET /health` | 200 when the database answers |\n\
                 | `GET /users?page=1&limit=20` | a page of users with totals |\n\
                 | `POST /users` | create from `{\"email\": \"...\", \"name\": \"...\"}`: 201, 422 or 409 |\n\
                 | `GET /users/{id}` | one user, or 404 |\n\
                 | `DELETE /users/{id}` | delete: 204, or 404 |\n\n\
                 Diesel is synchronous: handlers run their queries in `spawn_blocking` on a pooled\nconnection."
                    .to_string(),
                " and the axum routes",
            ),
        };
        let database_notes = match self.backend {
            Backend::Sqlite => format!(
                "An embedded SQLite file, `{}.db` in the working directory (`DATABASE_URL` overrides it).\nNothing to install.",
                self.name
            ),
            Backend::Postgres => "PostgreSQL at the `DATABASE_URL` of `.env` (a placeholder: edit it). Building needs\nthe client library (`libpq-dev` on Debian and Ubuntu).".to_string(),
            Backend::Mysql => "MySQL or MariaDB at the `DATABASE_URL` of `.env` (a placeholder: edit it). Building\nneeds the client library (`default-libmysqlclient-dev` on Debian and Ubuntu).".to_string(),
        };
        let mut notes = Vec::new();
        if self.has(Plugin::Timestamps) {
            notes.push("- `#[timestamps]`: `created_at` is set on create, `updated_at` on every write (UTC).");
        }
        if self.has(Plugin::SoftDelete) {
            notes.push("- `#[soft_delete]`: `delete` sets `deleted_at`; reads leave deleted rows out\n  (`with_deleted()`, `only_deleted()`, `restore`, `hard_delete`). Emails are unique among live rows.");
        }
        if self.has(Plugin::Audit) {
            notes.push("- `#[audited]`: every write adds rows to `audit_logs` in the same transaction\n  (`audit_history(id)`, `restore_from_audit(audit_id)`).");
        }
        if notes.is_empty() {
            notes.push("None. `kysera init --plugins timestamps,soft-delete,audit` adds `#[timestamps]`,\n`#[soft_delete]` and `#[audited]` with their columns.");
        }
        fill(
            README,
            &[
                ("name", self.name.clone()),
                ("database_title", self.backend.title().into()),
                ("template", self.template.name().into()),
                ("database", self.backend.name().into()),
                ("plugins_flag", plugins_flag),
                ("template_intro", intro),
                ("template_layout", layout.into()),
                ("database_notes", database_notes),
                ("behaviour_notes", notes.join("\n")),
            ],
        )
    }

    /// The URL written to `.env`: the SQLite file, or a placeholder for the servers.
    pub fn example_url(&self) -> String {
        let db = self.name.replace('-', "_");
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}.db", self.name),
            Backend::Postgres => format!("postgres://postgres:password@localhost:5432/{db}"),
            Backend::Mysql => format!("mysql://root:password@localhost:3306/{db}"),
        }
    }
}

impl Backend {
    fn kind(self) -> BackendKind {
        match self {
            Backend::Sqlite => BackendKind::Sqlite,
            Backend::Postgres => BackendKind::Postgres,
            Backend::Mysql => BackendKind::Mysql,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL/MariaDB",
        }
    }
}

/// Replaces every `{{key}}` of `template`. A line that is only a placeholder whose value is
/// empty is dropped; a value of several lines is inserted as is.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    for line in template.split_inclusive('\n') {
        let trimmed = line.trim();
        let dropped = values
            .iter()
            .any(|(key, value)| value.is_empty() && trimmed == format!("{{{{{key}}}}}"));
        if dropped {
            continue;
        }
        let mut line = line.to_string();
        for (key, value) in values {
            line = line.replace(&format!("{{{{{key}}}}}"), value);
        }
        out.push_str(&line);
    }
    out
}

/// Puts each statement of kysera's audit DDL at the start of a line, its columns indented.
fn reindent(sql: &str) -> String {
    let mut out = String::new();
    for line in sql.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !line.starts_with("CREATE") {
            out.push_str("    ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Escapes a TOML basic string's content.
fn toml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
