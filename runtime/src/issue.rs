//! [`Issuer`]: mints tokens the way Airflow's `JWTGenerator` does.

use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::Header;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::keys::{check_secret_len, ConfigError, SigningKey};
use crate::policy::TokenType;
use crate::token::{Audience, Claims, SESSION_START_CLAIM};

/// Default lifetime of an execution token (Airflow's default).
pub const DEFAULT_EXECUTION_TTL: Duration = Duration::from_secs(600);
/// Default lifetime of a workload token: long enough to wait in a queue.
pub const DEFAULT_WORKLOAD_TTL: Duration = Duration::from_secs(24 * 3600);

/// A token could not be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// Signing failed (only possible with a broken key).
    #[error("could not sign token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// [`Issuer::reissue`]: the token's session-start claim is not a valid
    /// NumericDate.
    #[error("invalid session start claim")]
    InvalidSessionStart,
}

/// Mints execution and workload tokens with claims `jti` (random), `iss` (if
/// set), `aud`, `nbf`, `iat`, `exp = now + lifetime`, `sub`, `scope`, and a
/// `kid` header.
///
/// ```
/// use scopegate::{Issuer, SigningKey, TokenType};
/// let issuer = Issuer::builder(SigningKey::secret("a-random-secret-of-32-bytes-or-more")?)
///     .audience("urn:airflow.apache.org:task")
///     .build()?;
/// let token = issuer.issue(uuid::Uuid::new_v4(), TokenType::Execution)?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    key: SigningKey,
    header: Header,
    audience: Value,
    issuer: Option<String>,
    execution_ttl: Duration,
    workload_ttl: Duration,
    jwk: Option<Jwk>,
}

/// Builds an [`Issuer`]; see [`Issuer::builder`].
#[derive(Debug)]
#[must_use]
pub struct IssuerBuilder {
    key: SigningKey,
    kid: Option<String>,
    audiences: Vec<String>,
    issuer: Option<String>,
    execution_ttl: Duration,
    workload_ttl: Duration,
    allow_short_secret: bool,
}

impl IssuerBuilder {
    /// Adds an audience. One audience is written as a string, several as a
    /// list.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets the `iss` claim.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the `kid` header. Default: the RFC 7638 thumbprint of the public
    /// key for a key pair, `"not-used"` for a shared secret (as Airflow).
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Lifetime of execution tokens (default 600 s).
    pub fn execution_ttl(mut self, ttl: Duration) -> Self {
        self.execution_ttl = ttl;
        self
    }

    /// Lifetime of workload tokens (default 24 h).
    pub fn workload_ttl(mut self, ttl: Duration) -> Self {
        self.workload_ttl = ttl;
        self
    }

    /// Accepts an HMAC secret shorter than
    /// [`MIN_SECRET_BYTES`](crate::MIN_SECRET_BYTES), for an existing
    /// deployment whose secret cannot change yet.
    pub fn allow_short_secret(mut self) -> Self {
        self.allow_short_secret = true;
        self
    }

    /// Builds the issuer. Fails without an audience, or with an HMAC secret
    /// shorter than 32 bytes unless
    /// [`allow_short_secret`](Self::allow_short_secret).
    pub fn build(self) -> Result<Issuer, ConfigError> {
        if self.audiences.is_empty() {
            return Err(ConfigError::NoAudience);
        }
        check_secret_len(self.key.secret_len(), self.allow_short_secret)?;
        let mut header = Header::new(self.key.algorithm);
        let kid = self
            .kid
            .or_else(|| self.key.thumbprint().map(str::to_owned))
            .unwrap_or_else(|| "not-used".to_owned());
        let jwk = self.key.public_jwk().cloned().map(|mut jwk| {
            jwk.common.key_id = Some(kid.clone());
            jwk
        });
        header.kid = Some(kid);
        let audience = match self.audiences.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::from(many.to_vec()),
        };
        Ok(Issuer {
            key: self.key,
            header,
            audience,
            issuer: self.issuer,
            execution_ttl: self.execution_ttl,
            workload_ttl: self.workload_ttl,
            jwk,
        })
    }
}

impl Issuer {
    /// Starts an issuer signing with `key`.
    pub fn builder(key: SigningKey) -> IssuerBuilder {
        IssuerBuilder {
            key,
            kid: None,
            audiences: Vec::new(),
            issuer: None,
            execution_ttl: DEFAULT_EXECUTION_TTL,
            workload_ttl: DEFAULT_WORKLOAD_TTL,
            allow_short_secret: false,
        }
    }

    /// The `kid` this issuer writes in token headers.
    pub fn kid(&self) -> &str {
        self.header.kid.as_deref().unwrap_or_default()
    }

    /// The public keys to publish as a JWKS (`/.well-known/jwks.json`): the
    /// key pair's public half, or an empty set for a shared secret, which is
    /// never published.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.jwk.iter().cloned().collect(),
        }
    }

    /// The lifetime of tokens of type `ty`.
    pub fn ttl(&self, ty: TokenType) -> Duration {
        match ty {
            TokenType::Execution => self.execution_ttl,
            TokenType::Workload => self.workload_ttl,
        }
    }

    /// Mints a token of type `ty` for `sub`.
    pub fn issue(&self, sub: Uuid, ty: TokenType) -> Result<String, IssueError> {
        self.issue_with_claims(sub, ty, &Map::new())
    }

    /// Mints a token carrying `extra` claims as well. Registered claims in
    /// `extra` (`exp`, `sub`, ...) are ignored: the issuer sets those.
    pub fn issue_with_claims(
        &self,
        sub: Uuid,
        ty: TokenType,
        extra: &Map<String, Value>,
    ) -> Result<String, IssueError> {
        let mut claims = extra.clone();
        match &self.issuer {
            Some(iss) => claims.insert("iss".into(), Value::String(iss.clone())),
            None => claims.remove("iss"),
        };
        claims.insert("aud".into(), self.audience.clone());
        self.mint(sub, ty, claims)
    }

    /// A fresh token for verified `claims`, as [`Reissue`](crate::Reissue)
    /// hands out: the same `sub`, `scope`, `aud`, `iss` (the token's own,
    /// not this issuer's) and extra claims, a new `jti`, `iat`, `nbf` and
    /// `exp = now + lifetime of the type`, and the refresh chain's start in
    /// [`SESSION_START_CLAIM`](crate::SESSION_START_CLAIM). Fails when that
    /// claim is malformed.
    pub fn reissue(&self, claims: &Claims) -> Result<String, IssueError> {
        let start = claims
            .session_start()
            .ok_or(IssueError::InvalidSessionStart)?;
        let mut fresh = claims.extra.clone();
        fresh.insert(SESSION_START_CLAIM.into(), start.into());
        match &claims.iss {
            Some(iss) => fresh.insert("iss".into(), Value::String(iss.clone())),
            None => fresh.remove("iss"),
        };
        let aud = match &claims.aud {
            Audience::One(one) => Value::String(one.clone()),
            Audience::Many(many) => Value::from(many.clone()),
        };
        fresh.insert("aud".into(), aud);
        self.mint(claims.sub, claims.scope, fresh)
    }

    /// Signs `claims` (which already hold `iss`, `aud` and extras) after
    /// setting `jti`, `nbf`, `iat`, `exp`, `sub` and `scope`.
    fn mint(
        &self,
        sub: Uuid,
        ty: TokenType,
        mut claims: Map<String, Value>,
    ) -> Result<String, IssueError> {
        let now = crate::verify::now();
        claims.insert(
            "jti".into(),
            Value::String(Uuid::new_v4().simple().to_string()),
        );
        claims.insert("nbf".into(), now.into());
        claims.insert("iat".into(), now.into());
        let ttl = i64::try_from(self.ttl(ty).as_secs()).unwrap_or(i64::MAX);
        claims.insert("exp".into(), now.saturating_add(ttl).into());
        claims.insert("sub".into(), Value::String(sub.to_string()));
        claims.insert("scope".into(), Value::String(ty.as_str().to_owned()));
        Ok(crate::jws::sign(&self.header, &claims, &self.key)?)
    }
}
