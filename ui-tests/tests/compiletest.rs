//! Compile-fail and compile-pass tests of `#[derive(Repository)]`.
//!
//! Bless new output with `TRYBUILD=overwrite cargo test -p kysera-ui-tests --test compiletest`,
//! then read every changed `.stderr`: the caret must sit on the offending token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
