//! Key material: what a [`Verifier`](crate::Verifier) checks signatures with
//! and what an [`Issuer`](crate::Issuer) signs with. Keys are parsed once,
//! here, at start-up; the algorithm is pinned to the key's family.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::backend;
use super::error::{min_secret_bytes, ConfigError};

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
    /// For a public key with the aws_lc_rs backend: the key parsed once,
    /// here, for its pinned algorithm, instead of on every verification
    /// (jsonwebtoken's verifier parses the key bytes per call).
    #[cfg(feature = "aws_lc_rs")]
    pub(crate) parsed: Option<Box<aws_lc_rs::signature::ParsedPublicKey>>,
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
    /// A shared secret, verified with HS512 (Airflow's default). A
    /// [`Verifier`](crate::Verifier) refuses one shorter than its
    /// algorithm's hash ([`min_secret_bytes`]: 64 bytes for HS512) unless
    /// its builder says `allow_short_secret()`.
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
            #[cfg(feature = "aws_lc_rs")]
            parsed: None,
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
            self.parsed = self.parse_public_key().map(Box::new);
        }
    }

    /// The public key parsed for the pinned algorithm, or `None` for a
    /// secret or a key aws-lc refuses (which then fails every verification
    /// through jsonwebtoken's backend, as before).
    #[cfg(feature = "aws_lc_rs")]
    fn parse_public_key(&self) -> Option<aws_lc_rs::signature::ParsedPublicKey> {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
        use jsonwebtoken::DecodingKeyKind;
        // The same parameters as jsonwebtoken's aws-lc verifiers.
        let algorithm: &'static dyn VerificationAlgorithm = match self.algorithm {
            Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &sig::ED25519,
            _ => return None,
        };
        match self.key.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => ParsedPublicKey::new(algorithm, bytes).ok(),
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                let components = aws_lc_rs::rsa::PublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                };
                let der = components.as_der().ok()?;
                ParsedPublicKey::new(algorithm, der.as_ref()).ok()
            }
        }
    }

    /// The algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The length of an HMAC secret, in bytes (`None` for a public key).
    pub(crate) fn secret_len(&self) -> Option<usize> {
        match self.family {
            Family::Hmac => self.key.try_get_as_bytes().ok().map(<[u8]>::len),
            _ => None,
        }
    }
}

/// Refuses an HMAC secret shorter than its algorithm's hash
/// ([`min_secret_bytes`]) unless the builder opted in.
pub(crate) fn check_secret_len(
    len: Option<usize>,
    algorithm: Algorithm,
    allow_short: bool,
) -> Result<(), ConfigError> {
    match (len, min_secret_bytes(algorithm)) {
        (Some(len), Some(min)) if len < min && !allow_short => Err(ConfigError::ShortSecret {
            len,
            min,
            algorithm,
        }),
        _ => Ok(()),
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
    /// A shared secret, signing with HS512 (Airflow's default). An
    /// [`Issuer`](crate::Issuer) refuses one shorter than its algorithm's
    /// hash ([`min_secret_bytes`]: 64 bytes for HS512) unless its builder
    /// says `allow_short_secret()`.
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
        let mut jwk = public_jwk(&signing.key, family, signing.algorithm);
        if family == Family::Ec && jwk.is_err() {
            // The curve is read from the algorithm: a P-384 key does not
            // load as ES256, so it defaults to ES384.
            signing.algorithm = Algorithm::ES384;
            jwk = public_jwk(&signing.key, family, signing.algorithm);
        }
        let mut jwk = jwk.map_err(|source| ConfigError::InvalidKey { kind, source })?;
        let kid = thumbprint(&jwk).map_err(|source| ConfigError::InvalidKey { kind, source })?;
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

    /// The length of an HMAC secret, in bytes (`None` for a key pair).
    pub(crate) fn secret_len(&self) -> Option<usize> {
        (self.family == Family::Hmac).then(|| self.key.as_bytes().len())
    }
}

/// The public half of a private key as a JWK (no `kid`, `use` or `alg`
/// yet), derived with scopegate's crypto backend (jsonwebtoken's
/// `Jwk::from_encoding_key` would use the process-wide default).
fn public_jwk(
    key: &EncodingKey,
    family: Family,
    alg: Algorithm,
) -> Result<Jwk, jsonwebtoken::errors::Error> {
    let utils = &backend::provider().key_utils;
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    let algorithm = match family {
        Family::Rsa => {
            let (n, e) = (utils.rsa_pub_components_from_private_key)(key.as_bytes())?;
            AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: b64(n),
                e: b64(e),
            })
        }
        Family::Ec => {
            let (curve, x, y) = (utils.ec_pub_components_from_private_key)(key.as_bytes(), alg)?;
            AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve,
                x: b64(x),
                y: b64(y),
            })
        }
        Family::Ed => {
            let curve = EllipticCurve::Ed25519;
            let x = (utils.ed_pub_components_from_private_key)(key.as_bytes(), &curve)?;
            AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve,
                x: b64(x),
            })
        }
        Family::Hmac => return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into()),
    };
    Ok(Jwk {
        common: CommonParameters::default(),
        algorithm,
    })
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK: the required members in
/// lexicographic order, no whitespace (every value is base64url or a curve
/// name, so nothing needs escaping), hashed with scopegate's backend.
fn thumbprint(jwk: &Jwk) -> Result<String, jsonwebtoken::errors::Error> {
    let canonical = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, rsa.e, rsa.n)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let crv = match ec.curve {
                EllipticCurve::P256 => "P-256",
                EllipticCurve::P384 => "P-384",
                _ => return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into()),
            };
            format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                ec.x, ec.y
            )
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, okp.x)
        }
        _ => return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into()),
    };
    let digest = (backend::provider().key_utils.compute_digest)(
        canonical.as_bytes(),
        ThumbprintHash::SHA256,
    )?;
    Ok(URL_SAFE_NO_PAD.encode(digest))
}

fn key_algorithm(alg: Algorithm) -> Option<KeyAlgorithm> {
    backend::algorithm_name(alg).and_then(|name| name.parse().ok())
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
        // The algorithm may have changed since `new`: prepare for this one.
        vk.prepare();
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
    fn public_jwks_and_thumbprints_match_jsonwebtokens_own() {
        // In this build exactly one backend is on, so jsonwebtoken's own
        // derivation (through its process default) works and is the
        // reference for ours (through the explicit provider).
        let read = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        for (file, load) in [
            ("rsa_private.pem", SigningKey::rsa_pem as fn(&[u8]) -> _),
            ("ec_p256_private.pem", SigningKey::ec_pem),
            ("ec_p384_private.pem", SigningKey::ec_pem),
            ("ed25519_private.pem", SigningKey::ed_pem),
        ] {
            let key = load(&read(file)).unwrap();
            let ours = key.public_jwk().unwrap();
            let theirs = Jwk::from_encoding_key(&key.key, key.algorithm).unwrap();
            assert_eq!(ours.algorithm, theirs.algorithm, "{file}");
            assert_eq!(
                key.thumbprint(),
                Some(theirs.thumbprint(ThumbprintHash::SHA256).unwrap().as_str()),
                "{file}"
            );
        }
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
