//! The per-request record, in the request's extensions: the one
//! verification a request gets, bound to the [`Verifier`] that made it, and,
//! once a route policy allowed the request, the mark that it did. Token
//! extractors and [`Reissue`](crate::Reissue) read only that mark.

use std::sync::Arc;

use actix_web::{web, HttpMessage, HttpRequest};

use crate::claims::Claims;
use crate::policy::{RoutePolicy, TokenType};
use crate::verify::Verifier;

use super::bearer::bearer_token;
use super::error::AuthError;

/// What a request learnt about its token. One per request, so marking it
/// allowed costs no allocation.
#[derive(Clone)]
struct RequestAuth {
    /// The [`Verifier::id`] that produced `outcome`.
    verifier: u64,
    outcome: Result<Arc<Claims>, AuthError>,
    /// Set by [`Enforce`](crate::Enforce) when the route's policy allowed
    /// the request with these claims.
    allowed: Option<Allowed>,
}

/// The mark a route policy leaves on a request it allowed: which policy,
/// and the token's type in its vocabulary, resolved once so that
/// extractors and [`Reissue`](crate::Reissue) never resolve it again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Allowed {
    pub policy: &'static RoutePolicy,
    pub token_type: TokenType,
}

const NO_VERIFIER: &str =
    "no web::Data<scopegate::Verifier> registered in app data; refusing the request";
const NO_POLICY: &str = "a token extractor ran on a handler that no route policy allowed for this \
     request: declare the handler with #[route] (or wrap its resource in scopegate::Enforce); \
     refusing the request";

/// Returns the request's verified claims, verifying the bearer token with
/// the `web::Data<Verifier>` in app data on the first call and keeping the
/// outcome (success or failure) in the request's extensions; later calls on
/// the same request with the same verifier reuse it. A different verifier
/// (another scope's, with another audience) never reuses it: it verifies
/// the token itself.
///
/// This only *authenticates*: it checks no route policy. Handlers get their
/// token from [`TiToken`](crate::TiToken), which requires that a route
/// policy allowed the request.
///
/// Fails closed with [`AuthError::NotConfigured`] when no
/// `web::Data<Verifier>` is registered.
pub fn authenticate(req: &HttpRequest) -> Result<Arc<Claims>, AuthError> {
    match req.app_data::<web::Data<Verifier>>() {
        Some(verifier) => authenticate_with(req, verifier),
        None => Err(no_verifier(req)),
    }
}

/// [`authenticate`] with a given verifier.
pub(crate) fn authenticate_with(
    req: &HttpRequest,
    verifier: &Verifier,
) -> Result<Arc<Claims>, AuthError> {
    if let Some(auth) = req.extensions().get::<RequestAuth>() {
        if auth.verifier == verifier.id() {
            return auth.outcome.clone();
        }
    }
    let outcome = bearer_token(req.headers(), verifier.max_token_size())
        .and_then(|token| verifier.verify(token).map_err(AuthError::InvalidToken));
    match &outcome {
        Ok(claims) => tracing::debug!(
            target: "scopegate",
            method = %req.method(),
            route = req.match_pattern().as_deref().unwrap_or(req.path()),
            sub = %claims.sub,
            outcome = "verified",
        ),
        Err(err) => tracing::info!(
            target: "scopegate",
            method = %req.method(),
            route = req.match_pattern().as_deref().unwrap_or(req.path()),
            outcome = "rejected",
            reason = %err,
        ),
    }
    req.extensions_mut().insert(RequestAuth {
        verifier: verifier.id(),
        outcome: outcome.clone(),
        allowed: None,
    });
    outcome
}

/// Marks the request as allowed by `policy`, for a token of type
/// `token_type` with the claims `verifier` produced. No allocation: it sets
/// a field of the existing record.
pub(crate) fn allow(
    req: &HttpRequest,
    verifier: &Verifier,
    policy: &'static RoutePolicy,
    token_type: TokenType,
) {
    if let Some(auth) = req.extensions_mut().get_mut::<RequestAuth>() {
        if auth.verifier == verifier.id() && auth.outcome.is_ok() {
            auth.allowed = Some(Allowed { policy, token_type });
        }
    }
}

/// Drops the request's record, so the next [`authenticate`] verifies again
/// (after an early key refresh).
pub(crate) fn forget(req: &HttpRequest) {
    req.extensions_mut().remove::<RequestAuth>();
}

/// The claims of this request's token if a route policy (an
/// [`Enforce`](crate::Enforce), which every `#[route]` carries) allowed the
/// request; `None` on public routes, refused requests and handlers without a
/// policy, even when some middleware verified the token. Never verifies.
/// [`Reissue`](crate::Reissue) refreshes only such tokens.
pub fn authorized_claims(req: &HttpRequest) -> Option<Arc<Claims>> {
    authorized(req).map(|(claims, _)| claims)
}

/// [`authorized_claims`] with the mark the policy left.
pub(crate) fn authorized(req: &HttpRequest) -> Option<(Arc<Claims>, Allowed)> {
    match req.extensions().get::<RequestAuth>() {
        Some(RequestAuth {
            outcome: Ok(claims),
            allowed: Some(allowed),
            ..
        }) => Some((Arc::clone(claims), *allowed)),
        _ => None,
    }
}

/// What a token extractor hands out: the claims a route policy allowed with
/// the verifier in this request's app data. Otherwise it fails closed (500,
/// logged): a handler that takes a token but has no policy is a
/// misconfiguration, never a reason to accept any valid token.
pub(crate) fn extract(req: &HttpRequest) -> Result<(Arc<Claims>, Allowed), AuthError> {
    let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
        return Err(no_verifier(req));
    };
    if let Some(RequestAuth {
        verifier: id,
        outcome: Ok(claims),
        allowed: Some(allowed),
    }) = req.extensions().get::<RequestAuth>()
    {
        if *id == verifier.id() {
            return Ok((Arc::clone(claims), *allowed));
        }
    }
    Err(misconfigured(req, AuthError::NoRoutePolicy, NO_POLICY))
}

/// Logs a fail-closed misconfiguration with the method and route, and
/// returns `err`.
fn misconfigured(req: &HttpRequest, err: AuthError, reason: &'static str) -> AuthError {
    tracing::error!(
        target: "scopegate",
        method = %req.method(),
        route = req.match_pattern().as_deref().unwrap_or(req.path()),
        outcome = "error",
        reason,
    );
    err
}

/// [`misconfigured`] for a missing verifier.
pub(crate) fn no_verifier(req: &HttpRequest) -> AuthError {
    misconfigured(req, AuthError::NotConfigured, NO_VERIFIER)
}
