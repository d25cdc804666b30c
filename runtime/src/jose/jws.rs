//! The JWS compact serialization (RFC 7515 §7.1): splitting a token, reading
//! its protected header and checking its signature with a pinned algorithm.
//!
//! scopegate parses tokens itself, strictly, instead of through
//! `jsonwebtoken::decode`: exactly three non-empty segments, canonical
//! unpadded base64url, JSON objects without duplicate keys, and only the
//! header fields it understands (`alg`, `kid`, `crit`). Everything else in
//! the header, such as an attacker's embedded `jwk`, `jku`, `x5u` or `x5c`, is
//! ignored. The signature itself is checked by jsonwebtoken's crypto backend.
//!
//! That backend is always the one scopegate's own feature selects
//! (`backend.rs`).

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::backend::{algorithm_name, provider};
use super::error::InvalidReason;
use super::keys::{SigningKey, VerificationKey};

/// A token split into its three segments, still encoded.
pub(crate) struct Compact<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub header: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
}

impl<'a> Compact<'a> {
    /// Splits `token` into exactly three non-empty segments.
    pub fn split(token: &'a str) -> Result<Self, InvalidReason> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidReason::Malformed);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(InvalidReason::Malformed);
        }
        Ok(Compact {
            signing_input: &token[..header.len() + 1 + payload.len()],
            header,
            payload,
            signature,
        })
    }
}

/// The protected header fields scopegate reads.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub kid: Option<Cow<'a, str>>,
    #[serde(default)]
    pub crit: Option<IgnoredAny>,
}

/// Decodes one base64url segment: no padding, no stray bits.
pub(crate) fn b64(segment: &str) -> Result<Vec<u8>, InvalidReason> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| InvalidReason::Malformed)
}

/// Deepest nesting of arrays and objects accepted in a header or payload.
/// Real claims nest two or three levels; serde_json's own limit (128) does not
/// apply to the values it skips, so this is checked first.
pub(crate) const MAX_JSON_DEPTH: usize = 32;

/// Parses a decoded segment as a JSON object (not an array, which serde would
/// also accept for a struct), nested at most [`MAX_JSON_DEPTH`] deep.
/// Duplicate keys are refused by the deserializers.
pub(crate) fn json_object<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, InvalidReason> {
    if bytes.trim_ascii_start().first() != Some(&b'{') || nesting_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(InvalidReason::Malformed);
    }
    serde_json::from_slice(bytes).map_err(|_| InvalidReason::Malformed)
}

/// Whether `[`/`{` nest deeper than `max` outside strings. Linear, no
/// recursion; malformed JSON is left to the parser.
pub(crate) fn nesting_exceeds(json: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses the protected header. A `crit` extension is refused: scopegate
/// implements none (RFC 7515 §4.1.11).
pub(crate) fn header(decoded: &[u8]) -> Result<Header<'_>, InvalidReason> {
    let header: Header<'_> = json_object(decoded)?;
    if header.crit.is_some() {
        return Err(InvalidReason::UnsupportedCritical);
    }
    Ok(header)
}

/// `alg` must be exactly the pinned algorithm's name, so `none`, `None`,
/// `hs512` and every other family are refused.
pub(crate) fn check_alg(header: &Header<'_>, pinned: Algorithm) -> Result<(), InvalidReason> {
    if algorithm_name(pinned) == Some(&*header.alg) {
        Ok(())
    } else {
        Err(InvalidReason::AlgorithmNotAllowed)
    }
}

/// Checks the signature over `header.payload` with `key` and its pinned
/// algorithm: a prepared HMAC key when there is one (constant-time compare),
/// or a public key parsed once (aws-lc-rs), otherwise jsonwebtoken's crypto
/// backend (aws-lc-rs or RustCrypto).
pub(crate) fn check_signature(
    compact: &Compact<'_>,
    key: &VerificationKey,
) -> Result<(), InvalidReason> {
    let signature = b64(compact.signature)?;
    let message = compact.signing_input.as_bytes();
    #[cfg(feature = "aws_lc_rs")]
    if let Some(hmac) = &key.hmac {
        return aws_lc_rs::hmac::verify(hmac, message, &signature)
            .map_err(|_| InvalidReason::InvalidSignature);
    }
    #[cfg(feature = "aws_lc_rs")]
    if let Some(public) = &key.parsed {
        return public
            .verify_sig(message, &signature)
            .map_err(|_| InvalidReason::InvalidSignature);
    }
    let verifier = (provider().verifier_factory)(&key.algorithm, &key.key)
        .map_err(|_| InvalidReason::InvalidSignature)?;
    verifier
        .verify(message, &signature)
        .map_err(|_| InvalidReason::InvalidSignature)
}

/// Signs `header.claims` (both serialized as JSON) with `key` and its pinned
/// algorithm: the compact serialization, as jsonwebtoken's `encode` makes it
/// but with scopegate's backend.
pub(crate) fn sign<H: Serialize, C: Serialize>(
    header: &H,
    claims: &C,
    key: &SigningKey,
) -> Result<String, jsonwebtoken::errors::Error> {
    let signer = (provider().signer_factory)(&key.algorithm, &key.key)?;
    let mut token = String::new();
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(header)?, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut token);
    let signature = signer.try_sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_needs_exactly_three_non_empty_segments() {
        assert!(Compact::split("a.b.c").is_ok());
        for bad in ["a.b", "a.b.c.d", "a.b.c.d.e", "a..c", "a.b.", ".b.c", ""] {
            assert!(Compact::split(bad).is_err(), "{bad}");
        }
        assert_eq!(Compact::split("ab.cd.ef").unwrap().signing_input, "ab.cd");
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(b64("e30").unwrap(), b"{}");
        assert!(b64("e30=").is_err(), "padding");
        assert!(b64("e31").is_err(), "non-zero trailing bits");
        assert!(b64("e3+").is_err(), "standard alphabet");
    }

    #[test]
    fn nesting_depth() {
        assert!(!nesting_exceeds(br#"{"a":[[1]],"b":"[[[[[["}"#, 3));
        assert!(nesting_exceeds(br#"{"a":[[[1]]]}"#, 3));
        assert!(!nesting_exceeds(br#"{"a":"\"[[[[\\"}"#, 1));
        let deep = format!(
            r#"{{"alg":"HS512","x":{}{}}}"#,
            "[".repeat(40),
            "]".repeat(40)
        );
        assert_eq!(
            header(deep.as_bytes()).err(),
            Some(InvalidReason::Malformed)
        );
    }

    #[test]
    fn header_rules() {
        let check = |raw: &[u8]| header(raw).and_then(|h| check_alg(&h, Algorithm::HS512));
        assert!(check(br#"{"alg":"HS512","kid":"not-used","jwk":{"k":"x"}}"#).is_ok());
        for (raw, want) in [
            (
                &br#"{"alg":"none"}"#[..],
                InvalidReason::AlgorithmNotAllowed,
            ),
            (br#"{"alg":"hs512"}"#, InvalidReason::AlgorithmNotAllowed),
            (br#"{"alg":"HS256"}"#, InvalidReason::AlgorithmNotAllowed),
            (
                br#"{"alg":"HS512","crit":["exp"]}"#,
                InvalidReason::UnsupportedCritical,
            ),
            (
                br#"{"alg":"HS512","alg":"HS512"}"#,
                InvalidReason::Malformed,
            ),
            (br#"["HS512"]"#, InvalidReason::Malformed),
            (br#"{}"#, InvalidReason::Malformed),
        ] {
            assert_eq!(
                check(raw).err(),
                Some(want),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    /// Every public key is parsed once, for its pinned algorithm, whether it
    /// came from PEM or from a JWK (RSA's as modulus and exponent), and the
    /// parsed key verifies its own signatures and nothing else.
    #[cfg(feature = "aws_lc_rs")]
    #[test]
    fn public_keys_are_parsed_once_for_their_pinned_algorithm() {
        use crate::jose::ConfigError;
        let read = |name: &str| {
            std::fs::read(format!(
                "{}/../tests/keys/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        type Load<K> = fn(&[u8]) -> Result<K, ConfigError>;
        let cases: [(&str, Load<SigningKey>, &str, Load<VerificationKey>); 4] = [
            (
                "rsa_private.pem",
                SigningKey::rsa_pem,
                "rsa_public.pem",
                VerificationKey::rsa_pem,
            ),
            (
                "ec_p256_private.pem",
                SigningKey::ec_pem,
                "ec_p256_public.pem",
                VerificationKey::ec_pem,
            ),
            (
                "ec_p384_private.pem",
                SigningKey::ec_pem,
                "ec_p384_public.pem",
                VerificationKey::ec_pem,
            ),
            (
                "ed25519_private.pem",
                SigningKey::ed_pem,
                "ed25519_public.pem",
                VerificationKey::ed_pem,
            ),
        ];
        for (private, load_signing, public, load_public) in cases {
            let signing = load_signing(&read(private)).unwrap();
            let pem = load_public(&read(public))
                .unwrap()
                .with_algorithm(signing.algorithm())
                .unwrap();
            let jwk = VerificationKey::from_signing_key(&signing).unwrap();
            let token = sign(
                &serde_json::json!({}),
                &serde_json::json!({"n": 1}),
                &signing,
            )
            .unwrap();
            let other = sign(
                &serde_json::json!({}),
                &serde_json::json!({"n": 2}),
                &signing,
            )
            .unwrap();
            let token = Compact::split(&token).unwrap();
            let other = Compact::split(&other).unwrap();
            // The signing input of one token with the signature of another.
            let spliced = format!("{}.{}", other.signing_input, token.signature);
            let spliced = Compact::split(&spliced).unwrap();
            for (how, key) in [("PEM", &pem), ("JWK", &jwk)] {
                assert!(key.parsed.is_some(), "{public} from {how}: not parsed");
                assert_eq!(key.algorithm(), signing.algorithm(), "{public} from {how}");
                assert_eq!(check_signature(&token, key), Ok(()), "{public} from {how}");
                assert_eq!(
                    check_signature(&spliced, key),
                    Err(InvalidReason::InvalidSignature),
                    "{public} from {how}"
                );
            }
        }
        // Pinning another algorithm of the family parses the key again for
        // it: an RS512 signature fails under RS256.
        let rsa = SigningKey::rsa_pem(&read("rsa_private.pem")).unwrap();
        let token = sign(&serde_json::json!({}), &serde_json::json!({}), &rsa).unwrap();
        let rs256 = VerificationKey::rsa_pem(&read("rsa_public.pem"))
            .unwrap()
            .with_algorithm(Algorithm::RS256)
            .unwrap();
        assert!(rs256.parsed.is_some());
        assert_eq!(
            check_signature(&Compact::split(&token).unwrap(), &rs256),
            Err(InvalidReason::InvalidSignature)
        );
    }
}
