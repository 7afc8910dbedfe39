//! The `kysera` command-line tool, as a library so its parts can be tested in-process.
//!
//! - [`cli`]: the clap definition (global options, subcommands, arguments).
//! - [`commands`]: one module per subcommand with a `run` function.
//! - [`output`]: JSON or text output, colors and error reports.
//! - [`error`]: the error type with the specification's codes `E001`-`E005`.
//! - [`config`]: `kysera.toml`, environment variables, `.env` and the global flags.
//!
//! The binary (`src/main.rs`) only parses, dispatches and maps errors to exit codes:
//! 0 on success (and when stdout is closed early by a pipe reader), 1 when a command fails,
//! 2 on a usage error.

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod output;

pub use error::{Error, ErrorCode, Result};
