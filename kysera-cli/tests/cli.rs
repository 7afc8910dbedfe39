//! The top-level command: `--version`, `--help`, global options and usage errors.

mod common;

use common::{kysera, run, stderr, stdout};

#[test]
fn version_flag_prints_the_crate_version() {
    let output = run(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        format!("kysera {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_global_options_subcommands_and_examples() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for expected in [
        "--config <PATH>",
        "KYSERA_CONFIG",
        "--database-url <URL>",
        "DATABASE_URL",
        "--json",
        "--verbose",
        "--quiet",
        "--no-color",
        "version",
        "completions",
        "Examples:",
    ] {
        assert!(
            help.contains(expected),
            "`{expected}` missing from:\n{help}"
        );
    }
}

#[test]
fn help_of_every_subcommand_shows_examples_and_global_options() {
    for sub in ["version", "completions"] {
        let output = run(&[sub, "--help"]);
        assert!(output.status.success(), "{sub}");
        let help = stdout(&output);
        assert!(help.contains("Examples:"), "{sub}:\n{help}");
        assert!(help.contains(&format!("kysera {sub}")), "{sub}:\n{help}");
        assert!(help.contains("--database-url"), "{sub}:\n{help}");
    }
}

#[test]
fn help_never_shows_the_database_password() {
    let output = kysera()
        .arg("--help")
        .env("DATABASE_URL", "postgres://app:hunter2@db/app")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!stdout(&output).contains("hunter2"));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = run(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
    assert!(err.contains("Usage: kysera"), "{err}");
}

#[test]
fn no_subcommand_prints_help_and_fails() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("Usage: kysera"));
}

#[test]
fn verbose_and_quiet_conflict() {
    for args in [
        &["version", "--verbose", "--quiet"][..],
        &["--quiet", "version", "-v"],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(err.contains("cannot be used with"), "{args:?}: {err}");
        assert!(err.contains("Usage: kysera"), "{args:?}: {err}");
    }
}

#[test]
fn no_color_applies_to_clap_output() {
    let forced = kysera()
        .arg("--help")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        stdout(&forced).contains('\u{1b}'),
        "CLICOLOR_FORCE should color help"
    );

    for args in [
        &["--no-color", "--help"][..],
        &["version", "--help", "--no-color"],
    ] {
        let plain = kysera()
            .args(args)
            .env("CLICOLOR_FORCE", "1")
            .output()
            .unwrap();
        assert!(plain.status.success());
        assert!(!stdout(&plain).contains('\u{1b}'), "{args:?}");
    }

    let no_color_env = kysera()
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_color_env).contains('\u{1b}'));
}
