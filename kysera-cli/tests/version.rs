//! `kysera version`.

mod common;

use common::{run, stdout};

/// The backends of this build, from kysera-cli's cargo features (all three by default).
fn backends() -> Vec<&'static str> {
    [
        ("sqlite", cfg!(feature = "sqlite")),
        ("postgres", cfg!(feature = "postgres")),
        ("mysql", cfg!(feature = "mysql")),
    ]
    .into_iter()
    .filter_map(|(name, enabled)| enabled.then_some(name))
    .collect()
}

#[test]
fn prints_version_and_backends() {
    let output = run(&["version"]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        format!(
            "kysera {}\nbackends: {}\n",
            env!("CARGO_PKG_VERSION"),
            backends().join(", ")
        )
    );
}

#[test]
fn json_is_valid_and_complete() {
    for args in [&["version", "--json"][..], &["--json", "version"]] {
        let output = run(args);
        assert!(output.status.success());
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
        assert_eq!(json["name"], "kysera");
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(json["backends"], serde_json::json!(backends()));
    }
}
