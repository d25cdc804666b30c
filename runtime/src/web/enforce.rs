//! [`Enforce`]: the service wrapper that applies a [`RoutePolicy`], then the
//! route's guards, before the handler (and its body extractors) run.
//! `#[route]` wraps every protected resource in one.

use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{web, Error, ResponseError};
use futures_util::future::{Either, FutureExt as _, LocalBoxFuture, Map};

use crate::claims::{now, LogSafe};
use crate::jose::InvalidReason;
use crate::policy::RoutePolicy;
use crate::verify::Verifier;

use super::error::AuthError;
use super::extract::Token;
use super::guard::{Deny, GuardEntry, GuardFuture};
use super::render::{reason, render, Refusal};
use super::request::{
    forget, mark_allowed, no_verifier, record, recorded, token_source, token_str, unmark,
    verify_request, Allowed,
};

/// Middleware that enforces a route's policy: bearer token, verification
/// (cached in the request), token type (in the route's vocabulary), then
/// its requirements (owners, permissions, `any(..)`s); then its guards, in
/// order. A refused request gets its answer, in the shape of the
/// application's [`Renderer`](crate::Renderer), and never reaches the inner
/// service, so its body is never read.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use scopegate::{Enforce, RoutePolicy, TokenTypes};
///
/// static POLICY: RoutePolicy = RoutePolicy::protected(TokenTypes::EXECUTION_ONLY, &[]);
/// let app = App::new().service(
///     web::resource("/variables/{variable_key}")
///         .wrap(Enforce::new(&POLICY))
///         .get(|| async { HttpResponse::Ok() }),
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Enforce {
    policy: &'static RoutePolicy,
    guards: &'static [GuardEntry],
}

impl Enforce {
    /// Enforces `policy` on the wrapped service.
    pub const fn new(policy: &'static RoutePolicy) -> Self {
        Enforce {
            policy,
            guards: &[],
        }
    }

    /// Runs `guards`, in order, after the policy allowed a request and
    /// before the wrapped service; the first that refuses answers. The
    /// macros pass the route's guards (its groups' first).
    #[must_use]
    pub const fn with_guards(mut self, guards: &'static [GuardEntry]) -> Self {
        self.guards = guards;
        self
    }

    /// Runs the policy on one request. On success the request is marked as
    /// allowed by this policy, with the verified claims and the token's
    /// type, for the handler's token extractor
    /// ([`TiToken`](crate::TiToken), [`Token`](crate::Token)) and for
    /// [`Reissue`](crate::Reissue).
    pub fn check(&self, req: &ServiceRequest) -> Result<(), AuthError> {
        self.decide(req).map(drop)
    }

    /// [`Enforce::check`], with the token it allowed for the route's guards
    /// (none for a public route, or a route without guards): taken from
    /// the decision, not read back from the request.
    fn decide(&self, req: &ServiceRequest) -> Result<Option<Token>, AuthError> {
        if self.policy.is_public() {
            return Ok(None);
        }
        let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
            return Err(no_verifier(req.request()));
        };
        let http = req.request();
        // The request's one clock read: the cache's expiry check, a fresh
        // verification's claim rules and Reissue's refresh decision use it.
        let now = now();
        let (outcome, was_recorded) = match recorded(http, verifier) {
            Some(outcome) => (outcome, true),
            None => (verify_request(http, verifier, now), false),
        };
        let claims = match outcome {
            Ok(claims) => claims,
            Err(err) => {
                if !was_recorded {
                    record(http, verifier, Err(err.clone()), None, now);
                }
                return Err(err);
            }
        };
        match self.policy.check(&*claims, req.match_info()) {
            Ok(token_type) => {
                tracing::debug!(
                    target: "scopegate",
                    method = %req.method(),
                    route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
                    token_type = %token_type,
                    outcome = "allowed",
                );
                let allowed = Allowed {
                    policy: self.policy,
                    token_type,
                    source: token_source(http, verifier),
                };
                let token = (!self.guards.is_empty())
                    .then(|| Token::allowed(Arc::clone(&claims), token_type, self.policy));
                if was_recorded {
                    mark_allowed(http, verifier, allowed, now);
                } else {
                    record(http, verifier, Ok(claims), Some(allowed), now);
                }
                Ok(token)
            }
            Err(denial) => {
                let err = AuthError::from(denial);
                let outcome = if err.status_code() == 401 {
                    "rejected"
                } else {
                    "forbidden"
                };
                tracing::info!(
                    target: "scopegate",
                    method = %req.method(),
                    route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
                    sub = %LogSafe(&claims.sub),
                    outcome,
                    reason = %err,
                );
                if !was_recorded {
                    record(http, verifier, Ok(claims), None, now);
                }
                Err(err)
            }
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Enforce
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = EnforceService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EnforceService {
            service: Rc::new(service),
            enforce: *self,
        }))
    }
}

/// The service [`Enforce`] wraps around a resource.
#[derive(Debug)]
pub struct EnforceService<S> {
    service: Rc<S>,
    enforce: Enforce,
}

type Response<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

/// The rare path of [`EnforceService::call`], kept out of it so that the
/// common path stays small: an unknown `kid`, or an issuer without keys
/// yet, refreshes that issuer's keys (rate-limited) and decides again.
#[cold]
#[inline(never)]
fn refresh_then_check<S, B>(
    service: Rc<S>,
    enforce: Enforce,
    req: ServiceRequest,
) -> LocalBoxFuture<'static, Response<B>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    Box::pin(async move {
        if let Some(verifier) = req.app_data::<web::Data<Verifier>>().cloned() {
            if let Some(token) = token_str(req.request(), &verifier) {
                let token = token.to_owned();
                verifier.refresh_early(&token).await;
            }
        }
        forget(req.request());
        match enforce.decide(&req) {
            Ok(token) => guarded(service, req, enforce.guards, token).await,
            Err(err) => refuse(req, &err),
        }
    })
}
type LeftBody<B> = fn(Result<ServiceResponse<B>, Error>) -> Response<B>;

fn refuse<B>(req: ServiceRequest, err: &AuthError) -> Response<B> {
    let res = render(req.request(), &err.refusal());
    Ok(req.into_response(res).map_into_right_body())
}

/// Runs `guards` on a request its policy allowed, then the service; the
/// first refusal answers ([`deny_with`]). The same steps as
/// [`EnforceService::call`]'s, awaited.
async fn guarded<S, B>(
    service: Rc<S>,
    req: ServiceRequest,
    guards: &'static [GuardEntry],
    token: Option<Token>,
) -> Response<B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    match start_guards(&req, guards, token) {
        Started::Passed => service
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Started::NoToken(err) => refuse(req, &err),
        Started::Denied(entry, deny) => deny_with(req, entry, &deny),
        Started::Waiting { at, future, token } => {
            resume_guards(service, req, guards, at, future, token).await
        }
    }
}

/// The guards from guard `at` on, whose future was started already (and
/// has to wait), then the service: see [`start_guards`].
async fn resume_guards<S, B>(
    service: Rc<S>,
    req: ServiceRequest,
    guards: &'static [GuardEntry],
    at: usize,
    started: GuardFuture<'static>,
    token: Token,
) -> Response<B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let mut started = Some(started);
    for entry in guards.get(at..).unwrap_or_default() {
        let future = match started.take() {
            Some(future) => future,
            None => entry.guard().check(req.request(), &token),
        };
        // Awaited here, so dropped (with the request it holds) before the
        // service is called.
        if let Err(deny) = future.await {
            return deny_with(req, entry, &deny);
        }
    }
    drop(token);
    service
        .call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// What running a route's guards in place came to.
enum Started {
    /// Every guard allowed the request.
    Passed,
    /// No token to give the guards (never on a request the policy
    /// allowed; answered as such).
    NoToken(AuthError),
    /// A guard refused the request.
    Denied(&'static GuardEntry, Deny),
    /// Guard `at` has to wait: its future, to await with the rest.
    Waiting {
        at: usize,
        future: GuardFuture<'static>,
        token: Token,
    },
}

/// Runs `guards` in place, each future polled once: a guard that answers
/// at once (most do) costs no boxed future for the whole request; the
/// first that has to wait is kept, with the token, for [`resume_guards`],
/// which polls it again with the task's own waker before anything else.
fn start_guards(
    req: &ServiceRequest,
    guards: &'static [GuardEntry],
    token: Option<Token>,
) -> Started {
    if guards.is_empty() {
        return Started::Passed;
    }
    // The decision's token; read back from the request only for guards on
    // a public policy (never so from the macros), which then have none.
    let token = match token.map_or_else(|| Token::of_request(req.request()), Ok) {
        Ok(token) => token,
        Err(err) => return Started::NoToken(err),
    };
    let mut cx = Context::from_waker(Waker::noop());
    for (at, entry) in guards.iter().enumerate() {
        let mut future = entry.guard().check(req.request(), &token);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(deny)) => return Started::Denied(entry, deny),
            Poll::Pending => return Started::Waiting { at, future, token },
        }
    }
    Started::Passed
}

/// A guard's refusal, logged and rendered; the allowed mark is taken off
/// the request, so nothing downstream hands out its token or refreshes it.
fn deny_with<B>(req: ServiceRequest, entry: &GuardEntry, deny: &Deny) -> Response<B> {
    unmark(req.request());
    tracing::info!(
        target: "scopegate",
        method = %req.method(),
        route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
        guard = entry.info().name(),
        status = deny.status().as_u16(),
        outcome = "refused",
    );
    let refusal = Refusal::new(
        deny.status(),
        reason::GUARD,
        std::borrow::Cow::Borrowed(deny.detail()),
    );
    let res = render(req.request(), &refusal);
    Ok(req.into_response(res).map_into_right_body())
}

impl<S, B> Service<ServiceRequest> for EnforceService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    /// Allowed (its guards, if any, answered at once): the inner call.
    /// Refused: a ready response. A guard that has to wait, an unknown
    /// `kid` with a JWKS, or an issuer without keys yet (that issuer's keys
    /// are refreshed, rate-limited, and the decision made again): a boxed
    /// future, the only paths that allocate one.
    #[allow(clippy::type_complexity)]
    type Future = Either<
        Map<S::Future, LeftBody<B>>,
        Either<Ready<Response<B>>, LocalBoxFuture<'static, Response<B>>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match self.enforce.decide(&req) {
            Ok(token) => match start_guards(&req, self.enforce.guards, token) {
                Started::Passed => Either::Left(
                    self.service
                        .call(req)
                        .map((|res| res.map(ServiceResponse::map_into_left_body)) as LeftBody<B>),
                ),
                Started::NoToken(err) => Either::Right(Either::Left(ready(refuse(req, &err)))),
                Started::Denied(entry, deny) => {
                    Either::Right(Either::Left(ready(deny_with(req, entry, &deny))))
                }
                Started::Waiting { at, future, token } => {
                    Either::Right(Either::Right(Box::pin(resume_guards(
                        Rc::clone(&self.service),
                        req,
                        self.enforce.guards,
                        at,
                        future,
                        token,
                    ))))
                }
            },
            Err(AuthError::InvalidToken(
                InvalidReason::UnknownKey | InvalidReason::KeysUnavailable,
            )) => Either::Right(Either::Right(refresh_then_check(
                Rc::clone(&self.service),
                self.enforce,
                req,
            ))),
            Err(err) => Either::Right(Either::Left(ready(refuse(req, &err)))),
        }
    }
}
