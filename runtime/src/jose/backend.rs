//! The crypto backend and the names of the algorithms it implements.
//!
//! The backend is always the one scopegate's own feature selects
//! ([`provider`]), never jsonwebtoken's process-wide default: when another
//! crate in the dependency graph turns on jsonwebtoken's other backend, the
//! default is missing and jsonwebtoken's own `encode`/`decode` panic.

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::Algorithm;

/// The crypto backend selected by scopegate's feature (`aws_lc_rs` or
/// `rust_crypto`), used for every signature, verification and JWK
/// derivation.
pub(crate) fn provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws_lc_rs")]
    {
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
    }
    #[cfg(all(feature = "rust_crypto", not(feature = "aws_lc_rs")))]
    {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }
}

/// The JOSE name of an algorithm (`None` for one scopegate cannot pin).
pub(crate) const fn algorithm_name(alg: Algorithm) -> Option<&'static str> {
    Some(match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => return None,
    })
}
