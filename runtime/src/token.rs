//! Verified claims and the [`TiToken`] extractor.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{AuthError, InvalidReason};
use crate::policy::{parse_hyphenated_uuid, TokenType};

/// Largest accepted timestamp: 9999-12-31T23:59:59Z. Anything beyond is a
/// hostile or broken token, not a long-lived one.
const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// The claims of a verified token.
///
/// Registered claims are typed; everything else is kept in
/// [`extra`](Claims::extra) so a refreshed token can carry it on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Claims {
    /// The subject: the task instance (or connection test) this token is for.
    pub sub: Uuid,
    /// The token type, from the `scope` claim (absent means execution).
    pub scope: TokenType,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued-at, seconds since the epoch.
    pub iat: i64,
    /// Not-before, seconds since the epoch, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The issuer, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The token id, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every claim that is not one of the above nor `aud`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// The claim names that are typed fields (plus `aud`); everything else is
    /// an extra claim.
    pub const REGISTERED: [&'static str; 8] =
        ["sub", "scope", "exp", "iat", "nbf", "iss", "jti", "aud"];

    /// The token's whole lifetime, `exp - iat`, in seconds.
    pub fn lifetime(&self) -> i64 {
        self.exp.saturating_sub(self.iat)
    }

    /// Builds typed claims from a signature-checked JSON payload, applying
    /// scopegate's own strict rules on top of jsonwebtoken's validation:
    /// integer timestamps in range, `iat` not in the future, `sub` a UUID,
    /// `scope` absent or a known type.
    pub(crate) fn from_payload(
        mut payload: Map<String, Value>,
        now: i64,
        leeway: i64,
    ) -> Result<Claims, InvalidReason> {
        let exp =
            timestamp(payload.remove("exp"), "exp")?.ok_or(InvalidReason::MissingClaim("exp"))?;
        let iat =
            timestamp(payload.remove("iat"), "iat")?.ok_or(InvalidReason::MissingClaim("iat"))?;
        let nbf = timestamp(payload.remove("nbf"), "nbf")?;
        if exp < now - leeway {
            return Err(InvalidReason::Expired);
        }
        if iat > now + leeway {
            return Err(InvalidReason::IssuedInFuture);
        }
        if nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(InvalidReason::NotYetValid);
        }
        let sub = match payload.remove("sub") {
            None => return Err(InvalidReason::MissingClaim("sub")),
            Some(Value::String(s)) => {
                parse_hyphenated_uuid(&s).ok_or(InvalidReason::InvalidSubject)?
            }
            Some(_) => return Err(InvalidReason::InvalidSubject),
        };
        let scope = match payload.remove("scope") {
            None => TokenType::Execution,
            Some(Value::String(s)) => {
                TokenType::from_claim(&s).ok_or(InvalidReason::UnknownScope)?
            }
            Some(_) => return Err(InvalidReason::UnknownScope),
        };
        let iss = optional_string(payload.remove("iss"), "iss")?;
        let jti = optional_string(payload.remove("jti"), "jti")?;
        payload.remove("aud");
        Ok(Claims {
            sub,
            scope,
            exp,
            iat,
            nbf,
            iss,
            jti,
            extra: payload,
        })
    }
}

/// A NumericDate must be a non-negative JSON integer no later than year 9999.
fn timestamp(value: Option<Value>, name: &'static str) -> Result<Option<i64>, InvalidReason> {
    match value {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) if (0..=MAX_TIMESTAMP).contains(&t) => Ok(Some(t)),
            _ => Err(InvalidReason::InvalidClaim(name)),
        },
        Some(_) => Err(InvalidReason::InvalidClaim(name)),
    }
}

fn optional_string(
    value: Option<Value>,
    name: &'static str,
) -> Result<Option<String>, InvalidReason> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(InvalidReason::InvalidClaim(name)),
    }
}

/// The verified token of the current request, for handlers.
///
/// Extracting it never verifies a second time: it reads the result cached in
/// the request by whatever asked first (normally the route's enforcement
/// wrapper). On a route without a policy it verifies the token itself, but
/// enforces no token type; declare routes with `#[route]` instead.
#[derive(Clone, Debug, PartialEq)]
pub struct TiToken {
    /// The token's subject (`sub`), usually the task instance id.
    pub id: Uuid,
    /// All verified claims.
    pub claims: Arc<Claims>,
}

impl TiToken {
    /// The token's type.
    pub fn token_type(&self) -> TokenType {
        self.claims.scope
    }
}

impl FromRequest for TiToken {
    type Error = AuthError;
    type Future = Ready<Result<TiToken, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(crate::verify::authenticate(req).map(|claims| TiToken {
            id: claims.sub,
            claims,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn payload(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn base() -> Value {
        json!({"sub": "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b", "exp": NOW + 600, "iat": NOW, "aud": "a"})
    }

    fn with(key: &str, value: Value) -> Result<Claims, InvalidReason> {
        let mut p = payload(base());
        p.insert(key.to_owned(), value);
        Claims::from_payload(p, NOW, 10)
    }

    #[test]
    fn scope_defaults_to_execution_and_extras_are_kept() {
        let mut p = payload(base());
        p.insert("ti_try".into(), json!(3));
        let c = Claims::from_payload(p, NOW, 10).unwrap();
        assert_eq!(c.scope, TokenType::Execution);
        assert_eq!(c.extra.get("ti_try"), Some(&json!(3)));
        assert!(!c.extra.contains_key("aud"));
        assert_eq!(c.lifetime(), 600);
    }

    #[test]
    fn strict_claim_types() {
        assert_eq!(
            with("exp", json!("1800000600")),
            Err(InvalidReason::InvalidClaim("exp"))
        );
        assert_eq!(
            with("exp", json!(1_800_000_600.5)),
            Err(InvalidReason::InvalidClaim("exp"))
        );
        assert_eq!(
            with("iat", json!(-1)),
            Err(InvalidReason::InvalidClaim("iat"))
        );
        assert_eq!(
            with("nbf", json!(u64::MAX)),
            Err(InvalidReason::InvalidClaim("nbf"))
        );
        assert_eq!(
            with("iat", json!(NOW + 60)),
            Err(InvalidReason::IssuedInFuture)
        );
        assert_eq!(with("sub", json!(42)), Err(InvalidReason::InvalidSubject));
        assert_eq!(
            with("sub", json!("{0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b}")),
            Err(InvalidReason::InvalidSubject)
        );
        assert_eq!(
            with("scope", json!(["workload"])),
            Err(InvalidReason::UnknownScope)
        );
        assert_eq!(
            with("scope", json!("w\u{043e}rkload")),
            Err(InvalidReason::UnknownScope)
        );
        assert_eq!(
            with("scope", json!("workload")).unwrap().scope,
            TokenType::Workload
        );
    }
}
