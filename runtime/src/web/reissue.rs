//! [`Reissue`]: the token-refresh middleware. After the handler, a request
//! that a route policy allowed, that the handler answered with a 2xx, and
//! whose short-lived token (Airflow's *execution* token, or the types a
//! vocabulary names) is close to expiry gets a fresh token in the
//! `Refreshed-API-Token` response header.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, Error, HttpRequest};

use crate::claims::{Claims, LogSafe};
use crate::issue::Issuer;
use crate::policy::TokenType;
use crate::verify::Verifier;

use super::bearer::TokenSource;
use super::request::with_allowed;

/// The response header that carries a refreshed token, as Airflow's Task SDK
/// client expects.
pub const REFRESHED_TOKEN_HEADER: HeaderName = HeaderName::from_static("refreshed-api-token");

/// The shortest refresh window: tokens are refreshed when less than
/// `max(20% of their lifetime, 30 s)` remains.
pub const MIN_REFRESH_WINDOW_SECS: i64 = 30;

/// Refresh middleware. Register it app-wide with `.wrap(Reissue::new(issuer))`.
///
/// A response gets a `Refreshed-API-Token` only when **all** of these hold:
/// - a route policy *allowed* the request (never on a public route, a
///   handler without a policy, a 401 or a 403);
/// - the handler answered 2xx (a 409 from a finished task's heartbeat, or a
///   404, refreshes nothing, so a task's token dies with the task and a
///   stolen token cannot be kept alive by refused requests);
/// - the token's type, as the route's policy resolved it, is one of the
///   types this middleware refreshes: `execution` by default, Airflow's
///   rule (workload tokens are never refreshed); another vocabulary names
///   its short-lived types with [`refresh_types`](Self::refresh_types);
/// - the token has less than `max(20% of its lifetime, 30 s)` left;
/// - with [`max_session_age`](Self::max_session_age), or a verifier with
///   one ([`VerifierBuilder::max_session_age`](crate::VerifierBuilder::max_session_age)),
///   the token's refresh chain started less than that long ago;
/// - with [`renew_if`](Self::renew_if), the application does not veto it:
///   its hook sees the request (after the handler), the claims and the
///   type, and answers whether this token may still be renewed (the
///   example renews only a task instance that is still `running`, so a
///   finished task's token dies at its `exp`, Airflow #73303);
/// - the token came in the `Authorization` header, not from the
///   verifier's cookie (a browser's cookie is the front-end's to renew);
/// - the token's issuer is this service's own: the verifier accepts the
///   fresh token this issuer mints for it. A token of another issuer (an
///   identity provider found by discovery, a JWKS of another service) is
///   never re-minted: its issuer decides how long it lives.
///
/// The fresh token keeps the token's `sub`, type, `aud`, `iss` and extra
/// claims ([`Issuer::reissue`]), with the lifetime the issuer gives its
/// type. The issuer's vocabulary must be the routes' (Airflow's by
/// default; `scopegate::vocabulary!()` for a crate's own): otherwise
/// nothing is refreshed and an error is logged. The middleware never verifies a token: it
/// reads the result the route's enforcement left in the request, so a token
/// that expires while the handler runs is still refreshed (Airflow
/// re-verifies after the handler and misses it). A handler that set the
/// header itself (the `/run` workload-to-execution swap) keeps its value.
#[derive(Clone)]
pub struct Reissue {
    issuer: Arc<Issuer>,
    max_session_age: Option<i64>,
    types: Arc<[TokenType]>,
    renew_if: Option<Arc<RenewIf>>,
}

/// The application's refresh veto: whether this token may still be renewed.
type RenewIf = dyn Fn(&HttpRequest, &Claims, TokenType) -> bool + Send + Sync;

impl std::fmt::Debug for Reissue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reissue")
            .field("issuer", &self.issuer)
            .field("max_session_age", &self.max_session_age)
            .field("types", &self.types)
            .field("renew_if", &self.renew_if.is_some())
            .finish()
    }
}

impl Reissue {
    /// Refreshes `execution` tokens with `issuer`, which must sign with the
    /// key the verifier trusts.
    pub fn new(issuer: impl Into<Arc<Issuer>>) -> Self {
        Reissue {
            issuer: issuer.into(),
            max_session_age: None,
            types: Arc::new([TokenType::EXECUTION]),
            renew_if: None,
        }
    }

    /// Refreshes tokens of these types instead of `execution`: the
    /// short-lived types of a vocabulary other than Airflow's. A type not
    /// named here is never refreshed, so long-lived types (Airflow's
    /// `workload`) must not be named. An empty list refreshes nothing.
    #[must_use]
    pub fn refresh_types(mut self, types: &[TokenType]) -> Self {
        self.types = types.into();
        self
    }

    /// Stops refreshing once a token's refresh chain started more than `age`
    /// ago (off by default, as in Airflow, where a running task's token is
    /// refreshed for as long as it runs). The chain's start travels in the
    /// tokens, in [`SESSION_START_CLAIM`](crate::SESSION_START_CLAIM). The
    /// request's verifier's own maximum, if it has one, applies too.
    #[must_use]
    pub fn max_session_age(mut self, age: Duration) -> Self {
        self.max_session_age = Some(i64::try_from(age.as_secs()).unwrap_or(i64::MAX));
        self
    }

    /// The application's veto: a token due a refresh (every other rule
    /// holds) is renewed only if `renew(req, claims, token_type)` answers
    /// `true`. It runs after the handler, so it sees the state the request
    /// left (a task that has just reported `success` is finished), on the
    /// request's worker: answer from memory, without blocking. Called again,
    /// every hook must agree.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use std::sync::{Arc, RwLock};
    /// use scopegate::{Issuer, Reissue, SigningKey};
    ///
    /// // The task instances still running, kept by the application.
    /// let running: Arc<RwLock<HashSet<String>>> = Arc::default();
    /// let issuer = Issuer::builder(SigningKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
    ///     .audience("urn:airflow.apache.org:task")
    ///     .build()?;
    /// let reissue = Reissue::new(issuer).renew_if(move |_req, claims, _ty| {
    ///     running.read().is_ok_and(|r| r.contains(&claims.sub))
    /// });
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    #[must_use]
    pub fn renew_if(
        mut self,
        renew: impl Fn(&HttpRequest, &Claims, TokenType) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.renew_if = Some(match self.renew_if.take() {
            None => Arc::new(renew),
            Some(earlier) => Arc::new(move |req: &HttpRequest, claims: &Claims, ty: TokenType| {
                earlier(req, claims, ty) && renew(req, claims, ty)
            }),
        });
        self
    }
}

/// Whether `claims` are close enough to expiry to be refreshed at time `now`
/// (seconds since epoch): less than `max(20% of its lifetime, 30 s)` left.
/// Whether its type is refreshed at all is [`Reissue`]'s decision.
pub fn needs_refresh(claims: &Claims, now: i64) -> bool {
    let window = (claims.lifetime() / 5).max(MIN_REFRESH_WINDOW_SECS);
    claims.exp.saturating_sub(now) < window
}

impl<S, B> Transform<S, ServiceRequest> for Reissue
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = ReissueService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ReissueService {
            service,
            reissue: Rc::new(self.clone()),
        }))
    }
}

/// The service [`Reissue`] wraps around an app or scope.
#[derive(Debug)]
pub struct ReissueService<S> {
    service: S,
    reissue: Rc<Reissue>,
}

impl<S, B> Service<ServiceRequest> for ReissueService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = ReissueFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        ReissueFuture {
            inner: self.service.call(req),
            reissue: Rc::clone(&self.reissue),
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of [`ReissueService`]: the inner response, plus the header.
    pub struct ReissueFuture<F> {
        #[pin]
        inner: F,
        reissue: Rc<Reissue>,
    }
}

impl<F, B> Future for ReissueFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<B>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut poll = this.inner.poll(cx);
        if let Poll::Ready(Ok(res)) = &mut poll {
            this.reissue.after(res);
        }
        poll
    }
}

impl Reissue {
    /// Adds a fresh token to `res` if its request is due one: a route policy
    /// allowed it, its token is of a type this refreshes and close to
    /// expiry at the request's clock read, and the handler answered 2xx
    /// without setting the header itself. A request that is not due costs
    /// one look at its record: nothing is cloned, the clock is not read.
    fn after<B>(&self, res: &mut ServiceResponse<B>) {
        let due = with_allowed(res.request(), |claims, allowed, now| {
            (self.types.contains(&allowed.token_type)
                && allowed.source == TokenSource::Header
                && needs_refresh(claims, now))
            .then(|| (Arc::clone(claims), allowed, now))
        });
        let Some(Some((claims, allowed, now))) = due else {
            return;
        };
        if !res.status().is_success() || res.headers().contains_key(&REFRESHED_TOKEN_HEADER) {
            return;
        }
        if self.issuer.vocabulary() != allowed.policy.vocabulary() {
            tracing::error!(
                target: "scopegate",
                outcome = "refresh_failed",
                reason = "the issuer's vocabulary is not the route's: build it with .vocabulary(..) of the routes' vocabulary",
            );
            return;
        }
        self.refresh(&claims, allowed.token_type, now, res);
    }
}

impl Reissue {
    /// Refreshes a due token (see [`after`](Self::after)) unless its
    /// session is too old, the application vetoes it, or it is not this
    /// service's own. The rare path: kept out of [`after`](Self::after),
    /// which runs on every response.
    #[cold]
    #[inline(never)]
    fn refresh<B>(&self, claims: &Claims, ty: TokenType, now: i64, res: &mut ServiceResponse<B>) {
        let Some(verifier) = res.request().app_data::<web::Data<Verifier>>().cloned() else {
            return;
        };
        if !verifier.may_reissue(claims) {
            tracing::debug!(
                target: "scopegate",
                sub = %LogSafe(&claims.sub),
                outcome = "not_refreshed",
                reason = "a token of an identity provider is never re-minted",
            );
            return;
        }
        let verifiers = verifier
            .max_session_age()
            .map(|age| i64::try_from(age.as_secs()).unwrap_or(i64::MAX));
        let max = match (self.max_session_age, verifiers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(max) = max {
            match claims.session_start() {
                Some(start) if now.saturating_sub(start) <= max => {}
                start => {
                    tracing::info!(
                        target: "scopegate",
                        sub = %LogSafe(&claims.sub),
                        session_start = start,
                        outcome = "not_refreshed",
                        reason = "session older than the maximum session age",
                    );
                    return;
                }
            }
        }
        if let Some(renew) = &self.renew_if {
            if !renew(res.request(), claims, ty) {
                tracing::info!(
                    target: "scopegate",
                    sub = %LogSafe(&claims.sub),
                    token_type = %ty,
                    outcome = "not_refreshed",
                    reason = "vetoed by the application",
                );
                return;
            }
        }
        match self.issuer.reissue(claims, ty) {
            Ok(token) if !verifier.accepts_minted(&token, now) => {
                tracing::info!(
                    target: "scopegate",
                    sub = %LogSafe(&claims.sub),
                    outcome = "not_refreshed",
                    reason = "the token's issuer is not this service's own: the verifier does not accept what this issuer mints for it",
                );
            }
            Ok(token) => match HeaderValue::try_from(token) {
                Ok(value) => {
                    res.headers_mut().insert(REFRESHED_TOKEN_HEADER, value);
                    tracing::debug!(
                        target: "scopegate",
                        sub = %LogSafe(&claims.sub),
                        remaining = claims.exp - now,
                        outcome = "refreshed",
                    );
                }
                Err(_) => {
                    tracing::error!(target: "scopegate", outcome = "refresh_failed", reason = "token is not a valid header value")
                }
            },
            Err(err) => {
                tracing::error!(target: "scopegate", sub = %LogSafe(&claims.sub), outcome = "refresh_failed", reason = %err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{ClaimRules, SubjectFormat};
    use uuid::Uuid;

    fn claims(iat: i64, exp: i64) -> Claims {
        let payload = serde_json::json!({
            "sub": Uuid::nil().to_string(), "iat": iat, "exp": exp, "aud": "a",
        });
        let audiences = ["a".to_owned()];
        let rules = ClaimRules {
            now: iat,
            leeway: 10,
            audiences: &audiences,
            issuer: None,
            subject: SubjectFormat::Uuid,
        };
        Claims::parse(&serde_json::to_vec(&payload).unwrap(), &rules).unwrap()
    }

    #[test]
    fn refresh_window_is_max_of_20_percent_and_30_seconds() {
        // 600 s lifetime: window 120 s.
        let c = claims(1000, 1600);
        assert!(!needs_refresh(&c, 1480));
        assert!(needs_refresh(&c, 1481));
        // 100 s lifetime: 20% is 20 s, so the 30 s floor applies.
        let c = claims(1000, 1100);
        assert!(!needs_refresh(&c, 1070));
        assert!(needs_refresh(&c, 1071));
        // Already expired (mid-request): still refreshed.
        assert!(needs_refresh(&c, 1105));
    }
}
