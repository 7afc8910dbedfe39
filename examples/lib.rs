//! Examples for kysera: see `blog.rs`.
