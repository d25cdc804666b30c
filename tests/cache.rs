//! The verified-token cache across requests, fed by the testing kit.

use std::sync::LazyLock;
use std::time::Duration;

use scopegate::testing::TestAuth;
use scopegate::{InvalidReason, Verifier};
use uuid::Uuid;

static AUTH: LazyLock<TestAuth> = LazyLock::new(TestAuth::new);

fn token() -> String {
    AUTH.execution(Uuid::new_v4())
}

fn cached_verifier(entries: usize, bytes: usize) -> Verifier {
    AUTH.verifier_builder()
        .cache_entries(entries)
        .cache_bytes(bytes)
        // The large-token test's 6 KiB claims make tokens over the 8 KiB
        // default.
        .max_token_size(64 * 1024)
        .build()
        .unwrap()
}

#[test]
fn a_hit_costs_no_signature_check() {
    let v = AUTH.verifier();
    let token = token();
    let first = v.verify(&token).unwrap();
    for _ in 0..10 {
        assert_eq!(v.verify(&token).unwrap(), first);
    }
    assert_eq!(v.verifications(), 1);
    assert_eq!(v.cached_tokens(), 1);
}

#[test]
fn the_cache_can_be_switched_off() {
    let v = cached_verifier(0, 1 << 20);
    let token = token();
    for _ in 0..3 {
        v.verify(&token).unwrap();
    }
    assert_eq!(v.verifications(), 3);
    assert_eq!(v.cached_tokens(), 0);
}

#[test]
fn an_expired_token_is_never_served_from_the_cache() {
    let v = AUTH
        .verifier_builder()
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let token = AUTH
        .mint(Uuid::new_v4())
        .expires_in(Duration::from_secs(1))
        .sign();
    v.verify(&token).unwrap();
    assert_eq!(v.cached_tokens(), 1);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(v.verify(&token).unwrap_err(), InvalidReason::Expired);
    assert_eq!(v.verifications(), 2, "the expired entry was not used");
}

#[test]
fn a_tampered_token_sharing_a_prefix_misses() {
    let v = AUTH.verifier();
    let token = token();
    v.verify(&token).unwrap();
    // Same header and payload, one signature character changed.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(v.verify(&tampered).is_err());
    // A prefix of a cached token is not a hit either.
    assert!(v.verify(&token[..token.len() - 1]).is_err());
    assert_eq!(v.verifications(), 3);
}

/// The cache hashes a token by its length and last bytes only: tokens that
/// share both with a cached one are still told apart byte for byte.
#[test]
fn a_token_with_the_same_length_and_signature_misses() {
    let v = AUTH.verifier();
    let token = token();
    v.verify(&token).unwrap();
    // Same signature (so the same hash), one payload character changed.
    let dot = token.find('.').unwrap();
    let mut forged = token.clone().into_bytes();
    forged[dot + 1] = if forged[dot + 1] == b'e' { b'f' } else { b'e' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(forged.len(), token.len());
    assert_eq!(
        v.verify(&forged).unwrap_err(),
        InvalidReason::InvalidSignature
    );
    assert_eq!(
        v.verifications(),
        2,
        "the forged token was verified, not served"
    );
    assert_eq!(v.cached_tokens(), 1);
}

#[test]
fn a_flood_of_distinct_tokens_stays_within_the_entry_bound() {
    let v = cached_verifier(1000, 64 << 20);
    for _ in 0..20_000 {
        v.verify(&token()).unwrap();
    }
    assert!(v.cached_tokens() <= 1000, "{} cached", v.cached_tokens());
    assert!(
        v.cached_tokens() >= 500,
        "the cache is used: {}",
        v.cached_tokens()
    );
}

#[test]
fn large_tokens_stay_within_the_byte_budget() {
    // 6 KiB tokens against a 1 MiB budget: at most ~1 MiB / (2 * 6 KiB) fit,
    // far fewer than the 16 Ki entry bound.
    let v = cached_verifier(16 * 1024, 1 << 20);
    for _ in 0..500 {
        let padded = AUTH
            .mint(Uuid::new_v4())
            .claim("padding", "x".repeat(6 * 1024))
            .sign();
        v.verify(&padded).unwrap();
    }
    let n = v.cached_tokens();
    assert!(n <= (1 << 20) / (2 * 6 * 1024), "{n} large tokens cached");
    assert!(n > 0);
}
