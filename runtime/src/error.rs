//! [`AuthError`]: every way a request can be refused, rendered as RFC 6750
//! responses with FastAPI-style `{"detail": ...}` JSON bodies.

use std::fmt::Write as _;

use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::policy::{SelfScope, TokenType, TokenTypes};

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
    /// A valid token that does not own the resource in the path. 403 with
    /// `error="insufficient_scope"`.
    #[error("Token subject does not match {}", .0.subject())]
    SubjectMismatch(SelfScope),
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
}

/// Why a token failed verification. Its `Display` is the `<reason>` in
/// `Invalid auth token: <reason>` and in `error_description`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not three base64url segments of JSON objects, or bad characters.
    #[error("malformed token")]
    Malformed,
    /// More than one `Authorization` header.
    #[error("multiple Authorization headers")]
    MultipleHeaders,
    /// The header's `alg` is not the one the key is pinned to.
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// The signature does not match.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `aud` does not name this service.
    #[error("invalid audience")]
    InvalidAudience,
    /// `iss` is not the configured issuer.
    #[error("invalid issuer")]
    InvalidIssuer,
    /// A required claim is absent.
    #[error("missing required claim '{0}'")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an out-of-range value.
    #[error("invalid claim '{0}'")]
    InvalidClaim(&'static str),
    /// `sub` is not a hyphenated UUID.
    #[error("sub must be a UUID")]
    InvalidSubject,
    /// `scope` is neither `execution` nor `workload`.
    #[error("unknown token scope")]
    UnknownScope,
    /// The header carries a `crit` extension this verifier does not implement.
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// The token's `kid` names no key in the key set.
    #[error("unknown key id")]
    UnknownKey,
    /// A key set is configured but the token's header has no `kid`.
    #[error("missing key id")]
    MissingKeyId,
    /// The token is longer than the verifier's maximum (for a direct
    /// [`Verifier::verify`](crate::Verifier::verify); a request gets
    /// [`AuthError::TokenTooLarge`] first).
    #[error("token too large")]
    TooLarge,
    /// The token's `jti` is on the verifier's [`DenyList`](crate::DenyList).
    #[error("token revoked")]
    Revoked,
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
            AuthError::NotConfigured | AuthError::NoRoutePolicy => None,
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            AuthError::MissingToken | AuthError::TokenTooLarge | AuthError::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            AuthError::TokenTypeNotAllowed { .. } | AuthError::SubjectMismatch(_) => {
                StatusCode::FORBIDDEN
            }
            AuthError::NotConfigured | AuthError::NoRoutePolicy => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if let Some(value) = self.www_authenticate() {
            // Every part of the value is ASCII we wrote ourselves.
            if let Ok(value) = HeaderValue::from_str(&value) {
                res.insert_header((WWW_AUTHENTICATE, value));
            }
        }
        res.json(serde_json::json!({ "detail": self.to_string() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(e: &AuthError) -> String {
        e.error_response()
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn messages_and_headers_follow_the_spec() {
        let e = AuthError::TokenTypeNotAllowed {
            got: TokenType::Workload,
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
        assert_eq!(AuthError::NotConfigured.status_code(), 500);
        assert_eq!(header(&AuthError::NotConfigured), "");
    }
}
