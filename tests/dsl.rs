//! The runtime behaviour matrix of SPEC §3 again, this time through routes
//! declared with `#[route]` and `#[routes]`, laid out like Airflow's
//! Execution API router tree: a public health check, an authenticated root,
//! a task-instance group under `ti:self` whose `/run` also takes workload
//! tokens, and a connection-test group under `ct:self` for workload tokens
//! only. Tokens and the verifier come from the testing kit
//! (`scopegate::testing`), as a user's tests get them.

use actix_web::http::header::{ALLOW, CONTENT_TYPE};
mod common;

use common::{missing, parts};

use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use scopegate::testing::TestAuth;
use scopegate::{protect, route, routes, RouteInfo, TiToken, TokenType, TokenTypes, Verifier};
use serde_json::{json, Value};
use uuid::Uuid;

/// The key every test here signs and verifies with.
static AUTH: std::sync::LazyLock<TestAuth> = std::sync::LazyLock::new(TestAuth::new);

/// Echoes what the handler saw, so tests can tell it ran and with which
/// token.
fn echo(token: &TiToken, route: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "route": route,
        "sub": token.id,
        "type": token.token_type(),
    }))
}

/// Connections, outside every group: the default policy (execution only).
#[route(get, "/execution/connections/<connection_id>")]
async fn get_connection(token: TiToken, path: web::Path<String>) -> HttpResponse {
    let id = path.into_inner();
    HttpResponse::Ok().json(json!({ "conn_id": id, "sub": token.id }))
}

#[routes(prefix = "/execution")]
mod execution_api {
    use super::*;

    /// Airflow's health check: no token.
    #[route(get, "/health", public)]
    async fn health() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "status": "healthy" }))
    }

    /// The authenticated root: any execution token.
    #[route(get, "/variables/<variable_key>")]
    async fn get_variable(token: TiToken) -> HttpResponse {
        echo(&token, "get_variable")
    }

    #[routes(prefix = "/task-instances", scopes = ["ti:self"])]
    pub mod task_instances {
        use super::*;

        /// Moves a queued task instance to running. The one task-instance
        /// route a workload token may call.
        #[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workload"])]
        pub async fn run(token: TiToken, body: web::Json<Value>) -> HttpResponse {
            HttpResponse::Ok().json(json!({
                "route": "run",
                "sub": token.id,
                "type": token.token_type(),
                "body": body.into_inner(),
            }))
        }

        #[route(put, "/{task_instance_id}/heartbeat")]
        pub async fn heartbeat(token: TiToken) -> HttpResponse {
            echo(&token, "heartbeat")
        }
    }

    #[routes(prefix = "/connection-tests", scopes = ["ct:self", "token:workload"])]
    pub mod connection_tests {
        use super::*;

        #[route(get, "/<connection_test_id>/connection")]
        pub async fn connection(token: TiToken) -> HttpResponse {
            echo(&token, "connection")
        }
    }
}

use execution_api::{connection_tests, task_instances};

/// Paths that several methods share, across a nested group, for the 405
/// tests (SPEC §3 "Wrong method").
#[routes(prefix = "/shop")]
mod shop {
    use super::*;

    /// Declared before `/items/<item_id>`, which also matches it.
    #[route(get, "/items/search", public)]
    async fn search() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "search" }))
    }

    #[route(get, "/items/<item_id>")]
    async fn get_item(token: TiToken) -> HttpResponse {
        echo(&token, "get_item")
    }

    /// The same path shape, its parameter named differently.
    #[route(put, "/items/{id}")]
    async fn put_item(token: TiToken) -> HttpResponse {
        echo(&token, "put_item")
    }

    #[route(get, "/about", public)]
    async fn about() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "about" }))
    }

    #[routes(prefix = "/items")]
    pub mod nested {
        use super::*;

        /// The outer group's `/items/<item_id>` again, from a nested group.
        #[route(delete, "/<item_id>")]
        pub async fn delete_item(token: TiToken) -> HttpResponse {
            echo(&token, "delete_item")
        }

        #[route(post, "/<item_id>/tags")]
        pub async fn tag(token: TiToken) -> HttpResponse {
            echo(&token, "tag")
        }
    }
}

/// An existing actix service's handlers, adopted with `#[protect]` (SPEC
/// §7): a group of them, and one on its own.
#[routes(prefix = "/adopted/task-instances", scopes = ["ti:self"])]
mod adopted {
    use super::*;
    use actix_web::{get, put};

    #[protect(scopes = ["token:execution", "token:workload"])]
    #[get("/{task_instance_id}/state")]
    pub async fn state(token: TiToken) -> HttpResponse {
        echo(&token, "state")
    }

    /// A body extractor: a refused request never reaches it.
    #[protect]
    #[put("/{task_instance_id}/state")]
    pub async fn set_state(token: TiToken, body: web::Json<Value>) -> HttpResponse {
        let _ = body;
        echo(&token, "set_state")
    }

    /// actix's spelling of a parameter that takes the rest of the path
    /// (`{name:.*}`): scopegate registers it as one that is never empty.
    #[protect]
    #[get("/{task_instance_id}/files/{path:.*}")]
    pub async fn file(token: TiToken, path: web::Path<(Uuid, String)>) -> HttpResponse {
        HttpResponse::Ok().json(json!({ "sub": token.id, "path": path.into_inner().1 }))
    }
}

#[protect(scopes = ["token:workload"])]
#[actix_web::route("/adopted/queue", method = "POST")]
async fn adopted_queue(token: TiToken) -> HttpResponse {
    echo(&token, "adopted_queue")
}

fn adopted_app(cfg: &mut web::ServiceConfig) {
    cfg.service(adopted_queue).configure(adopted::configure);
}

type Parts = (u16, Value, Option<String>);

fn wrong_type(got: &str, allowed: &str, scope: &str) -> Parts {
    (
        403,
        json!({
            "detail": format!(
                "Token type '{got}' not allowed for this endpoint. Allowed types: {allowed}"
            )
        }),
        Some(format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
        )),
    )
}

fn not_owner(subject: &str, scope: &str) -> Parts {
    (
        403,
        json!({ "detail": format!("Token subject does not match {subject}") }),
        Some(format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
        )),
    )
}

fn echoed(route: &str, sub: Uuid, ty: &str) -> Parts {
    (200, json!({ "route": route, "sub": sub, "type": ty }), None)
}

/// The whole API, as an application would assemble it.
macro_rules! app {
    ($verifier:expr) => {
        init_service(
            App::new()
                .app_data($verifier)
                .service(get_connection)
                .configure(execution_api::configure),
        )
        .await
    };
}

/// Sends `method path` with an optional bearer token and JSON body.
async fn call(method: &str, path: &str, bearer: Option<&str>, body: Option<&str>) -> Parts {
    let app = app!(AUTH.verifier());
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path);
    if let Some(bearer) = bearer {
        req = req.insert_header(AUTH.bearer(bearer));
    }
    if let Some(body) = body {
        req = req
            .insert_header((CONTENT_TYPE, "application/json"))
            .set_payload(body.to_owned());
    }
    parts(call_service(&app, req.to_request()).await).await
}

/// Routes under `#[cfg]`: `test` is on in this test build, `not(test)` off.
/// A route whose cfg is off does not exist (issue 9 item 10).
#[routes(prefix = "/flags")]
mod flags {
    use super::*;

    #[route(get, "/both")]
    async fn get_both() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "get_both" }))
    }

    #[cfg(not(test))]
    #[route(put, "/both")]
    async fn put_both() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "put_both" }))
    }

    #[route(post, "/both", public)]
    #[cfg(test)]
    async fn post_both() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "post_both" }))
    }

    #[cfg(not(test))]
    #[route(get, "/gone")]
    async fn gone() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "gone" }))
    }

    #[cfg_attr(test, cfg(not(test)))]
    #[route(delete, "/both")]
    async fn delete_both() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "delete_both" }))
    }

    #[cfg(not(test))]
    #[routes(prefix = "/nested")]
    mod nested {
        use super::*;

        #[route(get, "/x")]
        async fn x() -> HttpResponse {
            HttpResponse::Ok().json(json!({ "route": "x" }))
        }
    }
}

/// Two top-level groups on the same paths, configured one after the other
/// (issue 18, finding 6): the first declares `PUT /lookup/items/<item_id>`,
/// the second `GET /lookup/items/search`.
#[routes(prefix = "/lookup/items")]
mod lookup_by_id {
    use super::*;

    #[route(put, "/<item_id>")]
    pub async fn put_item(token: TiToken) -> HttpResponse {
        echo(&token, "put_item")
    }
}

#[routes(prefix = "/lookup/items")]
mod lookup_search {
    use super::*;

    #[route(get, "/search", public)]
    pub async fn search() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "route": "lookup_search" }))
    }
}

/// Both lookup groups, then a plain actix route on a path the first group's
/// pattern matches too.
fn lookup_app(cfg: &mut web::ServiceConfig) {
    cfg.configure(lookup_by_id::configure)
        .configure(lookup_search::configure)
        .route(
            "/lookup/items/plain",
            web::get().to(|| async { HttpResponse::Ok().json(json!({ "route": "plain" })) }),
        );
}

/// Sends `method path` to an app built by `configure` alone; returns the
/// response's parts and its `Allow` header.
async fn call_in(
    configure: fn(&mut web::ServiceConfig),
    method: &str,
    path: &str,
    bearer: Option<&str>,
) -> (Parts, Option<String>) {
    call_counted(AUTH.verifier(), configure, method, path, bearer).await
}

async fn call_counted(
    verifier: web::Data<Verifier>,
    configure: fn(&mut web::ServiceConfig),
    method: &str,
    path: &str,
    bearer: Option<&str>,
) -> (Parts, Option<String>) {
    let app = init_service(App::new().app_data(verifier).configure(configure)).await;
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path);
    if let Some(bearer) = bearer {
        req = req.insert_header(AUTH.bearer(bearer));
    }
    let res = call_service(&app, req.to_request()).await;
    let allow = res
        .headers()
        .get(ALLOW)
        .map(|v| v.to_str().unwrap().to_owned());
    (parts(res).await, allow)
}

/// FastAPI's 405: no `WWW-Authenticate`, since no token was looked at.
fn not_allowed() -> Parts {
    (405, json!({ "detail": "Method Not Allowed" }), None)
}

fn not_found() -> (Parts, Option<String>) {
    ((404, Value::Null, None), None)
}

fn heartbeat_path(ti: &str) -> String {
    format!("/execution/task-instances/{ti}/heartbeat")
}

#[actix_web::test]
async fn public_health_needs_no_token() {
    assert_eq!(
        call("GET", "/execution/health", None, None).await,
        (200, json!({ "status": "healthy" }), None)
    );
    // A public route never looks at the token, even a broken one.
    assert_eq!(
        call("GET", "/execution/health", Some("not.a.jwt"), None).await,
        (200, json!({ "status": "healthy" }), None)
    );
}

#[actix_web::test]
async fn default_route_takes_execution_tokens_only() {
    let ti = Uuid::new_v4();
    let path = "/execution/variables/my_var";
    assert_eq!(call("GET", path, None, None).await, missing());
    assert_eq!(
        call("GET", path, Some(&AUTH.workload(ti)), None).await,
        wrong_type("workload", "execution", "token:execution")
    );
    assert_eq!(
        call("GET", path, Some(&AUTH.execution(ti)), None).await,
        echoed("get_variable", ti, "execution")
    );
}

#[actix_web::test]
async fn invalid_tokens_are_401_invalid_token() {
    let forged = AUTH.forged(Uuid::new_v4());
    assert_eq!(
        call("GET", "/execution/variables/v", Some(&forged), None).await,
        (
            401,
            json!({ "detail": "Invalid auth token: invalid signature" }),
            Some(r#"Bearer error="invalid_token", error_description="invalid signature""#.into())
        )
    );
}

#[actix_web::test]
async fn standalone_route_is_registered_with_service() {
    let ti = Uuid::new_v4();
    let path = "/execution/connections/my_conn";
    assert_eq!(call("GET", path, None, None).await, missing());
    assert_eq!(
        call("GET", path, Some(&AUTH.workload(ti)), None).await,
        wrong_type("workload", "execution", "token:execution")
    );
    assert_eq!(
        call("GET", path, Some(&AUTH.execution(ti)), None).await,
        (200, json!({ "conn_id": "my_conn", "sub": ti }), None)
    );
}

#[actix_web::test]
async fn run_opts_into_workload_tokens() {
    let ti = Uuid::new_v4();
    let path = format!("/execution/task-instances/{ti}/run");
    for ty in [TokenType::WORKLOAD, TokenType::EXECUTION] {
        let (status, body, header) = call(
            "PATCH",
            &path,
            Some(&AUTH.token(ti, ty.as_str())),
            Some(r#"{"hostname": "worker-1"}"#),
        )
        .await;
        assert_eq!((status, header), (200, None), "{ty}");
        assert_eq!(
            body,
            json!({
                "route": "run",
                "sub": ti,
                "type": ty.as_str(),
                "body": { "hostname": "worker-1" },
            })
        );
    }
}

#[actix_web::test]
async fn heartbeat_in_the_same_group_refuses_workload_tokens() {
    let ti = Uuid::new_v4();
    assert_eq!(
        call(
            "PUT",
            &heartbeat_path(&ti.to_string()),
            Some(&AUTH.workload(ti)),
            None
        )
        .await,
        wrong_type("workload", "execution", "token:execution")
    );
    assert_eq!(
        call(
            "PUT",
            &heartbeat_path(&ti.to_string()),
            Some(&AUTH.execution(ti)),
            None
        )
        .await,
        echoed("heartbeat", ti, "execution")
    );
}

#[actix_web::test]
async fn ti_self_compares_parsed_uuids() {
    let ti = Uuid::new_v4();
    let execution = AUTH.execution(ti);
    // Another task instance's path.
    assert_eq!(
        call(
            "PUT",
            &heartbeat_path(&Uuid::new_v4().to_string()),
            Some(&execution),
            None
        )
        .await,
        not_owner("task instance ID", "ti:self")
    );
    // The same UUID in upper case is the same task instance (Airflow refuses it).
    assert_eq!(
        call(
            "PUT",
            &heartbeat_path(&ti.to_string().to_uppercase()),
            Some(&execution),
            None
        )
        .await,
        echoed("heartbeat", ti, "execution")
    );
    // A path segment that is not a UUID owns nothing.
    assert_eq!(
        call("PUT", &heartbeat_path("not-a-uuid"), Some(&execution), None).await,
        not_owner("task instance ID", "ti:self")
    );
    // Run is under the group's ti:self too, even for workload tokens.
    assert_eq!(
        call(
            "PATCH",
            &format!("/execution/task-instances/{}/run", Uuid::new_v4()),
            Some(&AUTH.workload(ti)),
            Some("{}"),
        )
        .await,
        not_owner("task instance ID", "ti:self")
    );
}

#[actix_web::test]
async fn connection_test_takes_its_own_workload_token_only() {
    let ct = Uuid::new_v4();
    let path = format!("/execution/connection-tests/{ct}/connection");
    assert_eq!(call("GET", &path, None, None).await, missing());
    assert_eq!(
        call("GET", &path, Some(&AUTH.execution(ct)), None).await,
        wrong_type("execution", "workload", "token:workload")
    );
    assert_eq!(
        call("GET", &path, Some(&AUTH.workload(Uuid::new_v4())), None).await,
        not_owner("connection test ID", "ct:self")
    );
    assert_eq!(
        call("GET", &path, Some(&AUTH.workload(ct)), None).await,
        echoed("connection", ct, "workload")
    );
}

#[actix_web::test]
async fn enforcement_runs_before_body_extractors() {
    let ti = Uuid::new_v4();
    let path = format!("/execution/task-instances/{ti}/run");
    // Without a token the broken body is never read: 401, not 400.
    assert_eq!(call("PATCH", &path, None, Some("{broken")).await, missing());
    let (status, _, _) = call("PATCH", &path, Some(&AUTH.workload(ti)), Some("{broken")).await;
    assert_eq!(status, 400, "with a good token the body extractor runs");
}

#[actix_web::test]
async fn method_guard_comes_before_enforcement() {
    // No route answers PUT .../run, so the request is refused for its method
    // (405, as FastAPI) rather than for lack of a token.
    let path = format!("/execution/task-instances/{}/run", Uuid::new_v4());
    assert_eq!(
        call_in(execution_api::configure, "PUT", &path, None).await,
        (not_allowed(), Some("PATCH".into()))
    );
}

#[actix_web::test]
async fn a_token_is_verified_once_per_request() {
    // `Enforce` and the handler's `TiToken` both read the token.
    let verifier = AUTH.verifier();
    let app = app!(verifier.clone());
    let ti = Uuid::new_v4();
    let req = TestRequest::put()
        .uri(&heartbeat_path(&ti.to_string()))
        .insert_header(AUTH.bearer(&AUTH.execution(ti)))
        .to_request();
    let res = call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    assert_eq!(verifier.verifications(), 1);
}

#[actix_web::test]
async fn nested_configure_registers_full_paths() {
    let app = init_service(
        App::new()
            .app_data(AUTH.verifier())
            .configure(task_instances::configure),
    )
    .await;
    let ti = Uuid::new_v4();
    let req = TestRequest::put()
        .uri(&heartbeat_path(&ti.to_string()))
        .insert_header(AUTH.bearer(&AUTH.execution(ti)))
        .to_request();
    assert_eq!(
        parts(call_service(&app, req).await).await,
        echoed("heartbeat", ti, "execution")
    );
    // Only this group was configured.
    let req = TestRequest::get().uri("/execution/health").to_request();
    assert_eq!(call_service(&app, req).await.status(), 404);
}

/// The audit that keeps workload tokens off routes that should never take
/// them: every route accepting one is listed here, by hand. Adding
/// `token:workload` anywhere else fails this test until someone decides, in
/// review, that it belongs on this list.
#[test]
fn audit_routes_accepting_workload_tokens() {
    let workload: Vec<(&str, &str)> = execution_api::ROUTES
        .iter()
        .filter(|r| r.accepts(TokenType::WORKLOAD))
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        workload,
        [
            ("PATCH", "/execution/task-instances/<task_instance_id>/run"),
            (
                "GET",
                "/execution/connection-tests/<connection_test_id>/connection"
            ),
        ]
    );
    assert!(!get_connection::INFO.accepts(TokenType::WORKLOAD));
}

#[test]
fn routes_list_every_route_with_its_merged_policy() {
    let listed: Vec<(&str, &str, bool, String, Vec<&str>)> = execution_api::ROUTES
        .iter()
        .map(|r| {
            (
                r.method,
                r.path,
                r.policy.is_public(),
                r.policy.token_types().to_string(),
                r.policy.owners().iter().map(|s| s.scope()).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("GET", "/execution/health", true, String::new(), vec![]),
            (
                "GET",
                "/execution/variables/<variable_key>",
                false,
                "execution".into(),
                vec![]
            ),
            (
                "PATCH",
                "/execution/task-instances/<task_instance_id>/run",
                false,
                "execution, workload".into(),
                vec!["ti:self"],
            ),
            (
                "PUT",
                "/execution/task-instances/<task_instance_id>/heartbeat",
                false,
                "execution".into(),
                vec!["ti:self"],
            ),
            (
                "GET",
                "/execution/connection-tests/<connection_test_id>/connection",
                false,
                "workload".into(),
                vec!["ct:self"],
            ),
        ]
    );
    // A nested group lists its own routes, with the outer prefix.
    assert_eq!(
        task_instances::ROUTES
            .iter()
            .map(|r| r.path)
            .collect::<Vec<_>>(),
        [
            "/execution/task-instances/<task_instance_id>/run",
            "/execution/task-instances/<task_instance_id>/heartbeat",
        ]
    );
}

#[test]
fn route_structs_expose_their_policy() {
    const RUN_TYPES: TokenTypes = task_instances::run::POLICY.token_types();
    assert_eq!(
        RUN_TYPES,
        TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD)
    );
    let ti_self = task_instances::run::POLICY.owners();
    assert_eq!(ti_self.len(), 1);
    assert_eq!(
        (ti_self[0].scope(), ti_self[0].param(), ti_self[0].label()),
        ("ti:self", "task_instance_id", "task instance ID")
    );
    assert_eq!(
        connection_tests::connection::POLICY.token_types(),
        TokenTypes::only(TokenType::WORKLOAD)
    );
    let info: RouteInfo = task_instances::heartbeat::INFO;
    assert_eq!(
        (info.method, info.path),
        (
            "PUT",
            "/execution/task-instances/<task_instance_id>/heartbeat"
        )
    );
    assert_eq!(info.policy, task_instances::heartbeat::POLICY);
    assert!(!get_connection::POLICY.is_public());
}

#[actix_web::test]
async fn protect_enforces_as_route_does() {
    let ti = Uuid::new_v4();
    let (execution, workload) = (AUTH.execution(ti), AUTH.workload(ti));
    let state = format!("/adopted/task-instances/{ti}/state");
    for (t, ty) in [(&execution, "execution"), (&workload, "workload")] {
        assert_eq!(
            call_in(adopted_app, "GET", &state, Some(t)).await.0,
            echoed("state", ti, ty)
        );
    }
    let other = format!("/adopted/task-instances/{}/state", Uuid::new_v4());
    assert_eq!(
        call_in(adopted_app, "GET", &other, Some(&execution))
            .await
            .0,
        not_owner("task instance ID", "ti:self")
    );
    assert_eq!(call_in(adopted_app, "GET", &state, None).await.0, missing());
    // No `token:*` scope: execution only, refused before the body is read.
    assert_eq!(
        call_in(adopted_app, "PUT", &state, Some(&workload)).await.0,
        wrong_type("workload", "execution", "token:execution")
    );
    // The group's 405 covers the adopted handlers' path.
    assert_eq!(
        call_in(adopted_app, "DELETE", &state, Some(&execution)).await,
        (not_allowed(), Some("GET, PUT".into()))
    );
    assert_eq!(
        call_in(adopted_app, "POST", "/adopted/queue", Some(&workload))
            .await
            .0,
        echoed("adopted_queue", ti, "workload")
    );
    assert_eq!(
        call_in(adopted_app, "POST", "/adopted/queue", Some(&execution))
            .await
            .0,
        wrong_type("execution", "workload", "token:workload")
    );
    let listed: Vec<_> = adopted::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(
        listed,
        [
            ("GET", "/adopted/task-instances/<task_instance_id>/state"),
            ("PUT", "/adopted/task-instances/<task_instance_id>/state"),
            (
                "GET",
                "/adopted/task-instances/<task_instance_id>/files/<path:path>"
            ),
        ]
    );
}

/// SPEC §2 "A parameter that takes the rest of the path", through
/// `#[protect]` and actix's `{path:.*}`: slashes raw or encoded reach the
/// handler decoded, the owner of the prefix's `task_instance_id` is still
/// checked, and the value is never empty (actix's `.*` alone would take
/// `/files/`).
#[actix_web::test]
async fn protect_takes_the_rest_of_the_path_never_empty() {
    let ti = Uuid::new_v4();
    let token = AUTH.execution(ti);
    let files = format!("/adopted/task-instances/{ti}/files");
    for path in ["a/b/c.txt", "a/b%2Fc.txt", "a%2Fb%2Fc.txt"] {
        assert_eq!(
            call_in(adopted_app, "GET", &format!("{files}/{path}"), Some(&token))
                .await
                .0,
            (200, json!({ "sub": ti, "path": "a/b/c.txt" }), None),
            "{path}"
        );
    }
    assert_eq!(
        call_in(adopted_app, "GET", &format!("{files}/"), Some(&token))
            .await
            .0
             .0,
        404
    );
    let other = AUTH.execution(Uuid::new_v4());
    assert_eq!(
        call_in(adopted_app, "GET", &format!("{files}/a/b"), Some(&other))
            .await
            .0,
        not_owner("task instance ID", "ti:self")
    );
    assert_eq!(
        call_in(adopted_app, "PUT", &format!("{files}/a/b"), Some(&token)).await,
        (not_allowed(), Some("GET".into()))
    );
}

#[actix_web::test]
async fn wrong_method_on_a_known_path_is_405_with_allow() {
    // Allow lists every method the group declares for the path, sorted,
    // the nested group's DELETE and the differently named PUT included.
    for method in ["PATCH", "POST", "TRACE"] {
        assert_eq!(
            call_in(shop::configure, method, "/shop/items/42", None).await,
            (not_allowed(), Some("DELETE, GET, PUT".into())),
            "{method}"
        );
    }
    assert_eq!(
        call_in(shop::configure, "GET", "/shop/items/42/tags", None).await,
        (not_allowed(), Some("POST".into()))
    );
    // A literal path also lists the methods of the patterns that match it.
    assert_eq!(
        call_in(shop::configure, "PATCH", "/shop/items/search", None).await,
        (not_allowed(), Some("DELETE, GET, PUT".into()))
    );
}

#[actix_web::test]
async fn right_method_is_unaffected_by_the_405_fallback() {
    let ti = Uuid::new_v4();
    let execution = AUTH.execution(ti);
    for (method, route) in [
        ("GET", "get_item"),
        ("PUT", "put_item"),
        ("DELETE", "delete_item"),
    ] {
        assert_eq!(
            call_in(shop::configure, method, "/shop/items/42", None).await,
            (missing(), None),
            "{method} still needs its token"
        );
        assert_eq!(
            call_in(shop::configure, method, "/shop/items/42", Some(&execution)).await,
            (echoed(route, ti, "execution"), None),
            "{method}"
        );
    }
    assert_eq!(
        call_in(shop::configure, "GET", "/shop/items/search", None).await,
        ((200, json!({ "route": "search" }), None), None)
    );
    assert_eq!(
        call_in(
            shop::configure,
            "POST",
            "/shop/items/42/tags",
            Some(&execution)
        )
        .await,
        (echoed("tag", ti, "execution"), None)
    );
}

#[actix_web::test]
async fn unknown_path_stays_404() {
    for (method, path) in [
        ("GET", "/shop/nope"),
        ("PATCH", "/shop/nope"),
        ("GET", "/shop/items"),
        ("GET", "/shop/items/42/other"),
        ("POST", "/shop/items/42/tags/7"),
        ("GET", "/elsewhere"),
    ] {
        assert_eq!(
            call_in(shop::configure, method, path, None).await,
            not_found(),
            "{method} {path}"
        );
    }
}

#[actix_web::test]
async fn head_and_options_on_a_get_only_path_are_405() {
    for method in ["HEAD", "OPTIONS"] {
        let ((status, _, www_authenticate), allow) =
            call_in(shop::configure, method, "/shop/about", None).await;
        assert_eq!(
            (status, www_authenticate, allow.as_deref()),
            (405, None, Some("GET")),
            "{method}"
        );
    }
}

#[actix_web::test]
async fn wrong_method_needs_no_token_and_runs_no_policy() {
    let verifier = AUTH.verifier();
    let ti = Uuid::new_v4();
    // A good token, a broken one and another task's token: the method is
    // refused before any of them is looked at.
    for bearer in [
        AUTH.execution(ti),
        "not.a.jwt".to_owned(),
        AUTH.workload(Uuid::new_v4()),
    ] {
        let path = format!("/execution/task-instances/{ti}/heartbeat");
        assert_eq!(
            call_counted(
                verifier.clone(),
                execution_api::configure,
                "POST",
                &path,
                Some(&bearer)
            )
            .await,
            (not_allowed(), Some("PUT".into()))
        );
    }
    assert_eq!(verifier.verifications(), 0);
}

#[actix_web::test]
async fn nested_groups_answer_405_from_the_outer_configure() {
    // execution_api nests task_instances and connection_tests.
    let ti = Uuid::new_v4();
    for (method, path, allow) in [
        ("GET", heartbeat_path(&ti.to_string()), "PUT"),
        (
            "DELETE",
            format!("/execution/task-instances/{ti}/run"),
            "PATCH",
        ),
        (
            "POST",
            format!("/execution/connection-tests/{ti}/connection"),
            "GET",
        ),
        ("POST", "/execution/health".to_owned(), "GET"),
    ] {
        assert_eq!(
            call_in(execution_api::configure, method, &path, None).await,
            (not_allowed(), Some(allow.into())),
            "{method} {path}"
        );
    }
}

#[actix_web::test]
async fn nested_group_configured_alone_answers_405_for_its_own_routes() {
    assert_eq!(
        call_in(shop::nested::configure, "PATCH", "/shop/items/42", None).await,
        (not_allowed(), Some("DELETE".into()))
    );
    // The outer group's routes were not configured.
    assert_eq!(
        call_in(shop::nested::configure, "GET", "/shop/about", None).await,
        not_found()
    );
}

#[actix_web::test]
async fn route_registered_alone_keeps_404_for_other_methods() {
    // `.service(get_connection)` registers one resource and no fallback:
    // the documented limit of routes outside a `#[routes]` group.
    let (status, _, _) = call("POST", "/execution/connections/c", None, None).await;
    assert_eq!(status, 404);
}

#[test]
fn cfg_off_routes_are_not_listed() {
    let listed: Vec<(&str, &str)> = flags::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(listed, [("GET", "/flags/both"), ("POST", "/flags/both")]);
}

#[actix_web::test]
async fn cfg_off_routes_answer_404_or_405() {
    // PUT and DELETE are cfg'd out: the path knows GET and POST only.
    for method in ["PUT", "DELETE", "PATCH"] {
        assert_eq!(
            call_in(flags::configure, method, "/flags/both", None).await,
            (not_allowed(), Some("GET, POST".into())),
            "{method}"
        );
    }
    assert_eq!(
        call_in(flags::configure, "POST", "/flags/both", None).await,
        ((200, json!({ "route": "post_both" }), None), None)
    );
    // A path whose only routes are cfg'd out is unknown.
    for path in ["/flags/gone", "/flags/nested/x"] {
        assert_eq!(
            call_in(flags::configure, "GET", path, None).await,
            not_found(),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_405_never_stands_in_front_of_a_later_route() {
    // Issue 18, finding 6: `/lookup/items/<item_id>` of the first group
    // matches `/lookup/items/search` too, but GET is served by the second
    // group, and by a plain actix route after both.
    assert_eq!(
        call_in(lookup_app, "GET", "/lookup/items/search", None).await,
        ((200, json!({ "route": "lookup_search" }), None), None)
    );
    assert_eq!(
        call_in(lookup_app, "GET", "/lookup/items/plain", None).await,
        ((200, json!({ "route": "plain" }), None), None)
    );
    // A method no route serves gets 405, with the methods of both groups.
    assert_eq!(
        call_in(lookup_app, "POST", "/lookup/items/search", None).await,
        (not_allowed(), Some("GET, PUT".into()))
    );
    assert_eq!(
        call_in(lookup_app, "GET", "/lookup/items/42", None).await,
        (not_allowed(), Some("PUT".into()))
    );
    let ti = Uuid::new_v4();
    assert_eq!(
        call_in(
            lookup_app,
            "PUT",
            "/lookup/items/search",
            Some(&AUTH.execution(ti))
        )
        .await,
        (echoed("put_item", ti, "execution"), None)
    );
}
