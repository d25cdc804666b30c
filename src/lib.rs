//! Workspace root: examples and integration tests live here.
//!
//! Its doctests are the README's Rust examples (issue 24): each compiles,
//! with this package's dependencies (scopegate with `testing`, `openapi`
//! and `redis`; actix-web with its macros; utoipa 6), and any warning is an
//! error (an unused import in a README example fails `cargo test`).
//! The examples in the ledger's words (permissions, guards) are
//! `rust,ignore` here and compile in `examples/ledger` (its `build.rs`), where
//! `scopegate.toml` declares those words.
//! The one multi-file example (groups across files) is `rust,ignore`: its
//! compiled counterpart is `examples/execution_api/routes.rs` and `routes/`.
#![doc(test(attr(deny(warnings))))]

/// The README, whose Rust examples rustdoc compiles as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
