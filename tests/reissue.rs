//! `scopegate::Reissue` on its own: which responses get a
//! `Refreshed-API-Token`, and that it never verifies a second time. Tokens
//! of every age come from the testing kit; the refresh of a token with
//! claims the kit never writes (a list audience, an issuer the verifier
//! does not require) is checked on a token minted with jsonwebtoken.

mod common;

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::{test, web, App, HttpResponse};
use common::*;
use scopegate::testing::TestAuth;
use scopegate::{
    Enforce, Issuer, Reissue, RoutePolicy, SigningKey, TiToken, TokenType, TokenTypes,
    REFRESHED_TOKEN_HEADER,
};
use serde_json::{json, Value};
use uuid::Uuid;

static ANY: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[],
);

/// The kit, on the shared secret so that the token minted with
/// jsonwebtoken verifies too.
static AUTH: LazyLock<TestAuth> =
    LazyLock::new(|| TestAuth::builder().secret(SECRET).build().unwrap());

fn issuer() -> Issuer {
    AUTH.issuer().clone()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Calls `/plain` (or `/swap`, whose handler sets the header itself) with
/// `token`; returns the status, the refreshed token if any, and how many
/// signature checks the request cost.
async fn call(path: &str, token: &str) -> (u16, Option<String>, u64) {
    let verifier = AUTH.verifier();
    let app = test::init_service(
        App::new()
            .app_data(verifier.clone())
            .wrap(Reissue::new(issuer()))
            .service(
                web::resource("/plain")
                    .wrap(Enforce::new(&ANY))
                    .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
            )
            .service(
                web::resource("/swap")
                    .wrap(Enforce::new(&ANY))
                    .to(|_: TiToken| async {
                        HttpResponse::Ok()
                            .insert_header((REFRESHED_TOKEN_HEADER, "from-handler"))
                            .finish()
                    }),
            )
            .route("/public", web::get().to(HttpResponse::Ok)),
    )
    .await;
    let req = test::TestRequest::get()
        .uri(path)
        .insert_header(AUTH.bearer(token))
        .to_request();
    let res = test::call_service(&app, req).await;
    let refreshed = res
        .headers()
        .get(REFRESHED_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), refreshed, verifier.verifications())
}

#[actix_web::test]
async fn near_expiry_execution_token_is_refreshed_with_its_claims() {
    let extra = json!({"ti_try": 3, "team": "blue"});
    // 600 s lifetime, 60 s left: under 20% (120 s).
    let old = AUTH
        .mint(Uuid::new_v4())
        .claims(extra.clone())
        .near_expiry()
        .sign();
    let old_claims = AUTH.verifier().verify(&old).unwrap();
    assert_eq!(old_claims.exp - old_claims.iat, 600);
    let (status, refreshed, checks) = call("/plain", &old).await;
    assert_eq!(status, 200);
    assert_eq!(checks, 1, "the middleware must not verify again");
    let new = AUTH
        .verifier()
        .verify(&refreshed.expect("refreshed"))
        .unwrap();
    assert_eq!(new.sub, old_claims.sub);
    assert_eq!(new.extra["scope"], TokenType::EXECUTION.as_str());
    // The extra claims (the type claim among them) are carried on, with
    // the refresh chain: its id, and its start (this token was the first
    // of its chain).
    let mut carried = extra.as_object().unwrap().clone();
    carried.insert("scope".into(), json!("execution"));
    carried.insert(scopegate::SESSION_START_CLAIM.into(), old_claims.iat.into());
    carried.insert(
        scopegate::CHAIN_CLAIM.into(),
        old_claims.extra[scopegate::CHAIN_CLAIM].clone(),
    );
    assert_eq!(new.extra, carried);
    assert_eq!(new.chain(), old_claims.chain());
    assert!(new.exp > old_claims.exp);
    assert_ne!(new.jti, old_claims.jti);
}

#[actix_web::test]
async fn token_that_expires_mid_request_is_still_refreshed() {
    // Expired 5 s ago: within the leeway, so it verifies; Airflow's
    // re-verification after the handler would refuse it and not refresh.
    let token = AUTH.mint(Uuid::new_v4()).expired_ago(secs(5)).sign();
    let (status, refreshed, _) = call("/plain", &token).await;
    assert_eq!(status, 200);
    assert!(refreshed.is_some());
}

#[actix_web::test]
async fn thirty_second_floor_applies_to_short_tokens() {
    // 100 s lifetime: 20% is 20 s, the floor is 30 s.
    let left = |s| {
        AUTH.mint(Uuid::new_v4())
            .lifetime(secs(100))
            .expires_in(secs(s))
            .sign()
    };
    assert!(call("/plain", &left(25)).await.1.is_some());
    assert!(call("/plain", &left(40)).await.1.is_none());
}

#[actix_web::test]
async fn long_lived_token_is_not_refreshed() {
    let token = AUTH.mint(Uuid::new_v4()).expires_in(secs(500)).sign();
    let (status, refreshed, _) = call("/plain", &token).await;
    assert_eq!((status, refreshed), (200, None));
}

#[actix_web::test]
async fn workload_tokens_are_never_refreshed() {
    let token = AUTH
        .mint(Uuid::new_v4())
        .of_type("workload")
        .lifetime(secs(600))
        .expires_in(secs(5))
        .sign();
    let (status, refreshed, _) = call("/plain", &token).await;
    assert_eq!((status, refreshed), (200, None));
}

#[actix_web::test]
async fn handler_header_wins() {
    let token = AUTH.mint(Uuid::new_v4()).expires_in(secs(5)).sign();
    let (status, refreshed, _) = call("/swap", &token).await;
    assert_eq!((status, refreshed.as_deref()), (200, Some("from-handler")));
}

#[actix_web::test]
async fn unverified_requests_get_nothing() {
    // A public route never verifies, so there is nothing to refresh; and an
    // invalid token is never refreshed.
    let near = AUTH.mint(Uuid::new_v4()).expires_in(secs(5)).sign();
    let (status, refreshed, checks) = call("/public", &near).await;
    assert_eq!((status, refreshed, checks), (200, None, 0));
    let (status, refreshed, _) = call("/plain", "a.b.c").await;
    assert_eq!((status, refreshed), (401, None));
}

// ---- Refresh only what a route policy allowed and the handler answered 2xx
// ---- (issue 9, item 2) -------------------------------------------------------

static WORKLOAD_ONLY: RoutePolicy =
    RoutePolicy::protected(TokenTypes::only(TokenType::WORKLOAD), &[]);
static TI_SELF: RoutePolicy = RoutePolicy::protected(
    TokenTypes::EXECUTION_ONLY,
    &[scopegate::Owner::new(
        "ti:self",
        "task_instance_id",
        "task instance ID",
    )],
);

/// An app where an app-wide middleware (like a logging or metrics layer)
/// verifies every request's token before routing, so verified claims exist
/// even where no policy allowed anything. `reissue` does the refreshing.
async fn call_refused(
    reissue: Reissue,
    method: &str,
    path: &str,
    token: &str,
) -> (u16, Option<String>) {
    use actix_web::dev::Service as _;
    let app =
        test::init_service(
            App::new()
                .app_data(AUTH.verifier())
                .wrap(reissue)
                .wrap_fn(|req, srv| {
                    let _ = scopegate::authenticate(req.request());
                    srv.call(req)
                })
                .service(
                    web::resource("/workload-only")
                        .wrap(Enforce::new(&WORKLOAD_ONLY))
                        .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
                )
                .service(
                    web::resource("/task-instances/{task_instance_id}/heartbeat")
                        .wrap(Enforce::new(&TI_SELF))
                        .to(|_: TiToken| async { HttpResponse::NoContent().finish() }),
                )
                .service(web::resource("/finished").wrap(Enforce::new(&ANY)).to(
                    |_: TiToken| async {
                        HttpResponse::Conflict().json(json!({"detail": {"reason": "not_running"}}))
                    },
                ))
                .service(
                    web::resource("/missing")
                        .wrap(Enforce::new(&ANY))
                        .to(|_: TiToken| async { HttpResponse::NotFound().finish() }),
                )
                .service(
                    web::resource("/ok")
                        .wrap(Enforce::new(&ANY))
                        .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
                )
                .route("/public", web::get().to(HttpResponse::Ok)),
        )
        .await;
    let req = test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path)
        .insert_header(AUTH.bearer(token))
        .to_request();
    let res = test::call_service(&app, req).await;
    let refreshed = res
        .headers()
        .get(REFRESHED_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), refreshed)
}

/// The claims of a token, read without verifying (the test checks what the
/// refresh wrote).
fn payload(token: &str) -> Value {
    use base64::Engine as _;
    let segment = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[actix_web::test]
async fn refused_and_failed_requests_get_no_fresh_token() {
    let sub = Uuid::new_v4();
    let token = AUTH.near_expiry(sub);
    let other = Uuid::new_v4();
    for (method, path, status) in [
        // 403: the token type is not allowed here.
        ("GET", "/workload-only".to_owned(), 403),
        // 403: another task's route.
        ("PUT", format!("/task-instances/{other}/heartbeat"), 403),
        // 409: the handler says the task is finished.
        ("GET", "/finished".to_owned(), 409),
        // 404 from the handler.
        ("GET", "/missing".to_owned(), 404),
        // A public route, even though a middleware verified the token.
        ("GET", "/public".to_owned(), 200),
        // 404: no such route.
        ("GET", "/nowhere".to_owned(), 404),
    ] {
        let got = call_refused(Reissue::new(issuer()), method, &path, &token).await;
        assert_eq!(got, (status, None), "{method} {path}");
    }
    // The control: an allowed request answered 2xx is refreshed.
    let (status, refreshed) = call_refused(Reissue::new(issuer()), "GET", "/ok", &token).await;
    assert_eq!(status, 200);
    assert!(refreshed.is_some());
    let (status, refreshed) = call_refused(
        Reissue::new(issuer()),
        "PUT",
        &format!("/task-instances/{sub}/heartbeat"),
        &token,
    )
    .await;
    assert_eq!(status, 204);
    assert!(refreshed.is_some());
}

#[actix_web::test]
async fn a_chain_of_refused_requests_cannot_keep_a_token_alive() {
    // Refreshed tokens of a 20 s lifetime are always inside the 30 s window,
    // so if refusals refreshed, every one would hand out the next link.
    let short = TestAuth::builder()
        .secret(SECRET)
        .ttl(TokenType::EXECUTION, secs(20))
        .build()
        .unwrap();
    let short = || short.issuer().clone();
    let first = AUTH.near_expiry(Uuid::new_v4());
    let mut token = first.clone();
    for path in ["/workload-only", "/finished", "/workload-only", "/finished"] {
        let (status, refreshed) = call_refused(Reissue::new(short()), "GET", path, &token).await;
        assert!(status == 403 || status == 409, "{path}: {status}");
        if let Some(next) = refreshed {
            token = next;
        }
    }
    assert_eq!(token, first, "a refused request handed out a fresh token");
}

#[actix_web::test]
async fn a_refreshed_token_keeps_its_own_audience_and_issuer() {
    let mut c = claims(Uuid::new_v4(), Some("execution"));
    let now = now();
    c.insert("iat".into(), (now - 590).into());
    c.insert("exp".into(), (now + 10).into());
    c.insert("aud".into(), json!([AUDIENCE, "urn:also-this-one"]));
    c.insert("iss".into(), "airflow-api-server".into());
    // The issuer has another audience and no issuer configured.
    let elsewhere = Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience("urn:the-issuers-default")
        .build()
        .unwrap();
    let (status, refreshed) = call_refused(Reissue::new(elsewhere), "GET", "/ok", &hs512(&c)).await;
    assert_eq!(status, 200);
    let refreshed = refreshed.expect("refreshed");
    let fresh = payload(&refreshed);
    assert_eq!(fresh["aud"], json!([AUDIENCE, "urn:also-this-one"]));
    assert_eq!(fresh["iss"], "airflow-api-server");
    // So it verifies wherever the old one did.
    assert!(AUTH.verifier().verify(&refreshed).is_ok());
}

/// A near-expiry execution token whose refresh chain started at `start`
/// (`None`: the token is the first of its chain).
fn chained(start: Option<i64>) -> String {
    let mint = AUTH.mint(Uuid::new_v4()).near_expiry();
    match start {
        Some(start) => mint.claim(scopegate::SESSION_START_CLAIM, start),
        None => mint,
    }
    .sign()
}

#[actix_web::test]
async fn the_maximum_session_age_stops_refreshing() {
    let hour = std::time::Duration::from_secs(3600);
    let capped = || Reissue::new(issuer()).max_session_age(hour);
    let two_hours_ago = now() - 7200;
    // A chain that started two hours ago is not refreshed under a 1 h cap...
    let got = call_refused(capped(), "GET", "/ok", &chained(Some(two_hours_ago))).await;
    assert_eq!(got, (200, None));
    // ...and is without one (off by default, as Airflow), keeping its start.
    let (_, fresh) = call_refused(
        Reissue::new(issuer()),
        "GET",
        "/ok",
        &chained(Some(two_hours_ago)),
    )
    .await;
    let fresh = payload(&fresh.expect("no cap: refreshed"));
    assert_eq!(fresh[scopegate::SESSION_START_CLAIM], two_hours_ago);
    // A young chain is refreshed, and the new token carries its start on.
    let ten_minutes_ago = now() - 600;
    let (_, fresh) = call_refused(capped(), "GET", "/ok", &chained(Some(ten_minutes_ago))).await;
    let fresh = payload(&fresh.expect("young chain: refreshed"));
    assert_eq!(fresh[scopegate::SESSION_START_CLAIM], ten_minutes_ago);
    // The first token of a chain starts it at its own iat.
    let first = chained(None);
    let iat = payload(&first)["iat"].clone();
    let (_, fresh) = call_refused(capped(), "GET", "/ok", &first).await;
    let fresh = payload(&fresh.expect("first token: refreshed"));
    assert_eq!(fresh[scopegate::SESSION_START_CLAIM], iat);
}

// ---- The application's veto, and chains (issue 18) --------------------------

/// What a veto hook saw: the path, the subject and the token type.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String, TokenType)>>>;

/// A `Reissue` whose veto records what it sees and answers `allow`.
fn recording(seen: &Seen, allow: bool) -> Reissue {
    let seen = seen.clone();
    Reissue::new(issuer()).renew_if(move |req, claims, ty| {
        seen.lock()
            .unwrap()
            .push((req.path().to_owned(), claims.sub.clone(), ty));
        allow
    })
}

/// Issue 18, finding 1: the application decides whether a token due a
/// refresh may still be renewed. The hook sees the request, the claims and
/// the type; a `false` means no header; it is asked only about a request
/// that is otherwise due one (allowed, 2xx, near expiry, a refreshed type),
/// after the handler ran.
#[actix_web::test]
async fn the_application_can_veto_a_refresh() {
    let sub = Uuid::new_v4();
    let near = AUTH.near_expiry(sub);
    let seen = Seen::default();
    let vetoed = call_refused(recording(&seen, false), "GET", "/ok", &near).await;
    assert_eq!(vetoed, (200, None));
    assert_eq!(
        *seen.lock().unwrap(),
        [("/ok".to_owned(), sub.to_string(), TokenType::EXECUTION)]
    );
    let (status, allowed) = call_refused(recording(&seen, true), "GET", "/ok", &near).await;
    assert_eq!(status, 200);
    let fresh = AUTH.verifier().verify(&allowed.expect("allowed")).unwrap();
    assert_eq!(fresh.sub, sub.to_string());
    assert_eq!(seen.lock().unwrap().len(), 2);

    // Not due (a fresh token, a refusal, a 409, a workload token): the
    // hook is not asked.
    let fresh_token = AUTH.execution(sub);
    let workload = AUTH
        .mint(sub)
        .of_type("workload")
        .lifetime(secs(600))
        .expires_in(secs(5))
        .sign();
    for (path, token, status) in [
        ("/ok", &fresh_token, 200),
        ("/workload-only", &near, 403),
        ("/finished", &near, 409),
        ("/ok", &workload, 200),
    ] {
        let got = call_refused(recording(&seen, true), "GET", path, token).await;
        assert_eq!(got, (status, None), "{path}");
    }
    assert_eq!(seen.lock().unwrap().len(), 2, "asked when nothing was due");

    // Every hook must agree.
    let both = |first: bool, second: bool| {
        Reissue::new(issuer())
            .renew_if(move |_, _, _| first)
            .renew_if(move |_, _, _| second)
    };
    for (first, second) in [(true, false), (false, true)] {
        let got = call_refused(both(first, second), "GET", "/ok", &near).await;
        assert_eq!(got, (200, None), "{first} {second}");
    }
    assert!(call_refused(both(true, true), "GET", "/ok", &near)
        .await
        .1
        .is_some());
}

/// Issue 18, finding 5: every token the issuer mints starts a chain (a
/// fresh 128-bit id in `sid`, whatever the caller's extra claims say); a
/// refresh (or a swap of type) carries it on, with the chain's start; a
/// token minted without one (by Airflow) lends its `jti` to its successors.
#[actix_web::test]
async fn issued_tokens_start_a_chain_and_refreshes_carry_it() {
    use scopegate::CHAIN_CLAIM;
    let issuer = issuer();
    let sub = Uuid::new_v4();
    let forged_chain = json!({ CHAIN_CLAIM: "chosen-by-the-caller" })
        .as_object()
        .unwrap()
        .clone();
    let a = payload(&issuer.issue(sub, TokenType::WORKLOAD).unwrap());
    let b = payload(
        &issuer
            .issue_with_claims(sub, TokenType::EXECUTION, &forged_chain)
            .unwrap(),
    );
    for chain in [&a[CHAIN_CLAIM], &b[CHAIN_CLAIM]] {
        let chain = chain.as_str().unwrap();
        assert_eq!(chain.len(), 22, "128 bits, base64url: {chain}");
        assert_ne!(chain, "chosen-by-the-caller");
    }
    assert_ne!(a[CHAIN_CLAIM], b[CHAIN_CLAIM]);

    // The workload token swapped for an execution token, then refreshed.
    let workload = issuer.issue(sub, TokenType::WORKLOAD).unwrap();
    let claims = AUTH.verifier().verify(&workload).unwrap();
    let execution = issuer.reissue(&claims, TokenType::EXECUTION).unwrap();
    let execution = AUTH.verifier().verify(&execution).unwrap();
    let refreshed = issuer.reissue(&execution, TokenType::EXECUTION).unwrap();
    let refreshed = AUTH.verifier().verify(&refreshed).unwrap();
    for later in [&execution, &refreshed] {
        assert_eq!(later.chain(), claims.chain());
        assert_eq!(later.session_start(), Some(claims.iat));
        assert_ne!(later.jti, claims.jti);
    }

    // Airflow's token, without a chain: its jti becomes the chain.
    let mut c = common::claims(sub, Some("execution"));
    c.insert("jti".into(), "airflows-jti".into());
    let airflows = AUTH.verifier().verify(&hs512(&c)).unwrap();
    assert_eq!(airflows.chain(), Some("airflows-jti"));
    let next = issuer.reissue(&airflows, TokenType::EXECUTION).unwrap();
    assert_eq!(payload(&next)[CHAIN_CLAIM], "airflows-jti");
}

/// A verifier's maximum session age stops refreshing too, without the
/// middleware's own: a chain a little older than it (still accepted within
/// the leeway) is not renewed.
#[actix_web::test]
async fn the_verifiers_maximum_session_age_stops_refreshing() {
    let verifier = web::Data::new(
        AUTH.verifier_builder()
            .max_session_age(secs(3600))
            .build()
            .unwrap(),
    );
    let app = test::init_service(
        App::new()
            .app_data(verifier)
            .wrap(Reissue::new(issuer()))
            .service(
                web::resource("/ok")
                    .wrap(Enforce::new(&ANY))
                    .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    for (start, refreshed) in [(now() - 3605, false), (now() - 3000, true)] {
        let req = test::TestRequest::get()
            .uri("/ok")
            .insert_header(AUTH.bearer(&chained(Some(start))))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers().contains_key(REFRESHED_TOKEN_HEADER),
            refreshed,
            "chain started {} s ago",
            now() - start
        );
    }
}
