//! The router of Airflow's `routes/health.py`, in a file of its own
//! as Airflow lays it out: the group `health`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/health.py`: public, no prefix.
#[routes(included)]
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
