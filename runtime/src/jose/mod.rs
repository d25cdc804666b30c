//! JOSE: tokens as signed bytes. The compact serialization and its
//! signatures ([`jws`]), key material ([`keys`]), key sets fetched and
//! rotated from a JWKS ([`jwks`]), the crypto backend (`backend`), and the
//! errors they raise ([`error`]), which the layers above raise too. Above
//! the policy layer, and knows nothing of claims, verification or the web.

pub(crate) mod backend;
pub(crate) mod error;
pub(crate) mod jwks;
pub(crate) mod jws;
pub(crate) mod keys;

#[allow(deprecated)]
pub use error::{min_secret_bytes, ConfigError, InvalidReason, KeySetError, MIN_SECRET_BYTES};
pub use jwks::{JwksSource, DEFAULT_JWKS_MIN_RETRY, DEFAULT_JWKS_REFRESH};
pub use keys::{SigningKey, VerificationKey};
