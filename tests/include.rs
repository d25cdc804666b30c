//! Groups across files (SPEC §2, issue 25): a top-level group that
//! includes groups written in files of their own serves, lists and
//! documents them exactly as if they were written inline, under its
//! prefix and scopes; an included group has no `configure` of its own.

mod common;

use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use scopegate::testing::TestAuth;
use scopegate::{routes, TiToken, TokenType};
use serde_json::{json, Value};
use uuid::Uuid;

static AUTH: std::sync::LazyLock<TestAuth> = std::sync::LazyLock::new(TestAuth::new);

fn echo(token: &TiToken, route: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "route": route, "sub": token.id }))
}

// The groups' own files: each holds one group marked `included`.
#[path = "include/task_instances.rs"]
mod task_instances;
#[path = "include/variables.rs"]
mod variables;

/// The top-level group: its own routes, then the included groups, in the
/// order of `include`.
#[routes(prefix = "/execution", include = [task_instances::task_instances, variables::variables])]
pub mod execution {
    use super::*;

    #[route(get, "/health", public)]
    pub async fn health() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "status": "healthy" }))
    }
}

async fn call(method: &str, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let app = init_service(
        App::new()
            .app_data(AUTH.verifier())
            .configure(execution::configure),
    )
    .await;
    let mut req = TestRequest::default()
        .method(method.parse().unwrap())
        .uri(path);
    if let Some(bearer) = bearer {
        req = req.insert_header(AUTH.bearer(bearer));
    }
    let (status, body, _) = common::parts(call_service(&app, req.to_request()).await).await;
    (status, body)
}

#[test]
fn routes_lists_every_route_with_its_full_path_and_merged_policy() {
    let listed: Vec<(&str, &str, bool)> = execution::ROUTES
        .iter()
        .map(|r| (r.method, r.path, !r.policy.owners().is_empty()))
        .collect();
    assert_eq!(
        listed,
        [
            ("GET", "/execution/health", false),
            ("GET", "/execution/task-instances/count", false),
            (
                "PUT",
                "/execution/task-instances/<task_instance_id>/heartbeat",
                true
            ),
            (
                "PATCH",
                "/execution/task-instances/<task_instance_id>/run",
                true
            ),
            ("GET", "/execution/variables/keys", false),
            ("GET", "/execution/variables/<variable_key:path>", false),
            ("PUT", "/execution/variables/<variable_key:path>", false),
        ]
    );
    // The included groups are modules of the top-level group, as if
    // written inline there.
    assert_eq!(
        execution::task_instances::owned::ROUTES[0].path,
        "/execution/task-instances/<task_instance_id>/heartbeat"
    );
    assert_eq!(
        execution::task_instances::owned::run::POLICY
            .token_types()
            .iter()
            .collect::<Vec<_>>(),
        [TokenType::WORKLOAD]
    );
}

#[actix_web::test]
async fn included_routes_are_served_under_the_enclosing_prefix_and_scopes() {
    let ti = Uuid::new_v4();
    let token = AUTH.execution(ti);
    assert_eq!(
        call(
            "PUT",
            &format!("/execution/task-instances/{ti}/heartbeat"),
            Some(&token)
        )
        .await,
        (200, json!({ "route": "heartbeat", "sub": ti }))
    );
    // `ti:self` from the nested group of the included file.
    let other = AUTH.execution(Uuid::new_v4());
    let (status, _) = call(
        "PUT",
        &format!("/execution/task-instances/{ti}/heartbeat"),
        Some(&other),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        call("GET", "/execution/variables/team/db", Some(&token)).await,
        (200, json!({ "route": "get_variable", "sub": ti }))
    );
    assert_eq!(
        call("PUT", "/execution/variables/keys", Some(&token)).await,
        (200, json!({ "route": "put_variable", "sub": ti }))
    );
    // 405 with the methods of the path across the tree.
    let (status, body) = call("DELETE", "/execution/variables/x", None).await;
    assert_eq!(
        (status, body),
        (405, json!({ "detail": "Method Not Allowed" }))
    );
    assert_eq!(call("GET", "/execution/health", None).await.0, 200);
    assert_eq!(
        call("GET", "/task-instances/count", Some(&token)).await.0,
        404
    );
}
