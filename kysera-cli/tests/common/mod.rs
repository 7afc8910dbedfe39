//! Runs the built `kysera` binary in a predictable environment.

// Each test file compiles its own copy and uses a different subset of the helpers.
#![allow(dead_code)]

use std::process::{Command, Output};

/// `kysera` with the environment variables it reads removed.
pub fn kysera() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kysera"));
    for var in [
        "DATABASE_URL",
        "KYSERA_CONFIG",
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "CLICOLOR",
    ] {
        command.env_remove(var);
    }
    command
}

/// Runs `kysera args...` to completion.
pub fn run(args: &[&str]) -> Output {
    kysera().args(args).output().expect("run kysera")
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}
