//! Assembles the example's actix app: keys, state, the routes and the
//! refresh middleware. The binary (`examples/execution_api.rs`) and the
//! end-to-end tests (`tests/e2e.rs`) both start the server through
//! [`start`], so the tests exercise exactly what users run.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use scopegate::{
    Fallback, Issuer, JwksSource, KeySource, Reissue, Verifier, DEFAULT_EXECUTION_TTL,
    DEFAULT_WORKLOAD_TTL,
};

use crate::errors;
use crate::keys::Keys;
use crate::routes;
use crate::state::Store;

/// The audience of Airflow's task tokens (`[execution_api] jwt_audience`).
pub const AIRFLOW_AUDIENCE: &str = "urn:airflow.apache.org:task";

/// Largest request body accepted. Airflow's bodies are small.
const MAX_BODY: usize = 1 << 20;

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
    /// Accept a shared secret shorter than 32 bytes (an existing
    /// deployment's); off by default.
    pub allow_short_secret: bool,
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
        builder.load().await.map_err(|e| e.to_string())
    }

    /// The issuer of workload, swapped and refreshed tokens.
    pub fn issuer(&self) -> Result<Issuer, String> {
        let mut builder = Issuer::builder(self.keys.signing_key()?)
            .audience(&self.audience)
            .execution_ttl(self.execution_ttl)
            .workload_ttl(self.workload_ttl);
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
}

impl Services {
    /// Keys from `auth`, an empty store. A JWKS is loaded now and then
    /// refreshed in the background (scopegate starts that itself) for as
    /// long as the verifier lives, so call it inside the actix runtime.
    pub async fn load(auth: &AuthConfig) -> Result<Self, String> {
        Ok(Services {
            verifier: web::Data::new(auth.verifier().await?),
            issuer: web::Data::new(auth.issuer()?),
            store: web::Data::new(Store::new()),
        })
    }
}

/// The app: every route under `/execution`, wrapped in the refresh
/// middleware and the access log, with FastAPI-shaped errors for bad bodies,
/// wrong methods and unknown paths.
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
    App::new()
        .wrap(Reissue::new(services.issuer.clone().into_inner()))
        .wrap(from_fn(access_log))
        .app_data(services.verifier.clone())
        .app_data(services.issuer.clone())
        .app_data(services.store.clone())
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY)
                // Any content type: `curl -d` sends form-urlencoded.
                .content_type_required(false)
                .content_type(|_| true)
                .error_handler(errors::json_error),
        )
        .app_data(web::PayloadConfig::new(MAX_BODY))
        .app_data(web::PathConfig::default().error_handler(errors::path_error))
        .configure(routes::configure)
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
        path = %path,
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
    let server = HttpServer::new(move || app(&services))
        .workers(workers)
        .bind(addr)?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("{addr}: no address to listen on")))?;
    Ok((server.run(), bound))
}
