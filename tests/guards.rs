//! Guards (SPEC §11) through routes declared with the macros, in Airflow's
//! vocabulary: the order they run in (outer groups first, then the route's,
//! in order), refusals with 403 and 404 in the application's renderer,
//! never reached when the policy refuses, never a refresh for a refused
//! request, and path parameters decoded as the handler sees them.

use std::sync::Mutex;

use actix_web::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::test::{call_service, init_service, read_body, read_body_json, TestRequest};
use actix_web::{web, App, HttpRequest, HttpResponse};
use scopegate::testing::TestAuth;
use scopegate::{guard, protect, route, routes, Deny, Reissue, Renderer, TiToken, Token};
use serde_json::{json, Value};
use uuid::Uuid;

/// What the guards saw, in order.
#[derive(Default)]
struct Trail(Mutex<Vec<String>>);

impl Trail {
    fn push(req: &HttpRequest, who: &str) {
        if let Some(trail) = req.app_data::<web::Data<Trail>>() {
            trail.0.lock().unwrap().push(who.to_owned());
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// Refuses a key named `secret` with 404 (hiding it), and `locked` with 403.
#[guard(params = ["key"], statuses = [403, 404])]
async fn outer(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Trail::push(req, "outer");
    match scopegate::path_param(req, "key").as_deref() {
        Some("secret") => Err(Deny::not_found("Not Found")),
        Some("lo+cked") => Err(Deny::forbidden(json!({"reason": "locked"}))),
        _ => Ok(()),
    }
}

#[guard]
async fn inner(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Trail::push(req, "inner");
    Ok(())
}

#[guard]
async fn first(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Trail::push(req, "first");
    Ok(())
}

/// Refuses workload tokens, with the token's type in hand.
#[guard]
async fn second(req: &HttpRequest, token: &Token) -> Result<(), Deny> {
    Trail::push(req, "second");
    if token.token_type() == scopegate::TokenType::WORKLOAD {
        return Err(Deny::forbidden("no workload tokens here"));
    }
    Ok(())
}

#[routes(prefix = "/store/<key>", guard = outer)]
mod store {
    use super::*;

    #[routes(guard = inner)]
    pub mod items {
        use super::*;

        #[route(get, "/items", scopes = ["token:execution", "token:workload"], guard = [first, second])]
        pub async fn items(
            token: TiToken,
            req: HttpRequest,
            key: web::Path<String>,
        ) -> HttpResponse {
            Trail::push(&req, "handler");
            HttpResponse::Ok().json(json!({"key": key.into_inner(), "sub": token.id}))
        }

        /// Reads a JSON body: a refused request never gets to it.
        #[route(post, "/items")]
        pub async fn add(body: web::Json<Value>) -> HttpResponse {
            HttpResponse::Created().json(body.into_inner())
        }
    }
}

/// The owner, or any workload token: a type predicate inside `any(..)`.
#[route(get, "/ti/<task_instance_id>/peek",
        scopes = ["token:execution", "token:workload", any("ti:self", "token:workload")])]
async fn peek(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({"sub": token.id}))
}

/// An actix handler adopted with `#[protect]`, with guards.
#[protect(scopes = ["token:execution", "token:workload"], guard = [first, second])]
#[actix_web::get("/adopted/{key}")]
async fn adopted(req: HttpRequest) -> HttpResponse {
    Trail::push(&req, "handler");
    HttpResponse::Ok().finish()
}

fn app_data() -> (web::Data<Trail>, web::Data<scopegate::Verifier>) {
    (web::Data::new(Trail::default()), AUTH.verifier())
}

/// An app with the test verifier and a fresh trail of what the guards saw,
/// and that trail.
fn traced_app() -> (
    App<
        impl actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    web::Data<Trail>,
) {
    let (trail, verifier) = app_data();
    let app = App::new().app_data(verifier).app_data(trail.clone());
    (app, trail)
}

static AUTH: std::sync::LazyLock<TestAuth> = std::sync::LazyLock::new(TestAuth::new);

#[actix_web::test]
async fn guards_run_outer_groups_first_then_the_routes_in_order() {
    let (app, trail) = traced_app();
    let app = init_service(app.configure(store::configure)).await;
    let ti = Uuid::new_v4();
    let req = TestRequest::get()
        .uri("/store/a%2Bb/items")
        .insert_header(AUTH.bearer(&AUTH.execution(ti)))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    let body: Value = read_body_json(res).await;
    assert_eq!(body, json!({"key": "a+b", "sub": ti}));
    assert_eq!(
        trail.take(),
        ["outer", "inner", "first", "second", "handler"]
    );
}

/// Calls `app` with `req`: status, JSON body (or null) and the refreshed
/// token, if any.
async fn call<S, R, B>(app: &S, req: R) -> (u16, Value, Option<String>)
where
    S: actix_web::dev::Service<
        R,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = call_service(app, req).await;
    let status = res.status().as_u16();
    let refreshed = res
        .headers()
        .get(scopegate::REFRESHED_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = read_body(res).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        refreshed,
    )
}

#[actix_web::test]
async fn a_guard_refuses_with_404_or_403_and_the_handler_never_runs() {
    let (app, trail) = traced_app();
    let app = init_service(app.configure(store::configure)).await;
    let token = AUTH.execution(Uuid::new_v4());
    let (status, body, _) = call(
        &app,
        TestRequest::get()
            .uri("/store/secret/items")
            .insert_header(AUTH.bearer(&token))
            .to_request(),
    )
    .await;
    assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
    assert_eq!(trail.take(), ["outer"], "the first refusal decides");

    // `lo%2Bcked` is `lo+cked` to the guard, as to the handler.
    let (status, body, _) = call(
        &app,
        TestRequest::get()
            .uri("/store/lo%2Bcked/items")
            .insert_header(AUTH.bearer(&token))
            .to_request(),
    )
    .await;
    assert_eq!(
        (status, body),
        (403, json!({"detail": {"reason": "locked"}}))
    );

    // A guard of the route itself, after the groups': workload tokens
    // pass the policy, and the last guard refuses them.
    let workload = AUTH.workload(Uuid::new_v4());
    trail.take();
    let (status, body, _) = call(
        &app,
        TestRequest::get()
            .uri("/store/x/items")
            .insert_header(AUTH.bearer(&workload))
            .to_request(),
    )
    .await;
    assert_eq!(
        (status, body),
        (403, json!({"detail": "no workload tokens here"}))
    );
    assert_eq!(trail.take(), ["outer", "inner", "first", "second"]);

    // No body is read for a refused request: malformed JSON, yet the
    // guard's 404, not the extractor's 400.
    let (status, _, _) = call(
        &app,
        TestRequest::post()
            .uri("/store/secret/items")
            .insert_header(AUTH.bearer(&token))
            .insert_header((CONTENT_TYPE, "application/json"))
            .set_payload("{not json")
            .to_request(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &app,
        TestRequest::post()
            .uri("/store/x/items")
            .insert_header(AUTH.bearer(&token))
            .insert_header((CONTENT_TYPE, "application/json"))
            .set_payload("{not json")
            .to_request(),
    )
    .await;
    assert_eq!(
        status, 400,
        "allowed: the handler's extractor reads the body"
    );
}

#[actix_web::test]
async fn no_guard_runs_when_the_policy_refuses() {
    let (app, trail) = traced_app();
    let app = init_service(app.configure(store::configure)).await;
    let (status, _, _) = call(
        &app,
        TestRequest::get().uri("/store/secret/items").to_request(),
    )
    .await;
    assert_eq!(status, 401);
    // `add` takes execution tokens only.
    let (status, body, _) = call(
        &app,
        TestRequest::post()
            .uri("/store/secret/items")
            .insert_header(AUTH.bearer(&AUTH.workload(Uuid::new_v4())))
            .set_json(json!({}))
            .to_request(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "Token type 'workload' not allowed for this endpoint. Allowed types: execution"
    );
    let (status, _, _) = call(
        &app,
        TestRequest::get()
            .uri("/store/secret/items")
            .insert_header(AUTH.bearer(&AUTH.forged(Uuid::new_v4())))
            .to_request(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(trail.take().is_empty(), "no guard ran");
}

#[actix_web::test]
async fn a_refused_request_is_never_refreshed() {
    let (trail, verifier) = app_data();
    let app = init_service(
        App::new()
            .wrap(Reissue::new(AUTH.issuer().clone()))
            .app_data(verifier)
            .app_data(trail)
            .configure(store::configure),
    )
    .await;
    let due = AUTH.near_expiry(Uuid::new_v4());
    let (status, _, refreshed) = call(
        &app,
        TestRequest::get()
            .uri("/store/secret/items")
            .insert_header(AUTH.bearer(&due))
            .to_request(),
    )
    .await;
    assert_eq!((status, refreshed), (404, None));
    // A renderer that answers 200 cannot make a refusal a success either.
    let ok = Renderer::new(|_, _| HttpResponse::Ok().finish());
    let app = init_service(
        App::new()
            .wrap(Reissue::new(AUTH.issuer().clone()))
            .app_data(AUTH.verifier())
            .app_data(ok)
            .configure(store::configure),
    )
    .await;
    let (status, _, refreshed) = call(
        &app,
        TestRequest::get()
            .uri("/store/lo%2Bcked/items")
            .insert_header(AUTH.bearer(&due))
            .to_request(),
    )
    .await;
    assert_eq!((status, refreshed), (403, None));
    // The same token on an allowed request is refreshed.
    let (status, _, refreshed) = call(
        &app,
        TestRequest::get()
            .uri("/store/x/items")
            .insert_header(AUTH.bearer(&due))
            .to_request(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(refreshed.is_some());
}

#[actix_web::test]
async fn every_refusal_goes_through_the_applications_renderer() {
    let problem = Renderer::new(|_, refusal| {
        HttpResponse::build(refusal.status())
            .content_type("application/problem+json")
            .json(json!({
                "status": refusal.status().as_u16(),
                "reason": refusal.reason(),
                "detail": refusal.detail(),
            }))
    });
    let app = init_service(
        App::new()
            .app_data(AUTH.verifier())
            .app_data(web::Data::new(problem))
            .configure(store::configure),
    )
    .await;
    let token = AUTH.execution(Uuid::new_v4());
    let cases = [
        (
            TestRequest::get().uri("/store/x/items"),
            401,
            "missing_token",
            json!("Missing auth token"),
        ),
        (
            TestRequest::get()
                .uri("/store/secret/items")
                .insert_header(AUTH.bearer(&token)),
            404,
            "guard",
            json!("Not Found"),
        ),
        (
            TestRequest::delete().uri("/store/x/items"),
            405,
            "method_not_allowed",
            json!("Method Not Allowed"),
        ),
    ];
    for (req, status, reason, detail) in cases {
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status().as_u16(), status);
        assert_eq!(
            res.headers().get(CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        if status == 401 {
            assert_eq!(res.headers().get(WWW_AUTHENTICATE).unwrap(), "Bearer");
        }
        if status == 405 {
            assert_eq!(res.headers().get("allow").unwrap(), "GET, POST");
        }
        let body: Value = read_body_json(res).await;
        assert_eq!(
            body,
            json!({"status": status, "reason": reason, "detail": detail})
        );
    }
}

/// The owner, or any workload token (SPEC §10's *owner or service token*,
/// in Airflow's words).
#[actix_web::test]
async fn a_type_predicate_inside_any_applies_to_that_type_only() {
    let app = init_service(App::new().app_data(AUTH.verifier()).service(peek)).await;
    let ti = Uuid::new_v4();
    let uri = format!("/ti/{ti}/peek");
    for (token, want) in [
        (AUTH.execution(ti), 200),
        (AUTH.workload(ti), 200),
        (AUTH.workload(Uuid::new_v4()), 200),
        (AUTH.execution(Uuid::new_v4()), 403),
    ] {
        let res = call_service(
            &app,
            TestRequest::get()
                .uri(&uri)
                .insert_header(AUTH.bearer(&token))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), want);
        if want == 403 {
            assert_eq!(
                res.headers().get(WWW_AUTHENTICATE).unwrap(),
                "Bearer error=\"insufficient_scope\", scope=\"ti:self token:workload\""
            );
            let body: Value = read_body_json(res).await;
            assert_eq!(
                body,
                json!({"detail": "Token satisfies none of: ti:self, token:workload"})
            );
        }
    }
}

#[test]
fn routes_and_the_route_table_name_guards_and_alternatives() {
    assert_eq!(
        scopegate::testing::route_table(store::ROUTES),
        "\
GET   /store/<key>/items  execution,workload  guard(outer),guard(inner),guard(first),guard(second)
POST  /store/<key>/items  execution           guard(outer),guard(inner)
"
    );
    assert_eq!(
        scopegate::testing::route_table(&[peek::INFO]),
        "GET  /ti/<task_instance_id>/peek  execution,workload  any(ti:self, token:workload)\n"
    );
    assert_eq!(
        store::items::items::POLICY.guards(),
        ["outer", "inner", "first", "second"]
    );
}

#[actix_web::test]
async fn protect_runs_its_guards_too() {
    let (app, trail) = traced_app();
    let app = init_service(app.service(adopted)).await;
    let (status, _, _) = call(
        &app,
        TestRequest::get()
            .uri("/adopted/x")
            .insert_header(AUTH.bearer(&AUTH.execution(Uuid::new_v4())))
            .to_request(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(trail.take(), ["first", "second", "handler"]);
    let (status, body, _) = call(
        &app,
        TestRequest::get()
            .uri("/adopted/x")
            .insert_header(AUTH.bearer(&AUTH.workload(Uuid::new_v4())))
            .to_request(),
    )
    .await;
    assert_eq!(
        (status, body),
        (403, json!({"detail": "no workload tokens here"}))
    );
    assert_eq!(trail.take(), ["first", "second"]);
    assert_eq!(adopted::POLICY.guards(), ["first", "second"]);
}

/// Waits twice (each time waking its task) before it answers: refuses a
/// key `wait-refused` with 409, allows the rest.
#[guard(params = ["key"], statuses = [409])]
async fn slow(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Trail::push(req, "slow:start");
    actix_web::rt::task::yield_now().await;
    actix_web::rt::task::yield_now().await;
    Trail::push(req, "slow:end");
    match scopegate::path_param(req, "key").as_deref() {
        Some("wait-refused") => Err(Deny::with_status(
            actix_web::http::StatusCode::CONFLICT,
            "refused after waiting",
        )),
        _ => Ok(()),
    }
}

#[routes(prefix = "/slow/<key>")]
mod waiting {
    use super::*;

    #[route(get, "/items", guard = [first, slow, second])]
    pub async fn items(req: HttpRequest, key: web::Path<String>) -> HttpResponse {
        Trail::push(&req, "handler");
        HttpResponse::Ok().json(json!({"key": key.into_inner()}))
    }
}

/// A guard that has to wait is started once, resumed by its task's waker,
/// and the guards after it still run in order: its answer decides, as a
/// guard's that answers at once does.
#[actix_web::test]
async fn a_guard_that_waits_is_started_once_and_decides() {
    let (app, trail) = traced_app();
    let app = init_service(app.configure(waiting::configure)).await;
    let token = AUTH.execution(Uuid::new_v4());
    let get = |key: &str| {
        TestRequest::get()
            .uri(&format!("/slow/{key}/items"))
            .insert_header(AUTH.bearer(&token))
            .to_request()
    };
    let (status, body, _) = call(&app, get("k")).await;
    assert_eq!((status, body), (200, json!({"key": "k"})));
    assert_eq!(
        trail.take(),
        ["first", "slow:start", "slow:end", "second", "handler"]
    );
    let (status, body, _) = call(&app, get("wait-refused")).await;
    assert_eq!(
        (status, body),
        (409, json!({"detail": "refused after waiting"}))
    );
    assert_eq!(trail.take(), ["first", "slow:start", "slow:end"]);
}
