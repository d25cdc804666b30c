//! Verification: the [`Verifier`](verifier::Verifier) checks a token's
//! signature and registered claims once, with the keys of the issuer its
//! `iss` names among those it trusts ([`issuers`]), keeps the result in a
//! bounded cache ([`cache`]) bound to the key set that verified it, and
//! consults a revocation deny-list ([`revoke`]) every time. It also holds
//! the token cookie a browser front-end sends ([`cookie`]). Above claims
//! and JOSE; it knows nothing of route policies or the web. With the
//! `redis` feature, a deny-list shared by every replica through Redis
//! ([`redis_store`]), checked from a local copy ([`mirror`]).

pub(crate) mod cache;
pub(crate) mod cookie;
pub(crate) mod issuers;
#[cfg(feature = "redis")]
pub(crate) mod mirror;
#[cfg(feature = "redis")]
pub(crate) mod redis_store;
pub(crate) mod revoke;
pub(crate) mod verifier;

pub use cache::{DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
pub use issuers::{KeySource, TrustedIssuer};
#[cfg(feature = "redis")]
pub use mirror::{
    Revocation, RevokedKind, DEFAULT_MAX_REVOCATIONS, MAX_REVOKED_ID_BYTES,
    MAX_REVOKED_ISSUER_BYTES,
};
#[cfg(feature = "redis")]
pub use redis_store::{
    RedisDenyList, RedisStore, StoreError, DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REDIS_KEY,
};
pub use revoke::{DenyList, MemoryDenyList, RevocationStatus, TokenRef};
pub use verifier::{Verifier, VerifierBuilder, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_SIZE};
