//! Where and how commands print: JSON or text, verbosity, colors, and error reports.
//!
//! Commands write results to [`Output::stdout`] and never call `print!`/`println!`, which
//! panic when stdout is a closed pipe; write errors propagate as [`Error::Io`] and `main`
//! treats a broken pipe as a clean exit.

use std::io::{self, Write};

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const EMPHASIS: Style = Style::new().bold();

/// Output settings derived from the global options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    json: bool,
    verbosity: i8,
    color: ColorChoice,
}

impl Output {
    /// Settings for the given global options. Colors are off with `--no-color`; otherwise
    /// they follow the terminal and the `NO_COLOR` / `CLICOLOR_FORCE` conventions.
    pub fn new(global: &GlobalArgs) -> Self {
        Output {
            json: global.json,
            verbosity: if global.quiet {
                -1
            } else {
                global.verbose.min(i8::MAX as u8) as i8
            },
            color: if global.no_color {
                ColorChoice::Never
            } else {
                ColorChoice::Auto
            },
        }
    }

    /// True under `--json`: print one JSON document on stdout.
    pub fn json(&self) -> bool {
        self.json
    }

    /// True under `--quiet`: print only results and errors.
    pub fn quiet(&self) -> bool {
        self.verbosity < 0
    }

    /// How many times `--verbose` was given (0 under `--quiet`).
    pub fn verbose(&self) -> u8 {
        self.verbosity.max(0) as u8
    }

    /// Locked stdout, stripping styles when colors are off. Write with `write!`/`writeln!`.
    pub fn stdout(&self) -> AutoStream<io::StdoutLock<'static>> {
        AutoStream::new(io::stdout().lock(), self.color)
    }

    /// Prints `value` as pretty JSON and a newline on stdout.
    pub fn print_json<T: serde::Serialize>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        let mut out = self.stdout();
        writeln!(out, "{text}")?;
        out.flush()?;
        Ok(())
    }

    /// Prints `err` on stderr: as JSON under `--json`, else in the specification's layout.
    /// `command` names the subcommand for the closing help hint.
    pub fn report(&self, err: &Error, command: Option<&str>) {
        let mut stderr = AutoStream::new(io::stderr().lock(), self.color);
        let written = if self.json {
            writeln!(stderr, "{}", err.to_json())
        } else {
            render_error(&mut stderr, err, command)
        };
        // Nowhere left to report a failure to write to stderr.
        let _ = written.and_then(|()| stderr.flush());
    }
}

/// Writes the human-readable report (styles are stripped by the stream when colors are off):
///
/// ```text
/// ✗ Database connection failed: E001
///
/// Error: connection error (postgres): connection refused
///
/// Suggestions:
///   1. Check the connection string (--database-url or DATABASE_URL)
///   2. Check that the database server is running and reachable
///
/// Need help? Run 'kysera help version'
/// ```
pub fn render_error(w: &mut dyn Write, err: &Error, command: Option<&str>) -> io::Result<()> {
    match err.code() {
        Some(code) => writeln!(w, "{ERROR}✗ {}: {code}{ERROR:#}", err.title())?,
        None => writeln!(w, "{ERROR}✗ {}{ERROR:#}", err.title())?,
    }
    writeln!(w)?;
    writeln!(w, "{EMPHASIS}Error:{EMPHASIS:#} {}", err.message())?;
    let suggestions = err.suggestions();
    if !suggestions.is_empty() {
        writeln!(w)?;
        writeln!(w, "{EMPHASIS}Suggestions:{EMPHASIS:#}")?;
        for (n, suggestion) in suggestions.iter().enumerate() {
            writeln!(w, "  {}. {suggestion}", n + 1)?;
        }
    }
    writeln!(w)?;
    match command {
        Some(command) => writeln!(w, "Need help? Run 'kysera help {command}'"),
        None => writeln!(w, "Need help? Run 'kysera --help'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_code_cause_and_numbered_suggestions() {
        let err = Error::connection("connection refused by postgres://app:hunter2@db/app");
        let mut buf = Vec::new();
        render_error(&mut buf, &err, Some("health")).unwrap();
        let text = anstream::adapter::strip_str(&String::from_utf8(buf).unwrap()).to_string();
        assert_eq!(
            text,
            "✗ Database connection failed: E001\n\
             \n\
             Error: connection refused by postgres://app:***@db/app\n\
             \n\
             Suggestions:\n  \
             1. Check the connection string (--database-url or DATABASE_URL)\n  \
             2. Check that the database server is running and reachable\n\
             \n\
             Need help? Run 'kysera help health'\n"
        );
    }

    #[test]
    fn quiet_and_verbose() {
        let quiet = Output::new(&GlobalArgs {
            quiet: true,
            ..GlobalArgs::default()
        });
        assert!(quiet.quiet());
        assert_eq!(quiet.verbose(), 0);
        let verbose = Output::new(&GlobalArgs {
            verbose: 2,
            ..GlobalArgs::default()
        });
        assert!(!verbose.quiet());
        assert_eq!(verbose.verbose(), 2);
    }
}
