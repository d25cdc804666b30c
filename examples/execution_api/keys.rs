//! The example's key material: a shared secret, or a private key read from
//! a PEM file (RSA or Ed25519, as Airflow's `jwt_private_key_path`), and the
//! public key that checks what that private key signs.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use scopegate::jwk::{AlgorithmParameters, EllipticCurve};
use scopegate::{SigningKey, VerificationKey};

/// Largest private-key file read; real PEM keys are a few KiB.
const MAX_PEM_BYTES: u64 = 64 * 1024;

/// What tokens are signed with.
#[derive(Clone)]
pub enum Keys {
    /// A shared secret: HS512, verified with the same secret. Never
    /// published.
    Secret(String),
    /// A key pair from a private key: RS512 (RSA) or EdDSA (Ed25519),
    /// verified with its public half, which the server publishes as a JWKS.
    PrivateKey(Box<SigningKey>),
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        match self {
            Keys::Secret(_) => f.write_str("Secret(..)"),
            Keys::PrivateKey(key) => f.debug_tuple("PrivateKey").field(&key.algorithm()).finish(),
        }
    }
}

impl Keys {
    /// The key tokens are signed with.
    pub fn signing_key(&self) -> Result<SigningKey, String> {
        match self {
            Keys::Secret(secret) => SigningKey::secret(secret).map_err(|e| e.to_string()),
            Keys::PrivateKey(key) => Ok(SigningKey::clone(key)),
        }
    }

    /// The key that verifies what [`signing_key`](Self::signing_key) signs:
    /// the same secret, or the key pair's public half.
    pub fn verification_key(&self) -> Result<VerificationKey, String> {
        match self {
            Keys::Secret(secret) => VerificationKey::secret(secret).map_err(|e| e.to_string()),
            Keys::PrivateKey(key) => public_key(key),
        }
    }
}

/// Reads a private key from a PEM file: RSA (PKCS#1 `RSA PRIVATE KEY` or
/// PKCS#8 `PRIVATE KEY`) or Ed25519 (PKCS#8). The PEM header and the key's
/// algorithm OID say which; anything else is a clear error.
pub fn read_private_key(path: &std::path::Path) -> Result<SigningKey, String> {
    use std::io::Read as _;
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("--private-key {name}: {e}"))?;
    let mut pem = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| format!("--private-key {name}: {e}"))?;
    if pem.len() as u64 > MAX_PEM_BYTES {
        return Err(format!(
            "--private-key {name}: larger than {MAX_PEM_BYTES} bytes, not a PEM private key"
        ));
    }
    private_key_from_pem(&pem).map_err(|e| format!("--private-key {name}: {e}"))
}

/// Parses an RSA or Ed25519 private key in PEM. jsonwebtoken classifies the
/// PEM by its header and, for PKCS#8, by the algorithm OID, so trying RSA
/// then Ed25519 never mistakes one for the other.
pub fn private_key_from_pem(pem: &[u8]) -> Result<SigningKey, String> {
    if let Ok(key) = SigningKey::rsa_pem(pem) {
        return Ok(key);
    }
    if let Ok(key) = SigningKey::ed_pem(pem) {
        return Ok(key);
    }
    if SigningKey::ec_pem(pem).is_ok() {
        return Err("an EC private key: the example signs with RSA or Ed25519 keys only".into());
    }
    Err("not an RSA or Ed25519 private key in PEM \
         (expected `-----BEGIN PRIVATE KEY-----` (PKCS#8) or `-----BEGIN RSA PRIVATE KEY-----`; \
         a public key or a certificate will not do)"
        .into())
}

/// The public half of a key pair as a [`VerificationKey`] pinned to the
/// signing algorithm. The runtime exposes the public key as a JWK, so it is
/// re-encoded here as the DER the PEM constructors read: PKCS#1
/// `RSAPublicKey` for RSA, SubjectPublicKeyInfo for Ed25519.
pub fn public_key(key: &SigningKey) -> Result<VerificationKey, String> {
    let jwk = key
        .public_jwk()
        .ok_or("a shared secret has no public key")?;
    let b64 = |field: &str, value: &str| {
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|e| format!("public JWK: bad `{field}`: {e}"))
    };
    let verification = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let (n, e) = (b64("n", &rsa.n)?, b64("e", &rsa.e)?);
            let mut body = der_uint(&n);
            body.extend(der_uint(&e));
            let der = der(0x30, &body);
            VerificationKey::rsa_pem(pem("RSA PUBLIC KEY", &der).as_bytes())
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING 0x00 || x }
            let x = b64("x", &okp.x)?;
            let mut bits = vec![0];
            bits.extend(x);
            let mut body = der(0x30, &der(0x06, &[0x2b, 0x65, 0x70]));
            body.extend(der(0x03, &bits));
            VerificationKey::ed_pem(pem("PUBLIC KEY", &der(0x30, &body)).as_bytes())
        }
        _ => return Err("unsupported key type: only RSA and Ed25519 key pairs".into()),
    };
    verification
        .and_then(|k| k.with_algorithm(key.algorithm()))
        .map_err(|e| e.to_string())
}

/// One DER element: tag, definite length, contents.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let count = bytes.len() - skip;
            // At most size_of::<usize>() bytes, so this always fits.
            out.push(0x80 | u8::try_from(count).unwrap_or(0x7f));
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    out.extend_from_slice(contents);
    out
}

/// A DER INTEGER holding the unsigned big-endian `bytes`.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let digits = &bytes[skip..];
    let mut contents = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|&b| b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(digits);
    der(0x02, &contents)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
