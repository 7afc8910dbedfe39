//! `kysera migrate create`: a new `<YYYY-MM-DD-HHMMSS>_<name>/` directory with `up.sql` and
//! `down.sql` written for the configured backend.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDateTime, Utc};
use kysera::BackendKind;
use serde::Serialize;

use crate::cli::{CreateArgs, Template};
use crate::error::{Error, Result};
use crate::output::Output;

/// Longest identifier accepted (PostgreSQL's limit; MySQL allows 64).
const MAX_IDENTIFIER: usize = 63;

/// What `create` wrote; also its `--json` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    /// The migration's directory name.
    pub name: String,
    /// The directory created.
    pub directory: PathBuf,
    /// `up.sql`.
    pub up: PathBuf,
    /// `down.sql`.
    pub down: PathBuf,
}

/// Writes the migration into `dir` for `backend`.
pub fn run(args: &CreateArgs, dir: &Path, backend: BackendKind, output: &Output) -> Result<()> {
    let created = create(args, dir, backend, Utc::now().naive_utc())?;
    if output.json() {
        return output.print_json(&created);
    }
    let mut out = output.stdout();
    writeln!(out, "✓ Created migration {}", created.name)?;
    if !output.quiet() {
        writeln!(out, "  {}", created.up.display())?;
        writeln!(out, "  {}", created.down.display())?;
    }
    out.flush()?;
    Ok(())
}

/// Creates the migration directory; `now` is the time its version is taken from (moved past
/// the newest existing migration, so two migrations created in one second stay ordered).
pub fn create(
    args: &CreateArgs,
    dir: &Path,
    backend: BackendKind,
    now: NaiveDateTime,
) -> Result<Created> {
    validate_identifier(&args.name, "migration name")?;
    let (up, down) = render(args, backend)?;

    let stamp = next_version(dir, now)?;
    let name = format!("{}_{}", stamp.format("%Y-%m-%d-%H%M%S"), args.name);
    let directory = dir.join(&name);
    std::fs::create_dir_all(&directory).map_err(|e| {
        Error::generation(format!("cannot create {}: {e}", directory.display()))
            .with_suggestion("Check the migrations directory and its permissions")
    })?;
    let up_path = directory.join("up.sql");
    let down_path = directory.join("down.sql");
    for (path, text) in [(&up_path, &up), (&down_path, &down)] {
        std::fs::write(path, text)
            .map_err(|e| Error::generation(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(Created {
        name,
        directory,
        up: up_path,
        down: down_path,
    })
}

/// `now`, or one second after the newest migration in `dir` when that is not older.
fn next_version(dir: &Path, now: NaiveDateTime) -> Result<NaiveDateTime> {
    let now = now.with_nanosecond_zero();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(now),
        Err(e) => {
            return Err(Error::generation(format!(
                "cannot read {}: {e}",
                dir.display()
            )))
        }
    };
    let newest = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stamp = name.split('_').next()?.to_string();
            NaiveDateTime::parse_from_str(&stamp, "%Y-%m-%d-%H%M%S").ok()
        })
        .max();
    Ok(match newest {
        Some(newest) if newest >= now => newest + chrono::Duration::seconds(1),
        _ => now,
    })
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoNanos for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// `up.sql` and `down.sql` for the template.
pub fn render(args: &CreateArgs, backend: BackendKind) -> Result<(String, String)> {
    let needs_table = |what: &str| -> Result<String> {
        let table = args.table.as_deref().ok_or_else(|| {
            Error::generation(format!("the {what} template needs --table")).with_suggestion(
                format!(
                    "Add --table <name>: kysera migrate create {} --template {what} --table users",
                    args.name
                ),
            )
        })?;
        validate_identifier(table, "table name")?;
        Ok(quote(table, backend))
    };
    let columns = match &args.columns {
        Some(list) => parse_columns(list)?,
        None => Vec::new(),
    };
    let needs_columns = |what: &str, typed: bool| -> Result<()> {
        if columns.is_empty() {
            return Err(
                Error::generation(format!("the {what} template needs --columns")).with_suggestion(
                    format!(
                        "Add --columns, e.g. --columns \"{}\"",
                        if typed {
                            "bio:text,avatar_url:varchar(255)"
                        } else {
                            "email"
                        }
                    ),
                ),
            );
        }
        if typed {
            if let Some(c) = columns.iter().find(|c| c.ty.is_none()) {
                return Err(Error::generation(format!(
                    "column `{}` has no type; the {what} template needs one",
                    c.name
                ))
                .with_suggestion(format!("Write it as {}:text (or another type)", c.name)));
            }
        }
        Ok(())
    };
    let header = |what: &str| format!("-- {what} ({backend})\n");

    Ok(match args.template {
        Template::Default => (
            "-- Your SQL goes here\n".to_string(),
            "-- This file should undo anything in `up.sql`\n".to_string(),
        ),
        Template::CreateTable => {
            let table = needs_table("create-table")?;
            if let Some(c) = columns.iter().find(|c| c.ty.is_none()) {
                return Err(
                    Error::generation(format!("column `{}` has no type", c.name))
                        .with_suggestion(format!("Write it as {}:text (or another type)", c.name)),
                );
            }
            let ts = timestamp_type(backend);
            let mut lines = vec![format!(
                "    {} {}",
                quote("id", backend),
                id_column(backend)
            )];
            for c in &columns {
                lines.push(format!("    {}", c.definition(backend)?));
            }
            lines.push(format!(
                "    {} {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP",
                quote("created_at", backend)
            ));
            lines.push(format!(
                "    {} {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP",
                quote("updated_at", backend)
            ));
            (
                format!(
                    "{}CREATE TABLE {table} (\n{}\n);\n",
                    header("Create table"),
                    lines.join(",\n")
                ),
                format!("DROP TABLE {table};\n"),
            )
        }
        Template::AlterTable if columns.is_empty() => {
            let table = needs_table("alter-table")?;
            (
                format!(
                    "{}-- ALTER TABLE {table} ADD COLUMN {} TEXT;\n",
                    header("Alter table"),
                    quote("example", backend)
                ),
                format!(
                    "-- ALTER TABLE {table} DROP COLUMN {};\n",
                    quote("example", backend)
                ),
            )
        }
        Template::AlterTable | Template::AddColumns => {
            let what = if args.template == Template::AddColumns {
                "add-columns"
            } else {
                "alter-table"
            };
            let table = needs_table(what)?;
            needs_columns(what, true)?;
            let mut up = header("Add columns");
            let mut down = String::new();
            for c in &columns {
                let _ = writeln!(
                    up,
                    "ALTER TABLE {table} ADD COLUMN {};",
                    c.definition(backend)?
                );
            }
            for c in columns.iter().rev() {
                let _ = writeln!(
                    down,
                    "ALTER TABLE {table} DROP COLUMN {};",
                    quote(&c.name, backend)
                );
            }
            (up, down)
        }
        Template::DropColumns => {
            let table = needs_table("drop-columns")?;
            needs_columns("drop-columns", true)?;
            let mut up = header("Drop columns");
            let mut down = String::new();
            for c in &columns {
                let _ = writeln!(
                    up,
                    "ALTER TABLE {table} DROP COLUMN {};",
                    quote(&c.name, backend)
                );
            }
            for c in columns.iter().rev() {
                let _ = writeln!(
                    down,
                    "ALTER TABLE {table} ADD COLUMN {};",
                    c.definition(backend)?
                );
            }
            (up, down)
        }
        Template::CreateIndex | Template::DropIndex => {
            let what = if args.template == Template::CreateIndex {
                "create-index"
            } else {
                "drop-index"
            };
            let table = needs_table(what)?;
            needs_columns(what, false)?;
            let raw_table = args.table.as_deref().unwrap_or_default();
            let index_name = format!(
                "{raw_table}_{}_idx",
                columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join("_")
            );
            validate_identifier(&index_name, "index name")?;
            let index = quote(&index_name, backend);
            let cols = columns
                .iter()
                .map(|c| quote(&c.name, backend))
                .collect::<Vec<_>>()
                .join(", ");
            let create = format!("CREATE INDEX {index} ON {table} ({cols});\n");
            let drop = match backend {
                BackendKind::Mysql => format!("DROP INDEX {index} ON {table};\n"),
                _ => format!("DROP INDEX {index};\n"),
            };
            if args.template == Template::CreateIndex {
                (format!("{}{create}", header("Create index")), drop)
            } else {
                (format!("{}{drop}", header("Drop index")), create)
            }
        }
    })
}

/// The auto-incrementing primary key column type per backend.
pub fn id_column(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        BackendKind::Postgres => "BIGSERIAL PRIMARY KEY",
        BackendKind::Mysql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    }
}

fn timestamp_type(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Mysql => "DATETIME",
        _ => "TIMESTAMP",
    }
}

/// Quotes a validated identifier for the backend (so reserved words such as `user` work).
pub fn quote(ident: &str, backend: BackendKind) -> String {
    match backend {
        BackendKind::Mysql => format!("`{ident}`"),
        _ => format!("\"{ident}\""),
    }
}

/// Accepts snake_case identifiers: a lowercase letter or `_`, then lowercase letters, digits
/// and `_`, at most 63 characters.
pub fn validate_identifier(ident: &str, what: &str) -> Result<()> {
    let mut chars = ident.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && ident.len() <= MAX_IDENTIFIER {
        return Ok(());
    }
    Err(Error::generation(format!(
        "`{ident}` is not a valid {what}: use lowercase letters, digits and underscores, starting with a letter, at most {MAX_IDENTIFIER} characters"
    ))
    .with_suggestion(format!(
        "Try `{}`",
        suggest_identifier(ident)
    )))
}

fn suggest_identifier(ident: &str) -> String {
    let mut out = String::new();
    for c in ident.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("m_{out}"),
        None => "my_migration".to_string(),
        _ => out.chars().take(MAX_IDENTIFIER).collect(),
    }
}

/// A column of `--columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Type as written (`varchar(255)`), if any.
    pub ty: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `UNIQUE`.
    pub unique: bool,
    /// `PRIMARY KEY`.
    pub primary_key: bool,
}

impl ColumnSpec {
    /// `"name" TYPE [NOT NULL] [UNIQUE]` for the backend.
    pub fn definition(&self, backend: BackendKind) -> Result<String> {
        let ty = self.ty.as_deref().unwrap_or("text");
        let mut out = format!("{} {}", quote(&self.name, backend), sql_type(ty, backend)?);
        if self.primary_key {
            out.push_str(" PRIMARY KEY");
        }
        if self.not_null {
            out.push_str(" NOT NULL");
        }
        if self.unique {
            out.push_str(" UNIQUE");
        }
        Ok(out)
    }
}

/// Parses `bio:text,avatar_url:varchar(255):not_null`. Commas inside parentheses
/// (`decimal(10,2)`) do not split.
pub fn parse_columns(list: &str) -> Result<Vec<ColumnSpec>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    let mut columns: Vec<ColumnSpec> = Vec::new();
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let mut fields = part.split(':').map(str::trim);
        let name = fields.next().unwrap_or_default().to_string();
        validate_identifier(&name, "column name")?;
        if columns.iter().any(|c| c.name == name) {
            return Err(Error::generation(format!(
                "column `{name}` is listed twice"
            )));
        }
        let mut column = ColumnSpec {
            name,
            ty: None,
            not_null: false,
            unique: false,
            primary_key: false,
        };
        if let Some(ty) = fields.next().filter(|t| !t.is_empty()) {
            // Checked now, so a typo fails before any file is written.
            sql_type(ty, BackendKind::Postgres)?;
            column.ty = Some(ty.to_ascii_lowercase());
        }
        for modifier in fields {
            match modifier.to_ascii_lowercase().replace('-', "_").as_str() {
                "not_null" | "notnull" | "required" => column.not_null = true,
                "null" | "nullable" => column.not_null = false,
                "unique" => column.unique = true,
                "primary_key" | "pk" => column.primary_key = true,
                other => {
                    return Err(Error::generation(format!(
                        "unknown modifier `{other}` on column `{}`",
                        column.name
                    ))
                    .with_suggestion("Use not_null, unique or primary_key"))
                }
            }
        }
        columns.push(column);
    }
    Ok(columns)
}

/// Maps a portable type name to the backend's SQL type.
pub fn sql_type(ty: &str, backend: BackendKind) -> Result<String> {
    use BackendKind::*;
    let ty = ty.trim().to_ascii_lowercase();
    let (base, args) = match ty.split_once('(') {
        Some((base, rest)) => {
            let args = rest.strip_suffix(')').ok_or_else(|| {
                Error::generation(format!("type `{ty}` has an unclosed parenthesis"))
            })?;
            (base.trim().to_string(), Some(args.replace(' ', "")))
        }
        None => (ty.clone(), None),
    };
    let numbers = |n: usize| -> Result<Vec<u32>> {
        let args = args.as_deref().unwrap_or_default();
        let parsed: Vec<u32> = args
            .split(',')
            .filter(|a| !a.is_empty())
            .map(|a| a.parse::<u32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::generation(format!("type `{ty}`: expected numbers in parentheses"))
            })?;
        if parsed.len() > n || parsed.contains(&0) {
            return Err(Error::generation(format!(
                "type `{ty}`: expected at most {n} positive number(s) in parentheses"
            )));
        }
        Ok(parsed)
    };
    let no_args = || -> Result<()> {
        if args.is_some() {
            Err(Error::generation(format!("type `{base}` takes no length")))
        } else {
            Ok(())
        }
    };
    let out = match base.as_str() {
        "text" | "string" if args.is_none() => "TEXT".to_string(),
        "varchar" | "string" => {
            let n = numbers(1)?.first().copied().unwrap_or(255);
            format!("VARCHAR({n})")
        }
        "char" => {
            let n = numbers(1)?.first().copied().unwrap_or(1);
            format!("CHAR({n})")
        }
        "smallint" | "int2" => {
            no_args()?;
            "SMALLINT".into()
        }
        "integer" | "int" | "int4" => {
            no_args()?;
            match backend {
                Mysql => "INT".into(),
                _ => "INTEGER".into(),
            }
        }
        "bigint" | "int8" => {
            no_args()?;
            "BIGINT".into()
        }
        "boolean" | "bool" => {
            no_args()?;
            "BOOLEAN".into()
        }
        "real" | "float" | "float4" => {
            no_args()?;
            match backend {
                Mysql => "FLOAT".into(),
                _ => "REAL".into(),
            }
        }
        "double" | "float8" => {
            no_args()?;
            match backend {
                Postgres => "DOUBLE PRECISION".into(),
                Sqlite => "DOUBLE".into(),
                Mysql => "DOUBLE".into(),
            }
        }
        "decimal" | "numeric" => {
            let n = numbers(2)?;
            let kw = if backend == Postgres { "NUMERIC" } else { "DECIMAL" };
            match n.as_slice() {
                [] => kw.to_string(),
                [p] => format!("{kw}({p})"),
                [p, s] => format!("{kw}({p},{s})"),
                _ => unreachable!("at most two numbers"),
            }
        }
        "date" => {
            no_args()?;
            "DATE".into()
        }
        "time" => {
            no_args()?;
            "TIME".into()
        }
        "timestamp" | "datetime" => {
            no_args()?;
            timestamp_type(backend).into()
        }
        "timestamptz" => {
            no_args()?;
            match backend {
                Postgres => "TIMESTAMPTZ".into(),
                Mysql => "DATETIME".into(),
                Sqlite => "TIMESTAMP".into(),
            }
        }
        // SQLite: TEXT (a column declared JSON would get NUMERIC affinity).
        "json" => {
            no_args()?;
            match backend {
                Sqlite => "TEXT".into(),
                _ => "JSON".into(),
            }
        }
        "jsonb" => {
            no_args()?;
            match backend {
                Postgres => "JSONB".into(),
                Mysql => "JSON".into(),
                Sqlite => "TEXT".into(),
            }
        }
        "uuid" => {
            no_args()?;
            match backend {
                Postgres => "UUID".into(),
                Mysql => "CHAR(36)".into(),
                Sqlite => "TEXT".into(),
            }
        }
        "blob" | "binary" | "bytes" | "bytea" => {
            no_args()?;
            match backend {
                Postgres => "BYTEA".into(),
                _ => "BLOB".into(),
            }
        }
        _ => {
            return Err(Error::generation(format!("unknown column type `{ty}`")).with_suggestion(
                "Use one of: text, varchar(n), char(n), smallint, integer, bigint, boolean, real, double, decimal(p,s), date, time, timestamp, timestamptz, json, jsonb, uuid, blob",
            ))
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(template: Template, table: Option<&str>, columns: Option<&str>) -> CreateArgs {
        CreateArgs {
            name: "m".into(),
            template,
            table: table.map(Into::into),
            columns: columns.map(Into::into),
        }
    }

    #[test]
    fn create_table_uses_the_backend_id_column() {
        let a = args(
            Template::CreateTable,
            Some("users"),
            Some("email:varchar(255):not_null:unique,meta:json,price:decimal(10,2)"),
        );
        let (up, down) = render(&a, BackendKind::Sqlite).unwrap();
        assert!(
            up.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"),
            "{up}"
        );
        assert!(
            up.contains("\"email\" VARCHAR(255) NOT NULL UNIQUE"),
            "{up}"
        );
        assert!(up.contains("\"meta\" TEXT"), "{up}");
        assert_eq!(down, "DROP TABLE \"users\";\n");
        let (up, _) = render(&a, BackendKind::Postgres).unwrap();
        assert!(up.contains("\"id\" BIGSERIAL PRIMARY KEY"), "{up}");
        assert!(up.contains("\"meta\" JSON,"), "{up}");
        assert!(up.contains("\"price\" NUMERIC(10,2)"), "{up}");
        let (up, down) = render(&a, BackendKind::Mysql).unwrap();
        assert!(
            up.contains("`id` BIGINT AUTO_INCREMENT PRIMARY KEY"),
            "{up}"
        );
        assert!(up.contains("`created_at` DATETIME NOT NULL"), "{up}");
        assert_eq!(down, "DROP TABLE `users`;\n");
    }

    #[test]
    fn add_and_drop_columns_mirror_each_other() {
        let a = args(
            Template::AddColumns,
            Some("users"),
            Some("bio:text,avatar_url:varchar(255)"),
        );
        let (up, down) = render(&a, BackendKind::Postgres).unwrap();
        assert!(up.contains("ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;"));
        assert!(up.contains("ADD COLUMN \"avatar_url\" VARCHAR(255);"));
        assert_eq!(
            down,
            "ALTER TABLE \"users\" DROP COLUMN \"avatar_url\";\nALTER TABLE \"users\" DROP COLUMN \"bio\";\n"
        );
        let a = args(Template::DropColumns, Some("users"), Some("bio"));
        assert!(render(&a, BackendKind::Postgres).is_err(), "needs types");
    }

    #[test]
    fn indexes_per_backend() {
        let a = args(Template::CreateIndex, Some("users"), Some("email"));
        let (up, down) = render(&a, BackendKind::Mysql).unwrap();
        assert!(up.contains("CREATE INDEX `users_email_idx` ON `users` (`email`);"));
        assert_eq!(down, "DROP INDEX `users_email_idx` ON `users`;\n");
        let (_, down) = render(&a, BackendKind::Sqlite).unwrap();
        assert_eq!(down, "DROP INDEX \"users_email_idx\";\n");
    }

    #[test]
    fn identifiers_and_types_are_validated() {
        assert!(validate_identifier("add_user_roles", "x").is_ok());
        for bad in ["", "AddUser", "1abc", "a-b", "a b", "x;drop"] {
            assert!(validate_identifier(bad, "x").is_err(), "{bad}");
        }
        assert!(parse_columns("bio:txet").is_err());
        assert!(parse_columns("Bio:text").is_err());
        assert!(parse_columns("a:text,a:text").is_err());
        assert!(parse_columns("a:text:sometimes").is_err());
        assert_eq!(sql_type("boolean", BackendKind::Mysql).unwrap(), "BOOLEAN");
        assert_eq!(sql_type("integer", BackendKind::Mysql).unwrap(), "INT");
        assert_eq!(sql_type("uuid", BackendKind::Mysql).unwrap(), "CHAR(36)");
        assert!(sql_type("varchar(0)", BackendKind::Mysql).is_err());
        assert!(sql_type("integer(3)", BackendKind::Mysql).is_err());
        let err = validate_identifier("AddUserRoles", "migration name").unwrap_err();
        assert_eq!(err.suggestions(), ["Try `add_user_roles`"]);
    }

    #[test]
    fn versions_stay_unique_within_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let now = NaiveDateTime::parse_from_str("2024-01-01-000000", "%Y-%m-%d-%H%M%S").unwrap();
        let a = create(
            &args(Template::Default, None, None),
            dir.path(),
            BackendKind::Sqlite,
            now,
        )
        .unwrap();
        let b = create(
            &args(Template::Default, None, None),
            dir.path(),
            BackendKind::Sqlite,
            now,
        )
        .unwrap();
        assert_eq!(a.name, "2024-01-01-000000_m");
        assert_eq!(b.name, "2024-01-01-000001_m");
    }
}
