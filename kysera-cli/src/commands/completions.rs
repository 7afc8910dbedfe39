//! `kysera completions <shell>`: a shell completion script, generated from the clap definition.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;
use crate::output::Output;

/// Writes the completion script for `args.shell` to stdout.
///
/// The script is generated into memory first: `clap_complete::generate` panics on a write
/// error, and `kysera completions bash | head -1` closes stdout early.
pub fn run(args: &CompletionsArgs, _output: &Output) -> Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    // Raw stdout, not `Output::stdout`: the script is passed through byte for byte.
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}
