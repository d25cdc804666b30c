//! Issuing: the [`Issuer`](issuer::Issuer) mints tokens of any type of a
//! vocabulary, and fresh tokens for verified claims. Above claims, JOSE and
//! the policy layer (for its token types); the web layer's
//! [`Reissue`](crate::Reissue) uses it.

pub(crate) mod issuer;

#[cfg(feature = "testing")]
pub(crate) use issuer::TypeClaim;
pub use issuer::{IssueError, Issuer, IssuerBuilder, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL};
