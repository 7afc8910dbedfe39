//! The `kysera` command-line tool.
fn main() {}
