//! Assembles the example's actix app: keys, state, the routes and the
//! refresh middleware. The binary (`examples/execution_api.rs`) and the
//! end-to-end tests (`tests/e2e.rs`) both start the server through
//! [`start`], so the tests exercise exactly what users run.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpServer};
use scopegate::{ConfigError, Issuer, Reissue, SigningKey, VerificationKey, Verifier};

use crate::errors;
use crate::routes;
use crate::state::Store;

/// The audience of Airflow's task tokens (`[execution_api] jwt_audience`).
pub const AIRFLOW_AUDIENCE: &str = "urn:airflow.apache.org:task";

/// Largest request body accepted. Airflow's bodies are small.
const MAX_BODY: usize = 1 << 20;

/// How tokens are signed and checked: a shared secret with HS512, as
/// Airflow's default.
#[derive(Clone)]
pub struct AuthConfig {
    /// The shared secret.
    pub secret: String,
    /// The `aud` tokens are minted with and must carry.
    pub audience: String,
    /// The `iss` tokens are minted with and must carry, if any.
    pub issuer: Option<String>,
    /// Lifetime of execution tokens.
    pub execution_ttl: Duration,
    /// Lifetime of workload tokens.
    pub workload_ttl: Duration,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("AuthConfig")
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("execution_ttl", &self.execution_ttl)
            .field("workload_ttl", &self.workload_ttl)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// The verifier for incoming tokens.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        let mut builder =
            Verifier::builder(VerificationKey::secret(&self.secret)?).audience(&self.audience);
        if let Some(iss) = &self.issuer {
            builder = builder.issuer(iss);
        }
        builder.build()
    }

    /// The issuer of workload, swapped and refreshed tokens.
    pub fn issuer(&self) -> Result<Issuer, ConfigError> {
        let mut builder = Issuer::builder(SigningKey::secret(&self.secret)?)
            .audience(&self.audience)
            .execution_ttl(self.execution_ttl)
            .workload_ttl(self.workload_ttl);
        if let Some(iss) = &self.issuer {
            builder = builder.issuer(iss);
        }
        Ok(builder.build())
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
    /// Keys from `auth`, an empty store.
    pub fn new(auth: &AuthConfig) -> Result<Self, ConfigError> {
        Ok(Services {
            verifier: web::Data::new(auth.verifier()?),
            issuer: web::Data::new(auth.issuer()?),
            store: web::Data::new(Store::new()),
        })
    }
}

/// The app: every route under `/execution`, wrapped in the refresh
/// middleware, with FastAPI-shaped errors for bad bodies and unknown paths.
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
        .app_data(web::PathConfig::default().error_handler(errors::path_error))
        .configure(routes::configure)
        .default_service(web::to(errors::not_found))
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
