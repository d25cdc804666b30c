//! scopegate: token-scoped HTTP APIs on actix-web, safe by construction.
//!
//! Callers hold JWTs of several *kinds* ([`TokenType`]): a long-lived
//! `workload` token and a short-lived `execution` token. Each route says
//! which kinds it accepts and which path parameters the token must own
//! (`ti:self`: `sub` equals `<task_instance_id>`). The [`route`] and
//! [`routes`] macros check those declarations at compile time; this crate
//! enforces them per request:
//!
//! 1. [`bearer_token`] reads `Authorization: Bearer <token>`;
//! 2. [`Verifier`] checks the signature and registered claims, once per
//!    request ([`authenticate`] keeps the outcome in the request, bound to
//!    that verifier);
//! 3. [`RoutePolicy::check`] checks the token type and self-scopes, and
//!    marks the request as allowed;
//! 4. the handler receives a [`TiToken`], which only a request allowed by a
//!    route policy can produce.
//!
//! Refusals are [`AuthError`]s, rendered as RFC 6750 responses.
//! [`Issuer`] mints tokens and [`Reissue`] refreshes execution tokens that
//! are about to expire, for requests a route policy allowed. A [`DenyList`]
//! revokes tokens by `jti`. The [`contract`] page has every rule, status
//! code and option in one place.
#![doc = include_str!("../doc/example.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(all(feature = "aws_lc_rs", feature = "rust_crypto"))]
compile_error!(
    "scopegate: enable exactly one crypto backend, not both: \
     use `default-features = false, features = [\"rust_crypto\"]` to pick rust_crypto"
);
#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
compile_error!(
    "scopegate: enable exactly one crypto backend: feature `aws_lc_rs` (the default) or `rust_crypto`"
);

// Lets the macros' `::scopegate::...` paths resolve inside this crate too.
extern crate self as scopegate;

mod bearer;
mod cache;
mod enforce;
mod error;
mod issue;
mod jwks;
mod jws;
mod keys;
mod method_not_allowed;
mod policy;
mod reissue;
mod request;
mod revoke;
mod token;
mod verify;

pub use bearer::bearer_token;
pub use cache::{DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
pub use enforce::{Enforce, EnforceService};
pub use error::{AuthError, InvalidReason};
pub use issue::{IssueError, Issuer, IssuerBuilder, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL};
pub use jsonwebtoken::{jwk, Algorithm};
pub use jwks::{JwksSource, KeySetError, DEFAULT_JWKS_MIN_RETRY, DEFAULT_JWKS_REFRESH};
pub use keys::{ConfigError, SigningKey, VerificationKey, MIN_SECRET_BYTES};
pub use policy::{RouteInfo, RoutePolicy, SelfScope, TokenType, TokenTypes};
pub use reissue::{needs_refresh, Reissue, ReissueFuture, ReissueService, REFRESHED_TOKEN_HEADER};
pub use request::{authenticate, authorized_claims};
pub use revoke::{DenyList, MemoryDenyList};
pub use scopegate_macros::{route, routes};
pub use token::{Audience, Claims, TiToken, SESSION_START_CLAIM};
pub use verify::{
    KeySource, Verifier, VerifierBuilder, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_SIZE, MAX_LEEWAY,
};

/// The contract, in one page: the DSL's rules, the order of the runtime
/// checks with every status code and message, refreshing, keys over time,
/// revocation, configuration, and the differences from Airflow.
#[doc = include_str!("../doc/contract.md")]
pub mod contract {}

/// Items the macros' expansions name. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::method_not_allowed::register_fallback;
    pub use actix_web;
}
