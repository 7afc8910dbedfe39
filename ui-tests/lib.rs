//! Compile-fail tests of `#[derive(Repository)]` live in `tests/`.
