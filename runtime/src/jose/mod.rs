//! JOSE: tokens as signed bytes. The compact serialization and its
//! signatures ([`jws`]), key material ([`keys`]), key sets fetched and
//! rotated from a JWKS ([`jwks`]) or found through an identity provider's
//! OpenID Connect discovery document ([`discovery`]), the capped, redirect-
//! checked fetches both use ([`fetch`]), the crypto backend (`backend`), and
//! the errors they raise ([`error`]), which the layers above raise too.
//! Above the policy layer, and knows nothing of claims, verification or the
//! web.

pub(crate) mod backend;
pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod fetch;
pub(crate) mod jwks;
pub(crate) mod jws;
pub(crate) mod keys;

#[allow(deprecated)]
pub use error::{min_secret_bytes, ConfigError, InvalidReason, KeySetError, MIN_SECRET_BYTES};
pub use jwks::{
    JwksSource, DEFAULT_FETCH_TIMEOUT, DEFAULT_JWKS_MIN_RETRY, DEFAULT_JWKS_REFRESH,
    DEFAULT_OIDC_MAX_STALE, DEFAULT_OIDC_REFRESH,
};
pub use keys::{SigningKey, VerificationKey};
