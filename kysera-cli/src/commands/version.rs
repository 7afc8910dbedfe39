//! `kysera version`: the version and the database backends compiled in.

use std::io::Write;

use serde::Serialize;

use crate::cli::VersionArgs;
use crate::error::Result;
use crate::output::Output;

/// What `kysera version` reports; also its `--json` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// The program name, `kysera`.
    pub name: &'static str,
    /// The crate version, as `kysera --version` prints it.
    pub version: &'static str,
    /// Backends this binary was built with, from kysera-cli's cargo features.
    pub backends: Vec<&'static str>,
}

impl VersionInfo {
    /// The running binary's version information.
    pub fn current() -> Self {
        let backends = [
            ("sqlite", cfg!(feature = "sqlite")),
            ("postgres", cfg!(feature = "postgres")),
            ("mysql", cfg!(feature = "mysql")),
        ];
        VersionInfo {
            name: "kysera",
            version: env!("CARGO_PKG_VERSION"),
            backends: backends
                .into_iter()
                .filter_map(|(name, enabled)| enabled.then_some(name))
                .collect(),
        }
    }
}

/// Prints [`VersionInfo::current`] as text or, under `--json`, as JSON.
pub fn run(_args: &VersionArgs, output: &Output) -> Result<()> {
    let info = VersionInfo::current();
    if output.json() {
        return output.print_json(&info);
    }
    let mut out = output.stdout();
    writeln!(out, "{} {}", info.name, info.version)?;
    let backends = if info.backends.is_empty() {
        "none".to_string()
    } else {
        info.backends.join(", ")
    };
    writeln!(out, "backends: {backends}")?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_crate_version_and_default_backends() {
        let info = VersionInfo::current();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        #[cfg(all(feature = "sqlite", feature = "postgres", feature = "mysql"))]
        assert_eq!(info.backends, ["sqlite", "postgres", "mysql"]);
    }
}
