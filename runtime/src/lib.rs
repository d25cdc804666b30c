//! scopegate: token-scoped HTTP APIs on actix-web, safe by construction.
//!
//! Callers hold JWTs of several *kinds* ([`TokenType`]): in Airflow, a
//! long-lived `workload` token and a short-lived `execution` token. Each
//! route says which kinds it accepts and which path parameters the token
//! must own (`ti:self`: `sub` equals `<task_instance_id>`). Those words are
//! a crate's [`Vocabulary`]: Airflow's by default, or the crate's own,
//! declared in `scopegate.toml`. The [`route`], [`routes`] and [`protect`]
//! macros check the declarations at compile time; this crate enforces them
//! per request:
//!
//! 1. [`bearer_token`] reads `Authorization: Bearer <token>`;
//! 2. [`Verifier`] checks the signature and registered claims, once per
//!    request ([`authenticate`] keeps the outcome in the request, bound to
//!    that verifier);
//! 3. [`RoutePolicy::check`] resolves the token's type in the route's
//!    vocabulary and checks it and the owners, and [`Enforce`] marks the
//!    request as allowed;
//! 4. the handler receives a [`Token`] (any vocabulary) or a [`TiToken`]
//!    (Airflow's), which only a request allowed by a route policy can
//!    produce.
//!
//! Refusals are [`AuthError`]s, rendered as RFC 6750 responses.
//! [`Issuer`] mints tokens and [`Reissue`] refreshes short-lived tokens that
//! are about to expire, for requests a route policy allowed. A [`DenyList`]
//! revokes tokens by `jti`, and whole refresh chains; with the `redis`
//! feature, `RedisDenyList` shares revocations between replicas through
//! Redis, checked from a local copy. The [`contract`] page
//! has every rule, status code and option in one place. With the `testing`
//! feature, `testing` mints test tokens and builds their verifier, and has
//! the guide to testing a service's routes; [`route_table`] prints its
//! policies.
//!
//! The source is laid out in layers, each importing only those below it:
//! `policy` (vocabularies and route policies, constant data), `jose`
//! (signatures, keys, key sets), `claims`, `verify` (the verifier, its cache
//! and revocation), `issue`, `web` (the actix-web glue), and, behind their
//! features, `openapi` (the route policies as OpenAPI 3.1) and `testing`
//! (the testing kit).
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

mod claims;
mod issue;
mod jose;
#[cfg(feature = "openapi")]
pub mod openapi;
mod policy;
#[cfg(feature = "testing")]
pub mod testing;
mod verify;
mod web;

pub use claims::{
    Audience, Claims, LogSafe, SubjectFormat, CHAIN_CLAIM, MAX_LEEWAY, SESSION_START_CLAIM,
};
pub use issue::{IssueError, Issuer, IssuerBuilder, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL};
#[allow(deprecated)]
pub use jose::MIN_SECRET_BYTES;
pub use jose::{
    min_secret_bytes, ConfigError, InvalidReason, JwksSource, KeySetError, SigningKey,
    VerificationKey, DEFAULT_FETCH_TIMEOUT, DEFAULT_JWKS_MIN_RETRY, DEFAULT_JWKS_REFRESH,
    DEFAULT_OIDC_MAX_STALE, DEFAULT_OIDC_REFRESH,
};
pub use jsonwebtoken::{jwk, Algorithm};
pub use policy::route_table;
pub use policy::{
    Alternative, AnyOf, ClaimSource, Compare, Condition, Denial, GuardInfo, MalformedClaim, Owner,
    Permission, PermissionClaim, PermissionFormat, PermissionSet, Permissions, Requirement,
    RouteInfo, RoutePolicy, StringClaim, TokenType, TokenTypes, Vocabulary, MAX_PERMISSIONS,
    MAX_TYPES,
};
pub use scopegate_macros::{guard, protect, route, routes, vocabulary};
pub use verify::{
    DenyList, KeySource, MemoryDenyList, RevocationStatus, TokenRef, TrustedIssuer, Verifier,
    VerifierBuilder, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES, DEFAULT_LEEWAY,
    DEFAULT_MAX_TOKEN_SIZE,
};
#[cfg(feature = "redis")]
pub use verify::{
    RedisDenyList, RedisStore, Revocation, RevokedKind, StoreError, DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_REVOCATIONS, DEFAULT_REDIS_KEY, MAX_REVOKED_ID_BYTES,
    MAX_REVOKED_ISSUER_BYTES,
};

pub use web::{
    authenticate, authorized_claims, bearer_token, needs_refresh, path_param, reason, AuthError,
    ClaimError, Deny, Enforce, EnforceService, Fallback, FallbackService, Guard, GuardDecl,
    GuardEntry, GuardFuture, NotFound, Refusal, Reissue, ReissueFuture, ReissueService, Renderer,
    TiToken, Token, REFRESHED_TOKEN_HEADER,
};

/// The contract, in one page: the DSL's rules, the order of the runtime
/// checks with every status code and message, refreshing, keys over time,
/// revocation, configuration, and the differences from Airflow.
#[doc = include_str!("../doc/contract.md")]
pub mod contract {}

/// Items the macros' expansions name. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::web::guard::{guard_future, GuardOutput};
    pub use crate::web::method_not_allowed::register_marker;
    pub use crate::web::methods::Methods;
    pub use crate::web::routing::{
        handler, route_service, Entry, Group, HandlerFactory, RouteFactory,
    };
    pub use actix_service;
    pub use actix_web;
    pub use scopegate_macros::__routes_tree as routes_tree;
    #[cfg(feature = "openapi")]
    pub use {crate::openapi, utoipa};
}
