//! The `kysera` command-line tool: parses arguments, runs the subcommand, maps errors to exit
//! codes. Everything else lives in the `kysera_cli` library.

use std::process::ExitCode;

use kysera_cli::cli::{Cli, Command};
use kysera_cli::commands;
use kysera_cli::output::Output;

fn main() -> ExitCode {
    // Before parsing: `.env` may set DATABASE_URL or KYSERA_CONFIG, which clap reads as the
    // defaults of the global flags. Variables already set are never overridden.
    let dotenv = kysera_cli::config::load_dotenv();
    let cli = match Cli::try_parse_env() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and --version arrive here too, with exit code 0; usage errors exit with 2.
            // `print` reports a write error (a closed pipe) instead of panicking; ignore it.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let output = Output::new(&cli.global);

    let result = dotenv.and_then(|()| match &cli.command {
        Command::Migrate(args) => commands::migrate::run(args, &cli.global, &output),
        Command::Init(args) => commands::init::run(args, &output),
        Command::Version(args) => commands::version::run(args, &output),
        Command::Completions(args) => commands::completions::run(args, &output),
    });

    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our stdout went away (`kysera ... | head`): nothing left to do.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            output.report(&err, Some(cli.command.name()));
            err.exit_code()
        }
    }
}
