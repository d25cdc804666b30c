//! The per-request record, in the request's extensions: the one
//! verification a request gets, bound to the [`Verifier`] that made it, and,
//! once a route policy allowed the request, the mark that it did. Token
//! extractors and [`Reissue`](crate::Reissue) read only that mark.

use std::sync::Arc;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, HttpMessage, HttpRequest};

use crate::claims::{now, Claims, LogSafe};
use crate::policy::{RoutePolicy, TokenType};
use crate::verify::Verifier;

use super::bearer::{b64token, request_token, TokenSource};
use super::error::AuthError;

/// What a request learnt about its token. One per request, written once on
/// the way through [`Enforce`](crate::Enforce).
#[derive(Clone)]
struct RequestAuth {
    /// The [`Verifier::id`] that produced `outcome`.
    verifier: u64,
    outcome: Result<Arc<Claims>, AuthError>,
    /// Set by [`Enforce`](crate::Enforce) when the route's policy allowed
    /// the request with these claims.
    allowed: Option<Allowed>,
    /// The request's one clock read, seconds since the epoch: the time the
    /// token was checked at, which [`Reissue`](crate::Reissue) decides a
    /// refresh with.
    now: i64,
}

/// The mark a route policy leaves on a request it allowed: which policy,
/// and the token's type in its vocabulary, resolved once so that
/// extractors and [`Reissue`](crate::Reissue) never resolve it again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Allowed {
    pub policy: &'static RoutePolicy,
    pub token_type: TokenType,
    /// Where the token came from: a cookie's is never refreshed.
    pub source: TokenSource,
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
    let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
        return Err(no_verifier(req));
    };
    if let Some(outcome) = recorded(req, verifier) {
        return outcome;
    }
    let now = now();
    let outcome = verify_request(req, verifier, now);
    record(req, verifier, outcome.clone(), None, now);
    outcome
}

/// The outcome this request's record holds for `verifier`, if any.
pub(crate) fn recorded(
    req: &HttpRequest,
    verifier: &Verifier,
) -> Option<Result<Arc<Claims>, AuthError>> {
    let extensions = req.extensions();
    let auth = extensions.get::<RequestAuth>()?;
    (auth.verifier == verifier.id()).then(|| auth.outcome.clone())
}

/// The request's token for `verifier`, as a string: the bearer header, or
/// the verifier's cookie (see `request_token`). For an early key refresh.
pub(crate) fn token_str<'a>(req: &'a HttpRequest, verifier: &Verifier) -> Option<&'a str> {
    let (token, _) = request_token(
        req.headers(),
        req.method(),
        verifier.cookie(),
        verifier.max_token_size(),
    );
    b64token(token.ok()?).ok()
}

/// Where the request's token for `verifier` comes from (see
/// `request_token`): without a declared cookie, always the header.
#[inline]
pub(crate) fn token_source(req: &HttpRequest, verifier: &Verifier) -> TokenSource {
    match verifier.cookie() {
        Some(_) if !req.headers().contains_key(AUTHORIZATION) => TokenSource::Cookie,
        _ => TokenSource::Header,
    }
}

/// Checks the request's token (bearer header, or the verifier's cookie)
/// with `verifier` at `now`, without recording the outcome: a
/// verified-token cache hit as the token's bytes, else the `b64token`
/// check and the full verification. Logs the outcome (a rejection at info,
/// a success at debug).
pub(crate) fn verify_request(
    req: &HttpRequest,
    verifier: &Verifier,
    now: i64,
) -> Result<Arc<Claims>, AuthError> {
    let (token, _) = request_token(
        req.headers(),
        req.method(),
        verifier.cookie(),
        verifier.max_token_size(),
    );
    let outcome = token.and_then(|token| match verifier.cached(token, now) {
        Some(hit) => hit.map_err(AuthError::from),
        None => {
            let token = b64token(token)?;
            verifier.verify_fresh(token, now).map_err(AuthError::from)
        }
    });
    match &outcome {
        Ok(claims) => tracing::debug!(
            target: "scopegate",
            method = %req.method(),
            route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
            sub = %LogSafe(&claims.sub),
            outcome = "verified",
        ),
        Err(err) => tracing::info!(
            target: "scopegate",
            method = %req.method(),
            route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
            outcome = "rejected",
            reason = %err,
        ),
    }
    outcome
}

/// Writes the request's record: `outcome` from `verifier` at `now`, and
/// whether (and how) a route policy allowed it. Replaces an earlier record.
#[inline(always)]
pub(crate) fn record(
    req: &HttpRequest,
    verifier: &Verifier,
    outcome: Result<Arc<Claims>, AuthError>,
    allowed: Option<Allowed>,
    now: i64,
) {
    req.extensions_mut().insert(RequestAuth {
        verifier: verifier.id(),
        outcome,
        allowed,
        now,
    });
}

/// Marks the request's existing record (of `verifier`, with claims) as
/// allowed at `now`, in place: no allocation.
pub(crate) fn mark_allowed(req: &HttpRequest, verifier: &Verifier, allowed: Allowed, now: i64) {
    if let Some(auth) = req.extensions_mut().get_mut::<RequestAuth>() {
        if auth.verifier == verifier.id() && auth.outcome.is_ok() {
            auth.allowed = Some(allowed);
            auth.now = now;
        }
    }
}

/// Takes the allowed mark off the request's record: a guard refused it
/// after its policy allowed it, so no extractor hands out its token and
/// [`Reissue`](crate::Reissue) never refreshes it.
pub(crate) fn unmark(req: &HttpRequest) {
    if let Some(auth) = req.extensions_mut().get_mut::<RequestAuth>() {
        auth.allowed = None;
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
    with_allowed(req, |claims, _, _| Arc::clone(claims))
}

/// Calls `f` with the claims, the mark and the clock read of this request's
/// record if a route policy allowed it; `None` otherwise. Borrows the
/// record: nothing is cloned unless `f` does.
#[inline(always)]
pub(crate) fn with_allowed<R>(
    req: &HttpRequest,
    f: impl FnOnce(&Arc<Claims>, Allowed, i64) -> R,
) -> Option<R> {
    match req.extensions().get::<RequestAuth>() {
        Some(RequestAuth {
            outcome: Ok(claims),
            allowed: Some(allowed),
            now,
            ..
        }) => Some(f(claims, *allowed, *now)),
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
        ..
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
        route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
        outcome = "error",
        reason,
    );
    err
}

/// [`misconfigured`] for a missing verifier.
pub(crate) fn no_verifier(req: &HttpRequest) -> AuthError {
    misconfigured(req, AuthError::NotConfigured, NO_VERIFIER)
}
