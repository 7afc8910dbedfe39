//! `kysera init`: the generated projects build, and the basic one runs.
//!
//! Each test builds a real project against this checkout of kysera (`--kysera-path`), with
//! `CARGO_TARGET_DIR` shared under the workspace's `target/init-test` so later runs reuse the
//! build. The first run downloads and compiles the projects' dependencies: a few minutes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kysera_cli::cli::GlobalArgs;
use kysera_cli::commands::init::{self, Backend, InitArgs, Plugin, Template};
use kysera_cli::output::Output;
use kysera_cli::ErrorCode;

fn kysera_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kysera")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/init-test")
}

/// A fresh directory outside the workspace (a project inside it would be taken for an
/// undeclared member), removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("kysera-init-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cargo args...` in `dir` on the shared target directory; panics with the output on
/// failure. Returns stdout.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let started = Instant::now();
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("DATABASE_URL")
        .output()
        .expect("run cargo");
    eprintln!(
        "cargo {} in {}: {:.1?}",
        args.join(" "),
        dir.display(),
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn args(dir: &Path, template: Template) -> InitArgs {
    InitArgs {
        name: Some(dir.to_path_buf()),
        template,
        database: Backend::Sqlite,
        plugins: vec![Plugin::Timestamps, Plugin::SoftDelete, Plugin::Audit],
        no_git: true,
        kysera_path: Some(kysera_path()),
    }
}

#[test]
fn basic_sqlite_project_migrates_writes_and_reads() {
    let tmp = TempDir::new("basic");
    let dir = tmp.0.join("blog-app");
    let quiet = Output::new(&GlobalArgs {
        quiet: true,
        ..GlobalArgs::default()
    });
    init::run(&args(&dir, Template::Basic), &quiet).expect("kysera init");

    for file in [
        "Cargo.toml",
        "src/main.rs",
        "kysera.toml",
        ".env",
        ".gitignore",
        "README.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} was not written");
    }
    let migrations: Vec<_> = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(migrations.len(), 1, "{migrations:?}");
    let up = std::fs::read_to_string(migrations[0].join("up.sql")).unwrap();
    assert!(
        up.contains("deleted_at") && up.contains("CREATE TABLE audit_logs"),
        "{up}"
    );
    assert!(migrations[0].join("down.sql").is_file());

    let first = cargo(&dir, &["run", "--quiet"]);
    assert!(first.contains("applied migration"), "{first}");
    assert!(
        first.contains("created User { id: 1, email: \"user1@example.com\", name: \"User 1\""),
        "{first}"
    );
    assert!(first.contains("read back User { id: 1"), "{first}");
    assert!(first.contains("soft-deleted: 0 live, 1 deleted"), "{first}");
    assert!(first.contains("audit: insert by blog-app"), "{first}");
    assert!(
        first.contains("1 user(s) in the sqlite database"),
        "{first}"
    );

    // A second run finds the migrations applied and adds a second user.
    let second = cargo(&dir, &["run", "--quiet"]);
    assert!(!second.contains("applied migration"), "{second}");
    assert!(second.contains("email: \"user2@example.com\""), "{second}");
    assert!(
        second.contains("2 user(s) in the sqlite database"),
        "{second}"
    );

    // The directory is no longer empty: init refuses to touch it.
    let err = init::create(&args(&dir, Template::Basic)).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::E003), "{err}");
    assert!(err.message().contains("not empty"), "{err}");
}

#[test]
fn api_project_compiles() {
    let tmp = TempDir::new("api");
    let dir = tmp.0.join("api-app");
    let report = init::create(&args(&dir, Template::Api)).expect("kysera init");
    assert!(!report.git, "--no-git");
    assert!(!dir.join(".git").exists());
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(main.contains("spawn_blocking") && main.contains("\"/health\""));
    cargo(&dir, &["check", "--quiet"]);
}
