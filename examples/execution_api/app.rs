//! Assembles the example's actix app: keys, state, the routes and the
//! refresh middleware. The binary (`examples/execution_api.rs`) and the
//! end-to-end tests (`tests/e2e.rs`) both start the server through
//! [`start`], so the tests exercise exactly what users run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use scopegate::{
    Fallback, Issuer, JwksSource, KeySource, LogSafe, MemoryDenyList, RedisDenyList, Reissue,
    Verifier, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL,
};
use uuid::Uuid;

use crate::errors;
use crate::keys::Keys;
use crate::routes::{self, HealthProbe};
use crate::state::{Limits, Store};
use crate::teams::Teams;
use crate::versions;

/// The audience of Airflow's task tokens (`[execution_api] jwt_audience`).
pub const AIRFLOW_AUDIENCE: &str = "urn:airflow.apache.org:task";

/// The default maximum session age: 48 hours from a task's workload token
/// (24 hours, the longest it may wait in a queue) to the last refresh of
/// its execution token, so a running try's tokens are renewed for a day at
/// least, and no chain of tokens lives on for ever.
pub const DEFAULT_MAX_SESSION_AGE: Duration = Duration::from_secs(48 * 3600);

/// Room for a JSON body around the largest value the stores take.
const BODY_SLACK: usize = 64 << 10;
/// The smallest request body limit, whatever the value cap.
const MIN_BODY: usize = 1 << 20;

/// How tokens are signed and checked: a shared secret with HS512 (Airflow's
/// default) or a key pair, verified with that key or, verify-only, with the
/// keys of a JWKS (a file or another server's `/.well-known/jwks.json`).
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// What tokens are signed with, and (without `jwks`) verified with.
    pub keys: Keys,
    /// Verify with this JWKS instead of `keys`: the token's `kid` selects the
    /// key, and the set is refreshed on an interval.
    pub jwks: Option<JwksSource>,
    /// The `aud` tokens are minted with and must carry.
    pub audience: String,
    /// The `iss` tokens are minted with and must carry, if any.
    pub issuer: Option<String>,
    /// Lifetime of execution tokens.
    pub execution_ttl: Duration,
    /// Lifetime of workload tokens.
    pub workload_ttl: Duration,
    /// Whether verified tokens are cached across requests (on by default;
    /// off to measure the cost of a signature check per request).
    pub token_cache: bool,
    /// Accept a shared secret shorter than its algorithm's hash (64 bytes
    /// for HS512; an existing deployment's); off by default.
    pub allow_short_secret: bool,
    /// The longest a chain of tokens lives, from a task's first token (its
    /// workload token) on: the verifier refuses, and the refresh middleware
    /// stops renewing, tokens of an older chain. `None`: no limit (as
    /// Airflow).
    pub max_session_age: Option<Duration>,
    /// The deny-list shared with the other replicas through Redis
    /// (`serve --revocations`): every token is checked against its local
    /// copy, and `/health/ping` reports its store. Needs a maximum session
    /// age.
    pub revocations: Option<Arc<RedisDenyList>>,
    /// An in-memory deny-list instead (when `revocations` is `None`): what
    /// the bench server compares the shared one with. `serve` has none.
    pub memory_deny_list: Option<Arc<MemoryDenyList>>,
}

impl AuthConfig {
    /// `keys` for `audience`, with Airflow's default lifetimes, no issuer,
    /// no JWKS and the token cache on.
    pub fn new(keys: Keys, audience: impl Into<String>) -> Self {
        AuthConfig {
            keys,
            jwks: None,
            audience: audience.into(),
            issuer: None,
            execution_ttl: DEFAULT_EXECUTION_TTL,
            workload_ttl: DEFAULT_WORKLOAD_TTL,
            token_cache: true,
            allow_short_secret: false,
            max_session_age: Some(DEFAULT_MAX_SESSION_AGE),
            revocations: None,
            memory_deny_list: None,
        }
    }

    /// The verifier for incoming tokens. A JWKS is fetched here (on the
    /// blocking pool), so call it inside the actix runtime.
    pub async fn verifier(&self) -> Result<Verifier, String> {
        let keys: KeySource = match &self.jwks {
            Some(jwks) => jwks.clone().into(),
            None => self.keys.verification_key()?.into(),
        };
        let mut builder = Verifier::builder(keys).audience(&self.audience);
        if let Some(iss) = &self.issuer {
            builder = builder.issuer(iss);
        }
        if !self.token_cache {
            builder = builder.cache_entries(0);
        }
        if self.allow_short_secret {
            builder = builder.allow_short_secret();
        }
        if let Some(age) = self.max_session_age {
            builder = builder.max_session_age(age);
        }
        if let Some(list) = &self.revocations {
            builder = builder.deny_list(Arc::clone(list));
        } else if let Some(list) = &self.memory_deny_list {
            builder = builder.deny_list(Arc::clone(list));
        }
        builder.load().await.map_err(|e| e.to_string())
    }

    /// The issuer of workload, callback, swapped and refreshed tokens, in
    /// the example's vocabulary (its `scopegate.toml`), which its routes'
    /// policies and the refresh middleware share.
    pub fn issuer(&self) -> Result<Issuer, String> {
        let mut builder = Issuer::builder(self.keys.signing_key()?)
            .vocabulary(&crate::VOCABULARY)
            .audience(&self.audience)
            .execution_ttl(self.execution_ttl)
            .workload_ttl(self.workload_ttl)
            // A callback token waits in a queue as a workload token does.
            .ttl(crate::CALLBACK, self.workload_ttl);
        if let Some(iss) = &self.issuer {
            builder = builder.issuer(iss);
        }
        if self.allow_short_secret {
            builder = builder.allow_short_secret();
        }
        builder.build().map_err(|e| e.to_string())
    }
}

/// What every worker's app shares: built once, cloned (cheaply, they are
/// `Arc`s) into each worker.
#[derive(Clone)]
pub struct Services {
    /// Checks tokens.
    pub verifier: web::Data<Verifier>,
    /// Mints tokens for `/run` and the refresh middleware.
    pub issuer: web::Data<Issuer>,
    /// The in-memory state.
    pub store: web::Data<Store>,
    /// `/health/ping`'s probe token, signed at most every few seconds.
    pub probe: web::Data<HealthProbe>,
    /// The deny-list shared through Redis, when `--revocations` is on:
    /// `/health/ping` reports its store.
    pub revocations: Option<web::Data<RedisDenyList>>,
    /// The refresh middleware: Airflow's rules, the maximum session age,
    /// and the veto that renews only a running task instance's token.
    pub reissue: Reissue,
    /// Multi-team mode: off unless `serve --multi-team`.
    pub teams: web::Data<Teams>,
}

impl Services {
    /// Keys from `auth`, an empty store with the default caps. A JWKS is
    /// loaded now and then refreshed in the background (scopegate starts
    /// that itself) for as long as the verifier lives, so call it inside
    /// the actix runtime.
    #[allow(dead_code)] // the binary sets caps; tests/e2e.rs takes the defaults
    pub async fn load(auth: &AuthConfig) -> Result<Self, String> {
        Services::load_with(auth, Limits::default()).await
    }

    /// [`load`](Self::load), with a store of these caps.
    pub async fn load_with(auth: &AuthConfig, limits: Limits) -> Result<Self, String> {
        let issuer = web::Data::new(auth.issuer()?);
        let store = web::Data::new(Store::with_limits(limits));
        let mut reissue = Reissue::new(issuer.clone().into_inner());
        if let Some(age) = auth.max_session_age {
            reissue = reissue.max_session_age(age);
        }
        // Airflow #73303: a task instance that is no longer running (it
        // reported success, failed, was skipped, ...) gets no fresh token,
        // whatever route it calls, and neither does a subject the server
        // does not know; its token dies at its `exp`.
        let running = store.clone();
        let reissue = reissue.renew_if(move |_req, claims, _ty| {
            Uuid::parse_str(&claims.sub).is_ok_and(|id| running.may_renew(id))
        });
        Ok(Services {
            verifier: web::Data::new(auth.verifier().await?),
            probe: web::Data::new(HealthProbe::new(&issuer)),
            revocations: auth.revocations.clone().map(web::Data::from),
            issuer,
            store,
            reissue,
            teams: web::Data::new(Teams::default()),
        })
    }
}

/// The app: every route under `/execution`, wrapped in the refresh
/// middleware and the access log, with FastAPI-shaped errors for bad bodies,
/// wrong methods and unknown paths.
#[allow(dead_code)] // the binary starts it through `start`; tests/e2e.rs calls it
pub fn app(
    services: &Services,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    app_with(services, |_| {})
}

/// [`app`], with `first` registering services ahead of the example's
/// routes: the bench server's own (`bench/server.rs`). The example itself
/// registers nothing there.
pub fn app_with(
    services: &Services,
    first: fn(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = services
        .store
        .limits()
        .max_value_bytes
        .saturating_add(BODY_SLACK)
        .max(MIN_BODY);
    let mut app = App::new();
    if let Some(revocations) = &services.revocations {
        app = app.app_data(revocations.clone());
    }
    // Innermost: picks the client's Execution API version, routes an
    // older client's request as its version's router would, and
    // migrates the response to its version (versions.rs).
    app.wrap(from_fn(versions::layer))
        .wrap(services.reissue.clone())
        .wrap(from_fn(access_log))
        .app_data(services.verifier.clone())
        .app_data(services.issuer.clone())
        .app_data(services.store.clone())
        .app_data(services.probe.clone())
        .app_data(services.teams.clone())
        .app_data(
            web::JsonConfig::default()
                .limit(max_body)
                // Any content type: `curl -d` sends form-urlencoded.
                .content_type_required(false)
                .content_type(|_| true)
                .error_handler(errors::json_error),
        )
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(web::PathConfig::default().error_handler(errors::path_error))
        .configure(first)
        .configure(routes::configure)
        // Older versions' routes that a newer route now shadows, where the
        // version layer sends an older client's request for them: after
        // the routes, so that their requests never try them.
        .configure(versions::configure)
        // After `configure`, which made scopegate's `Fallback` the default
        // service: keep its 405 for a known path, answer the rest as FastAPI.
        .default_service(Fallback::or(web::to(errors::not_found)))
}

/// Logs every response at info level, target `execution_api::access`:
/// method, path (without the query string) and status, e.g.
/// `response method=PATCH path=/execution/task-instances/<id>/run status=200`.
/// Never a header, a body or a query string, so never a token.
async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_owned();
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    tracing::info!(
        target: "execution_api::access",
        method = %method,
        path = %LogSafe(&path),
        status = status.as_u16(),
        "response"
    );
    result
}

/// Binds `addr` (port 0 picks a free port) and returns the server, not yet
/// awaited, with the address it listens on.
pub fn start(
    services: Services,
    addr: &str,
    workers: usize,
) -> std::io::Result<(Server, SocketAddr)> {
    start_with(services, addr, workers, |_| {})
}

/// [`start`], serving [`app_with`]`(services, first)`.
pub fn start_with(
    services: Services,
    addr: &str,
    workers: usize,
    first: fn(&mut web::ServiceConfig),
) -> std::io::Result<(Server, SocketAddr)> {
    let server = HttpServer::new(move || app_with(&services, first))
        .workers(workers)
        .bind(addr)?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("{addr}: no address to listen on")))?;
    Ok((server.run(), bound))
}
