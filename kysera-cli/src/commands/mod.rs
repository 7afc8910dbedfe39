//! One module per subcommand, each with `run(args, output) -> Result<()>`.
//!
//! Commands print through [`crate::output::Output`] and return errors instead of exiting;
//! `main.rs` dispatches to them and turns errors into exit codes.

pub mod completions;
pub mod init;
pub mod migrate;
pub mod version;
