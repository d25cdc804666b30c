//! The routes of the example's Task Execution API: all 55 operations of
//! Airflow 3.3.2's Execution API, each declared once with scopegate's DSL
//! (method, path and token policy in one attribute, checked at compile
//! time), plus the example's JWKS, its OpenAPI document and docs page, and
//! the callback token's exchange of Airflow's main branch. Which of them an
//! older client reaches, and the bodies it sees, is `versions.rs`'s.
//!
//! One top-level group, `/execution`, assembles one group per Airflow
//! router (`airflow/api_fastapi/execution_api/routes/`), each in a file of
//! its own under `routes/` as Airflow lays them out (`routes/xcoms.rs` for
//! `routes/xcoms.py`), with the router's prefix and its
//! `Security(require_auth, scopes=[...])`, so the policies read the same as
//! Airflow's. Each is marked `#[routes(.., included)]` and listed in
//! `execution`'s `include = [..]` (SPEC §2 "Groups across files"): one
//! `ROUTES`, one `configure` and one `openapi()` for all of them, the
//! ownership lint and the duplicate check on the full paths, and no
//! `configure` of their own. Routes sharing a path live in the same group,
//! in Airflow's order (`/variables/keys` before `/variables/<variable_key:path>`).
//!
//! Handlers are thin: they read the path, query and body, call the store
//! (`state.rs`), and answer with Airflow's status code and body.

#[path = "routes/asset_events.rs"]
mod asset_events;
#[path = "routes/asset_state_store.rs"]
mod asset_state_store;
#[path = "routes/assets.rs"]
mod assets;
#[path = "routes/callbacks.rs"]
mod callbacks;
#[path = "routes/connection_tests.rs"]
mod connection_tests;
#[path = "routes/connections.rs"]
mod connections;
#[path = "routes/dag_runs.rs"]
mod dag_runs;
#[path = "routes/dags.rs"]
mod dags;
#[path = "routes/docs.rs"]
pub mod docs;
#[path = "routes/health.rs"]
mod health;
#[path = "routes/hitl.rs"]
mod hitl;
#[path = "routes/query.rs"]
mod query;
#[path = "routes/task_instances.rs"]
mod task_instances;
#[path = "routes/task_reschedules.rs"]
mod task_reschedules;
#[path = "routes/task_state_store.rs"]
mod task_state_store;
#[path = "routes/variables.rs"]
mod variables;
#[path = "routes/xcoms.rs"]
mod xcoms;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Result};
use scopegate::openapi::ErrorBody;
use scopegate::{routes, Issuer, TiToken, TokenType, Verifier, REFRESHED_TOKEN_HEADER};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::errors::Invalid;
use crate::models::assets::{AssetEventsResponse, AssetResponse, InactiveAssets};
use crate::models::dags::{DagResponse, DagRun, DagRunState, DagRunStateResponse, TriggerDagRun};
use crate::models::hitl::{at_least_one, HitlAnswer, HitlRequest, HitlResponse};
use crate::models::stores::{check_value, AssetStorePut, StoredValue, TaskStorePut};
use crate::models::xcoms::XComResponse;
use crate::models::{
    Breadcrumbs, ConnectionResponse, ConnectionTestResult, EnterRunning, Heartbeat, Message, Pings,
    PrevSuccessfulDagRun, PreviousTi, RenderedFields, RunContext, SkipDownstream, StateUpdate,
    TaskStates, TiState, VariableKeys, VariablePostBody, VariableResponse,
};
use crate::state::{DagRunFilter, StateChange, Store, TiFilter, XComKey, XComSlice};
use crate::teams::has_xcom_access;
use crate::versions::Body;
use query::Query;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    execution::configure(cfg);
}

/// The OpenAPI 3.1 document of every route, generated from the same
/// declarations that enforce the policies (`execution::openapi()`), with
/// the example's title.
pub fn document() -> scopegate::openapi::utoipa::openapi::OpenApi {
    let mut doc = execution::openapi();
    doc.info.title = "Airflow Task Execution API (scopegate example)".to_owned();
    doc.info.description = Some(
        "Airflow 3.3's Task Execution API, each route declared once with scopegate's DSL: \
         its security below is the policy that is enforced."
            .to_owned(),
    );
    doc
}

/// [`document`] as JSON, built once.
fn document_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| document().to_pretty_json().unwrap_or_default())
}

/// `/health/ping`'s probe: a token this server signed, kept for at most
/// [`PROBE_REFRESH`] (or half its lifetime, if shorter) and then signed
/// again. With an RSA key a signature costs about a millisecond of CPU, so
/// signing one per ping would let anyone burn the server's CPU through a
/// public route.
pub struct HealthProbe {
    /// The longest a probe token is reused.
    refresh: std::time::Duration,
    token: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

/// How long a probe token is reused, at most.
pub const PROBE_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl HealthProbe {
    /// A probe for the tokens of `issuer`, which it signs on first use.
    pub fn new(issuer: &Issuer) -> Self {
        HealthProbe {
            refresh: PROBE_REFRESH.min(issuer.ttl(TokenType::EXECUTION) / 2),
            token: std::sync::Mutex::new(None),
        }
    }

    /// The current probe token: the one signed less than the refresh
    /// interval ago, or a new one signed by `issuer`.
    pub fn token(&self, issuer: &Issuer) -> std::result::Result<String, String> {
        let mut slot = self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((signed, token)) = &*slot {
            if signed.elapsed() < self.refresh {
                return Ok(token.clone());
            }
        }
        let token = issuer
            .issue(Uuid::nil(), TokenType::EXECUTION)
            .map_err(|e| e.to_string())?;
        *slot = Some((std::time::Instant::now(), token.clone()));
        Ok(token)
    }
}

/// 204 No Content.
fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// A JSON body checked by a validator that returns pydantic's message.
fn check_body(field: &str, result: std::result::Result<(), String>) -> Result<()> {
    result.map_err(|msg| Invalid::new("body", field, "value_error", msg).into())
}

/// An instant or `null`, spelled RFC 3339 as the JSON bodies spell
/// instants.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(transparent)]
struct Instant(#[serde(with = "time::serde::rfc3339::option")] Option<time::OffsetDateTime>);

/// Everything Airflow mounts under `/execution`: its own two routes, then
/// the groups in files of their own, in this order (the first-declared
/// route wins where two overlap, as in actix).
#[routes(
    prefix = "/execution",
    include = [
        health::health,
        assets::assets,
        asset_events::asset_events,
        callbacks::callbacks,
        connection_tests::connection_tests,
        connections::connections,
        dag_runs::dag_runs,
        dags::dags,
        task_instances::task_instances,
        task_reschedules::task_reschedules,
        variables::variables,
        xcoms::xcoms,
        hitl::hitl,
        task_state_store::task_state_store,
        asset_state_store::asset_state_store,
        docs::ui,
    ]
)]
pub mod execution {
    use super::*;

    /// The public keys this server signs with, as a JWKS, so other services
    /// can verify its tokens (`serve --jwks <this URL>`). Empty for a shared
    /// secret, which is never published. Not one of Airflow's routes.
    #[route(get, "/.well-known/jwks.json", public, responses(200 = Value))]
    pub async fn jwks(issuer: web::Data<Issuer>) -> HttpResponse {
        HttpResponse::Ok().json(issuer.jwks())
    }

    /// This API's OpenAPI 3.1 document, generated from the declarations
    /// that enforce its policies. Not one of Airflow's routes.
    #[route(get, "/openapi.json", public, responses(200 = Value))]
    pub async fn openapi_json() -> HttpResponse {
        HttpResponse::Ok()
            .content_type(header::ContentType::json())
            .body(document_json())
    }
}
