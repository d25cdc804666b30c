//! The example server's library: a small Airflow Task Execution API,
//! declared entirely with scopegate's DSL, that Airflow's own Task SDK
//! client and worker can drive, with its state in memory.
//!
//! The command line is the root package's `examples/execution_api.rs`;
//! the end-to-end tests (`tests/e2e.rs`), the document checks
//! (`tests/openapi.rs`, `tests/parity.rs`) and the bench server
//! (`bench/server.rs`) start the same app from here, so they exercise
//! exactly what users run.
//!
//! It is a package of its own for one reason: its vocabulary. Its routes
//! use the single-use `callback` token of Airflow's main branch
//! (`callback:self`, `token:callback`), declared in the `scopegate.toml`
//! next to its `Cargo.toml`, which scopegate's macros read when they
//! expand. The workspace's root package keeps Airflow's default vocabulary
//! for its own tests and trybuild cases.
//!
//! | module | what |
//! |---|---|
//! | [`app`] | keys, services, the actix app and its middleware |
//! | [`routes`] | every route, declared with the DSL |
//! | [`versions`] | the Execution API versions served (`Airflow-API-Version`) |
//! | [`models`] | request and response bodies |
//! | [`state`] | the in-memory state |
//! | [`teams`] | multi-team mode and Airflow's XCom guard, `has_xcom_access` |
//! | [`errors`] | FastAPI-shaped error bodies |
//! | [`keys`] | signing keys |

pub mod app;
pub mod errors;
pub mod keys;
pub mod models;
pub mod routes;
pub mod state;
pub mod teams;
pub mod versions;

use scopegate::{TokenType, Vocabulary};

/// The example's vocabulary, from its `scopegate.toml`: `execution` (the
/// default), `workload` and `callback`, in Airflow's `scope` claim.
pub const VOCABULARY: Vocabulary = scopegate::vocabulary!();

/// The single-use token a deadline callback's worker exchanges, once, for
/// an execution token (`PATCH /execution/callbacks/<callback_id>/run`).
pub const CALLBACK: TokenType = TokenType::new("callback");
