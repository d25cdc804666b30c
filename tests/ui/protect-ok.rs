//! `#[protect]` above actix-web's own route attributes (SPEC §7): every
//! form, standalone and inside a group, without a single warning; the
//! generated services carry the policy.
#![deny(warnings, missing_docs)]

use actix_web::{get, put, route, web, App, HttpResponse};
use scopegate::{protect, routes, RoutePolicy, TiToken, TokenType, TokenTypes};

/// Adopted as it was, with a policy on top.
#[protect(scopes = ["ti:self"])]
#[put("/task-instances/{task_instance_id}/heartbeat")]
pub async fn heartbeat(_token: TiToken) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// No options: the default type, no owner.
#[protect]
#[get("/variables/{variable_key}", name = "variable")]
async fn get_variable(key: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(key.into_inner())
}

/// By path, actix's `#[route]`, and the user's own `wrap` kept.
#[scopegate::protect(scopes = ["token:workload", "ct:self"])]
#[actix_web::route(
    "/connection-tests/{connection_test_id}/connection",
    method = "GET",
    wrap = "actix_web::middleware::DefaultHeaders::new().add((\"x-extra\", \"1\"))"
)]
async fn connection(_token: TiToken) -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// `unowned` says the parameter is served to any token on purpose.
#[protect(unowned = ["task_instance_id"])]
#[route("/task-instances/{task_instance_id}/count", method = "GET")]
async fn count() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// In a group: the group's prefix and scopes apply, `configure` registers
/// the handlers and `ROUTES` lists them.
#[routes(prefix = "/task-instances/<task_instance_id>", scopes = ["ti:self"])]
pub mod task_instances {
    use super::*;

    /// Starts the task, with a workload token too.
    #[protect(scopes = ["token:execution", "token:workload"])]
    #[actix_web::patch("/run")]
    pub async fn run(_token: TiToken) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Never compiled: neither registered nor listed.
    #[cfg(any())]
    #[protect]
    #[actix_web::get("/never")]
    pub async fn never() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Compiled in debug builds, where trybuild builds.
    #[protect]
    #[cfg(debug_assertions)]
    #[actix_web::delete("/debug")]
    pub async fn debug_only() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Sets the state.
    #[scopegate::route(patch, "/state")]
    pub async fn state() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

const HEARTBEAT: RoutePolicy = heartbeat::POLICY;

fn main() {
    let _app = App::new()
        .service(heartbeat)
        .service(get_variable)
        .service(connection)
        .service(count)
        .configure(task_instances::configure);
    assert_eq!(HEARTBEAT.token_types(), TokenTypes::EXECUTION_ONLY);
    assert_eq!(HEARTBEAT.owners()[0].scope(), "ti:self");
    assert_eq!(heartbeat::INFO.method, "PUT");
    assert_eq!(
        heartbeat::INFO.path,
        "/task-instances/<task_instance_id>/heartbeat"
    );
    assert!(get_variable::POLICY.owners().is_empty());
    assert_eq!(
        connection::POLICY.token_types(),
        TokenTypes::only(TokenType::WORKLOAD)
    );
    assert_eq!(connection::INFO.method, "GET");
    assert!(count::POLICY.owners().is_empty());
    let listed: Vec<_> = task_instances::ROUTES
        .iter()
        .map(|r| (r.method, r.path, r.accepts(TokenType::WORKLOAD)))
        .collect();
    assert_eq!(
        listed,
        [
            ("PATCH", "/task-instances/<task_instance_id>/run", true),
            ("DELETE", "/task-instances/<task_instance_id>/debug", false),
            ("PATCH", "/task-instances/<task_instance_id>/state", false),
        ]
    );
    assert_eq!(task_instances::run::POLICY.owners()[0].scope(), "ti:self");
}
