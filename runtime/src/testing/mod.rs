//! The testing kit, the top layer (feature `testing`): [`TestAuth`] mints
//! tokens of every kind with the library's own issuer and builds the
//! verifier that trusts them, and [`route_table`] renders a service's
//! policies for snapshot tests. Never in a production build: it signs
//! forgeries.
//!
#![doc = include_str!("../../doc/testing.md")]

mod auth;
mod mint;

pub use auth::{TestAuth, TestAuthBuilder, DEFAULT_AUDIENCE};
pub use mint::Mint;

pub use crate::policy::route_table;
