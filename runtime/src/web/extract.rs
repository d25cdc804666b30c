//! The token extractors a handler takes: [`Token`] for any vocabulary and
//! [`TiToken`] for Airflow's words. Both hand out a token only when a route
//! policy allowed this request, with the verifier in this request's app
//! data; extracting one never verifies again.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::claims::Claims;
use crate::jose::InvalidReason;
use crate::policy::{parse_hyphenated_uuid, PermissionSet, RoutePolicy, TokenType};

use super::error::AuthError;
use super::request::extract;

/// The verified token of the current request, for any vocabulary: its
/// claims, its type (as the route's policy resolved it), and typed access
/// to any claim.
///
/// It is handed out only when a route policy allowed this request (the
/// [`Enforce`](crate::Enforce) wrapper every `#[route]` and `#[protect]`
/// carries). On a handler without a policy it fails closed with
/// [`AuthError::NoRoutePolicy`] (500, logged): it never accepts whatever
/// valid token comes along.
///
/// ```
/// use actix_web::HttpResponse;
/// use scopegate::{route, Token};
///
/// #[route(get, "/whoami")]
/// async fn whoami(token: Token) -> HttpResponse {
///     let try_number: Option<u32> = token.claim("try_number").ok();
///     HttpResponse::Ok().json((token.sub(), token.token_type(), try_number))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Token {
    claims: Arc<Claims>,
    token_type: TokenType,
    policy: &'static RoutePolicy,
}

/// Why [`Token::claim`] could not read a claim.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The token has no such claim.
    #[error("the token has no claim '{0}'")]
    Missing(String),
    /// The claim is not of the requested type.
    #[error("claim '{name}' is not of the requested type: {source}")]
    Invalid {
        /// The claim.
        name: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
}

impl Token {
    /// All verified claims.
    pub fn claims(&self) -> &Arc<Claims> {
        &self.claims
    }

    /// The token's subject (`sub`).
    pub fn sub(&self) -> &str {
        &self.claims.sub
    }

    /// The token's type in the route's vocabulary.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The policy that allowed the request.
    pub fn policy(&self) -> &'static RoutePolicy {
        self.policy
    }

    /// The token's permissions, among those the route's vocabulary
    /// declares (`[permissions]` in `scopegate.toml`); `None` when it
    /// declares none. Read from the bits kept with the token's claims: no
    /// claim is parsed again.
    pub fn permissions(&self) -> Option<PermissionSet> {
        self.policy.permissions(&*self.claims)
    }

    /// Whether the token holds the permission `name` (one the route's
    /// vocabulary declares; any other name is never held).
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use scopegate::Token;
    ///
    /// // In a handler of a crate whose scopegate.toml declares
    /// // `ledger:admin`: an admin sees every account.
    /// async fn accounts(token: Token) -> HttpResponse {
    ///     if token.has("ledger:admin") {
    ///         HttpResponse::Ok().json(["a-1", "a-2"])
    ///     } else {
    ///         HttpResponse::Ok().json([token.claim::<String>("acct").unwrap_or_default()])
    ///     }
    /// }
    /// ```
    pub fn has(&self, name: &str) -> bool {
        self.permissions().is_some_and(|set| set.has(name))
    }

    /// The claim `name`, deserialized as `T` (any claim: registered, the
    /// type claim, or one of the token's own).
    pub fn claim<T: DeserializeOwned>(&self, name: &str) -> Result<T, ClaimError> {
        let value = self
            .claims
            .get(name)
            .ok_or_else(|| ClaimError::Missing(name.to_owned()))?;
        serde_json::from_value(value).map_err(|source| ClaimError::Invalid {
            name: name.to_owned(),
            source,
        })
    }
}

impl FromRequest for Token {
    type Error = AuthError;
    type Future = Ready<Result<Token, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Token::of_request(req))
    }
}

impl Token {
    /// The token a route policy allowed on `req` (see [`extract`]).
    pub(crate) fn of_request(req: &HttpRequest) -> Result<Token, AuthError> {
        extract(req)
            .map(|(claims, allowed)| Token::allowed(claims, allowed.token_type, allowed.policy))
    }

    /// The token `policy` allowed, of type `token_type`, with `claims`.
    pub(crate) fn allowed(
        claims: Arc<Claims>,
        token_type: TokenType,
        policy: &'static RoutePolicy,
    ) -> Token {
        Token {
            claims,
            token_type,
            policy,
        }
    }
}

/// The verified token of the current request in Airflow's words: the task
/// instance (or connection test) id from `sub`, and the claims.
///
/// It is handed out only when a route policy allowed this request (the
/// [`Enforce`](crate::Enforce) wrapper every `#[route]` carries), with the
/// verifier in this request's app data; extracting it never verifies again.
/// On a handler without a policy it fails closed with
/// [`AuthError::NoRoutePolicy`] (500, logged): it never accepts whatever
/// valid token comes along. A token whose `sub` is not a UUID (possible
/// only with a verifier that accepts any subject) is refused with `401 sub
/// must be a UUID`; use [`Token`] there.
#[derive(Clone, Debug, PartialEq)]
pub struct TiToken {
    /// The token's subject (`sub`), usually the task instance id.
    pub id: Uuid,
    /// All verified claims.
    pub claims: Arc<Claims>,
    token_type: TokenType,
}

impl TiToken {
    /// The token's type, as the route's policy resolved it.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }
}

impl FromRequest for TiToken {
    type Error = AuthError;
    type Future = Ready<Result<TiToken, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req).and_then(|(claims, allowed)| {
            let id = parse_hyphenated_uuid(&claims.sub)
                .ok_or(AuthError::InvalidToken(InvalidReason::InvalidSubject))?;
            Ok(TiToken {
                id,
                claims,
                token_type: allowed.token_type,
            })
        }))
    }
}
