//! Verification: the [`Verifier`](verifier::Verifier) checks a token's
//! signature and registered claims once, with the keys of the issuer its
//! `iss` names among those it trusts ([`issuers`]), keeps the result in a
//! bounded cache ([`cache`]) bound to the key set that verified it, and
//! consults a revocation deny-list ([`revoke`]) every time. It also holds
//! the token cookie a browser front-end sends ([`cookie`]). Above claims
//! and JOSE; it knows nothing of route policies or the web.

pub(crate) mod cache;
pub(crate) mod cookie;
pub(crate) mod issuers;
pub(crate) mod revoke;
pub(crate) mod verifier;

pub use cache::{DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
pub use issuers::{KeySource, TrustedIssuer};
pub use revoke::{DenyList, MemoryDenyList, TokenRef};
pub use verifier::{Verifier, VerifierBuilder, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_SIZE};
