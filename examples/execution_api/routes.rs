//! The routes of the example's Task Execution API, each declared once with
//! scopegate's DSL: method, path and token policy in one attribute, checked
//! at compile time. Groups mirror Airflow's routers
//! (`airflow/api_fastapi/execution_api/routes/`), so the policies read the
//! same as Airflow's `Security(require_auth, scopes=[...])`.

use actix_web::{web, HttpResponse};
use scopegate::{route, routes, Issuer, TiToken, TokenType, REFRESHED_TOKEN_HEADER};
use serde_json::json;

use crate::models::{EnterRunning, Heartbeat, StateUpdate, VariablePostBody};
use crate::state::{Refusal, StateChange, Store};

/// Registers every route under `/execution`, where Airflow mounts the
/// Execution API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/execution")
            .service(health)
            .service(jwks)
            .configure(task_instances::configure)
            .configure(variables::configure)
            .configure(connections::configure)
            .configure(connection_tests::configure),
    );
}

/// Liveness, no token needed.
#[route(get, "/health", public)]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "healthy"}))
}

/// The public keys this server signs with, as a JWKS, so other services
/// can verify its tokens (`serve --jwks <this URL>`). Empty for a shared
/// secret, which is never published.
#[route(get, "/.well-known/jwks.json", public)]
pub async fn jwks(issuer: web::Data<Issuer>) -> HttpResponse {
    HttpResponse::Ok().json(issuer.jwks())
}

/// A task instance's life. Every route here belongs to the task instance in
/// its path (`ti:self`).
#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
pub mod task_instances {
    use super::*;

    /// queued → running. The only route a workload token may call: its
    /// answer swaps the workload token for an execution token, sent in
    /// `Refreshed-API-Token` (the refresh middleware keeps a header the
    /// handler set).
    #[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workload"])]
    pub async fn run(
        token: TiToken,
        store: web::Data<Store>,
        issuer: web::Data<Issuer>,
        body: web::Json<EnterRunning>,
    ) -> Result<HttpResponse, Refusal> {
        let context = store.start(token.id, &body)?;
        let mut response = HttpResponse::Ok();
        if token.token_type() == TokenType::Workload {
            match issuer.issue_with_claims(token.id, TokenType::Execution, &token.claims.extra) {
                Ok(execution_token) => {
                    response.insert_header((REFRESHED_TOKEN_HEADER, execution_token));
                }
                // Only a broken key fails here. The task is running but
                // could not call back with a workload token, so say so.
                Err(err) => {
                    tracing::error!(ti = %token.id, error = %err, "could not issue an execution token");
                    return Ok(HttpResponse::InternalServerError()
                        .json(json!({"detail": "could not issue an execution token"})));
                }
            }
        }
        Ok(response.json(context))
    }

    /// "Still alive": 204 while running on the host and process that started
    /// it, 409 otherwise (the worker should then stop the task).
    #[route(put, "/<task_instance_id>/heartbeat")]
    pub async fn heartbeat(
        token: TiToken,
        store: web::Data<Store>,
        body: web::Json<Heartbeat>,
    ) -> Result<HttpResponse, Refusal> {
        store.heartbeat(token.id, &body)?;
        Ok(HttpResponse::NoContent().finish())
    }

    /// Ends a run: success, failed, skipped, removed, upstream_failed or
    /// up_for_retry. 204, or 200 when the task instance was already in that
    /// state (a retried request).
    #[route(patch, "/<task_instance_id>/state")]
    pub async fn state(
        token: TiToken,
        store: web::Data<Store>,
        body: web::Json<StateUpdate>,
    ) -> Result<HttpResponse, Refusal> {
        Ok(match store.update_state(token.id, &body)? {
            StateChange::Updated => HttpResponse::NoContent().finish(),
            StateChange::Unchanged => HttpResponse::Ok().finish(),
        })
    }
}

/// Airflow Variables, for execution tokens (the default policy).
#[routes(prefix = "/variables")]
pub mod variables {
    use super::*;

    /// `{"key", "value"}`, or 404 with a `detail`.
    #[route(get, "/<variable_key>")]
    pub async fn get(
        store: web::Data<Store>,
        key: web::Path<String>,
    ) -> Result<HttpResponse, Refusal> {
        Ok(HttpResponse::Ok().json(store.variable(&key)?))
    }

    /// Creates or replaces a variable: 201.
    #[route(put, "/<variable_key>")]
    pub async fn put(
        store: web::Data<Store>,
        key: web::Path<String>,
        body: web::Json<VariablePostBody>,
    ) -> HttpResponse {
        store.set_variable(&key, body.into_inner());
        HttpResponse::Created().json(json!({"message": "Variable successfully set"}))
    }

    /// Deletes a variable: 204, whether it existed or not.
    #[route(delete, "/<variable_key>")]
    pub async fn delete(store: web::Data<Store>, key: web::Path<String>) -> HttpResponse {
        store.delete_variable(&key);
        HttpResponse::NoContent().finish()
    }
}

/// Airflow Connections, for execution tokens (the default policy).
#[routes(prefix = "/connections")]
pub mod connections {
    use super::*;

    /// Airflow's `ConnectionResponse`, or 404 with a `detail`.
    #[route(get, "/<connection_id>")]
    pub async fn get(
        store: web::Data<Store>,
        conn_id: web::Path<String>,
    ) -> Result<HttpResponse, Refusal> {
        Ok(HttpResponse::Ok().json(store.connection(&conn_id)?))
    }
}

/// Connection tests run by a worker on behalf of the UI. Only the workload
/// token made for that test (`ct:self`) may fetch its credentials.
#[routes(prefix = "/connection-tests", scopes = ["ct:self", "token:workload"])]
pub mod connection_tests {
    use super::*;

    /// The connection to test, handed out once.
    #[route(get, "/<connection_test_id>/connection")]
    pub async fn connection(
        token: TiToken,
        store: web::Data<Store>,
    ) -> Result<HttpResponse, Refusal> {
        Ok(HttpResponse::Ok().json(store.fetch_connection_test(token.id)?))
    }
}
