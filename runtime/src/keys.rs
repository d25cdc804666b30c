//! Key material: what a [`Verifier`](crate::Verifier) checks signatures with
//! and what an [`Issuer`](crate::Issuer) signs with. Keys are parsed once,
//! here, at start-up; the algorithm is pinned to the key's family.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// A key that cannot be used, or a builder that is missing something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret must not be empty.
    #[error("the shared secret is empty")]
    EmptySecret,
    /// The PEM could not be parsed as a key of the expected kind.
    #[error("invalid {kind} key: {source}")]
    InvalidKey {
        /// What kind of key was expected (`"RSA public"`, ...).
        kind: &'static str,
        /// The parser's error.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// The algorithm does not belong to the key's family (for example HS256
    /// with an RSA key).
    #[error("algorithm {algorithm:?} cannot be used with a {family} key")]
    AlgorithmMismatch {
        /// The requested algorithm.
        algorithm: Algorithm,
        /// The key's family.
        family: &'static str,
    },
    /// A verifier needs at least one audience.
    #[error("no audience configured: tokens must name this service in `aud`")]
    NoAudience,
}

/// The key families, each with the algorithms it may be used with. The first
/// algorithm is the family's default (as Airflow: HS512, RS512, ES256, EdDSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

impl Family {
    pub(crate) fn algorithms(self) -> &'static [Algorithm] {
        use Algorithm::*;
        match self {
            Family::Hmac => &[HS512, HS256, HS384],
            Family::Rsa => &[RS512, RS256, RS384, PS256, PS384, PS512],
            Family::Ec => &[ES256, ES384],
            Family::Ed => &[EdDSA],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Hmac => "HMAC",
            Family::Rsa => "RSA",
            Family::Ec => "EC",
            Family::Ed => "Ed25519",
        }
    }

    fn default_algorithm(self) -> Algorithm {
        self.algorithms()[0]
    }

    fn check(self, algorithm: Algorithm) -> Result<Algorithm, ConfigError> {
        if self.algorithms().contains(&algorithm) {
            Ok(algorithm)
        } else {
            Err(ConfigError::AlgorithmMismatch {
                algorithm,
                family: self.name(),
            })
        }
    }
}

/// A key to verify signatures with, pinned to one algorithm.
#[derive(Clone)]
pub struct VerificationKey {
    pub(crate) key: DecodingKey,
    pub(crate) family: Family,
    pub(crate) algorithm: Algorithm,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("VerificationKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// A shared secret, verified with HS512 (Airflow's default).
    pub fn secret(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        let key = DecodingKey::from_secret(secret).map_err(|source| ConfigError::InvalidKey {
            kind: "HMAC",
            source,
        })?;
        Ok(Self::new(key, Family::Hmac))
    }

    /// An RSA public key in PEM; RS512 by default.
    pub fn rsa_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = DecodingKey::from_rsa_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "RSA public",
            source,
        })?;
        Ok(Self::new(key, Family::Rsa))
    }

    /// An EC (P-256 or P-384) public key in PEM; ES256 by default, select
    /// ES384 with [`with_algorithm`](Self::with_algorithm).
    pub fn ec_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = DecodingKey::from_ec_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "EC public",
            source,
        })?;
        Ok(Self::new(key, Family::Ec))
    }

    /// An Ed25519 public key in PEM; EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = DecodingKey::from_ed_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "Ed25519 public",
            source,
        })?;
        Ok(Self::new(key, Family::Ed))
    }

    fn new(key: DecodingKey, family: Family) -> Self {
        VerificationKey {
            key,
            family,
            algorithm: family.default_algorithm(),
        }
    }

    /// Pins another algorithm of the same family (HS256 for a secret, RS256
    /// for an RSA key, ...). Any other family is refused.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Result<Self, ConfigError> {
        self.algorithm = self.family.check(algorithm)?;
        Ok(self)
    }

    /// The algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// A key to sign tokens with, pinned to one algorithm.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key: EncodingKey,
    family: Family,
    pub(crate) algorithm: Algorithm,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A shared secret, signing with HS512 (Airflow's default).
    pub fn secret(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        let key = EncodingKey::from_secret(secret).map_err(|source| ConfigError::InvalidKey {
            kind: "HMAC",
            source,
        })?;
        Ok(Self::new(key, Family::Hmac))
    }

    /// An RSA private key in PEM; RS512 by default.
    pub fn rsa_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "RSA private",
            source,
        })?;
        Ok(Self::new(key, Family::Rsa))
    }

    /// An EC private key in PEM (PKCS#8); ES256 by default.
    pub fn ec_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "EC private",
            source,
        })?;
        Ok(Self::new(key, Family::Ec))
    }

    /// An Ed25519 private key in PEM (PKCS#8); EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "Ed25519 private",
            source,
        })?;
        Ok(Self::new(key, Family::Ed))
    }

    fn new(key: EncodingKey, family: Family) -> Self {
        SigningKey {
            key,
            family,
            algorithm: family.default_algorithm(),
        }
    }

    /// Signs with another algorithm of the same family.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Result<Self, ConfigError> {
        self.algorithm = self.family.check(algorithm)?;
        Ok(self)
    }

    /// The algorithm tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_pinning() {
        let k = VerificationKey::secret("s").unwrap();
        assert_eq!(k.algorithm(), Algorithm::HS512);
        assert_eq!(
            k.clone()
                .with_algorithm(Algorithm::HS256)
                .unwrap()
                .algorithm(),
            Algorithm::HS256
        );
        assert!(matches!(
            k.with_algorithm(Algorithm::RS256),
            Err(ConfigError::AlgorithmMismatch { .. })
        ));
        assert!(matches!(
            VerificationKey::secret(""),
            Err(ConfigError::EmptySecret)
        ));
        assert!(matches!(
            VerificationKey::rsa_pem(b"not a pem"),
            Err(ConfigError::InvalidKey { .. })
        ));
    }
}
