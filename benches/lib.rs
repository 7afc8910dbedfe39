//! Benchmarks of kysera against hand-written Diesel live in `benches/`.
