//! The testing kit (`scopegate::testing`, issue 12) checked from outside:
//! its tokens decoded with `jsonwebtoken` directly (not with the library
//! that minted them), against Airflow's claim set; its expired, near-expiry
//! and forged tokens; its verifier against independently minted tokens and
//! the other way round; and its guide against the trybuild case it shows.

mod common;

use std::time::Duration;

use common::{hs512, now, AUDIENCE, SECRET};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use scopegate::testing::{TestAuth, DEFAULT_AUDIENCE};
use scopegate::{
    needs_refresh, ConfigError, InvalidReason, SubjectFormat, VerificationKey, Verifier, Vocabulary,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The kit with the tests' shared secret, so `jsonwebtoken` can check its
/// signatures.
fn known() -> TestAuth {
    TestAuth::builder().secret(SECRET).build().unwrap()
}

/// The claims of `token`, checked by `jsonwebtoken` alone: HS512 with
/// `SECRET`, audience `AUDIENCE`, `exp` unless `expired_ok`.
fn independently_decoded(token: &str, expired_ok: bool) -> Map<String, Value> {
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.validate_exp = !expired_ok;
    decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(SECRET).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

fn keys(claims: &Map<String, Value>) -> Vec<&str> {
    let mut keys: Vec<&str> = claims.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[test]
fn the_kits_tokens_carry_airflows_claim_set() {
    let auth = known();
    let ti = Uuid::new_v4();
    for (token, ty, lifetime) in [
        (auth.execution(ti), "execution", 600),
        (auth.workload(ti), "workload", 24 * 3600),
        (auth.token(ti, "workload"), "workload", 24 * 3600),
    ] {
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS512);
        assert_eq!(header.kid.as_deref(), Some("not-used"));
        let c = independently_decoded(&token, false);
        assert_eq!(
            keys(&c),
            ["aud", "exp", "iat", "jti", "nbf", "scope", "sid", "sub"],
            "Airflow's JWTGenerator claims, and the refresh chain's id (issue 18), no more"
        );
        assert_eq!(c["sub"], ti.to_string());
        assert_eq!(c["aud"], AUDIENCE);
        assert_eq!(c["scope"], ty);
        let iat = c["iat"].as_i64().unwrap();
        assert!((now() - iat).abs() <= 5, "issued now");
        assert_eq!(c["nbf"], c["iat"]);
        assert_eq!(c["exp"].as_i64().unwrap() - iat, lifetime);
        let jti = c["jti"].as_str().unwrap();
        assert!(
            jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()),
            "{jti}"
        );
    }
    assert_eq!(DEFAULT_AUDIENCE, AUDIENCE);
    // Every token is a new one.
    let a = independently_decoded(&auth.execution(ti), false);
    let b = independently_decoded(&auth.execution(ti), false);
    assert_ne!(a["jti"], b["jti"]);
}

#[test]
fn expired_tokens_expired_past_any_leeway() {
    let auth = known();
    let token = auth.expired(Uuid::new_v4());
    let c = independently_decoded(&token, true);
    let exp = c["exp"].as_i64().unwrap();
    let max_leeway = scopegate::MAX_LEEWAY.as_secs() as i64;
    assert!(exp < now() - max_leeway, "{exp}");
    assert_eq!(exp - c["iat"].as_i64().unwrap(), 600, "a whole lifetime");
    assert_eq!(c["scope"], "execution");
    // Refused even by a verifier with the largest leeway.
    let lenient = auth
        .verifier_builder()
        .leeway(scopegate::MAX_LEEWAY)
        .build()
        .unwrap();
    assert_eq!(lenient.verify(&token).unwrap_err(), InvalidReason::Expired);
}

#[test]
fn near_expiry_tokens_are_valid_and_inside_the_refresh_window() {
    let auth = known();
    for (token, lifetime) in [
        (auth.near_expiry(Uuid::new_v4()), 600),
        (
            auth.mint(Uuid::new_v4())
                .of_type("workload")
                .near_expiry()
                .sign(),
            24 * 3600,
        ),
        (
            auth.mint(Uuid::new_v4())
                .lifetime(Duration::from_secs(20))
                .near_expiry()
                .sign(),
            20,
        ),
    ] {
        let c = independently_decoded(&token, false);
        let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
        assert_eq!(exp - iat, lifetime);
        let left = exp - now();
        assert!(left >= 5, "{lifetime}: {left} s left");
        let claims = auth.verifier().verify(&token).unwrap();
        assert!(needs_refresh(&claims, now()), "{lifetime}: {left} s left");
    }
    // The control: a fresh token is not in its window.
    let fresh = auth
        .verifier()
        .verify(&auth.execution(Uuid::new_v4()))
        .unwrap();
    assert!(!needs_refresh(&fresh, now()));
}

#[test]
fn forged_tokens_differ_from_valid_ones_only_in_the_key() {
    let auth = known();
    let ti = Uuid::new_v4();
    let forged = auth.forged(ti);
    let verifier = auth.verifier();
    assert_eq!(
        verifier.verify(&forged).unwrap_err(),
        InvalidReason::InvalidSignature
    );
    // Its claims are a valid token's: only the signature is wrong.
    let c: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(&forged).unwrap();
    assert_eq!(
        (&c["sub"], &c["scope"]),
        (&json!(ti.to_string()), &json!("execution"))
    );
    assert_eq!(decode_header(&forged).unwrap().alg, Algorithm::HS512);
    // The forger's key is random, and not the kit's.
    let forged_elsewhere = TestAuth::builder()
        .secret(SECRET)
        .build()
        .unwrap()
        .forged(ti);
    assert!(verifier.verify(&forged_elsewhere).is_err());
}

#[test]
fn each_kit_has_its_own_random_key() {
    let (a, b) = (TestAuth::new(), TestAuth::default());
    let ti = Uuid::new_v4();
    assert!(a.verifier().verify(&a.execution(ti)).is_ok());
    assert_eq!(
        b.verifier().verify(&a.execution(ti)).unwrap_err(),
        InvalidReason::InvalidSignature
    );
    // A secret of full HS512 strength passes the verifier's minimum, which a
    // 63-byte one does not (RFC 7518 §3.2: 64 bytes for HS512).
    assert!(matches!(
        TestAuth::builder().secret([7u8; 63]).build(),
        Err(ConfigError::ShortSecret {
            len: 63,
            min: 64,
            ..
        })
    ));
    assert!(TestAuth::builder().secret([7u8; 64]).build().is_ok());
}

#[test]
fn the_kit_and_independent_minting_agree() {
    let auth = known();
    let ti = Uuid::new_v4();
    // A token minted with jsonwebtoken alone verifies with the kit's
    // verifier...
    let theirs = hs512(&common::claims(ti, Some("workload")));
    let claims = auth.verifier().verify(&theirs).unwrap();
    assert_eq!(
        (claims.sub.as_str(), &claims.extra["scope"]),
        (ti.to_string().as_str(), &json!("workload"))
    );
    // ...and the kit's tokens verify with a verifier built by hand, as a
    // service builds its own.
    let own = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    assert!(own.verify(&auth.execution(ti)).is_ok());
    assert_eq!(
        own.verify(&auth.forged(ti)).unwrap_err(),
        InvalidReason::InvalidSignature
    );
}

#[test]
fn audiences_issuer_and_subjects_are_configurable() {
    let auth = TestAuth::builder()
        .secret(SECRET)
        .audience("urn:a")
        .audience(AUDIENCE)
        .issuer("airflow-api-server")
        .subject(SubjectFormat::Any)
        .ttl(scopegate::TokenType::EXECUTION, Duration::from_secs(60))
        .build()
        .unwrap();
    let token = auth.execution("worker-7");
    let c = independently_decoded(&token, false);
    assert_eq!(c["aud"], json!(["urn:a", AUDIENCE]));
    assert_eq!(c["iss"], "airflow-api-server");
    assert_eq!(c["sub"], "worker-7");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
    assert!(auth.verifier().verify(&token).is_ok());
    // The kit's verifier requires what the kit writes: the issuer...
    let no_iss = TestAuth::builder()
        .secret(SECRET)
        .subject(SubjectFormat::Any)
        .build()
        .unwrap()
        .execution("worker-7");
    assert_eq!(
        auth.verifier().verify(&no_iss).unwrap_err(),
        InvalidReason::MissingClaim("iss")
    );
    // ...and, by default, UUID subjects.
    assert_eq!(
        known()
            .verifier()
            .verify(&known().execution("worker-7"))
            .unwrap_err(),
        InvalidReason::InvalidSubject
    );
}

static LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);

#[test]
fn another_vocabulary_in_its_own_claim() {
    let auth = TestAuth::builder()
        .secret(SECRET)
        .vocabulary(&LEDGER)
        .subject(SubjectFormat::Any)
        .build()
        .unwrap();
    let token = auth
        .mint("alice")
        .of_type("auditor")
        .claims(json!({"acct": "a-1", "exp": 1}))
        .claim("entry", "e-1")
        .sign();
    let c = independently_decoded(&token, false);
    assert_eq!(
        keys(&c),
        ["acct", "aud", "entry", "exp", "iat", "jti", "nbf", "role", "sid", "sub"]
    );
    assert_eq!(c["role"], "auditor");
    assert!(
        c["exp"].as_i64().unwrap() > now(),
        "so are registered claims"
    );
    // The default type, in the vocabulary's claim.
    let c = independently_decoded(&auth.expired("alice"), true);
    assert_eq!(c["role"], "clerk");
    let auth = TestAuth::for_vocabulary(&LEDGER);
    assert_eq!(auth.vocabulary(), &LEDGER);
    let c = auth
        .verifier()
        .verify(&auth.token(Uuid::new_v4(), "clerk"))
        .unwrap();
    assert_eq!(c.extra["role"], "clerk");
}

/// The type claim is written on purpose or not at all: `.claim` of it is
/// refused, with what to write instead.
#[test]
#[should_panic(expected = "TestAuth: `role` is the type claim; write the type with \
                           .of_type(\"..\") (a type of the kit's vocabulary), .type_claim(..) \
                           (any value) or .without_type_claim()")]
fn the_type_claim_is_not_an_extra_claim() {
    let auth = TestAuth::for_vocabulary(&LEDGER);
    let _ = auth.mint("alice").claims(json!({"role": "admin"}));
}

/// Tokens no issuer of the vocabulary would mint, for tests of the 401 of
/// an unknown type and of the default type, without another JWT library.
#[actix_web::test]
async fn a_type_outside_the_vocabulary_and_no_type_claim() {
    let auth = TestAuth::builder()
        .vocabulary(&LEDGER)
        .subject(SubjectFormat::Any)
        .build()
        .unwrap();
    let admin = auth.mint("mallory").type_claim("admin").sign();
    let number = auth.mint("mallory").type_claim(7).sign();
    let none = auth.mint("alice").without_type_claim().sign();
    let verifier = auth.verifier();
    assert_eq!(verifier.verify(&admin).unwrap().extra["role"], "admin");
    assert_eq!(verifier.verify(&number).unwrap().extra["role"], 7);
    assert!(!verifier.verify(&none).unwrap().extra.contains_key("role"));
    static POLICY: scopegate::RoutePolicy =
        scopegate::RoutePolicy::protected(scopegate::TokenTypes::none(&LEDGER), &[]);
    let app = actix_web::test::init_service(
        actix_web::App::new().app_data(verifier).service(
            actix_web::web::resource("/books")
                .wrap(scopegate::Enforce::new(&POLICY))
                .to(|t: scopegate::Token| async move {
                    actix_web::HttpResponse::Ok().body(t.token_type().as_str())
                }),
        ),
    )
    .await;
    for (token, status, body) in [
        (
            &admin,
            401,
            "{\"detail\":\"Invalid auth token: unknown token type in 'role'\"}",
        ),
        (
            &number,
            401,
            "{\"detail\":\"Invalid auth token: unknown token type in 'role'\"}",
        ),
        (&none, 200, "clerk"),
    ] {
        let req = actix_web::test::TestRequest::get()
            .uri("/books")
            .insert_header(auth.bearer(token))
            .to_request();
        let res = actix_web::test::call_service(&app, req).await;
        assert_eq!(res.status(), status);
        assert_eq!(actix_web::test::read_body(res).await, body.as_bytes());
    }
}

/// Permissions in the vocabulary's claim and format.
#[test]
fn tokens_with_permissions() {
    use scopegate::{PermissionFormat, Permissions, Vocabulary};
    static SPACE: Vocabulary = Vocabulary::new("role", &["clerk"], 0).with_permissions(
        Permissions::new("scope", PermissionFormat::Space, &["a:read", "a:write"]),
    );
    static ARRAY: Vocabulary = Vocabulary::untyped(Permissions::new(
        "roles",
        PermissionFormat::Array,
        &["reader", "writer"],
    ));
    let auth = TestAuth::for_vocabulary(&SPACE);
    let c = auth
        .verifier()
        .verify(
            &auth
                .mint(Uuid::new_v4())
                .permissions(&["a:read", "a:write"])
                .sign(),
        )
        .unwrap();
    assert_eq!(c.extra["scope"], "a:read a:write");
    let auth = TestAuth::builder()
        .secret(SECRET)
        .vocabulary(&ARRAY)
        .build()
        .unwrap();
    let token = auth.mint(Uuid::new_v4()).permissions(&["writer"]).sign();
    let c = independently_decoded(&token, false);
    assert_eq!(c["roles"], json!(["writer"]));
    assert!(c.get("scope").is_none(), "no type claim without types");
}

#[test]
#[should_panic(expected = "TestAuth: the kit's vocabulary declares no permissions")]
fn permissions_need_a_vocabulary_that_declares_them() {
    let _ = TestAuth::new().mint(Uuid::new_v4()).permissions(&["x"]);
}

#[test]
#[should_panic(
    expected = "'workloads' is not a token type of the kit's vocabulary (execution, workload)"
)]
fn a_type_outside_the_vocabulary_fails_the_test() {
    let _ = TestAuth::new().token(Uuid::new_v4(), "workloads");
}

#[test]
#[should_panic(
    expected = "'execution' is not a token type of the kit's vocabulary (clerk, auditor)"
)]
fn airflows_shortcuts_fail_in_another_vocabulary() {
    let _ = TestAuth::for_vocabulary(&LEDGER).execution(Uuid::new_v4());
}

/// The notes service's words: names as subjects, said once, in the
/// vocabulary (`[token] subject = "any"` in its `scopegate.toml`; the
/// macros' `vocabulary!()` expands to this).
const NOTES: Vocabulary =
    Vocabulary::new("kind", &["user", "service"], 0).with_subject(SubjectFormat::Any);

/// Issue 24: a vocabulary that says its subjects are any string is
/// followed by the kit and by a verifier built from it, with no
/// `.subject(..)` call; an explicit call still wins, and the vocabulary
/// without it keeps UUIDs.
#[test]
fn the_vocabularys_subject_format_needs_no_builder_call() {
    let auth = TestAuth::for_vocabulary(&NOTES);
    let claims = auth
        .verifier()
        .verify(&auth.token("alice", "user"))
        .unwrap();
    assert_eq!(claims.sub, "alice");
    let built = TestAuth::builder().vocabulary(&NOTES).build().unwrap();
    assert!(built
        .verifier()
        .verify(&built.token("alice", "service"))
        .is_ok());

    // A verifier of the service's own, from the same vocabulary.
    let key = || VerificationKey::secret(SECRET).unwrap();
    let kit = TestAuth::builder()
        .secret(SECRET)
        .audience(AUDIENCE)
        .issuer("notes")
        .vocabulary(&NOTES)
        .build()
        .unwrap();
    let token = kit.token("alice", "user");
    let verifier = Verifier::builder(key())
        .audience(AUDIENCE)
        .issuer("notes")
        .vocabulary(&NOTES)
        .build()
        .unwrap();
    assert_eq!(verifier.verify(&token).unwrap().sub, "alice");
    // Without the vocabulary, or with an explicit `.subject(Uuid)`: UUIDs.
    for verifier in [
        Verifier::builder(key()).audience(AUDIENCE).issuer("notes"),
        Verifier::builder(key())
            .audience(AUDIENCE)
            .issuer("notes")
            .vocabulary(&NOTES)
            .subject(SubjectFormat::Uuid),
    ] {
        assert_eq!(
            verifier.build().unwrap().verify(&token).unwrap_err(),
            InvalidReason::InvalidSubject
        );
    }
    // A vocabulary that keeps Airflow's UUIDs changes nothing.
    let ledger = TestAuth::for_vocabulary(&LEDGER);
    assert_eq!(
        ledger
            .verifier()
            .verify(&ledger.token("alice", "clerk"))
            .unwrap_err(),
        InvalidReason::InvalidSubject
    );
    // The old builder call keeps working.
    let old = TestAuth::builder()
        .vocabulary(&LEDGER)
        .subject(SubjectFormat::Any)
        .build()
        .unwrap();
    assert!(old.verifier().verify(&old.token("alice", "clerk")).is_ok());
}

/// What a panic of `f` says.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("it panics");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|m| m.to_string())
            .unwrap_or_default(),
    }
}

/// Issue 24: the panic for a type outside the kit's vocabulary told a kit
/// that already had the crate's vocabulary to build itself with one. It
/// gives that advice only to a kit of Airflow's vocabulary (the default),
/// and otherwise says what to write.
#[test]
fn a_type_outside_the_vocabulary_says_what_to_write() {
    assert_eq!(
        panic_message(|| {
            let _ = TestAuth::new().token(Uuid::new_v4(), "clerk");
        }),
        "TestAuth: 'clerk' is not a token type of the kit's vocabulary (execution, workload), \
         which is Airflow's, the default: if your crate declares its own types in \
         scopegate.toml, build the kit with them: TestAuth::for_vocabulary(&VOCABULARY) or \
         TestAuth::builder().vocabulary(&VOCABULARY), with \
         `const VOCABULARY: scopegate::Vocabulary = scopegate::vocabulary!();`; to write a \
         value that is no type (to test the refusal), use .type_claim(..)"
    );
    assert_eq!(
        panic_message(|| {
            let _ = TestAuth::for_vocabulary(&LEDGER).token(Uuid::new_v4(), "auditors");
        }),
        "TestAuth: 'auditors' is not a token type of the kit's vocabulary (clerk, auditor): \
         write one of those; to write a value that is no type (to test the refusal), use \
         .type_claim(..)"
    );
    assert_eq!(
        panic_message(|| {
            let _ = TestAuth::for_vocabulary(&LEDGER).workload(Uuid::new_v4());
        }),
        "TestAuth: 'workload' is not a token type of the kit's vocabulary (clerk, auditor): \
         write one of those; execution() and workload() mint Airflow's types, so mint this \
         vocabulary's with token(sub, \"clerk\") or mint(sub).of_type(\"clerk\"); to write a \
         value that is no type (to test the refusal), use .type_claim(..)"
    );
}

#[test]
fn mint_lifetimes_and_expiries() {
    let auth = known();
    let sub = Uuid::new_v4();
    let times = |token: String, expired_ok: bool| {
        let c = independently_decoded(&token, expired_ok);
        let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
        (exp - iat, exp - now())
    };
    let (lifetime, left) = times(
        auth.mint(sub)
            .lifetime(Duration::from_secs(100))
            .expires_in(Duration::from_secs(25))
            .sign(),
        false,
    );
    assert_eq!(lifetime, 100);
    assert!((23..=25).contains(&left), "{left}");
    let (lifetime, left) = times(
        auth.mint(sub).expired_ago(Duration::from_secs(5)).sign(),
        true,
    );
    assert_eq!(lifetime, 600);
    assert!((-7..=-5).contains(&left), "{left}");
    // Five seconds ago is inside the default leeway: still accepted.
    assert!(auth
        .verifier()
        .verify(&auth.mint(sub).expired_ago(Duration::from_secs(5)).sign())
        .is_ok());
}

#[test]
#[should_panic(expected = "a token of 600 s cannot expire in 601 s")]
fn a_token_cannot_expire_after_its_lifetime() {
    let _ = TestAuth::new()
        .mint(Uuid::new_v4())
        .expires_in(Duration::from_secs(601))
        .sign();
}

#[test]
#[should_panic(expected = "Mint::claims takes a JSON object of claims")]
fn claims_must_be_an_object() {
    let _ = TestAuth::new().mint(Uuid::new_v4()).claims(json!([1, 2]));
}

#[test]
fn bearer_is_an_authorization_header_pair() {
    let auth = TestAuth::new();
    let token = auth.execution(Uuid::new_v4());
    let req = actix_web::test::TestRequest::default()
        .insert_header(auth.bearer(&token))
        .to_http_request();
    assert_eq!(
        scopegate::bearer_token(req.headers(), 8192).ok(),
        Some(token.as_str())
    );
}

#[test]
fn each_verifier_is_a_new_one() {
    let auth = TestAuth::new();
    let token = auth.execution(Uuid::new_v4());
    let (a, b) = (auth.verifier(), auth.verifier());
    a.verify(&token).unwrap();
    a.verify(&token).unwrap();
    b.verify(&token).unwrap();
    assert_eq!((a.verifications(), b.verifications()), (1, 1));
    assert_ne!(a.id(), b.id());
}

/// The guide's trybuild case and its diagnostic are `tests/ui`'s, which
/// `cargo test --test ui` compiles: the guide shows real compiler output.
#[test]
fn the_guides_trybuild_case_is_the_one_tests_ui_pins() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("runtime/doc/testing.md")).unwrap();
    let block = |marker: &str| {
        let start = guide.find(marker).unwrap_or_else(|| panic!("{marker}"));
        let fence = start + guide[start..].find("```").unwrap();
        let body = fence + guide[fence..].find('\n').unwrap() + 1;
        let end = body + guide[body..].find("```").unwrap();
        guide[body..end].to_owned()
    };
    for file in ["ti-self-typo-fail.rs", "ti-self-typo-fail.stderr"] {
        let pinned = std::fs::read_to_string(root.join("tests/ui").join(file)).unwrap();
        assert_eq!(
            block(&format!("<!-- {file} -->")),
            pinned,
            "runtime/doc/testing.md shows another {file} than tests/ui's"
        );
    }
}
