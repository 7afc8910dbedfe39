//! `kysera completions <shell>`.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::{kysera, run, stderr, stdout};

#[test]
fn bash_script_completes_kysera_and_its_subcommands() {
    let output = run(&["completions", "bash"]);
    assert!(output.status.success());
    let script = stdout(&output);
    assert!(script.contains("_kysera()"), "{script}");
    assert!(script.contains("complete -F _kysera"), "{script}");
    assert!(script.contains("completions"));
    assert!(script.contains("--database-url"));
}

#[test]
fn every_shell_is_supported() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        assert!(stdout(&output).contains("kysera"), "{shell}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let output = run(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid value 'tcsh'"));
}

/// `kysera ... | head -1`: the reader closes the pipe early. Writing then fails with EPIPE
/// (Rust ignores SIGPIPE), which must end the process cleanly rather than panic.
/// (`clap_complete::generate` itself panics on a write error.)
#[test]
fn closed_stdout_is_a_clean_exit() {
    for args in [
        &["completions", "bash"][..],
        &["version"],
        &["version", "--json"],
        &["--help"],
        &["--version"],
    ] {
        let mut child = kysera()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the child gets to write.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(err.is_empty(), "{args:?}: {err}");
        assert!(status.success(), "{args:?}: {status:?}");
    }
}

#[cfg(unix)]
#[test]
fn closed_stdout_through_a_shell_pipeline() {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{{ '{}' completions bash; echo \"kysera exited with $?\" >&2; }} | head -n 1",
            env!("CARGO_BIN_EXE_kysera")
        ))
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "_kysera() {\n");
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("kysera exited with 0"), "{err}");
}
