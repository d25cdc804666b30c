//! `scopegate::Reissue` on its own: which responses get a
//! `Refreshed-API-Token`, and that it never verifies a second time.

mod common;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse};
use common::*;
use scopegate::{
    Enforce, Issuer, Reissue, RoutePolicy, SigningKey, TiToken, TokenType, TokenTypes,
    REFRESHED_TOKEN_HEADER,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

static ANY: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::Execution).with(TokenType::Workload),
    &[],
);

fn issuer() -> Issuer {
    Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
}

/// Calls `/plain` (or `/swap`, whose handler sets the header itself) with
/// `token`; returns the status, the refreshed token if any, and how many
/// signature checks the request cost.
async fn call(path: &str, token: &str) -> (u16, Option<String>, u64) {
    let verifier = web::Data::new(verifier());
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
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .to_request();
    let res = test::call_service(&app, req).await;
    let refreshed = res
        .headers()
        .get(REFRESHED_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), refreshed, verifier.verifications())
}

/// An execution token with `remaining` seconds left of a `lifetime`.
fn token(scope: &str, lifetime: i64, remaining: i64, extra: &Map<String, Value>) -> String {
    let mut c = claims(Uuid::new_v4(), Some(scope));
    let now = now();
    c.insert("iat".into(), (now + remaining - lifetime).into());
    c.insert("nbf".into(), (now + remaining - lifetime).into());
    c.insert("exp".into(), (now + remaining).into());
    c.extend(extra.clone());
    hs512(&c)
}

#[actix_web::test]
async fn near_expiry_execution_token_is_refreshed_with_its_claims() {
    let mut extra = Map::new();
    extra.insert("ti_try".into(), json!(3));
    extra.insert("team".into(), json!("blue"));
    // 600 s lifetime, 60 s left: under 20% (120 s).
    let old = token("execution", 600, 60, &extra);
    let old_claims = verifier().verify(&old).unwrap();
    let (status, refreshed, checks) = call("/plain", &old).await;
    assert_eq!(status, 200);
    assert_eq!(checks, 1, "the middleware must not verify again");
    let new = verifier().verify(&refreshed.expect("refreshed")).unwrap();
    assert_eq!(new.sub, old_claims.sub);
    assert_eq!(new.scope, TokenType::Execution);
    assert_eq!(new.extra, extra);
    assert!(new.exp > old_claims.exp);
    assert_ne!(new.jti, old_claims.jti);
}

#[actix_web::test]
async fn token_that_expires_mid_request_is_still_refreshed() {
    // Expired 5 s ago: within the leeway, so it verifies; Airflow's
    // re-verification after the handler would refuse it and not refresh.
    let (status, refreshed, _) = call("/plain", &token("execution", 600, -5, &Map::new())).await;
    assert_eq!(status, 200);
    assert!(refreshed.is_some());
}

#[actix_web::test]
async fn thirty_second_floor_applies_to_short_tokens() {
    // 100 s lifetime: 20% is 20 s, the floor is 30 s.
    assert!(call("/plain", &token("execution", 100, 25, &Map::new()))
        .await
        .1
        .is_some());
    assert!(call("/plain", &token("execution", 100, 40, &Map::new()))
        .await
        .1
        .is_none());
}

#[actix_web::test]
async fn long_lived_token_is_not_refreshed() {
    let (status, refreshed, _) = call("/plain", &token("execution", 600, 500, &Map::new())).await;
    assert_eq!((status, refreshed), (200, None));
}

#[actix_web::test]
async fn workload_tokens_are_never_refreshed() {
    let (status, refreshed, _) = call("/plain", &token("workload", 600, 5, &Map::new())).await;
    assert_eq!((status, refreshed), (200, None));
}

#[actix_web::test]
async fn handler_header_wins() {
    let (status, refreshed, _) = call("/swap", &token("execution", 600, 5, &Map::new())).await;
    assert_eq!((status, refreshed.as_deref()), (200, Some("from-handler")));
}

#[actix_web::test]
async fn unverified_requests_get_nothing() {
    // A public route never verifies, so there is nothing to refresh; and an
    // invalid token is never refreshed.
    let near = token("execution", 600, 5, &Map::new());
    let (status, refreshed, checks) = call("/public", &near).await;
    assert_eq!((status, refreshed, checks), (200, None, 0));
    let (status, refreshed, _) = call("/plain", "a.b.c").await;
    assert_eq!((status, refreshed), (401, None));
}
