//! The routes of the example's Task Execution API: all 55 operations of
//! Airflow 3.3.2's Execution API, each declared once with scopegate's DSL
//! (method, path and token policy in one attribute, checked at compile
//! time), plus the example's JWKS, its OpenAPI document and docs page, and
//! the callback token's exchange of Airflow's main branch. Which of them an
//! older client reaches, and the bodies it sees, is `versions.rs`'s.
//!
//! One top-level group, `/execution`, holds one nested group per Airflow
//! router (`airflow/api_fastapi/execution_api/routes/`), with the router's
//! prefix and its `Security(require_auth, scopes=[...])`, so the policies
//! read the same as Airflow's. Routes sharing a path live in the same group,
//! in Airflow's order (`/variables/keys` before `/variables/<variable_key:path>`).
//!
//! Handlers are thin: they read the path, query and body, call the store
//! (`state.rs`), and answer with Airflow's status code and body.

#[path = "routes/docs.rs"]
pub mod docs;
#[path = "routes/query.rs"]
mod query;

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

/// Everything Airflow mounts under `/execution`.
#[routes(prefix = "/execution")]
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

    /// `routes/health.py`: public, no prefix.
    #[routes]
    pub mod health {
        use super::*;

        /// Liveness.
        #[route(get, "/health", public, responses(200 = std::collections::HashMap<String, String>))]
        pub async fn health() -> HttpResponse {
            HttpResponse::Ok().json(json!({"status": "healthy"}))
        }

        /// Readiness of the services the API depends on. Here that is the
        /// token pipeline: a token this server signs must verify with its
        /// verifier (it would not with a `--jwks` that lacks the signing
        /// key). 500 when a service fails, as Airflow answers. The probe
        /// token is signed at most every few seconds ([`HealthProbe`]), so
        /// a ping costs a verification, which the verified-token cache
        /// answers, not a signature.
        ///
        /// With `serve --revocations`, the revocation store too: 500 while
        /// it is unreachable or its list not loaded yet, naming it by its
        /// address (never its password), 200 again once it is back.
        #[route(get, "/health/ping", public, responses(200 = Pings, 500 = Pings))]
        pub async fn ping(
            issuer: web::Data<Issuer>,
            verifier: web::Data<Verifier>,
            probe: web::Data<HealthProbe>,
            revocations: Option<web::Data<scopegate::RedisDenyList>>,
        ) -> HttpResponse {
            const NAME: &str = "scopegate.Verifier";
            let mut pings = Pings {
                ok: Vec::new(),
                failing: Default::default(),
            };
            match probe.token(&issuer).map(|token| verifier.verify(&token)) {
                Ok(Ok(_)) => pings.ok.push(NAME),
                // Not loaded yet: the deny-list logs that itself, at most
                // once a minute; a ping every second adds no line.
                Ok(Err(why @ scopegate::InvalidReason::RevocationsNotLoaded)) => {
                    pings.failing.insert(NAME, why.to_string());
                }
                Ok(Err(why)) => {
                    tracing::error!(service = NAME, error = %why, "health ping failed");
                    pings.failing.insert(NAME, why.to_string());
                }
                Err(why) => {
                    tracing::error!(service = NAME, error = %why, "health ping failed");
                    pings.failing.insert(NAME, why);
                }
            }
            if let Some(list) = revocations {
                // The list logs its outages itself, rate-limited: a ping
                // per second must not add a line per ping.
                const STORE: &str = "scopegate.RedisDenyList";
                match list.health() {
                    Ok(()) => pings.ok.push(STORE),
                    Err(why) => {
                        pings.failing.insert(STORE, why);
                    }
                }
            }
            if pings.failing.is_empty() {
                HttpResponse::Ok().json(pings)
            } else {
                HttpResponse::InternalServerError().json(pings)
            }
        }
    }

    /// `routes/assets.py`: assets the example learnt from successful tasks'
    /// outlets.
    #[routes(prefix = "/assets")]
    pub mod assets {
        use super::*;
        use crate::state::AssetRef;

        /// An asset by name, or 404.
        #[route(get, "/by-name", responses(200 = AssetResponse, 404 = ErrorBody))]
        pub async fn by_name(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let name = q.required("name")?;
            Ok(HttpResponse::Ok().json(store.asset(AssetRef::Name(name))?))
        }

        /// An asset by URI, or 404.
        #[route(get, "/by-uri", responses(200 = AssetResponse, 404 = ErrorBody))]
        pub async fn by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let uri = q.required("uri")?;
            Ok(HttpResponse::Ok().json(store.asset(AssetRef::Uri(uri))?))
        }

        /// The assets an alias resolved to; an empty list for an unknown
        /// alias.
        #[route(get, "/by-alias", responses(200 = Vec<AssetResponse>))]
        pub async fn by_alias(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let alias = q.required("alias_name")?;
            Ok(HttpResponse::Ok().json(store.assets_by_alias(alias)))
        }
    }

    /// `routes/asset_events.py`.
    #[routes(prefix = "/asset-events")]
    pub mod asset_events {
        use super::*;
        use crate::state::EventFilter;

        fn filter(q: &Query) -> Result<EventFilter> {
            Ok(EventFilter {
                after: q.datetime("after")?,
                before: q.datetime("before")?,
                descending: !q.boolean("ascending")?.unwrap_or(true),
                limit: q
                    .int("limit")?
                    .filter(|n| *n > 0)
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            })
        }

        /// Events of an asset, by name and/or URI (both parameters must be
        /// present, one may be empty; both empty is a 400).
        #[route(get, "/by-asset", responses(200 = AssetEventsResponse, 400 = ErrorBody))]
        pub async fn by_asset(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let name = q.required("name")?;
            let uri = q.required("uri")?;
            let events = store.asset_events(Some(name), Some(uri), &filter(&q)?)?;
            Ok(HttpResponse::Ok().json(events))
        }

        /// Events emitted through an asset alias.
        #[route(get, "/by-asset-alias", responses(200 = AssetEventsResponse))]
        pub async fn by_asset_alias(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let alias = q.required("name")?;
            Ok(HttpResponse::Ok().json(store.alias_events(alias, &filter(&q)?)))
        }
    }

    /// `routes/callbacks.py` of Airflow's main branch (Execution API
    /// version 2026-10-30, apache/airflow#71192; not one of Airflow
    /// 3.3.2's operations): a deadline callback's worker exchanges its
    /// single-use `callback` token, once, for an execution token. Only a
    /// callback token, and only the one minted for this callback
    /// (`callback:self`), may call it.
    #[routes(prefix = "/callbacks", scopes = ["callback:self", "token:callback"])]
    pub mod callbacks {
        use super::*;
        use crate::models::callbacks::{CallbackClaim, CallbackRun};

        /// Claims the callback (queued → running, atomically) and answers
        /// 200 with its id and state, and an execution token for the same
        /// subject in `Refreshed-API-Token`. The body (`hostname`, `pid`,
        /// `start_date`, each optional) may be `{}` or empty. 404 for an
        /// unknown callback; 409 once its token was exchanged.
        #[route(
            patch,
            "/<callback_id>/run",
            request = CallbackClaim,
            responses(200 = CallbackRun, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn run(
            token: TiToken,
            store: web::Data<Store>,
            issuer: web::Data<Issuer>,
            body: web::Bytes,
        ) -> Result<HttpResponse> {
            let claim: CallbackClaim = if body.iter().all(u8::is_ascii_whitespace) {
                CallbackClaim::default()
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| Invalid::new("body", "", "json_invalid", e.to_string()))?
            };
            let run = store.claim_callback(token.id, &claim)?;
            // The execution token continues the callback token's chain (its
            // id and start), as `/run`'s swap does, so revoking either
            // revokes both.
            match issuer.reissue(&token.claims, TokenType::EXECUTION) {
                Ok(execution_token) => Ok(HttpResponse::Ok()
                    .insert_header((REFRESHED_TOKEN_HEADER, execution_token))
                    .json(run)),
                // Only a broken key fails here, as for `/run`.
                Err(err) => {
                    tracing::error!(callback = %token.id, error = %err, "could not issue an execution token");
                    Ok(HttpResponse::InternalServerError()
                        .json(json!({"detail": "could not issue an execution token"})))
                }
            }
        }
    }

    /// `routes/connection_tests.py`: connection tests run by a worker on
    /// behalf of the UI. Only the workload token made for that test
    /// (`ct:self`) may fetch its credentials and report its result.
    #[routes(prefix = "/connection-tests", scopes = ["ct:self", "token:workload"])]
    pub mod connection_tests {
        use super::*;

        /// The connection to test, handed out once.
        #[route(
            get,
            "/<connection_test_id>/connection",
            responses(200 = ConnectionResponse, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn connection(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
            Ok(HttpResponse::Ok().json(store.fetch_connection_test(token.id)?))
        }

        /// The test's result: `success` or `failed`, once.
        #[route(patch, "/<connection_test_id>", responses(204, 404 = ErrorBody, 409 = ErrorBody))]
        pub async fn report(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<ConnectionTestResult>,
        ) -> Result<HttpResponse> {
            check_body("state", body.validate())?;
            store.report_connection_test(token.id, &body)?;
            Ok(no_content())
        }
    }

    /// `routes/connections.py`: Airflow Connections, for execution tokens
    /// (the default policy).
    #[routes(prefix = "/connections")]
    pub mod connections {
        use super::*;

        /// Airflow's `ConnectionResponse`, or 404 with a `detail`.
        #[route(get, "/<connection_id>", responses(200 = ConnectionResponse, 404 = ErrorBody))]
        pub async fn get(
            store: web::Data<Store>,
            conn_id: web::Path<String>,
        ) -> Result<HttpResponse> {
            Ok(HttpResponse::Ok().json(store.connection(&conn_id)?))
        }
    }

    /// `routes/dag_runs.py`.
    #[routes(prefix = "/dag-runs")]
    pub mod dag_runs {
        use super::*;

        /// A DAG run, or 404.
        #[route(get, "/<dag_id>/<run_id>", responses(200 = DagRun, 404 = ErrorBody))]
        pub async fn get(
            store: web::Data<Store>,
            path: web::Path<(String, String)>,
        ) -> Result<HttpResponse> {
            let (dag_id, run_id) = path.into_inner();
            Ok(HttpResponse::Ok().json(store.dag_run(&dag_id, &run_id)?))
        }

        /// Triggers a run of a known DAG (`TriggerDagRunOperator`): 204, 404
        /// for an unknown DAG, 409 when the run exists. The body is read as
        /// the client's API version defines it (`versions::Body`).
        #[route(
            post,
            "/<dag_id>/<run_id>",
            request = TriggerDagRun,
            responses(204, 404 = ErrorBody, 409 = ErrorBody)
        )]
        pub async fn trigger(
            token: TiToken,
            store: web::Data<Store>,
            path: web::Path<(String, String)>,
            body: Body<TriggerDagRun>,
        ) -> Result<HttpResponse> {
            let (dag_id, run_id) = path.into_inner();
            store.trigger_dag_run(token.id, &dag_id, &run_id, body.into_inner())?;
            Ok(no_content())
        }

        /// Clears a run: 204, or 404.
        #[route(post, "/<dag_id>/<run_id>/clear", responses(204, 404 = ErrorBody))]
        pub async fn clear(
            store: web::Data<Store>,
            path: web::Path<(String, String)>,
        ) -> Result<HttpResponse> {
            let (dag_id, run_id) = path.into_inner();
            store.clear_dag_run(&dag_id, &run_id)?;
            Ok(no_content())
        }

        /// A run's state, or 404.
        #[route(
            get,
            "/<dag_id>/<run_id>/state",
            responses(200 = DagRunStateResponse, 404 = ErrorBody)
        )]
        pub async fn state(
            store: web::Data<Store>,
            path: web::Path<(String, String)>,
        ) -> Result<HttpResponse> {
            let (dag_id, run_id) = path.into_inner();
            let state = store.dag_run_state(&dag_id, &run_id)?;
            Ok(HttpResponse::Ok().json(DagRunStateResponse { state }))
        }

        /// How many runs of a DAG match: a bare integer.
        #[route(get, "/count", responses(200 = usize))]
        pub async fn count(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let dag_id = q.required("dag_id")?;
            let filter = DagRunFilter {
                logical_dates: q.datetimes("logical_dates")?,
                run_ids: q.list("run_ids"),
                states: q.list("states"),
            };
            Ok(HttpResponse::Ok().json(store.count_dag_runs(dag_id, &filter)))
        }

        /// The latest run before a logical date, or `null`.
        #[route(get, "/previous", responses(200 = Option<DagRun>))]
        pub async fn previous(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let dag_id = q.required("dag_id")?;
            let logical_date = q.datetime("logical_date")?.ok_or_else(|| {
                Invalid::new("query", "logical_date", "missing", "Field required")
            })?;
            let in_state = q.parsed(
                "state",
                DagRunState::parse,
                "enum",
                "Input should be 'queued', 'running', 'success' or 'failed'",
            )?;
            Ok(HttpResponse::Ok().json(store.previous_dag_run(dag_id, logical_date, in_state)))
        }
    }

    /// `routes/dags.py`.
    #[routes(prefix = "/dags")]
    pub mod dags {
        use super::*;

        /// A DAG the example knows, or 404.
        #[route(get, "/<dag_id>", responses(200 = DagResponse, 404 = ErrorBody))]
        pub async fn get(
            store: web::Data<Store>,
            dag_id: web::Path<String>,
        ) -> Result<HttpResponse> {
            Ok(HttpResponse::Ok().json(store.dag(&dag_id)?))
        }
    }

    /// `routes/task_instances.py`: queries about a DAG's task instances for
    /// any execution token, then (`ti_id_router`) the routes of one task
    /// instance, which only its own token may call (`ti:self`).
    #[routes(prefix = "/task-instances")]
    pub mod task_instances {
        use super::*;

        /// The `TiFilter` of `count` and `states`.
        fn filter(q: &Query) -> Result<TiFilter> {
            Ok(TiFilter {
                map_index: q.int("map_index")?,
                task_ids: q.list("task_ids"),
                task_group_id: q.text("task_group_id").map(str::to_owned),
                logical_dates: q.datetimes("logical_dates")?,
                run_ids: q.list("run_ids"),
                states: q.list("states"),
            })
        }

        /// How many task instances of a DAG match: a bare integer.
        #[route(get, "/count", responses(200 = usize))]
        pub async fn count(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let dag_id = q.required("dag_id")?;
            Ok(HttpResponse::Ok().json(store.count_task_instances(dag_id, &filter(&q)?)?))
        }

        /// A task's instance in the latest earlier run, or `null`.
        #[route(get, "/previous/<dag_id>/<task_id>", responses(200 = Option<PreviousTi>))]
        pub async fn previous(
            store: web::Data<Store>,
            path: web::Path<(String, String)>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let (dag_id, task_id) = path.into_inner();
            let q = Query::parse(&req)?;
            let in_state = q.parsed(
                "state",
                TiState::parse,
                "enum",
                "Input should be a valid task instance state",
            )?;
            let previous = store.previous_task_instance(
                &dag_id,
                &task_id,
                q.datetime("logical_date")?,
                q.int("map_index")?.unwrap_or(-1),
                in_state,
            );
            Ok(HttpResponse::Ok().json(previous))
        }

        /// Run id → task → state.
        #[route(get, "/states", responses(200 = TaskStates))]
        pub async fn states(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let dag_id = q.required("dag_id")?;
            let filter = TiFilter {
                states: Vec::new(),
                ..filter(&q)?
            };
            Ok(HttpResponse::Ok().json(store.task_states(dag_id, &filter)?))
        }

        /// The finished task instances of a run.
        #[route(get, "/breadcrumbs", responses(200 = Breadcrumbs))]
        pub async fn breadcrumbs(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let dag_id = q.required("dag_id")?;
            let run_id = q.required("run_id")?;
            Ok(HttpResponse::Ok().json(store.breadcrumbs(dag_id, run_id)))
        }

        /// One task instance's life. Every route here belongs to the task
        /// instance in its path.
        #[routes(scopes = ["ti:self"])]
        pub mod owned {
            use super::*;

            /// queued → running. The only route a workload token may call:
            /// its answer swaps the workload token for an execution token,
            /// sent in `Refreshed-API-Token` (the refresh middleware keeps a
            /// header the handler set).
            #[route(
                patch,
                "/<task_instance_id>/run",
                scopes = ["token:execution", "token:workload"],
                responses(200 = RunContext, 404 = ErrorBody, 409 = ErrorBody)
            )]
            pub async fn run(
                token: TiToken,
                store: web::Data<Store>,
                issuer: web::Data<Issuer>,
                body: web::Json<EnterRunning>,
            ) -> Result<HttpResponse> {
                let context = store.start(token.id, &body)?;
                let mut response = HttpResponse::Ok();
                if token.token_type() == TokenType::WORKLOAD {
                    // The execution token continues the workload token's
                    // chain (its id and start), so revoking either revokes
                    // both, and the session's age counts from the queue.
                    match issuer.reissue(&token.claims, TokenType::EXECUTION) {
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

            /// Ends or pauses a run: success, failed, skipped, removed,
            /// upstream_failed, up_for_retry, deferred, up_for_reschedule or
            /// awaiting_input. 204, or 200 when the task instance was
            /// already in that state (a retried request). The body is read
            /// as the client's API version defines it (`versions::Body`).
            #[route(
                patch,
                "/<task_instance_id>/state",
                request = StateUpdate,
                responses(200, 204, 404 = ErrorBody, 409 = ErrorBody)
            )]
            pub async fn state(
                token: TiToken,
                store: web::Data<Store>,
                body: Body<StateUpdate>,
            ) -> Result<HttpResponse> {
                Ok(match store.update_state(token.id, &body)? {
                    StateChange::Updated => no_content(),
                    StateChange::Unchanged => HttpResponse::Ok().finish(),
                })
            }

            /// Skips tasks downstream of this one (a short-circuit or
            /// branch): 204.
            #[route(patch, "/<task_instance_id>/skip-downstream", responses(204, 404 = ErrorBody))]
            pub async fn skip_downstream(
                token: TiToken,
                store: web::Data<Store>,
                body: web::Json<SkipDownstream>,
            ) -> Result<HttpResponse> {
                store.skip_downstream(token.id, &body.tasks)?;
                Ok(no_content())
            }

            /// "Still alive": 204 while running on the host and process that
            /// started it, 409 otherwise (the worker should then stop the
            /// task).
            #[route(
                put,
                "/<task_instance_id>/heartbeat",
                responses(204, 404 = ErrorBody, 409 = ErrorBody)
            )]
            pub async fn heartbeat(
                token: TiToken,
                store: web::Data<Store>,
                body: web::Json<Heartbeat>,
            ) -> Result<HttpResponse> {
                store.heartbeat(token.id, &body)?;
                Ok(no_content())
            }

            /// The task's rendered template fields: 201.
            #[route(
                put,
                "/<task_instance_id>/rtif",
                responses(201 = Message, 404 = ErrorBody)
            )]
            pub async fn rtif(
                token: TiToken,
                store: web::Data<Store>,
                body: web::Json<RenderedFields>,
            ) -> Result<HttpResponse> {
                store.set_rendered_fields(token.id, body.into_inner().0)?;
                Ok(HttpResponse::Created().json(Message::new(
                    "Rendered task instance fields successfully set",
                )))
            }

            /// A mapped task instance's label (a JSON string): 204.
            #[route(
                patch,
                "/<task_instance_id>/rendered-map-index",
                responses(204, 404 = ErrorBody)
            )]
            pub async fn rendered_map_index(
                token: TiToken,
                store: web::Data<Store>,
                body: web::Json<String>,
            ) -> Result<HttpResponse> {
                store.set_rendered_map_index(token.id, body.into_inner())?;
                Ok(no_content())
            }

            /// The previous successful run of the DAG, for the template
            /// context (all `null` when none).
            #[route(
                get,
                "/<task_instance_id>/previous-successful-dagrun",
                responses(200 = PrevSuccessfulDagRun)
            )]
            pub async fn previous_successful_dagrun(
                token: TiToken,
                store: web::Data<Store>,
            ) -> HttpResponse {
                HttpResponse::Ok().json(store.previous_successful_dag_run(token.id))
            }

            /// Inlets and outlets that are not active assets.
            #[route(
                get,
                "/<task_instance_id>/validate-inlets-and-outlets",
                responses(200 = InactiveAssets, 404 = ErrorBody)
            )]
            pub async fn validate_inlets_and_outlets(
                token: TiToken,
                store: web::Data<Store>,
            ) -> Result<HttpResponse> {
                let inactive: InactiveAssets = store.validate_inlets_and_outlets(token.id)?;
                Ok(HttpResponse::Ok().json(inactive))
            }
        }
    }

    /// `routes/task_reschedules.py`.
    #[routes(prefix = "/task-reschedules", scopes = ["ti:self"])]
    pub mod task_reschedules {
        use super::*;

        /// When the task instance was first rescheduled, or `null`.
        #[route(get, "/<task_instance_id>/start_date", responses(200 = Instant))]
        pub async fn start_date(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
            let start = store.reschedule_start_date(token.id);
            Ok(HttpResponse::Ok().json(Instant(start)))
        }
    }

    /// `routes/variables.py`: Airflow Variables, for execution tokens (the
    /// default policy).
    #[routes(prefix = "/variables")]
    pub mod variables {
        use super::*;

        /// The sorted keys, by prefix and page (`limit` 1 to 10000,
        /// `offset` from 0).
        #[route(get, "/keys", responses(200 = VariableKeys))]
        pub async fn keys(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let limit = q.int("limit")?.unwrap_or(1000);
            if !(1..=10_000).contains(&limit) {
                let (kind, msg) = if limit < 1 {
                    (
                        "greater_than_equal",
                        "Input should be greater than or equal to 1",
                    )
                } else {
                    (
                        "less_than_equal",
                        "Input should be less than or equal to 10000",
                    )
                };
                return Err(Invalid::new("query", "limit", kind, msg).into());
            }
            let offset = q.int("offset")?.unwrap_or(0);
            let offset = usize::try_from(offset).map_err(|_| {
                Invalid::new(
                    "query",
                    "offset",
                    "greater_than_equal",
                    "Input should be greater than or equal to 0",
                )
            })?;
            let limit = usize::try_from(limit).unwrap_or(1000);
            Ok(HttpResponse::Ok().json(store.variable_keys(q.text("prefix"), limit, offset)))
        }

        /// `{"key", "value"}`, or 404 with a `detail`.
        #[route(get, "/<variable_key:path>", responses(200 = VariableResponse, 404 = ErrorBody))]
        pub async fn get(store: web::Data<Store>, key: web::Path<String>) -> Result<HttpResponse> {
            Ok(HttpResponse::Ok().json(store.variable(&key)?))
        }

        /// Creates or replaces a variable: 201.
        #[route(put, "/<variable_key:path>", responses(201 = Message))]
        pub async fn put(
            store: web::Data<Store>,
            key: web::Path<String>,
            body: web::Json<VariablePostBody>,
        ) -> Result<HttpResponse> {
            store.set_variable(&key, body.into_inner())?;
            Ok(HttpResponse::Created().json(Message::new("Variable successfully set")))
        }

        /// Deletes a variable: 204, whether it existed or not.
        #[route(delete, "/<variable_key:path>", responses(204))]
        pub async fn delete(store: web::Data<Store>, key: web::Path<String>) -> HttpResponse {
            store.delete_variable(&key);
            no_content()
        }
    }

    /// `routes/xcoms.py`: XComs of any task, for execution tokens (the
    /// default policy; Airflow checks nothing more outside multi-team mode).
    #[routes(prefix = "/xcoms")]
    pub mod xcoms {
        use super::*;

        type XComPath = web::Path<(String, String, String, String)>;

        fn key(path: XComPath) -> XComKey {
            let (dag_id, run_id, task_id, key) = path.into_inner();
            XComKey {
                dag_id,
                run_id,
                task_id,
                key,
            }
        }

        /// One value of a mapped task, by position in map-index order.
        #[route(
            get,
            "/<dag_id>/<run_id>/<task_id>/<key:path>/item/<offset>",
            responses(200 = Value, 404 = ErrorBody)
        )]
        pub async fn item(
            store: web::Data<Store>,
            path: web::Path<(String, String, String, String, i64)>,
        ) -> Result<HttpResponse> {
            let (dag_id, run_id, task_id, key, offset) = path.into_inner();
            let key = XComKey {
                dag_id,
                run_id,
                task_id,
                key,
            };
            Ok(HttpResponse::Ok().json(store.xcom_item(&key, offset)?))
        }

        /// The values of a mapped task, sliced as a Python list.
        #[route(get, "/<dag_id>/<run_id>/<task_id>/<key:path>/slice", responses(200 = Value))]
        pub async fn slice(
            store: web::Data<Store>,
            path: XComPath,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let slice = XComSlice {
                start: q.int("start")?,
                stop: q.int("stop")?,
                step: q.int("step")?,
                include_prior_dates: q.boolean("include_prior_dates")?.unwrap_or(false),
            };
            Ok(HttpResponse::Ok().json(store.xcom_slice(&key(path), &slice)))
        }

        /// How many values are stored, in `Content-Range: map_indexes <n>`.
        /// A `map_index` is Airflow's 400.
        #[route(head, "/<dag_id>/<run_id>/<task_id>/<key:path>", responses(200, 400 = ErrorBody))]
        pub async fn head(
            store: web::Data<Store>,
            path: XComPath,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            if q.int("map_index")?.is_some() {
                return Err(crate::state::Refusal::BadRequest {
                    reason: "invalid_request",
                    message: "Cannot specify map_index in a HEAD request".into(),
                }
                .into());
            }
            let count = store.count_xcoms(&key(path));
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_RANGE, format!("map_indexes {count}")))
                .json(Value::Null))
        }

        /// One value: at `map_index` (default -1), or the `offset`-th by map
        /// index.
        #[route(
            get,
            "/<dag_id>/<run_id>/<task_id>/<key:path>",
            responses(200 = XComResponse, 404 = ErrorBody)
        )]
        pub async fn get(
            store: web::Data<Store>,
            path: XComPath,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let xcom = store.get_xcom(
                &key(path),
                q.int("map_index")?.unwrap_or(-1),
                q.boolean("include_prior_dates")?.unwrap_or(false),
                q.int("offset")?,
            )?;
            Ok(HttpResponse::Ok().json(xcom))
        }

        /// Stores a value (any JSON; an empty body is `null`): 201.
        #[route(
            post,
            "/<dag_id>/<run_id>/<task_id>/<key:path>",
            request = Value,
            responses(201 = Message)
        )]
        pub async fn set(
            store: web::Data<Store>,
            path: XComPath,
            req: HttpRequest,
            body: web::Bytes,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let value: Value = if body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| Invalid::new("body", "", "json_invalid", e.to_string()))?
            };
            // Read, as Airflow's signature does; it only marks the value in
            // Airflow's table for its UI.
            q.boolean("dag_result")?;
            store.set_xcom(
                &key(path),
                value,
                q.int("map_index")?.unwrap_or(-1),
                q.int("mapped_length")?,
            )?;
            Ok(HttpResponse::Created().json(Message::new("XCom successfully set")))
        }

        /// Deletes the value at `map_index` (default -1): 200.
        #[route(delete, "/<dag_id>/<run_id>/<task_id>/<key:path>", responses(200 = Message))]
        pub async fn delete(
            store: web::Data<Store>,
            path: XComPath,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            let q = Query::parse(&req)?;
            let key = key(path);
            store.delete_xcom(&key, q.int("map_index")?.unwrap_or(-1));
            Ok(HttpResponse::Ok().json(Message::new(format!(
                "XCom with key: {} successfully deleted.",
                key.key
            ))))
        }
    }

    /// `routes/hitl.py`: human-in-the-loop details of one task instance.
    #[routes(prefix = "/hitlDetails", scopes = ["ti:self"])]
    pub mod hitl {
        use super::*;

        /// Records the task's question (or returns the one recorded): 201.
        #[route(post, "/<task_instance_id>", responses(201 = HitlRequest))]
        pub async fn ask(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<HitlRequest>,
        ) -> Result<HttpResponse> {
            at_least_one("options", &body.options)
                .map_err(|(field, msg)| Invalid::new("body", field, "too_short", msg))?;
            Ok(HttpResponse::Created().json(store.ask_hitl(token.id, body.into_inner())?))
        }

        /// Records the answer, once (409 after).
        #[route(patch, "/<task_instance_id>", responses(200 = HitlResponse, 409 = ErrorBody))]
        pub async fn answer(
            token: TiToken,
            store: web::Data<Store>,
            body: web::Json<HitlAnswer>,
        ) -> Result<HttpResponse> {
            at_least_one("chosen_options", &body.chosen_options)
                .map_err(|(field, msg)| Invalid::new("body", field, "too_short", msg))?;
            Ok(HttpResponse::Ok().json(store.answer_hitl(token.id, body.into_inner())?))
        }

        /// The answer part, or 404 before a question.
        #[route(get, "/<task_instance_id>", responses(200 = HitlResponse, 404 = ErrorBody))]
        pub async fn get(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
            Ok(HttpResponse::Ok().json(store.hitl(token.id)?))
        }
    }

    /// `routes/task_state_store.py`: values one task instance keeps.
    #[routes(prefix = "/store/ti", scopes = ["ti:self"])]
    pub mod task_state_store {
        use super::*;

        type KeyPath = web::Path<(String, String)>;

        /// A stored value, or 404.
        #[route(get, "/<task_instance_id>/<key:path>", responses(200 = StoredValue, 404 = ErrorBody))]
        pub async fn get(
            token: TiToken,
            store: web::Data<Store>,
            path: KeyPath,
        ) -> Result<HttpResponse> {
            let value = store.task_store_get(token.id, &path.1)?;
            Ok(HttpResponse::Ok().json(StoredValue { value }))
        }

        /// Stores a value (not `null`): 204.
        #[route(put, "/<task_instance_id>/<key:path>", responses(204))]
        pub async fn put(
            token: TiToken,
            store: web::Data<Store>,
            path: KeyPath,
            body: web::Json<TaskStorePut>,
        ) -> Result<HttpResponse> {
            check_body("value", check_value(&body.value))?;
            let TaskStorePut { value, expires_at } = body.into_inner();
            store.task_store_set(token.id, &path.1, value, expires_at)?;
            Ok(no_content())
        }

        /// Deletes a value: 204.
        #[route(delete, "/<task_instance_id>/<key:path>", responses(204))]
        pub async fn delete(
            token: TiToken,
            store: web::Data<Store>,
            path: KeyPath,
        ) -> Result<HttpResponse> {
            store.task_store_delete(token.id, &path.1)?;
            Ok(no_content())
        }

        /// Deletes every value of the task instance: 204.
        #[route(delete, "/<task_instance_id>", responses(204))]
        pub async fn clear(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
            store.task_store_clear(token.id)?;
            Ok(no_content())
        }
    }

    /// `routes/asset_state_store.py`: values shared through an asset, named
    /// by its name or its URI.
    #[routes(prefix = "/store/asset")]
    pub mod asset_state_store {
        use super::*;
        use crate::state::AssetRef;

        /// `(name or uri, key)` from the query; both non-empty.
        fn asset_and_key<'q>(q: &'q Query, by: &str) -> Result<(AssetRef<'q>, &'q str)> {
            let asset = q.required_nonempty(by)?;
            let key = q.required_nonempty("key")?;
            let asset = if by == "name" {
                AssetRef::Name(asset)
            } else {
                AssetRef::Uri(asset)
            };
            Ok((asset, key))
        }

        fn asset_only<'q>(q: &'q Query, by: &str) -> Result<AssetRef<'q>> {
            let asset = q.required_nonempty(by)?;
            Ok(if by == "name" {
                AssetRef::Name(asset)
            } else {
                AssetRef::Uri(asset)
            })
        }

        async fn get_value(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
            let q = Query::parse(req)?;
            let (asset, key) = asset_and_key(&q, by)?;
            let value = store.asset_store_get(asset, key)?;
            Ok(HttpResponse::Ok().json(StoredValue { value }))
        }

        async fn put_value(
            store: &Store,
            req: &HttpRequest,
            by: &str,
            writer: Uuid,
            body: AssetStorePut,
        ) -> Result<HttpResponse> {
            let q = Query::parse(req)?;
            let (asset, key) = asset_and_key(&q, by)?;
            check_body("value", check_value(&body.value))?;
            store.asset_store_set(asset, key, body.value, writer)?;
            Ok(no_content())
        }

        async fn delete_value(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
            let q = Query::parse(req)?;
            let (asset, key) = asset_and_key(&q, by)?;
            store.asset_store_delete(asset, key)?;
            Ok(no_content())
        }

        async fn clear_values(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
            let q = Query::parse(req)?;
            store.asset_store_clear(asset_only(&q, by)?)?;
            Ok(no_content())
        }

        /// A value, by asset name.
        #[route(get, "/by-name/value", responses(200 = StoredValue, 404 = ErrorBody))]
        pub async fn get_by_name(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            get_value(&store, &req, "name").await
        }

        /// Stores a value, by asset name: 204.
        #[route(put, "/by-name/value", responses(204))]
        pub async fn put_by_name(
            token: TiToken,
            store: web::Data<Store>,
            req: HttpRequest,
            body: web::Json<AssetStorePut>,
        ) -> Result<HttpResponse> {
            put_value(&store, &req, "name", token.id, body.into_inner()).await
        }

        /// Deletes a value, by asset name: 204.
        #[route(delete, "/by-name/value", responses(204))]
        pub async fn delete_by_name(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            delete_value(&store, &req, "name").await
        }

        /// Deletes every value of an asset, by name: 204.
        #[route(delete, "/by-name/clear", responses(204))]
        pub async fn clear_by_name(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            clear_values(&store, &req, "name").await
        }

        /// A value, by asset URI.
        #[route(get, "/by-uri/value", responses(200 = StoredValue, 404 = ErrorBody))]
        pub async fn get_by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
            get_value(&store, &req, "uri").await
        }

        /// Stores a value, by asset URI: 204.
        #[route(put, "/by-uri/value", responses(204))]
        pub async fn put_by_uri(
            token: TiToken,
            store: web::Data<Store>,
            req: HttpRequest,
            body: web::Json<AssetStorePut>,
        ) -> Result<HttpResponse> {
            put_value(&store, &req, "uri", token.id, body.into_inner()).await
        }

        /// Deletes a value, by asset URI: 204.
        #[route(delete, "/by-uri/value", responses(204))]
        pub async fn delete_by_uri(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            delete_value(&store, &req, "uri").await
        }

        /// Deletes every value of an asset, by URI: 204.
        #[route(delete, "/by-uri/clear", responses(204))]
        pub async fn clear_by_uri(
            store: web::Data<Store>,
            req: HttpRequest,
        ) -> Result<HttpResponse> {
            clear_values(&store, &req, "uri").await
        }
    }

    /// A browsable page of the OpenAPI document (Swagger UI), which works
    /// offline: its files are served by the route below, under a
    /// Content-Security-Policy of this origin only. Not one of Airflow's
    /// routes. Declared last: actix tries routes in order, so the API's
    /// own requests do not try these first.
    #[route(get, "/docs", public, responses(200))]
    pub async fn docs() -> HttpResponse {
        super::docs::page()
    }

    /// The docs page's script, styles and icons, from Swagger UI's files
    /// built into the example; 404 for any other name. Not one of
    /// Airflow's routes.
    #[route(get, "/docs/<file>", public, responses(200, 404))]
    pub async fn docs_asset(file: web::Path<String>) -> HttpResponse {
        super::docs::asset(&file)
            .unwrap_or_else(|| HttpResponse::NotFound().json(json!({"detail": "Not Found"})))
    }
}
