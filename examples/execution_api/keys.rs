//! The example's key material: a shared secret, or a private key read from
//! a PEM file (RSA or Ed25519, as Airflow's `jwt_private_key_path`), and the
//! public key that checks what that private key signs.

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
/// signing algorithm.
pub fn public_key(key: &SigningKey) -> Result<VerificationKey, String> {
    VerificationKey::from_signing_key(key).map_err(|e| e.to_string())
}

/// 256 bits from the OS random generator, hex-encoded (64 characters).
pub fn random_secret() -> String {
    use std::fmt::Write as _;
    let mut bytes = [0u8; 32];
    // The OS generator fails only on a broken system; a secret with fewer
    // random bits is never an acceptable fallback.
    getrandom::fill(&mut bytes).unwrap_or_else(|err| {
        eprintln!("error: the OS random generator failed: {err}");
        std::process::exit(1)
    });
    bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}
