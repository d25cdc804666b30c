//! Key material: what a [`Verifier`](crate::Verifier) checks signatures with
//! and what an [`Issuer`](crate::Issuer) signs with. Keys are parsed once,
//! here, at start-up; the algorithm is pinned to the key's family.

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash,
};
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
    /// A JWK that cannot be used to verify signatures.
    #[error("unusable JWK: {reason}")]
    InvalidJwk {
        /// Why.
        reason: &'static str,
    },
    /// The JWKS could not be loaded at start-up.
    #[error("could not load the JWKS: {0}")]
    KeySet(#[from] crate::jwks::KeySetError),
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
    /// For a secret with the aws_lc_rs backend: the HMAC key with its inner
    /// and outer pads hashed once, here, instead of on every verification.
    #[cfg(feature = "aws_lc_rs")]
    pub(crate) hmac: Option<Box<aws_lc_rs::hmac::Key>>,
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
        let mut key = VerificationKey {
            key,
            family,
            algorithm: family.default_algorithm(),
            #[cfg(feature = "aws_lc_rs")]
            hmac: None,
        };
        key.prepare();
        key
    }

    /// Pins another algorithm of the same family (HS256 for a secret, RS256
    /// for an RSA key, ...). Any other family is refused.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Result<Self, ConfigError> {
        self.algorithm = self.family.check(algorithm)?;
        self.prepare();
        Ok(self)
    }

    /// The key that verifies what `signing` signs: the same secret, or the
    /// public half of a key pair, with the same algorithm.
    pub fn from_signing_key(signing: &SigningKey) -> Result<Self, ConfigError> {
        match (&signing.public_jwk, signing.family) {
            (None, Family::Hmac) => {
                VerificationKey::secret(signing.key.as_bytes())?.with_algorithm(signing.algorithm)
            }
            (Some(jwk), _) => VerificationKey::from_jwk(jwk),
            (None, _) => Err(ConfigError::AlgorithmMismatch {
                algorithm: signing.algorithm,
                family: signing.family.name(),
            }),
        }
    }

    /// Builds the per-algorithm state that can be computed once.
    fn prepare(&mut self) {
        #[cfg(feature = "aws_lc_rs")]
        {
            use aws_lc_rs::hmac;
            let algorithm = match self.algorithm {
                Algorithm::HS256 => Some(hmac::HMAC_SHA256),
                Algorithm::HS384 => Some(hmac::HMAC_SHA384),
                Algorithm::HS512 => Some(hmac::HMAC_SHA512),
                _ => None,
            };
            self.hmac = algorithm.and_then(|algorithm| {
                let secret = self.key.try_get_as_bytes().ok()?;
                Some(Box::new(hmac::Key::new(algorithm, secret)))
            });
        }
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
    /// The public half as a JWK, for key pairs (never for a shared secret).
    public_jwk: Option<Jwk>,
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
        Self::key_pair(key, Family::Rsa, "RSA private")
    }

    /// An EC private key in PEM (PKCS#8); ES256 by default.
    pub fn ec_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "EC private",
            source,
        })?;
        Self::key_pair(key, Family::Ec, "EC private")
    }

    /// An Ed25519 private key in PEM (PKCS#8); EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|source| ConfigError::InvalidKey {
            kind: "Ed25519 private",
            source,
        })?;
        Self::key_pair(key, Family::Ed, "Ed25519 private")
    }

    fn new(key: EncodingKey, family: Family) -> Self {
        SigningKey {
            key,
            family,
            algorithm: family.default_algorithm(),
            public_jwk: None,
        }
    }

    /// A key pair: derive the public JWK once, with its RFC 7638 thumbprint
    /// as `kid`.
    fn key_pair(key: EncodingKey, family: Family, kind: &'static str) -> Result<Self, ConfigError> {
        let mut signing = Self::new(key, family);
        let mut jwk = Jwk::from_encoding_key(&signing.key, signing.algorithm);
        if family == Family::Ec && jwk.is_err() {
            // jsonwebtoken reads the curve from the algorithm: a P-384 key
            // does not load as ES256, so it defaults to ES384.
            signing.algorithm = Algorithm::ES384;
            jwk = Jwk::from_encoding_key(&signing.key, signing.algorithm);
        }
        let mut jwk = jwk.map_err(|source| ConfigError::InvalidKey { kind, source })?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|source| ConfigError::InvalidKey { kind, source })?;
        jwk.common.key_id = Some(kid);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        signing.public_jwk = Some(jwk);
        signing.set_jwk_algorithm();
        Ok(signing)
    }

    fn set_jwk_algorithm(&mut self) {
        let alg = self.algorithm;
        if let Some(jwk) = &mut self.public_jwk {
            jwk.common.key_algorithm = key_algorithm(alg);
        }
    }

    /// Signs with another algorithm of the same family.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Result<Self, ConfigError> {
        self.algorithm = self.family.check(algorithm)?;
        self.set_jwk_algorithm();
        Ok(self)
    }

    /// The public key as a JWK (with `kid`, `alg` and `use`), for a key pair;
    /// `None` for a shared secret, which must never be published.
    pub fn public_jwk(&self) -> Option<&Jwk> {
        self.public_jwk.as_ref()
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, for a key pair.
    pub fn thumbprint(&self) -> Option<&str> {
        self.public_jwk.as_ref()?.common.key_id.as_deref()
    }

    /// The algorithm tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn key_algorithm(alg: Algorithm) -> Option<KeyAlgorithm> {
    crate::jws::algorithm_name(alg).and_then(|name| name.parse().ok())
}

impl VerificationKey {
    /// A public key from a JWK (RSA, EC P-256/P-384 or Ed25519). Its
    /// algorithm is the JWK's `alg`, or the family default when absent;
    /// symmetric (`oct`) keys are refused: a secret is never published.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, ConfigError> {
        Self::from_public_jwk(jwk).map_err(|reason| ConfigError::InvalidJwk { reason })
    }

    pub(crate) fn from_public_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Family::Rsa,
            AlgorithmParameters::EllipticCurve(_) => Family::Ec,
            AlgorithmParameters::OctetKeyPair(_) => Family::Ed,
            _ => return Err("unsupported key type"),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|_| "invalid key parameters")?;
        let mut vk = VerificationKey::new(key, family);
        if let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm {
            vk.algorithm = match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err("unsupported curve"),
            };
        }
        if let Some(alg) = jwk.common.key_algorithm {
            let alg: Algorithm = alg.to_string().parse().map_err(|_| "unsupported alg")?;
            vk.algorithm = family
                .check(alg)
                .map_err(|_| "alg does not match the key type")?;
        }
        Ok(vk)
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

    #[test]
    fn verification_key_from_signing_key() {
        let read = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let hs = SigningKey::secret("s")
            .unwrap()
            .with_algorithm(Algorithm::HS256)
            .unwrap();
        assert_eq!(
            VerificationKey::from_signing_key(&hs).unwrap().algorithm(),
            Algorithm::HS256
        );
        let ed = SigningKey::ed_pem(&read("ed25519_private.pem")).unwrap();
        assert_eq!(
            VerificationKey::from_signing_key(&ed).unwrap().algorithm(),
            Algorithm::EdDSA
        );
        let rsa = SigningKey::rsa_pem(&read("rsa_private.pem")).unwrap();
        assert_eq!(
            VerificationKey::from_signing_key(&rsa).unwrap().algorithm(),
            Algorithm::RS512
        );
        let p384 = SigningKey::ec_pem(&read("ec_p384_private.pem")).unwrap();
        assert_eq!(p384.algorithm(), Algorithm::ES384);
        assert_eq!(
            VerificationKey::from_signing_key(&p384)
                .unwrap()
                .algorithm(),
            Algorithm::ES384
        );
    }
}
