//! [`Issuer`]: mints tokens the way Airflow's `JWTGenerator` does, of any
//! type of a vocabulary.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::Header;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::claims::{now, Audience, Claims, CHAIN_CLAIM, SESSION_START_CLAIM};
use crate::jose::keys::check_secret_len;
use crate::jose::{jws, ConfigError, SigningKey};
use crate::policy::{TokenType, Vocabulary};

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
    /// The type is not one of the issuer's vocabulary.
    #[error("token type '{0}' is not in the issuer's vocabulary")]
    UnknownType(TokenType),
    /// The OS random generator failed, so no chain id could be drawn.
    #[error("the OS random generator failed: {0}")]
    Random(getrandom::Error),
}

/// How [`Issuer::issue_raw`] writes the type claim.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum TypeClaim {
    /// The type's name.
    Type(TokenType),
    /// Any value, even one that names no type of the vocabulary.
    Raw(Value),
    /// No type claim at all.
    Absent,
}

/// Mints tokens with claims `jti` (random), `iss` (if set), `aud`, `nbf`,
/// `iat`, `exp = now + lifetime of the type`, `sub`, the type in its
/// vocabulary's claim (Airflow's `scope` by default; none for a vocabulary
/// without types), a `kid` header, and the token's refresh chain in
/// [`CHAIN_CLAIM`](crate::CHAIN_CLAIM) (`sid`): a fresh 128-bit random id
/// for a token [`issue`](Self::issue)d, the chain of the token it replaces
/// for one [`reissue`](Self::reissue)d.
///
/// ```
/// use scopegate::{Issuer, SigningKey, TokenType};
/// let issuer = Issuer::builder(SigningKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:airflow.apache.org:task")
///     .build()?;
/// let token = issuer.issue(uuid::Uuid::new_v4(), TokenType::EXECUTION)?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Another vocabulary, with subjects that are not UUIDs:
///
/// ```
/// use scopegate::{Issuer, SigningKey, TokenType, Vocabulary};
/// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
/// let issuer = Issuer::builder(SigningKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:example:ledger")
///     .vocabulary(&LEDGER)
///     .build()?;
/// let token = issuer.issue("alice", TokenType::new("auditor"))?;
/// assert!(issuer.issue("alice", TokenType::WORKLOAD).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    key: SigningKey,
    header: Header,
    audience: Value,
    issuer: Option<String>,
    vocabulary: &'static Vocabulary,
    ttls: Vec<(TokenType, Duration)>,
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
    vocabulary: &'static Vocabulary,
    ttls: Vec<(TokenType, Duration)>,
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

    /// Mints the types of `vocabulary`, in its claim (default
    /// [`Vocabulary::AIRFLOW`]: `execution` and `workload` in `scope`). A
    /// crate's own is `scopegate::vocabulary!()`.
    pub fn vocabulary(mut self, vocabulary: &'static Vocabulary) -> Self {
        self.vocabulary = vocabulary;
        self
    }

    /// Lifetime of tokens of type `ty`. Defaults: 24 h for `workload`, 600 s
    /// for every other type (Airflow's `execution` among them).
    pub fn ttl(mut self, ty: TokenType, ttl: Duration) -> Self {
        self.ttls.retain(|(t, _)| *t != ty);
        self.ttls.push((ty, ttl));
        self
    }

    /// Lifetime of execution tokens (default 600 s).
    pub fn execution_ttl(self, ttl: Duration) -> Self {
        self.ttl(TokenType::EXECUTION, ttl)
    }

    /// Lifetime of workload tokens (default 24 h).
    pub fn workload_ttl(self, ttl: Duration) -> Self {
        self.ttl(TokenType::WORKLOAD, ttl)
    }

    /// Accepts an HMAC secret shorter than its algorithm's hash
    /// ([`min_secret_bytes`](crate::min_secret_bytes): 32 bytes for HS256,
    /// 48 for HS384, 64 for HS512), for an existing deployment whose secret
    /// cannot change yet.
    pub fn allow_short_secret(mut self) -> Self {
        self.allow_short_secret = true;
        self
    }

    /// Builds the issuer. Fails without an audience, or with an HMAC secret
    /// shorter than its algorithm's hash unless
    /// [`allow_short_secret`](Self::allow_short_secret).
    pub fn build(self) -> Result<Issuer, ConfigError> {
        if self.audiences.is_empty() {
            return Err(ConfigError::NoAudience);
        }
        check_secret_len(
            self.key.secret_len(),
            self.key.algorithm,
            self.allow_short_secret,
        )?;
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
            vocabulary: self.vocabulary,
            ttls: self.ttls,
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
            vocabulary: &Vocabulary::AIRFLOW,
            ttls: Vec::new(),
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

    /// The vocabulary whose types this issuer mints.
    pub fn vocabulary(&self) -> &'static Vocabulary {
        self.vocabulary
    }

    /// The lifetime of tokens of type `ty`.
    pub fn ttl(&self, ty: TokenType) -> Duration {
        match self.ttls.iter().find(|(t, _)| *t == ty) {
            Some((_, ttl)) => *ttl,
            None if ty == TokenType::WORKLOAD => DEFAULT_WORKLOAD_TTL,
            None => DEFAULT_EXECUTION_TTL,
        }
    }

    /// Mints a token of type `ty` for `sub` (a UUID for Airflow's tokens;
    /// anything for a verifier that accepts any subject).
    pub fn issue(&self, sub: impl fmt::Display, ty: TokenType) -> Result<String, IssueError> {
        self.issue_with_claims(sub, ty, &Map::new())
    }

    /// Mints a token carrying `extra` claims as well. Registered claims, the
    /// type claim and the chain claim in `extra` (`exp`, `sub`, `scope`,
    /// `sid`, ...) are ignored: the issuer sets those. The token starts a
    /// new refresh chain.
    pub fn issue_with_claims(
        &self,
        sub: impl fmt::Display,
        ty: TokenType,
        extra: &Map<String, Value>,
    ) -> Result<String, IssueError> {
        let (iat, exp) = self.lifetime_from_now(ty);
        self.issue_at(sub, ty, extra, iat, exp)
    }

    /// [`issue_with_claims`](Self::issue_with_claims) with given `iat`
    /// (and `nbf`) and `exp`: the testing kit's expired and near-expiry
    /// tokens go through the same code as every other token.
    pub(crate) fn issue_at(
        &self,
        sub: impl fmt::Display,
        ty: TokenType,
        extra: &Map<String, Value>,
        iat: i64,
        exp: i64,
    ) -> Result<String, IssueError> {
        if self.vocabulary.index(ty.as_str()).is_none() {
            return Err(IssueError::UnknownType(ty));
        }
        self.issue_raw(sub, TypeClaim::Type(ty), extra, iat, exp)
    }

    /// [`issue_at`](Self::issue_at) with the type claim written as
    /// `type_claim` says, even outside the vocabulary: the testing kit's
    /// tokens of an unknown type, or without the claim.
    pub(crate) fn issue_raw(
        &self,
        sub: impl fmt::Display,
        type_claim: TypeClaim,
        extra: &Map<String, Value>,
        iat: i64,
        exp: i64,
    ) -> Result<String, IssueError> {
        let mut claims = extra.clone();
        match &self.issuer {
            Some(iss) => claims.insert("iss".into(), Value::String(iss.clone())),
            None => claims.remove("iss"),
        };
        claims.insert("aud".into(), self.audience.clone());
        if self.vocabulary.is_typed() {
            let claim = self.vocabulary.claim();
            match type_claim {
                TypeClaim::Type(ty) => {
                    claims.insert(claim.into(), Value::String(ty.as_str().to_owned()))
                }
                TypeClaim::Raw(value) => claims.insert(claim.into(), value),
                TypeClaim::Absent => claims.remove(claim),
            };
        }
        claims.insert(CHAIN_CLAIM.into(), Value::String(new_chain_id()?));
        self.mint(&sub.to_string(), claims, iat, exp)
    }

    /// A fresh token for verified `claims` of type `ty` (which a route
    /// policy resolved in this issuer's vocabulary), as
    /// [`Reissue`](crate::Reissue) hands out, and as a handler swaps one
    /// type for another (Airflow's `/run`, a workload token for an
    /// execution token): the same `sub`, `aud`, `iss` (the token's own, not
    /// this issuer's) and extra claims, the type written in the
    /// vocabulary's claim, a new `jti`, `iat`, `nbf` and
    /// `exp = now + lifetime of ty`, and the refresh chain: its id in
    /// [`CHAIN_CLAIM`](crate::CHAIN_CLAIM) ([`Claims::chain`]: the token's
    /// own, or its `jti` for a token that had none) and its start in
    /// [`SESSION_START_CLAIM`](crate::SESSION_START_CLAIM). Fails when that
    /// claim is malformed, or `ty` is not in the vocabulary.
    pub fn reissue(&self, claims: &Claims, ty: TokenType) -> Result<String, IssueError> {
        if self.vocabulary.index(ty.as_str()).is_none() {
            return Err(IssueError::UnknownType(ty));
        }
        let start = claims
            .session_start()
            .ok_or(IssueError::InvalidSessionStart)?;
        let mut fresh = claims.extra.clone();
        if self.vocabulary.is_typed() {
            fresh.insert(
                self.vocabulary.claim().into(),
                Value::String(ty.as_str().to_owned()),
            );
        }
        fresh.insert(SESSION_START_CLAIM.into(), start.into());
        let chain = match claims.chain() {
            Some(chain) => chain.to_owned(),
            None => new_chain_id()?,
        };
        fresh.insert(CHAIN_CLAIM.into(), Value::String(chain));
        match &claims.iss {
            Some(iss) => fresh.insert("iss".into(), Value::String(iss.clone())),
            None => fresh.remove("iss"),
        };
        let aud = match &claims.aud {
            Audience::One(one) => Value::String(one.clone()),
            Audience::Many(many) => Value::from(many.clone()),
        };
        fresh.insert("aud".into(), aud);
        let (iat, exp) = self.lifetime_from_now(ty);
        self.mint(&claims.sub, fresh, iat, exp)
    }

    /// `iat` now and `exp` one lifetime of `ty` later.
    fn lifetime_from_now(&self, ty: TokenType) -> (i64, i64) {
        let now = now();
        let ttl = i64::try_from(self.ttl(ty).as_secs()).unwrap_or(i64::MAX);
        (now, now.saturating_add(ttl))
    }

    /// Signs `claims` (which already hold `iss`, `aud`, the type claim and
    /// extras) after setting `jti`, `nbf` and `iat` (both `iat`), `exp` and
    /// `sub`.
    fn mint(
        &self,
        sub: &str,
        mut claims: Map<String, Value>,
        iat: i64,
        exp: i64,
    ) -> Result<String, IssueError> {
        claims.insert(
            "jti".into(),
            Value::String(Uuid::new_v4().simple().to_string()),
        );
        claims.insert("nbf".into(), iat.into());
        claims.insert("iat".into(), iat.into());
        claims.insert("exp".into(), exp.into());
        claims.insert("sub".into(), Value::String(sub.to_owned()));
        Ok(jws::sign(&self.header, &claims, &self.key)?)
    }
}

/// A new refresh chain id: 128 bits from the OS generator, base64url (22
/// characters).
fn new_chain_id() -> Result<String, IssueError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(IssueError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
