//! [`Enforce`]: the service wrapper that applies a [`RoutePolicy`] before the
//! handler (and its body extractors) run. `#[route]` wraps every protected
//! resource in one.

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, ResponseError};
use futures_util::future::{Either, FutureExt as _, Map};

use crate::error::AuthError;
use crate::policy::RoutePolicy;
use crate::verify::authenticate;

/// Middleware that enforces a route's policy: bearer token, verification
/// (cached in the request), token type, then self-scopes. A refused request
/// gets its [`AuthError`] response and never reaches the inner service, so its
/// body is never read.
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
}

impl Enforce {
    /// Enforces `policy` on the wrapped service.
    pub const fn new(policy: &'static RoutePolicy) -> Self {
        Enforce { policy }
    }

    /// Runs the policy on one request. On success the cached claims are in
    /// the request's extensions for the handler's [`TiToken`](crate::TiToken).
    pub fn check(&self, req: &ServiceRequest) -> Result<(), AuthError> {
        if self.policy.is_public() {
            return Ok(());
        }
        let claims = authenticate(req.request())?;
        let decision = self.policy.check(&claims, req.match_info());
        match &decision {
            Ok(()) => tracing::debug!(
                target: "scopegate",
                method = %req.method(),
                route = req.match_pattern().as_deref().unwrap_or(req.path()),
                token_type = %claims.scope,
                outcome = "allowed",
            ),
            Err(err) => tracing::info!(
                target: "scopegate",
                method = %req.method(),
                route = req.match_pattern().as_deref().unwrap_or(req.path()),
                token_type = %claims.scope,
                sub = %claims.sub,
                outcome = "forbidden",
                reason = %err,
            ),
        }
        decision
    }
}

impl<S, B> Transform<S, ServiceRequest> for Enforce
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = EnforceService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(EnforceService {
            service,
            enforce: *self,
        }))
    }
}

/// The service [`Enforce`] wraps around a resource.
#[derive(Debug)]
pub struct EnforceService<S> {
    service: S,
    enforce: Enforce,
}

type LeftBody<B> =
    fn(Result<ServiceResponse<B>, Error>) -> Result<ServiceResponse<EitherBody<B>>, Error>;

impl<S, B> Service<ServiceRequest> for EnforceService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    #[allow(clippy::type_complexity)]
    type Future =
        Either<Map<S::Future, LeftBody<B>>, Ready<Result<ServiceResponse<EitherBody<B>>, Error>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match self.enforce.check(&req) {
            Ok(()) => Either::Left(
                self.service
                    .call(req)
                    .map((|res| res.map(ServiceResponse::map_into_left_body)) as LeftBody<B>),
            ),
            Err(err) => {
                let response = err.error_response();
                Either::Right(ready(Ok(req.into_response(response).map_into_right_body())))
            }
        }
    }
}
