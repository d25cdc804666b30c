//! The token cookie (SPEC §12): read only without an `Authorization`
//! header, accepted on unsafe methods only from an allowed `Origin`, never
//! refreshed through a response header, never read from the query string.

mod common;

use actix_web::http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use actix_web::{test, web, App, HttpResponse};
use common::*;
use scopegate::testing::TestAuth;
use scopegate::{
    ConfigError, Enforce, Reissue, RoutePolicy, TiToken, TokenType, TokenTypes, Verifier,
    REFRESHED_TOKEN_HEADER,
};
use uuid::Uuid;

static ANY: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[],
);

const COOKIE_NAME: &str = "__Host-token";
const FRONT_END: &str = "https://app.example.com";

fn verifier(auth: &TestAuth) -> Verifier {
    auth.verifier_builder()
        .cookie(COOKIE_NAME)
        .allowed_origin(FRONT_END)
        .build()
        .unwrap()
}

/// Sends `req` to `/x` (any method), behind Enforce and Reissue; returns
/// the status, the detail and whether a refreshed token came back.
async fn call(auth: &TestAuth, req: test::TestRequest) -> (u16, String, bool) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier(auth)))
            .wrap(Reissue::new(auth.issuer().clone()))
            .service(
                web::resource("/x")
                    .wrap(Enforce::new(&ANY))
                    .to(|t: TiToken| async move { HttpResponse::Ok().body(t.id.to_string()) }),
            ),
    )
    .await;
    let res = test::call_service(&app, req.uri("/x").to_request()).await;
    let refreshed = res.headers().contains_key(REFRESHED_TOKEN_HEADER);
    let (status, body, _) = parts(res).await;
    (
        status,
        body["detail"].as_str().unwrap_or_default().to_owned(),
        refreshed,
    )
}

fn cookie(token: &str) -> (actix_web::http::header::HeaderName, String) {
    (COOKIE, format!("theme=dark; {COOKIE_NAME}={token}"))
}

#[actix_web::test]
async fn a_cookie_token_is_read_when_there_is_no_authorization_header() {
    let auth = TestAuth::new();
    let token = auth.execution(Uuid::new_v4());
    for req in [
        test::TestRequest::get(),
        test::TestRequest::default().method(actix_web::http::Method::HEAD),
    ] {
        assert_eq!(call(&auth, req.insert_header(cookie(&token))).await.0, 200);
    }
    // Without the cookie, and with another cookie only: no token.
    assert_eq!(
        call(&auth, test::TestRequest::get()).await,
        (401, "Missing auth token".into(), false)
    );
    let other = (COOKIE, format!("token={token}"));
    assert_eq!(
        call(&auth, test::TestRequest::get().insert_header(other))
            .await
            .0,
        401
    );
    // A verifier without a cookie never reads one.
    let plain = auth.verifier();
    let app = test::init_service(
        App::new().app_data(plain).service(
            web::resource("/x")
                .wrap(Enforce::new(&ANY))
                .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
        ),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/x")
        .insert_header(cookie(&token));
    assert_eq!(
        test::call_service(&app, req.to_request()).await.status(),
        401
    );
}

#[actix_web::test]
async fn with_an_authorization_header_the_cookie_is_ignored_valid_or_not() {
    let auth = TestAuth::new();
    let good = auth.execution(Uuid::new_v4());
    let forged = auth.forged(Uuid::new_v4());
    // A bad header and a good cookie: the header decides.
    let req = test::TestRequest::get()
        .insert_header((AUTHORIZATION, format!("Bearer {forged}")))
        .insert_header(cookie(&good));
    assert_eq!(
        call(&auth, req).await,
        (401, "Invalid auth token: invalid signature".into(), false)
    );
    let req = test::TestRequest::get()
        .insert_header((AUTHORIZATION, "Basic dXNlcjpwdw=="))
        .insert_header(cookie(&good));
    assert_eq!(call(&auth, req).await.1, "Missing auth token");
    // A good header and a bad cookie: the header decides.
    let req = test::TestRequest::get()
        .insert_header(auth.bearer(&good))
        .insert_header(cookie(&forged));
    assert_eq!(call(&auth, req).await.0, 200);
}

/// CSRF: a browser sends the cookie with any cross-site request, so an
/// unsafe method needs an allowed `Origin`.
#[actix_web::test]
async fn unsafe_methods_take_a_cookie_token_only_from_an_allowed_origin() {
    let auth = TestAuth::new();
    let token = auth.execution(Uuid::new_v4());
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let req = || {
            test::TestRequest::default()
                .method(method.parse().unwrap())
                .insert_header(cookie(&token))
        };
        assert_eq!(
            call(&auth, req().insert_header((ORIGIN, FRONT_END)))
                .await
                .0,
            200,
            "{method}"
        );
        for origin in [
            None,
            Some("https://evil.example"),
            Some("null"),
            Some("https://app.example.com.evil"),
        ] {
            let req = match origin {
                Some(origin) => req().insert_header((ORIGIN, origin)),
                None => req(),
            };
            assert_eq!(
                call(&auth, req).await,
                (403, "Origin not allowed for a cookie token".into(), false),
                "{method} from {origin:?}"
            );
        }
        // The same request with the token in the header is not a browser's
        // ambient credential: no Origin needed.
        let req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .insert_header(auth.bearer(&token));
        assert_eq!(call(&auth, req).await.0, 200, "{method} with a header");
    }
}

#[actix_web::test]
async fn a_cookie_token_is_never_refreshed_through_a_response_header() {
    let auth = TestAuth::new();
    let due = auth.near_expiry(Uuid::new_v4());
    let by_cookie = test::TestRequest::get().insert_header(cookie(&due));
    assert_eq!(call(&auth, by_cookie).await, (200, String::new(), false));
    // The same token in the header is refreshed.
    let by_header = test::TestRequest::get().insert_header(auth.bearer(&due));
    assert!(call(&auth, by_header).await.2);
}

#[actix_web::test]
async fn a_token_in_the_query_string_is_never_read() {
    let auth = TestAuth::new();
    let token = auth.execution(Uuid::new_v4());
    for query in ["access_token", "token", COOKIE_NAME] {
        let req = test::TestRequest::get().uri(&format!("/x?{query}={token}"));
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(verifier(&auth)))
                .service(
                    web::resource("/x")
                        .wrap(Enforce::new(&ANY))
                        .to(|_: TiToken| async { HttpResponse::Ok().finish() }),
                ),
        )
        .await;
        assert_eq!(
            test::call_service(&app, req.to_request()).await.status(),
            401,
            "{query}"
        );
    }
}

#[actix_web::test]
async fn two_token_cookies_are_refused() {
    // A sibling subdomain can plant a second cookie of a name without the
    // __Host- prefix; which one is the real one cannot be told.
    let auth = TestAuth::new();
    let (a, b) = (
        auth.execution(Uuid::new_v4()),
        auth.execution(Uuid::new_v4()),
    );
    let req = test::TestRequest::get()
        .insert_header((COOKIE, format!("{COOKIE_NAME}={a}; {COOKIE_NAME}={b}")));
    assert_eq!(
        call(&auth, req).await,
        (
            401,
            "Invalid auth token: multiple token cookies".into(),
            false
        )
    );
}

#[actix_web::test]
async fn cookie_names_and_origins_are_checked_when_the_verifier_is_built() {
    let auth = TestAuth::new();
    for name in ["", "a b", "a;b", "a=b"] {
        let err = auth.verifier_builder().cookie(name).build().unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidCookieName(_)),
            "{name}: {err}"
        );
    }
    for origin in ["app.example.com", "https://app.example.com/path", "*"] {
        let err = auth
            .verifier_builder()
            .cookie(COOKIE_NAME)
            .allowed_origin(origin)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidOrigin(_)),
            "{origin}: {err}"
        );
    }
    let err = auth
        .verifier_builder()
        .allowed_origin(FRONT_END)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::OriginsWithoutCookie), "{err}");
}
