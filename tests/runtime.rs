//! The runtime behaviour matrix of SPEC §3, on routes put together by hand
//! with `Enforce` (the `#[route]` macro emits the same wrapper; tests/dsl.rs
//! runs the matrix again through macro-declared routes).
//!
//! Section 2 (Verify) and the key-pair tests mint every token with
//! `jsonwebtoken` directly, never with scopegate, so a bug shared by the
//! issuer and the verifier cannot hide there. The other sections take
//! ordinary tokens from the testing kit, on the same secret.

mod common;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpMessage, HttpResponse};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use scopegate::testing::TestAuth;
use scopegate::{
    authenticate, Enforce, Owner, RoutePolicy, TiToken, TokenType, TokenTypes, VerificationKey,
    Verifier,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The kit, on the secret the independently minted tokens use.
static AUTH: std::sync::LazyLock<TestAuth> =
    std::sync::LazyLock::new(|| TestAuth::builder().secret(SECRET).build().unwrap());

const TI_SELF: Owner = Owner::new("ti:self", "task_instance_id", "task instance ID");
const CT_SELF: Owner = Owner::new("ct:self", "connection_test_id", "connection test ID");

static DEFAULT: RoutePolicy = RoutePolicy::protected(TokenTypes::EMPTY, &[]);
static RUN: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[TI_SELF],
);
static HEARTBEAT: RoutePolicy = RoutePolicy::protected(TokenTypes::EXECUTION_ONLY, &[TI_SELF]);
static CONNECTION_TEST: RoutePolicy =
    RoutePolicy::protected(TokenTypes::only(TokenType::WORKLOAD), &[CT_SELF]);

async fn echo(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "sub": token.id, "type": token.token_type() }))
}

/// Handler with a body extractor: a refused request must never reach it.
async fn with_body(token: TiToken, body: web::Json<Value>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "sub": token.id, "body": body.into_inner() }))
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/variables/{variable_key}")
            .wrap(Enforce::new(&DEFAULT))
            .get(echo)
            .put(with_body),
    )
    .service(
        web::resource("/task-instances/{task_instance_id}/run")
            .wrap(Enforce::new(&RUN))
            .patch(echo),
    )
    .service(
        web::resource("/task-instances/{task_instance_id}/heartbeat")
            .wrap(Enforce::new(&HEARTBEAT))
            .put(echo),
    )
    .service(
        web::resource("/connection-tests/{connection_test_id}/connection")
            .wrap(Enforce::new(&CONNECTION_TEST))
            .get(echo),
    )
    .route(
        "/health",
        web::get().to(|| async { HttpResponse::Ok().json(json!({"status": "healthy"})) }),
    );
}

/// Sends `method uri` with `Authorization: auth` (if any) to an app using
/// `verifier`; returns status, body and `WWW-Authenticate`.
async fn call_with(
    verifier: web::Data<Verifier>,
    method: &str,
    uri: &str,
    auth: Option<&str>,
) -> (u16, Value, Option<String>) {
    let app = test::init_service(App::new().app_data(verifier).configure(routes)).await;
    let mut req = test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(uri);
    if let Some(auth) = auth {
        req = req.insert_header((AUTHORIZATION, auth));
    }
    parts(test::call_service(&app, req.to_request()).await).await
}

async fn call(method: &str, uri: &str, token: &str) -> (u16, Value, Option<String>) {
    call_with(
        AUTH.verifier(),
        method,
        uri,
        Some(&format!("Bearer {token}")),
    )
    .await
}

fn var_uri() -> &'static str {
    "/variables/my_var"
}

fn token_with(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut c = claims(Uuid::new_v4(), Some("execution"));
    edit(&mut c);
    hs512(&c)
}

fn ok_for(sub: Uuid, ty: &str) -> (u16, Value, Option<String>) {
    (200, json!({ "sub": sub, "type": ty }), None)
}

// ---- 1. Bearer --------------------------------------------------------------

#[actix_web::test]
async fn missing_header_is_401() {
    assert_eq!(
        call_with(AUTH.verifier(), "GET", var_uri(), None).await,
        missing()
    );
}

#[actix_web::test]
async fn another_scheme_is_401_missing() {
    let token = AUTH.execution(Uuid::new_v4());
    let got = call_with(
        AUTH.verifier(),
        "GET",
        var_uri(),
        Some(&format!("Basic {token}")),
    )
    .await;
    assert_eq!(got, missing());
}

#[actix_web::test]
async fn empty_bearer_is_401_missing() {
    assert_eq!(
        call_with(AUTH.verifier(), "GET", var_uri(), Some("Bearer ")).await,
        missing()
    );
    assert_eq!(
        call_with(AUTH.verifier(), "GET", var_uri(), Some("Bearer")).await,
        missing()
    );
}

#[actix_web::test]
async fn scheme_is_case_insensitive() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let got = call_with(
        AUTH.verifier(),
        "GET",
        var_uri(),
        Some(&format!("bEARER {token}")),
    )
    .await;
    assert_eq!(got, ok_for(sub, "execution"));
}

#[actix_web::test]
async fn oversize_token_is_401_too_large() {
    let token = AUTH
        .mint(Uuid::new_v4())
        .claim("padding", "x".repeat(9000))
        .sign();
    let got = call("GET", var_uri(), &token).await;
    assert_eq!(
        got,
        (
            401,
            detail("Invalid auth token: token too large"),
            Some("Bearer".into())
        )
    );
    // The limit is configurable.
    let big = AUTH.verifier_builder().max_token_size(64 * 1024).build();
    let got = call_with(
        web::Data::new(big.unwrap()),
        "GET",
        var_uri(),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(got.0, 200);
}

// ---- 2. Verify --------------------------------------------------------------

#[actix_web::test]
async fn bad_signature_is_401() {
    let c = claims(Uuid::new_v4(), None);
    let token = sign(
        &c,
        Algorithm::HS512,
        &EncodingKey::from_secret(b"another secret").unwrap(),
    );
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("invalid signature")
    );
}

#[actix_web::test]
async fn expired_token_is_401() {
    let token = token_with(|c| {
        c.insert("iat".into(), (now() - 700).into());
        c.insert("nbf".into(), (now() - 700).into());
        c.insert("exp".into(), (now() - 60).into());
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("token has expired")
    );
}

#[actix_web::test]
async fn nbf_in_the_future_is_401() {
    let token = token_with(|c| {
        c.insert("nbf".into(), (now() + 60).into());
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("token not yet valid")
    );
}

#[actix_web::test]
async fn leeway_edges() {
    // Default leeway is 10 s; stay 3 s away from each edge so a second
    // ticking over during the test cannot flip the outcome.
    let exp = |offset: i64| {
        token_with(move |c| {
            c.insert("iat".into(), (now() - 600).into());
            c.insert("nbf".into(), (now() - 600).into());
            c.insert("exp".into(), (now() + offset).into());
        })
    };
    assert_eq!(
        call("GET", var_uri(), &exp(-7)).await.0,
        200,
        "expired 7 s ago: inside leeway"
    );
    assert_eq!(
        call("GET", var_uri(), &exp(-13)).await,
        invalid("token has expired")
    );
    let nbf = |offset: i64| {
        token_with(move |c| {
            c.insert("nbf".into(), (now() + offset).into());
        })
    };
    assert_eq!(
        call("GET", var_uri(), &nbf(7)).await.0,
        200,
        "nbf 7 s ahead: inside leeway"
    );
    assert_eq!(
        call("GET", var_uri(), &nbf(13)).await,
        invalid("token not yet valid")
    );
}

#[actix_web::test]
async fn wrong_audience_is_401() {
    let token = token_with(|c| {
        c.insert("aud".into(), "urn:someone-else".into());
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("invalid audience")
    );
}

#[actix_web::test]
async fn several_audiences_are_accepted() {
    let v = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience("urn:other")
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let token = token_with(|_| {});
    let got = call_with(
        web::Data::new(v),
        "GET",
        var_uri(),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(got.0, 200);
}

fn with_issuer() -> web::Data<Verifier> {
    web::Data::new(
        Verifier::builder(VerificationKey::secret(SECRET).unwrap())
            .audience(AUDIENCE)
            .issuer("airflow")
            .build()
            .unwrap(),
    )
}

#[actix_web::test]
async fn issuer_is_checked_when_configured() {
    let bearer = |iss: Option<&str>| {
        let token = token_with(|c| {
            if let Some(iss) = iss {
                c.insert("iss".into(), iss.into());
            }
        });
        format!("Bearer {token}")
    };
    let got = call_with(
        with_issuer(),
        "GET",
        var_uri(),
        Some(&bearer(Some("mallory"))),
    )
    .await;
    assert_eq!(got, invalid("invalid issuer"));
    let got = call_with(with_issuer(), "GET", var_uri(), Some(&bearer(None))).await;
    assert_eq!(got, invalid("missing required claim 'iss'"));
    let got = call_with(
        with_issuer(),
        "GET",
        var_uri(),
        Some(&bearer(Some("airflow"))),
    )
    .await;
    assert_eq!(got.0, 200);
}

#[actix_web::test]
async fn missing_registered_claims_are_401() {
    for claim in ["exp", "iat", "aud"] {
        let token = token_with(|c| {
            c.remove(claim);
        });
        assert_eq!(
            call("GET", var_uri(), &token).await,
            invalid(&format!("missing required claim '{claim}'")),
            "without {claim}"
        );
    }
}

#[actix_web::test]
async fn non_uuid_sub_is_401() {
    let token = token_with(|c| {
        c.insert("sub".into(), "not-a-uuid".into());
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("sub must be a UUID")
    );
    let token = token_with(|c| {
        c.remove("sub");
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("missing required claim 'sub'")
    );
}

#[actix_web::test]
async fn unknown_scope_is_401() {
    let token = token_with(|c| {
        c.insert("scope".into(), "admin".into());
    });
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("unknown token scope")
    );
}

#[actix_web::test]
async fn no_scope_claim_is_an_execution_token() {
    let sub = Uuid::new_v4();
    let token = hs512(&claims(sub, None));
    assert_eq!(
        call("GET", var_uri(), &token).await,
        ok_for(sub, "execution")
    );
}

#[actix_web::test]
async fn hs256_token_refused_by_hs512_verifier() {
    let c = claims(Uuid::new_v4(), None);
    let token = sign(
        &c,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
    );
    assert_eq!(
        call("GET", var_uri(), &token).await,
        invalid("algorithm not allowed")
    );
}

#[actix_web::test]
async fn garbage_token_is_401_malformed() {
    for token in ["abc", "a.b", "a.b.c", "....", "eyJhbGciOiJub25lIn0.e30."] {
        let got = call("GET", var_uri(), token).await;
        assert_eq!(got.0, 401, "{token}");
        assert!(
            got.1["detail"]
                .as_str()
                .unwrap()
                .starts_with("Invalid auth token: "),
            "{token}: {got:?}"
        );
    }
}

// ---- 3. Token type ------------------------------------------------------------

#[actix_web::test]
async fn workload_token_on_default_route_is_403() {
    let token = AUTH.workload(Uuid::new_v4());
    assert_eq!(
        call("GET", var_uri(), &token).await,
        (
            403,
            detail("Token type 'workload' not allowed for this endpoint. Allowed types: execution"),
            Some(r#"Bearer error="insufficient_scope", scope="token:execution""#.into())
        )
    );
}

#[actix_web::test]
async fn workload_token_on_opted_in_route_is_accepted() {
    let sub = Uuid::new_v4();
    let token = AUTH.workload(sub);
    let uri = format!("/task-instances/{sub}/run");
    assert_eq!(call("PATCH", &uri, &token).await, ok_for(sub, "workload"));
    let token = AUTH.execution(sub);
    assert_eq!(call("PATCH", &uri, &token).await, ok_for(sub, "execution"));
}

#[actix_web::test]
async fn execution_token_on_workload_only_route_is_403() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    assert_eq!(
        call(
            "GET",
            &format!("/connection-tests/{sub}/connection"),
            &token
        )
        .await,
        (
            403,
            detail("Token type 'execution' not allowed for this endpoint. Allowed types: workload"),
            Some(r#"Bearer error="insufficient_scope", scope="token:workload""#.into())
        )
    );
}

// ---- 4. Self-scopes -----------------------------------------------------------

fn ti_mismatch() -> (u16, Value, Option<String>) {
    (
        403,
        detail("Token subject does not match task instance ID"),
        Some(r#"Bearer error="insufficient_scope", scope="ti:self""#.into()),
    )
}

#[actix_web::test]
async fn ti_self_match() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let got = call("PUT", &format!("/task-instances/{sub}/heartbeat"), &token).await;
    assert_eq!(got, ok_for(sub, "execution"));
}

#[actix_web::test]
async fn ti_self_mismatch_is_403() {
    let token = AUTH.execution(Uuid::new_v4());
    let other = Uuid::new_v4();
    let got = call("PUT", &format!("/task-instances/{other}/heartbeat"), &token).await;
    assert_eq!(got, ti_mismatch());
}

#[actix_web::test]
async fn ti_self_compares_parsed_uuids_so_upper_case_matches() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let upper = sub.to_string().to_uppercase();
    let got = call("PUT", &format!("/task-instances/{upper}/heartbeat"), &token).await;
    assert_eq!(got, ok_for(sub, "execution"));
}

#[actix_web::test]
async fn ti_self_with_non_uuid_path_is_403() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    for id in ["not-a-uuid", "%7Bsub%7D", &sub.simple().to_string()] {
        let got = call("PUT", &format!("/task-instances/{id}/heartbeat"), &token).await;
        assert_eq!(got, ti_mismatch(), "path id {id}");
    }
}

#[actix_web::test]
async fn ct_self_match_and_mismatch() {
    let sub = Uuid::new_v4();
    let token = AUTH.workload(sub);
    let got = call(
        "GET",
        &format!("/connection-tests/{sub}/connection"),
        &token,
    )
    .await;
    assert_eq!(got, ok_for(sub, "workload"));
    let other = Uuid::new_v4();
    let got = call(
        "GET",
        &format!("/connection-tests/{other}/connection"),
        &token,
    )
    .await;
    assert_eq!(
        got,
        (
            403,
            detail("Token subject does not match connection test ID"),
            Some(r#"Bearer error="insufficient_scope", scope="ct:self""#.into())
        )
    );
}

/// Issue 18, finding 2: the owner is checked against the value the handler
/// gets. A percent-encoded UUID in the path is decoded (as `web::Path`
/// decodes it) before it is compared, upper case or not.
#[actix_web::test]
async fn ti_self_compares_the_percent_decoded_uuid() {
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let s = sub.to_string();
    // Every character escaped, in upper and lower case hex.
    let escaped: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
    let lower: String = s
        .to_uppercase()
        .bytes()
        .map(|b| format!("%{b:02x}"))
        .collect();
    for id in [escaped, lower] {
        let got = call("PUT", &format!("/task-instances/{id}/heartbeat"), &token).await;
        assert_eq!(got, ok_for(sub, "execution"), "path id {id}");
    }
    // `%2D` is a hyphen; `%252D` is `%2D` to the handler, not a UUID.
    let double = s.replacen('-', "%252D", 1);
    let got = call(
        "PUT",
        &format!("/task-instances/{double}/heartbeat"),
        &token,
    )
    .await;
    assert_eq!(got, ti_mismatch(), "path id {double}");
}

// ---- Fail closed, order, once per request ----------------------------------------

#[actix_web::test]
async fn protected_route_without_verifier_is_500_and_never_runs() {
    let app = test::init_service(App::new().configure(routes)).await;
    let token = AUTH.execution(Uuid::new_v4());
    let req = test::TestRequest::get()
        .uri(var_uri())
        .insert_header(AUTH.bearer(&token))
        .to_request();
    let got = parts(test::call_service(&app, req).await).await;
    assert_eq!(got, (500, detail("Internal Server Error"), None));
    // Public routes need no verifier.
    let req = test::TestRequest::get().uri("/health").to_request();
    let got = parts(test::call_service(&app, req).await).await;
    assert_eq!(got, (200, json!({"status": "healthy"}), None));
}

#[actix_web::test]
async fn refused_request_never_has_its_body_read() {
    // The body is not JSON: if the handler's `web::Json` extractor ran first,
    // the answer would be 400. Enforcement answers first.
    let app = test::init_service(App::new().app_data(AUTH.verifier()).configure(routes)).await;
    let req = test::TestRequest::put()
        .uri(var_uri())
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json")
        .to_request();
    assert_eq!(parts(test::call_service(&app, req).await).await, missing());
    // With a valid token the body is read (and refused as bad JSON).
    let token = AUTH.execution(Uuid::new_v4());
    let req = test::TestRequest::put()
        .uri(var_uri())
        .insert_header(("content-type", "application/json"))
        .insert_header(AUTH.bearer(&token))
        .set_payload("{not json")
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 400);
}

/// A handler that reads the token twice.
async fn two_extractors(a: TiToken, b: TiToken) -> HttpResponse {
    assert_eq!(a, b);
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn one_signature_check_per_request() {
    let verifier = AUTH.verifier();
    let app = test::init_service(
        App::new()
            .app_data(verifier.clone())
            // An app-wide middleware that asks for the token before routing.
            .wrap_fn(|req, srv| {
                let seen = authenticate(req.request()).is_ok();
                req.extensions_mut().insert(seen);
                srv.call(req)
            })
            .service(
                web::resource("/task-instances/{task_instance_id}/state")
                    .wrap(Enforce::new(&HEARTBEAT))
                    .to(two_extractors),
            ),
    )
    .await;
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let before = verifier.verifications();
    let req = test::TestRequest::patch()
        .uri(&format!("/task-instances/{sub}/state"))
        .insert_header(AUTH.bearer(&token))
        .to_request();
    let res: ServiceResponse = test::call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        verifier.verifications() - before,
        1,
        "middleware + Enforce + 2 extractors"
    );

    // A refused token is not re-verified either.
    let before = verifier.verifications();
    let req = test::TestRequest::patch()
        .uri(&format!("/task-instances/{sub}/state"))
        .insert_header((AUTHORIZATION, "Bearer a.b.c"))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 401);
    assert_eq!(verifier.verifications() - before, 1);
}

// ---- Key pairs ---------------------------------------------------------------

async fn roundtrip(public: VerificationKey, private: EncodingKey) -> u16 {
    let v = Verifier::builder(public)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let alg = v.algorithm();
    let token = sign(&claims(Uuid::new_v4(), None), alg.unwrap(), &private);
    let bearer = format!("Bearer {token}");
    let got = call_with(web::Data::new(v), "GET", var_uri(), Some(&bearer)).await;
    got.0
}

#[actix_web::test]
async fn pem_public_keys_verify_their_algorithms() {
    let rsa_pub = key_file("rsa_public.pem");
    let rsa_priv = EncodingKey::from_rsa_pem(&key_file("rsa_private.pem")).unwrap();
    for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
        let key = VerificationKey::rsa_pem(&rsa_pub)
            .unwrap()
            .with_algorithm(alg)
            .unwrap();
        assert_eq!(roundtrip(key, rsa_priv.clone()).await, 200, "{alg:?}");
    }
    let key = VerificationKey::ec_pem(&key_file("ec_p256_public.pem")).unwrap();
    let private = EncodingKey::from_ec_pem(&key_file("ec_p256_private.pem")).unwrap();
    assert_eq!(roundtrip(key, private).await, 200, "ES256");
    let key = VerificationKey::ec_pem(&key_file("ec_p384_public.pem"))
        .unwrap()
        .with_algorithm(Algorithm::ES384)
        .unwrap();
    let private = EncodingKey::from_ec_pem(&key_file("ec_p384_private.pem")).unwrap();
    assert_eq!(roundtrip(key, private).await, 200, "ES384");
    let key = VerificationKey::ed_pem(&key_file("ed25519_public.pem")).unwrap();
    let private = EncodingKey::from_ed_pem(&key_file("ed25519_private.pem")).unwrap();
    assert_eq!(roundtrip(key, private).await, 200, "EdDSA");
}

#[actix_web::test]
async fn hmac_with_the_public_key_as_secret_is_refused() {
    // Algorithm confusion: an attacker signs HS256 with the RSA public key's
    // PEM as the HMAC secret. The verifier is pinned to RS512.
    let rsa_pub = key_file("rsa_public.pem");
    let v = Verifier::builder(VerificationKey::rsa_pem(&rsa_pub).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS512] {
        let token = sign(
            &claims(Uuid::new_v4(), None),
            alg,
            &EncodingKey::from_secret(&rsa_pub).unwrap(),
        );
        let v = Verifier::builder(VerificationKey::rsa_pem(&rsa_pub).unwrap())
            .audience(AUDIENCE)
            .build()
            .unwrap();
        let got = call_with(
            web::Data::new(v),
            "GET",
            var_uri(),
            Some(&format!("Bearer {token}")),
        )
        .await;
        assert_eq!(got, invalid("algorithm not allowed"), "{alg:?}");
    }
    assert_eq!(v.algorithm(), Some(Algorithm::RS512));
}

#[actix_web::test]
async fn issuer_tokens_verify() {
    let issuer = scopegate::Issuer::builder(scopegate::SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let sub = Uuid::new_v4();
    let token = issuer.issue(sub, TokenType::WORKLOAD).unwrap();
    let got = call("PATCH", &format!("/task-instances/{sub}/run"), &token).await;
    assert_eq!(got, ok_for(sub, "workload"));
}

#[actix_web::test]
async fn issuer_mints_airflows_claim_set() {
    let issuer = scopegate::Issuer::builder(scopegate::SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .issuer("scopegate-test")
        .execution_ttl(std::time::Duration::from_secs(300))
        .workload_ttl(std::time::Duration::from_secs(7200))
        .build()
        .unwrap();
    let sub = Uuid::new_v4();
    let mut extra = Map::new();
    extra.insert("ti_try".into(), 2.into());
    extra.insert("exp".into(), 1.into()); // registered claims cannot be overridden
    for (ty, ttl) in [(TokenType::EXECUTION, 300), (TokenType::WORKLOAD, 7200)] {
        let token = issuer.issue_with_claims(sub, ty, &extra).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS512);
        assert_eq!(header.kid.as_deref(), Some("not-used"));
        let claims = AUTH.verifier().verify(&token).unwrap();
        assert_eq!(claims.sub, sub.to_string());
        assert_eq!(claims.extra["scope"], ty.as_str());
        assert_eq!(claims.exp - claims.iat, ttl);
        assert_eq!(claims.nbf, Some(claims.iat));
        assert_eq!(claims.iss.as_deref(), Some("scopegate-test"));
        assert_eq!(claims.jti.as_ref().map(String::len), Some(32));
        // Plus the token's refresh chain (issue 18): 128 random bits.
        let chain = claims.extra[scopegate::CHAIN_CLAIM].as_str().unwrap();
        assert_eq!(chain.len(), 22, "{chain}");
        assert_eq!(
            claims.extra,
            extra
                .iter()
                .filter(|(k, _)| *k != "exp")
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain([
                    ("scope".to_owned(), ty.as_str().into()),
                    (scopegate::CHAIN_CLAIM.to_owned(), chain.into()),
                ])
                .collect()
        );
    }
    let a = AUTH
        .verifier()
        .verify(&issuer.issue(sub, TokenType::EXECUTION).unwrap())
        .unwrap();
    let b = AUTH
        .verifier()
        .verify(&issuer.issue(sub, TokenType::EXECUTION).unwrap())
        .unwrap();
    assert_ne!(a.jti, b.jti, "jti is random");
}

// ---- One place per request (issue 9, items 3 and 4) ---------------------------

/// An app-level middleware authenticates with verifier A (this service's
/// audience); a scope registers verifier B for another audience. B must
/// verify the token itself, not reuse A's result.
#[actix_web::test]
async fn a_second_verifier_never_reuses_the_first_ones_result() {
    let other = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience("urn:another-service")
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(AUTH.verifier())
            .wrap_fn(|req, srv| {
                let _ = authenticate(req.request());
                srv.call(req)
            })
            .service(
                web::scope("/other")
                    .app_data(web::Data::new(other))
                    .configure(routes),
            ),
    )
    .await;
    let get = |token: &str| {
        test::TestRequest::get()
            .uri("/other/variables/x")
            .insert_header(AUTH.bearer(token))
            .to_request()
    };
    let ours = AUTH.execution(Uuid::new_v4());
    let got = parts(test::call_service(&app, get(&ours)).await).await;
    assert_eq!(got, invalid("invalid audience"));
    // A token for the other service passes there.
    let sub = Uuid::new_v4();
    let theirs = token_with(|c| {
        c.insert("aud".into(), "urn:another-service".into());
        c.insert("sub".into(), sub.to_string().into());
    });
    let got = parts(test::call_service(&app, get(&theirs)).await).await;
    assert_eq!(got, ok_for(sub, "execution"));
}

/// A handler that takes a `TiToken` but has no route policy: any valid
/// token (here another task's long-lived workload token) used to be handed
/// over. It must fail closed, like a missing verifier, and say why in the log.
#[actix_web::test]
async fn a_token_extractor_without_a_route_policy_fails_closed() {
    let app = test::init_service(App::new().app_data(AUTH.verifier()).route(
        "/task-instances/{task_instance_id}/peek",
        web::get().to(|t: TiToken| async move { HttpResponse::Ok().json(t.id) }),
    ))
    .await;
    let token = AUTH.workload(Uuid::new_v4());
    let (_guard, logs) = capture_logs();
    let req = test::TestRequest::get()
        .uri(&format!("/task-instances/{}/peek", Uuid::new_v4()))
        .insert_header(AUTH.bearer(&token))
        .to_request();
    let got = parts(test::call_service(&app, req).await).await;
    assert_eq!(got, (500, detail("Internal Server Error"), None));
    let log = logs.text();
    assert!(
        log.contains("ERROR")
            && log.contains("GET")
            && log.contains("/task-instances/{task_instance_id}/peek"),
        "{log}"
    );
    assert!(!log.contains(&token), "the token was logged: {log}");
}

// ---- Configuration (issue 9, item 7) -------------------------------------------

#[actix_web::test]
async fn short_hmac_secrets_are_refused_when_the_verifier_is_built() {
    let err = Verifier::builder(VerificationKey::secret("31-bytes-is-one-byte-too-short").unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("HS512 needs at least 64 bytes") && message.contains("allow_short_secret"),
        "{message}"
    );
    // An existing deployment opts in explicitly.
    let v = Verifier::builder(VerificationKey::secret("31-bytes-is-one-byte-too-short").unwrap())
        .audience(AUDIENCE)
        .allow_short_secret()
        .build();
    assert!(v.is_ok());
}

#[actix_web::test]
async fn an_issuer_needs_an_audience_and_a_long_enough_secret() {
    use scopegate::{ConfigError, Issuer, SigningKey};
    let no_audience = Issuer::builder(SigningKey::secret(SECRET).unwrap()).build();
    assert!(
        matches!(no_audience, Err(ConfigError::NoAudience)),
        "{no_audience:?}"
    );
    let short = || SigningKey::secret("short").unwrap();
    let err = Issuer::builder(short())
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::ShortSecret {
                len: 5,
                min: 64,
                algorithm: scopegate::Algorithm::HS512
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("allow_short_secret"), "{err}");
    assert!(Issuer::builder(short())
        .audience(AUDIENCE)
        .allow_short_secret()
        .build()
        .is_ok());
    // Key pairs have no secret length to check.
    let rsa = SigningKey::rsa_pem(&key_file("rsa_private.pem")).unwrap();
    assert!(Issuer::builder(rsa).audience(AUDIENCE).build().is_ok());
}

#[actix_web::test]
async fn verify_applies_the_maximum_token_size() {
    let v = AUTH
        .verifier_builder()
        .max_token_size(1024)
        .build()
        .unwrap();
    let token = AUTH
        .mint(Uuid::new_v4())
        .claim("padding", "x".repeat(2048))
        .sign();
    let got = v.verify(&token).map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(got, Err("token too large".to_owned()));
}

#[actix_web::test]
async fn leeway_is_at_most_five_minutes() {
    let build = |secs| {
        Verifier::builder(VerificationKey::secret(SECRET).unwrap())
            .audience(AUDIENCE)
            .leeway(std::time::Duration::from_secs(secs))
            .build()
    };
    assert!(build(300).is_ok());
    let err = build(301).unwrap_err().to_string();
    assert!(err.contains("300"), "{err}");
}

/// Issue 18, finding 4: RFC 7518 §3.2 asks for an HMAC key at least as long
/// as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512 (Airflow's
/// default). A verifier or issuer refuses a shorter one unless the builder
/// opts in, and the message names the rule and the opt-in.
#[actix_web::test]
async fn hmac_secrets_must_be_as_long_as_their_hash() {
    use scopegate::{Algorithm, Issuer, SigningKey};
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let secret = |len: usize| vec![b'k'; len];
        let verifier = |len: usize, opt_in: bool| {
            let key = VerificationKey::secret(secret(len))
                .unwrap()
                .with_algorithm(alg)
                .unwrap();
            let builder = Verifier::builder(key).audience(AUDIENCE);
            let builder = if opt_in {
                builder.allow_short_secret()
            } else {
                builder
            };
            builder.build().map(drop).map_err(|e| e.to_string())
        };
        let issuer = |len: usize, opt_in: bool| {
            let key = SigningKey::secret(secret(len))
                .unwrap()
                .with_algorithm(alg)
                .unwrap();
            let builder = Issuer::builder(key).audience(AUDIENCE);
            let builder = if opt_in {
                builder.allow_short_secret()
            } else {
                builder
            };
            builder.build().map(drop).map_err(|e| e.to_string())
        };
        assert_eq!(verifier(min, false), Ok(()), "{alg:?}");
        assert_eq!(issuer(min, false), Ok(()), "{alg:?}");
        for err in [verifier(min - 1, false), issuer(min - 1, false)] {
            let err = err.unwrap_err();
            assert!(
                err.contains(&format!("{} bytes", min - 1))
                    && err.contains(&format!("{alg:?} needs at least {min} bytes"))
                    && err.contains("RFC 7518")
                    && err.contains("allow_short_secret()"),
                "{alg:?}: {err}"
            );
        }
        assert_eq!(verifier(min - 1, true), Ok(()), "{alg:?} opted in");
        assert_eq!(issuer(min - 1, true), Ok(()), "{alg:?} opted in");
    }
}

// ---- Revocation (issue 9, item 8) ----------------------------------------------

/// A day: with a deny-list a verifier needs a maximum session age.
const SESSION_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn with_deny_list(deny: std::sync::Arc<scopegate::MemoryDenyList>) -> web::Data<Verifier> {
    web::Data::new(
        AUTH.verifier_builder()
            .deny_list(deny)
            .max_session_age(SESSION_AGE)
            .build()
            .unwrap(),
    )
}

async fn call_data(verifier: &web::Data<Verifier>, token: &str) -> (u16, Value, Option<String>) {
    let app = test::init_service(App::new().app_data(verifier.clone()).configure(routes)).await;
    let req = test::TestRequest::get()
        .uri(var_uri())
        .insert_header(AUTH.bearer(token))
        .to_request();
    parts(test::call_service(&app, req).await).await
}

#[actix_web::test]
async fn a_revoked_token_is_refused_on_every_later_request_cache_hits_included() {
    let deny = std::sync::Arc::new(scopegate::MemoryDenyList::new());
    let verifier = with_deny_list(deny.clone());
    let sub = Uuid::new_v4();
    let token = AUTH.execution(sub);
    let c = AUTH.verifier().verify(&token).unwrap();
    assert_eq!(call_data(&verifier, &token).await, ok_for(sub, "execution"));
    assert_eq!(verifier.cached_tokens(), 1);

    deny.revoke(c.jti.as_deref().unwrap(), c.exp);
    for _ in 0..3 {
        assert_eq!(call_data(&verifier, &token).await, invalid("token revoked"));
    }
    assert_eq!(
        verifier.verifications(),
        1,
        "the later requests were cache hits, and still refused"
    );
    // Other tokens are untouched.
    let other = Uuid::new_v4();
    let got = call_data(&verifier, &AUTH.execution(other)).await;
    assert_eq!(got, ok_for(other, "execution"));
}

#[actix_web::test]
async fn with_a_deny_list_a_token_without_jti_is_refused() {
    // It could never be revoked, so it is not accepted.
    let verifier = with_deny_list(std::sync::Arc::new(scopegate::MemoryDenyList::new()));
    let token = token_with(|c| {
        c.remove("jti");
    });
    assert_eq!(
        call_data(&verifier, &token).await,
        invalid("missing required claim 'jti'")
    );
    // Without a deny-list, jti stays optional, as in Airflow.
    assert_eq!(call("GET", var_uri(), &token).await.0, 200);
}

/// Issue 18, finding 5: a refreshed token carries its chain, and revoking
/// any token of a chain revokes every token of it, on every later request,
/// cache hits included: the first token's revocation reaches the tokens
/// refreshed from it, and a successor's revocation reaches the first.
#[actix_web::test]
async fn revoking_a_token_revokes_its_whole_refresh_chain() {
    let issuer = AUTH.issuer();
    let sub = Uuid::new_v4();
    let first = AUTH.execution(sub);
    let claims = AUTH.verifier().verify(&first).unwrap();
    let second = issuer.reissue(&claims, TokenType::EXECUTION).unwrap();
    let second_claims = AUTH.verifier().verify(&second).unwrap();
    let third = issuer
        .reissue(&second_claims, TokenType::EXECUTION)
        .unwrap();
    let unrelated = AUTH.execution(sub);

    for revoke_first in [true, false] {
        let deny = std::sync::Arc::new(scopegate::MemoryDenyList::new());
        let verifier = with_deny_list(deny.clone());
        // Every token is allowed, and cached.
        for token in [&first, &second, &third, &unrelated] {
            assert_eq!(call_data(&verifier, token).await, ok_for(sub, "execution"));
        }
        let checks = verifier.verifications();
        let revoked = if revoke_first {
            &claims
        } else {
            &second_claims
        };
        assert!(deny.revoke_claims(revoked));
        for _ in 0..2 {
            for token in [&first, &second, &third] {
                assert_eq!(
                    call_data(&verifier, token).await,
                    invalid("token revoked"),
                    "revoked the {} token",
                    if revoke_first { "first" } else { "second" }
                );
            }
        }
        assert_eq!(verifier.verifications(), checks, "cache hits, and refused");
        // Another chain of the same subject is untouched.
        assert_eq!(
            call_data(&verifier, &unrelated).await,
            ok_for(sub, "execution")
        );
    }
}

/// Issue 18, finding 5: with a deny-list a chain must end, so a verifier
/// without a maximum session age does not build, and one with it refuses
/// a token whose chain is older, cache hits included.
#[actix_web::test]
async fn a_deny_list_needs_a_maximum_session_age_which_ends_every_chain() {
    let err = AUTH
        .verifier_builder()
        .deny_list(scopegate::MemoryDenyList::new())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, scopegate::ConfigError::DenyListWithoutSessionAge),
        "{err:?}"
    );
    assert!(err.to_string().contains(".max_session_age("), "{err}");

    let verifier = web::Data::new(
        AUTH.verifier_builder()
            .deny_list(scopegate::MemoryDenyList::new())
            .max_session_age(std::time::Duration::from_secs(3600))
            .build()
            .unwrap(),
    );
    assert_eq!(
        verifier.max_session_age(),
        Some(std::time::Duration::from_secs(3600))
    );
    let sub = Uuid::new_v4();
    // A chain that started 50 minutes ago: allowed, and cached.
    let young = AUTH
        .mint(sub)
        .claim(scopegate::SESSION_START_CLAIM, now() - 3000)
        .sign();
    assert_eq!(call_data(&verifier, &young).await, ok_for(sub, "execution"));
    assert_eq!(call_data(&verifier, &young).await, ok_for(sub, "execution"));
    assert_eq!(verifier.verifications(), 1);
    // Two hours: refused, though the token itself is fresh.
    let old = AUTH
        .mint(sub)
        .claim(scopegate::SESSION_START_CLAIM, now() - 7200)
        .sign();
    assert_eq!(call_data(&verifier, &old).await, invalid("session expired"));
    // A token whose own iat is that old starts its chain there.
    let long_lived = AUTH
        .mint(sub)
        .lifetime(std::time::Duration::from_secs(3 * 3600))
        .expires_in(std::time::Duration::from_secs(600))
        .sign();
    assert_eq!(
        call_data(&verifier, &long_lived).await,
        invalid("session expired")
    );
}

// ---- Log lines (issue 18, finding 3) --------------------------------------------

/// A value that came from the request (here a `sub` under
/// `SubjectFormat::Any`, logged with every decision) cannot start a second
/// log line: no raw newline, carriage return, C0 or C1 control character,
/// line or paragraph separator or bidi override reaches the log.
#[actix_web::test]
async fn a_request_derived_value_cannot_forge_a_log_line() {
    let auth = TestAuth::builder()
        .subject(scopegate::SubjectFormat::Any)
        .build()
        .unwrap();
    let forged = "1999-01-01T00:00:00.000000Z  INFO scopegate: method=GET route=\"/admin\" outcome=\"allowed\"";
    let evil =
        format!("alice\n{forged}\r\n{forged}\u{85}{forged}\u{2028}\u{2029}\u{202e}\u{1b}[2K\u{7}");
    let app = test::init_service(
        App::new().app_data(auth.verifier()).service(
            web::resource("/variables/{variable_key}")
                .wrap(Enforce::new(&DEFAULT))
                .get(|_: scopegate::Token| async { HttpResponse::Ok().finish() }),
        ),
    )
    .await;
    let (_guard, logs) = capture_logs();
    // Allowed (a debug line with the sub), then forbidden (an info line
    // with the sub: a workload token on an execution-only route).
    for (token, status) in [(auth.execution(&evil), 200), (auth.workload(&evil), 403)] {
        let req = test::TestRequest::get()
            .uri(var_uri())
            .insert_header(auth.bearer(&token))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), status);
    }
    let log = logs.text();
    assert!(log.contains("alice"), "the sub is logged: {log}");
    assert!(
        log.lines().count() >= 3,
        "verified, allowed, verified, forbidden: {log}"
    );
    for line in log.lines() {
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()) && !line.starts_with("1999-"),
            "a line that is not an event of its own: {line:?}\n{log}"
        );
    }
    for c in [
        '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{202e}', '\u{1b}', '\u{7}',
    ] {
        assert!(!log.contains(c), "{c:?} reached the log: {log:?}");
    }
}
