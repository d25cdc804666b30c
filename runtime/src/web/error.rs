//! [`AuthError`]: every way a request can be refused, as RFC 6750
//! responses: a status, a `WWW-Authenticate` challenge and a detail, which
//! the application's [`Renderer`](super::render::Renderer) turns into a
//! body (FastAPI-style `{"detail": ...}` JSON by default).

use std::fmt::Write as _;

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::jose::InvalidReason;
use crate::policy::{AnyOf, Denial, Owner, Permission, TokenType, TokenTypes};

use super::render::{reason, Refusal};

/// Why a request was refused.
///
/// Its [`Display`](std::fmt::Display) is the exact `detail` string sent to
/// the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` header, an empty token, or another scheme.
    /// 401.
    #[error("Missing auth token")]
    MissingToken,
    /// The token is longer than the verifier's maximum. 401.
    #[error("Invalid auth token: token too large")]
    TokenTooLarge,
    /// The token failed verification. 401 with `error="invalid_token"`.
    #[error("Invalid auth token: {0}")]
    InvalidToken(InvalidReason),
    /// A valid token whose type the route does not accept. 403 with
    /// `error="insufficient_scope"`.
    #[error("Token type '{got}' not allowed for this endpoint. Allowed types: {allowed}")]
    TokenTypeNotAllowed {
        /// The token's type.
        got: TokenType,
        /// What the route accepts.
        allowed: TokenTypes,
    },
    /// A token from the verifier's cookie on an unsafe method (anything but
    /// GET, HEAD, OPTIONS) without an allowed `Origin`: a cross-site
    /// request forgery, or a front-end whose origin is not configured. 403;
    /// the token is not verified.
    #[error("Origin not allowed for a cookie token")]
    CrossOrigin,
    /// A valid token that does not own the resource in the path: its
    /// owner's claim does not match the path parameter. 403 with
    /// `error="insufficient_scope"`.
    #[error("Token subject does not match {}", .0.label())]
    SubjectMismatch(Owner),
    /// A valid token without a permission the route requires. 403 with
    /// `error="insufficient_scope"` and the permission in `scope`.
    #[error("Token lacks permission '{}'", .0.name())]
    MissingPermission(Permission),
    /// A valid token that satisfies no alternative of an `any(..)` of the
    /// route. 403 with `error="insufficient_scope"` and the `any(..)`'s
    /// permissions in `scope`.
    #[error("Token satisfies none of: {0}")]
    NoAlternative(AnyOf),
    /// A protected route was reached but no [`Verifier`](crate::Verifier) is
    /// registered as app data. 500; the request is never let through.
    #[error("Internal Server Error")]
    NotConfigured,
    /// A token extractor ([`TiToken`](crate::TiToken)) ran on a handler that
    /// no route policy allowed for this request (a plain
    /// `web::get().to(..)`, or a policy that used another verifier). 500 and
    /// an error log line naming the route; the token is never handed out.
    #[error("Internal Server Error")]
    NoRoutePolicy,
    /// The verifier's deny-list has never loaded the revocations (a
    /// replica that started while its store, e.g. Redis, was down), so it
    /// cannot tell a revoked token from another: every token is refused
    /// until it has. 503 with `Retry-After: 1`; not the token's fault, so
    /// no `WWW-Authenticate`. The verifier's reason is
    /// [`InvalidReason::RevocationsNotLoaded`].
    #[error("Service Unavailable: the revocation list is not loaded yet")]
    RevocationsNotLoaded,
}

impl From<InvalidReason> for AuthError {
    /// The verifier's refusal: an invalid token (401), or, when its
    /// deny-list is not loaded, [`AuthError::RevocationsNotLoaded`] (503).
    #[inline]
    fn from(reason: InvalidReason) -> Self {
        match reason {
            InvalidReason::RevocationsNotLoaded => AuthError::RevocationsNotLoaded,
            reason => AuthError::InvalidToken(reason),
        }
    }
}

impl From<Denial> for AuthError {
    /// A route policy's refusal: an unknown token type is an invalid token
    /// (401), the others are 403.
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::UnknownType { claim: "scope" } => {
                AuthError::InvalidToken(InvalidReason::UnknownScope)
            }
            Denial::UnknownType { claim } => {
                AuthError::InvalidToken(InvalidReason::UnknownTokenType(claim))
            }
            Denial::TypeNotAllowed { got, allowed } => {
                AuthError::TokenTypeNotAllowed { got, allowed }
            }
            Denial::NotOwner(owner) => AuthError::SubjectMismatch(owner),
            Denial::MalformedPermissions { claim } => {
                AuthError::InvalidToken(InvalidReason::MalformedClaim(claim))
            }
            Denial::MissingPermission(p) => AuthError::MissingPermission(p),
            Denial::NoAlternative(any) => AuthError::NoAlternative(any),
        }
    }
}

impl AuthError {
    fn www_authenticate(&self) -> Option<String> {
        match self {
            AuthError::MissingToken | AuthError::TokenTooLarge => Some("Bearer".to_owned()),
            AuthError::InvalidToken(reason) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{reason}\""
            )),
            AuthError::TokenTypeNotAllowed { allowed, .. } => {
                let mut scope = String::new();
                for ty in allowed.iter() {
                    if !scope.is_empty() {
                        scope.push(' ');
                    }
                    let _ = write!(scope, "token:{ty}");
                }
                Some(format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
                ))
            }
            AuthError::SubjectMismatch(scope) => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                scope.scope()
            )),
            AuthError::MissingPermission(p) => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                p.name()
            )),
            AuthError::NoAlternative(any) => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                any.scope()
            )),
            AuthError::CrossOrigin
            | AuthError::NotConfigured
            | AuthError::NoRoutePolicy
            | AuthError::RevocationsNotLoaded => None,
        }
    }

    /// The `WWW-Authenticate` value of the answer. Every part is ASCII
    /// scopegate wrote from constants and the vocabulary's names (which
    /// `scopegate.toml` restricts to header-safe characters), never text
    /// taken from the token.
    pub(crate) fn challenge(&self) -> Option<HeaderValue> {
        self.www_authenticate()
            .and_then(|value| HeaderValue::from_str(&value).ok())
    }

    /// What the renderer gets for this error.
    pub(crate) fn refusal(&self) -> Refusal<'static> {
        let reason = match self {
            AuthError::MissingToken => reason::MISSING_TOKEN,
            AuthError::TokenTooLarge | AuthError::InvalidToken(_) => reason::INVALID_TOKEN,
            AuthError::TokenTypeNotAllowed { .. }
            | AuthError::SubjectMismatch(_)
            | AuthError::MissingPermission(_)
            | AuthError::NoAlternative(_) => reason::INSUFFICIENT_SCOPE,
            AuthError::CrossOrigin => reason::CROSS_ORIGIN,
            AuthError::RevocationsNotLoaded => reason::UNAVAILABLE,
            AuthError::NotConfigured | AuthError::NoRoutePolicy => reason::SERVER_ERROR,
        };
        let refusal = Refusal::new(
            self.status_code(),
            reason,
            std::borrow::Cow::Owned(self.to_string().into()),
        )
        .with_www_authenticate(self.challenge());
        if *self == AuthError::RevocationsNotLoaded {
            return refusal.with_retry_after(HeaderValue::from_static("1"));
        }
        refusal
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            AuthError::MissingToken | AuthError::TokenTooLarge | AuthError::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            AuthError::TokenTypeNotAllowed { .. }
            | AuthError::SubjectMismatch(_)
            | AuthError::MissingPermission(_)
            | AuthError::NoAlternative(_)
            | AuthError::CrossOrigin => StatusCode::FORBIDDEN,
            AuthError::NotConfigured | AuthError::NoRoutePolicy => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AuthError::RevocationsNotLoaded => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The answer in the default shape, `{"detail": ...}`: what actix
    /// sends when an extractor fails, where no request is at hand to find
    /// the application's renderer. Everything scopegate's middleware
    /// refuses goes through the application's renderer instead.
    fn error_response(&self) -> HttpResponse {
        self.refusal().airflow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::RETRY_AFTER;

    fn header(e: &AuthError) -> String {
        e.error_response()
            .headers()
            .get(actix_web::http::header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn messages_and_headers_follow_the_spec() {
        let e = AuthError::TokenTypeNotAllowed {
            got: TokenType::WORKLOAD,
            allowed: TokenTypes::EXECUTION_ONLY,
        };
        assert_eq!(
            e.to_string(),
            "Token type 'workload' not allowed for this endpoint. Allowed types: execution"
        );
        assert_eq!(
            header(&e),
            r#"Bearer error="insufficient_scope", scope="token:execution""#
        );
        let e = AuthError::InvalidToken(InvalidReason::Expired);
        assert_eq!(e.to_string(), "Invalid auth token: token has expired");
        assert_eq!(
            header(&e),
            r#"Bearer error="invalid_token", error_description="token has expired""#
        );
        assert_eq!(header(&AuthError::MissingToken), "Bearer");
        let owner = Owner::new("account:self", "account", "account");
        let e = AuthError::from(Denial::NotOwner(owner));
        assert_eq!(e.to_string(), "Token subject does not match account");
        assert_eq!(e.status_code(), 403);
        assert_eq!(
            header(&e),
            r#"Bearer error="insufficient_scope", scope="account:self""#
        );
        let e = AuthError::from(Denial::UnknownType { claim: "scope" });
        assert_eq!(e.to_string(), "Invalid auth token: unknown token scope");
        let e = AuthError::from(Denial::UnknownType { claim: "role" });
        assert_eq!(
            e.to_string(),
            "Invalid auth token: unknown token type in 'role'"
        );
        assert_eq!(e.status_code(), 401);
        assert_eq!(AuthError::NotConfigured.status_code(), 500);
        assert_eq!(header(&AuthError::NotConfigured), "");
        let e = AuthError::from(InvalidReason::RevocationsNotLoaded);
        assert_eq!(e, AuthError::RevocationsNotLoaded);
        assert_eq!(e.status_code(), 503);
        assert_eq!(header(&e), "");
        assert_eq!(e.error_response().headers().get(RETRY_AFTER).unwrap(), "1");
        assert_eq!(
            e.to_string(),
            "Service Unavailable: the revocation list is not loaded yet"
        );
        assert_eq!(
            AuthError::from(InvalidReason::Revoked),
            AuthError::InvalidToken(InvalidReason::Revoked)
        );
    }
}
