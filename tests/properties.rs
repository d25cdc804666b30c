//! Property-based tests of the bearer parser and the verifier: no input
//! panics, and nothing but a genuine token authorizes.
//!
//! Each property runs `SCOPEGATE_PROPTEST_CASES` cases (default 1000); set it
//! to 1000000 for the long run. The number of cases run is printed.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use scopegate::testing::TestAuth;
use scopegate::{bearer_token, Verifier};
use serde_json::{Map, Value};
use uuid::Uuid;

fn cases() -> u32 {
    std::env::var("SCOPEGATE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn shared_verifier() -> &'static Verifier {
    static V: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    // The kit's verifier, for the tests' known secret: the tokens below are
    // signed by `jsonwebtoken`, independently of the library.
    V.get_or_init(|| {
        let auth = TestAuth::builder().secret(SECRET).build().unwrap();
        auth.verifier_builder().build().unwrap()
    })
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from(AUDIENCE)),
        Just(Value::from("workload")),
        Just(Value::from(Uuid::nil().to_string())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claim sets whose keys are mostly the registered names, with arbitrary
/// values: the interesting part of the space.
fn claim_sets() -> impl Strategy<Value = Map<String, Value>> {
    let key = prop_oneof![
        Just("sub".to_owned()),
        Just("scope".to_owned()),
        Just("exp".to_owned()),
        Just("iat".to_owned()),
        Just("nbf".to_owned()),
        Just("aud".to_owned()),
        Just("iss".to_owned()),
        Just("jti".to_owned()),
        ".{0,8}",
    ];
    prop::collection::btree_map(key, json(), 0..10).prop_map(|m| m.into_iter().collect())
}

/// Runs `property` over `strategy` with the configured number of cases and
/// prints how many ran.
fn check<S: Strategy>(
    name: &str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let ran = AtomicU64::new(0);
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |value| {
        ran.fetch_add(1, Ordering::Relaxed);
        property(value)
    });
    println!("{name}: {} cases run", ran.load(Ordering::Relaxed));
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn arbitrary_header_bytes_never_panic_nor_authorize() {
    check(
        "arbitrary Authorization bytes",
        prop::collection::vec(any::<u8>(), 0..600),
        |bytes| {
            for value in [bytes.clone(), [b"Bearer ".as_slice(), &bytes].concat()] {
                let Ok(value) = HeaderValue::from_bytes(&value) else {
                    continue;
                };
                let mut headers = HeaderMap::new();
                headers.insert(AUTHORIZATION, value);
                if let Ok(token) = bearer_token(&headers, 8192) {
                    prop_assert!(shared_verifier().verify(token).is_err());
                }
            }
            Ok(())
        },
    );
}

#[test]
fn arbitrary_claims_never_panic_nor_authorize() {
    let key = EncodingKey::from_secret(SECRET).unwrap();
    check(
        "arbitrary claims, correctly signed",
        (claim_sets(), json()),
        |(claims, raw)| {
            // Registered names with arbitrary values: every claim rule is hit.
            prop_assert!(shared_verifier()
                .verify(&sign(&claims, Algorithm::HS512, &key))
                .is_err());
            // Any JSON value at all as the payload.
            let input = format!(
                "{}.{}",
                b64(br#"{"alg":"HS512"}"#),
                b64(raw.to_string().as_bytes())
            );
            let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS512).unwrap();
            let token = format!("{input}.{sig}");
            prop_assert!(shared_verifier().verify(&token).is_err());
            Ok(())
        },
    );
}

#[test]
fn a_valid_token_with_one_byte_changed_never_authorizes() {
    let token = valid_token();
    // The genuine token verifies, and is now in the verified-token cache.
    assert!(shared_verifier().verify(token).is_ok());
    // XOR with a non-zero delta: every case really changes the byte.
    check(
        "one byte changed",
        (0..token.len(), 1..=255u8),
        |(i, delta)| {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] ^= delta;
            // A change that is not UTF-8 cannot even be passed as a token.
            if let Ok(changed) = String::from_utf8(bytes) {
                prop_assert!(
                    shared_verifier().verify(&changed).is_err(),
                    "byte {i} changed by xor {delta:#04x}"
                );
            }
            Ok(())
        },
    );
}

fn valid_token() -> &'static str {
    static T: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut c = claims(Uuid::new_v4(), Some("execution"));
        c.insert("exp".into(), Value::from(now() + 24 * 3600));
        hs512(&c)
    })
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
