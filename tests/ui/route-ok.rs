//! Standalone routes: every method, both parameter spellings, public and
//! protected, without a single warning.
#![deny(warnings, missing_docs)]

use actix_web::{web, App, HttpResponse};
use scopegate::{route, RoutePolicy, TiToken, TokenType, TokenTypes};

/// Moves a queued task instance to running.
#[route(
    patch,
    "/task-instances/<task_instance_id>/run",
    scopes = ["ti:self", "token:execution", "token:workload"]
)]
pub async fn run(token: TiToken, body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json((token.id, body.into_inner()))
}

#[route(put, "/task-instances/{task_instance_id}/heartbeat", scopes = ["ti:self"])]
async fn heartbeat(_token: TiToken) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[route(get, "/connection-tests/<connection_test_id>/connection", scopes = ["ct:self", "token:workload"])]
async fn connection(_token: TiToken) -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[route(post, "/xcoms/<dag_id>/<key>")]
async fn post_xcom(path: web::Path<(String, String)>) -> HttpResponse {
    HttpResponse::Ok().json(path.into_inner())
}

#[route(delete, "/variables/<variable_key>")]
async fn delete_variable() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[route(head, "/assets")]
async fn head_assets() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[route(options, "/assets")]
async fn options_assets() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[route(trace, "/assets")]
async fn trace_assets() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Generated code names nothing from actix, so a module need not import it.
mod no_actix_imports {
    use scopegate::route;

    #[route(get, "/health", public)]
    pub async fn health() -> &'static str {
        "ok"
    }
}

const RUN: RoutePolicy = run::POLICY;

fn main() {
    let _app = App::new()
        .service(run)
        .service(heartbeat)
        .service(connection)
        .service(post_xcom)
        .service(delete_variable)
        .service(head_assets)
        .service(options_assets)
        .service(trace_assets)
        .service(no_actix_imports::health);

    assert_eq!(
        RUN.token_types(),
        TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD)
    );
    assert_eq!(RUN.owners()[0].param(), "task_instance_id");
    assert_eq!(run::INFO.method, "PATCH");
    assert_eq!(run::INFO.path, "/task-instances/<task_instance_id>/run");
    assert_eq!(
        heartbeat::INFO.path,
        "/task-instances/<task_instance_id>/heartbeat"
    );
    assert_eq!(heartbeat::POLICY.token_types(), TokenTypes::EXECUTION_ONLY);
    assert_eq!(
        connection::POLICY.token_types(),
        TokenTypes::only(TokenType::WORKLOAD)
    );
    assert_eq!(post_xcom::INFO.method, "POST");
    assert_eq!(delete_variable::INFO.method, "DELETE");
    assert_eq!(head_assets::INFO.method, "HEAD");
    assert_eq!(options_assets::INFO.method, "OPTIONS");
    assert_eq!(trace_assets::INFO.method, "TRACE");
    assert!(no_actix_imports::health::POLICY.is_public());
    assert!(!no_actix_imports::health::INFO.accepts(TokenType::EXECUTION));
}
