//! The [`Verifier`]: crypto and registered claims, never route scopes nor
//! token types, which belong to a vocabulary and are a route policy's
//! business. The per-request record that makes it run once per request is
//! in the web layer (`web/request.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::claims::{
    now, peek_issuer, ClaimRules, Claims, SubjectFormat, MAX_LEEWAY, SESSION_START_CLAIM,
};
use crate::jose::discovery::Discovery;
use crate::jose::jwks::{Jwks, Origin, Schedule};
use crate::jose::jws::{self, Compact};
use crate::jose::keys::check_secret_len;
use crate::jose::{
    ConfigError, InvalidReason, KeySetError, DEFAULT_FETCH_TIMEOUT, DEFAULT_JWKS_MIN_RETRY,
    DEFAULT_JWKS_REFRESH, DEFAULT_OIDC_MAX_STALE, DEFAULT_OIDC_REFRESH,
};
use crate::policy::Vocabulary;

use super::cache::{TokenCache, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
use super::cookie::CookieSource;
use super::issuers::{KeySource, KeyStore, Keys, Trusted, TrustedIssuer};
use super::revoke::{DenyList, RevocationStatus, TokenRef};

/// Default clock-skew allowance for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(10);
/// Default maximum token length in bytes.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;

/// Verifies bearer tokens: signature with a pinned algorithm, then the
/// registered claims (`exp`, `iat`, `aud` required; `iss` when configured;
/// `nbf` when present) and `sub` in the [`SubjectFormat`] (a UUID by
/// default). It never looks at the token type: that is a claim of the
/// route's vocabulary, which the route's policy reads.
///
/// Build it once at start-up and register it as `web::Data<Verifier>`:
///
/// ```
/// use actix_web::{web, App};
/// use scopegate::{VerificationKey, Verifier};
///
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:airflow.apache.org:task")
///     .build()?;
/// let app = App::new().app_data(web::Data::new(verifier));
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
///
/// A verifier may trust several issuers, each with its own keys and
/// audiences ([`TrustedIssuer`]), identity providers found by OpenID
/// Connect discovery among them ([`Verifier::oidc`]): a token's `iss`
/// selects its issuer, and a token whose `iss` is none of them is refused
/// (`untrusted issuer`).
pub struct Verifier {
    /// Unique in the process: a per-request result is bound to it.
    id: u64,
    /// One or more; with more than one, each has an `iss`, all different.
    issuers: Box<[Trusted]>,
    leeway: i64,
    subject: SubjectFormat,
    max_token_size: usize,
    cache: Option<Arc<TokenCache>>,
    deny_list: Option<Arc<dyn DenyList>>,
    /// In seconds.
    max_session_age: Option<i64>,
    cookie: Option<CookieSource>,
    verifications: AtomicU64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuers", &self.issuers)
            .field("leeway", &self.leeway)
            .field("subject", &self.subject)
            .field("max_token_size", &self.max_token_size)
            .field(
                "cache_entries",
                &self.cache.as_deref().map(TokenCache::max_entries),
            )
            .field("deny_list", &self.deny_list.is_some())
            .field("max_session_age", &self.max_session_age)
            .field("cookie", &self.cookie)
            .finish()
    }
}

/// Builds a [`Verifier`]; see [`Verifier::builder`].
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    /// The issuer the builder started with, if any; then those added with
    /// [`trust`](Self::trust).
    issuers: Vec<TrustedIssuer>,
    jwks_refresh: Option<Duration>,
    jwks_min_retry: Option<Duration>,
    jwks_max_stale: Option<Duration>,
    fetch_timeout: Option<Duration>,
    insecure_http: bool,
    audiences: Vec<String>,
    leeway: Duration,
    /// Set by [`subject`](Self::subject): wins over the vocabularies'.
    subject: Option<SubjectFormat>,
    /// The vocabularies' subject format ([`vocabulary`](Self::vocabulary)).
    vocabulary_subject: SubjectFormat,
    max_token_size: usize,
    cache_entries: usize,
    cache_bytes: usize,
    allow_short_secret: bool,
    deny_list: Option<Arc<dyn DenyList>>,
    max_session_age: Option<Duration>,
    cookie: Option<String>,
    origins: Vec<String>,
}

impl VerifierBuilder {
    /// Accepts tokens whose `aud` names `audience`. Call again to accept
    /// several. With several issuers, these are the audiences of every
    /// issuer that names none of its own
    /// ([`TrustedIssuer::audience`]).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires `iss` to equal `issuer`: the `iss` of the issuer the
    /// builder started with ([`Verifier::builder`]'s keys). Required when
    /// the verifier trusts other issuers too. (An identity provider's
    /// issuer is its URL.)
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.iss = Some(issuer.into());
        }
        self
    }

    /// Trusts another issuer too: its tokens are those whose `iss` is its
    /// own, verified with its keys only. Every issuer of a verifier of
    /// several needs an `iss` (give the builder's first one with
    /// [`issuer`](Self::issuer)), and no two may share it.
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Consults `list` on every verification, cache hits included: a token
    /// whose `jti` or refresh chain it holds (for the token's issuer) is
    /// refused (`token revoked`), and a token without a `jti` is refused
    /// too, since it could never be revoked. Needs a
    /// [`max_session_age`](Self::max_session_age), so that every chain, and
    /// so its revocation, ends. See [`DenyList`] for stores that live in a
    /// database.
    pub fn deny_list(mut self, list: impl DenyList + 'static) -> Self {
        self.deny_list = Some(Arc::new(list));
        self
    }

    /// Refuses a token whose refresh chain started more than `age` ago
    /// (beyond the leeway): its [`SESSION_START_CLAIM`](crate::SESSION_START_CLAIM),
    /// or its `iat` for the first token of a chain, on every verification,
    /// cache hits included (`session expired`). Off by default, as in
    /// Airflow, where a running task's token is refreshed for as long as it
    /// runs; required with a [`deny_list`](Self::deny_list). A
    /// [`Reissue`](crate::Reissue) of the same app stops refreshing at that
    /// age too.
    pub fn max_session_age(mut self, age: Duration) -> Self {
        self.max_session_age = Some(age);
        self
    }

    /// Also reads the token from the cookie `name` when a request has no
    /// `Authorization` header (a browser front-end). With a header, the
    /// cookie is ignored, valid or not. On an unsafe method (anything but
    /// GET, HEAD and OPTIONS) a cookie token is accepted only when the
    /// request's `Origin` is one of the [`allowed_origin`](Self::allowed_origin)s
    /// (CSRF); a token from a cookie is never refreshed through a response
    /// header. Name it with the `__Host-` prefix (`__Host-token`), so that
    /// browsers only keep it when it is `Secure`, host-only and for `/`:
    /// a sibling subdomain cannot plant one. A token in the query string is
    /// never read: it would leak into logs.
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// An origin (`https://app.example.com`, as browsers write it in
    /// `Origin`) from which a cookie token is accepted on unsafe methods.
    /// Call again to allow several.
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Accepts an HMAC secret shorter than its algorithm's hash
    /// ([`min_secret_bytes`](crate::min_secret_bytes): 32 bytes for HS256,
    /// 48 for HS384, 64 for HS512), for an existing deployment whose secret
    /// cannot change yet. Without it, [`build`] refuses such a secret, as
    /// RFC 7518 §3.2 asks.
    ///
    /// [`build`]: Self::build
    pub fn allow_short_secret(mut self) -> Self {
        self.allow_short_secret = true;
        self
    }

    /// What a token's `sub` must be: a hyphenated UUID (the default, as
    /// Airflow's task instance ids), or, with [`SubjectFormat::Any`], any
    /// non-empty string, for a service whose subjects are names or ids of
    /// its own. It wins over the vocabulary's
    /// ([`vocabulary`](Self::vocabulary)), which says the same thing from
    /// `scopegate.toml`.
    pub fn subject(mut self, format: SubjectFormat) -> Self {
        self.subject = Some(format);
        self
    }

    /// Follows `vocabulary` (the crate's, `scopegate::vocabulary!()`) where
    /// it concerns the verifier: its tokens' `sub` has the format its
    /// `scopegate.toml` declares (`[token] subject = "any"` accepts any
    /// non-empty string; the default, `"uuid"`, only UUIDs). The verifier
    /// never reads token types, so nothing else of the vocabulary matters
    /// here. For a verifier shared by crates of several vocabularies, call
    /// it once per vocabulary: a subject any of them accepts is accepted.
    /// An explicit [`subject`](Self::subject) wins.
    ///
    /// ```
    /// use scopegate::{SubjectFormat, VerificationKey, Verifier, Vocabulary};
    ///
    /// // In your crate: `const VOCABULARY: Vocabulary = scopegate::vocabulary!();`
    /// // with `subject = "any"` under `[token]` in its scopegate.toml.
    /// const VOCABULARY: Vocabulary =
    ///     Vocabulary::new("kind", &["user", "service"], 0).with_subject(SubjectFormat::Any);
    ///
    /// let verifier = Verifier::builder(VerificationKey::secret(&[7; 64])?)
    ///     .audience("urn:example:notes")
    ///     .vocabulary(&VOCABULARY)
    ///     .build()?;
    /// # let _ = verifier;
    /// # Ok::<(), scopegate::ConfigError>(())
    /// ```
    pub fn vocabulary(mut self, vocabulary: &Vocabulary) -> Self {
        if vocabulary.subject() == SubjectFormat::Any {
            self.vocabulary_subject = SubjectFormat::Any;
        }
        self
    }

    /// Clock-skew allowance (default 10 s), whole seconds, at most
    /// [`MAX_LEEWAY`] (5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest token accepted, in bytes (default 8 KiB).
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Caches up to `entries` verified tokens (default 16 Ki) so a token
    /// seen again costs a hash lookup, not a signature check. `0` switches
    /// the cache off.
    pub fn cache_entries(mut self, entries: usize) -> Self {
        self.cache_entries = entries;
        self
    }

    /// Memory budget of the verified-token cache (default 32 MiB).
    pub fn cache_bytes(mut self, bytes: usize) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// Interval between scheduled JWKS refreshes (default 3600 s; for an
    /// identity provider, [`DEFAULT_OIDC_REFRESH`](crate::DEFAULT_OIDC_REFRESH)).
    pub fn jwks_refresh(mut self, interval: Duration) -> Self {
        self.jwks_refresh = Some(interval);
        self
    }

    /// Minimum gap between two JWKS fetches, for early refreshes on an
    /// unknown `kid` and retries after a failure (default 10 s).
    pub fn jwks_min_retry(mut self, gap: Duration) -> Self {
        self.jwks_min_retry = Some(gap);
        self
    }

    /// Drops the JWKS keys when no fetch has succeeded for `age` (off by
    /// default for a JWKS, where the last good keys are kept however long
    /// the source is down; for an identity provider,
    /// [`DEFAULT_OIDC_MAX_STALE`](crate::DEFAULT_OIDC_MAX_STALE)). Every token is then refused until a fetch succeeds, so taking
    /// the JWKS endpoint down cannot keep a removed key alive forever. The
    /// scheduled refresh checks it after each failed fetch, so the keys go
    /// within one minimum retry gap after `age`. Must be at least the
    /// refresh interval.
    pub fn jwks_max_stale(mut self, age: Duration) -> Self {
        self.jwks_max_stale = Some(age);
        self
    }

    /// Time limit of one fetch of a JWKS or discovery document (default
    /// [`DEFAULT_FETCH_TIMEOUT`](crate::DEFAULT_FETCH_TIMEOUT)).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = Some(timeout);
        self
    }

    /// Allows identity providers' issuers and `jwks_uri`s to be plain
    /// `http` to hosts that are not loopback addresses (see
    /// [`TrustedIssuer::insecure_http`]).
    pub fn insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Builds the verifier and, for each JWKS and identity provider, fetches
    /// the keys once (on the blocking pool) and starts its scheduled
    /// refresh on the current tokio runtime (actix's System,
    /// `#[tokio::test]`); the refresh ends when the verifier is dropped.
    ///
    /// Fails if a JWKS cannot be fetched, or if an identity provider's
    /// discovery finds it misconfigured (its document names another issuer:
    /// the error names both). An identity provider that cannot be reached
    /// does not fail the start: its discovery is retried every minimum
    /// retry gap, and its tokens are refused (`signing keys unavailable`,
    /// with a warning in the log) until its keys arrive.
    pub async fn load(self) -> Result<Verifier, ConfigError> {
        let verifier = self.build()?;
        for trusted in verifier.issuers.iter() {
            let Some(jwks) = trusted.keys.jwks() else {
                continue;
            };
            let loaded = jwks.refresh(None).await;
            jwks.start_schedule();
            match loaded {
                Ok(_) => {}
                Err(err) if trusted.is_identity_provider() && !err.is_misconfiguration() => {
                    tracing::warn!(
                        target: "scopegate",
                        source = %jwks.origin(),
                        error = %err,
                        retry_secs = jwks.schedule.min_gap.as_secs_f64(),
                        "identity provider unreachable at start-up: retrying; its tokens are refused until its keys arrive",
                    );
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(verifier)
    }

    /// Builds the verifier without I/O. Fails without an audience (for any
    /// issuer), with an HMAC secret shorter than its algorithm's hash
    /// (unless [`allow_short_secret`](Self::allow_short_secret)), with a
    /// leeway over [`MAX_LEEWAY`], with a maximum stale age below the
    /// refresh interval, with a deny-list but no maximum session age, with
    /// an identity provider's issuer URL that is not `https`
    /// (off loopback, without the opt-in), or with several issuers of which
    /// one has no `iss` or two share one. A JWKS or identity provider
    /// starts with no keys: use [`load`](Self::load), or its first token
    /// triggers the (rate-limited) fetch, which also starts the scheduled
    /// refresh.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge {
                secs: self.leeway.as_secs(),
                max: MAX_LEEWAY.as_secs(),
            });
        }
        let max_session_age = match (&self.deny_list, self.max_session_age) {
            (Some(_), None) => return Err(ConfigError::DenyListWithoutSessionAge),
            (_, age) => age.map(|age| i64::try_from(age.as_secs()).unwrap_or(i64::MAX)),
        };
        if self.issuers.len() > 1 {
            for (i, issuer) in self.issuers.iter().enumerate() {
                let Some(iss) = &issuer.iss else {
                    return Err(ConfigError::IssuerRequired);
                };
                if self.issuers[..i]
                    .iter()
                    .any(|o| o.iss.as_ref() == Some(iss))
                {
                    return Err(ConfigError::DuplicateIssuer(iss.clone()));
                }
            }
        }
        let cookie = match self.cookie.clone() {
            Some(name) => Some(CookieSource::new(name, self.origins.clone())?),
            None if !self.origins.is_empty() => return Err(ConfigError::OriginsWithoutCookie),
            None => None,
        };
        let cache = TokenCache::new(self.cache_entries, self.cache_bytes).map(Arc::new);
        let several = self.issuers.len() > 1;
        let issuers = self
            .issuers
            .iter()
            .enumerate()
            .map(|(index, issuer)| self.build_issuer(issuer, index as u32, several, cache.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if let (Some(list), Some(age)) = (&self.deny_list, self.max_session_age) {
            list.set_max_session_age(age);
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(Verifier {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            issuers: issuers.into(),
            // At most MAX_LEEWAY, checked above.
            leeway: self.leeway.as_secs() as i64,
            subject: self.subject.unwrap_or(self.vocabulary_subject),
            max_token_size: self.max_token_size,
            cache,
            deny_list: self.deny_list,
            max_session_age,
            cookie,
            verifications: AtomicU64::new(0),
        })
    }

    /// One trusted issuer, with the builder's settings where it has none of
    /// its own. `several`: the verifier trusts more than one, so a key-set
    /// change flushes only this issuer's cached tokens.
    fn build_issuer(
        &self,
        issuer: &TrustedIssuer,
        index: u32,
        several: bool,
        cache: Option<&Arc<TokenCache>>,
    ) -> Result<Trusted, ConfigError> {
        let audiences = if issuer.audiences.is_empty() {
            self.audiences.clone()
        } else {
            issuer.audiences.clone()
        };
        if audiences.is_empty() {
            return Err(ConfigError::NoAudience);
        }
        let identity_provider = matches!(issuer.keys, Keys::Discovery(_));
        let interval = issuer
            .refresh
            .or(self.jwks_refresh)
            .unwrap_or(if identity_provider {
                DEFAULT_OIDC_REFRESH
            } else {
                DEFAULT_JWKS_REFRESH
            });
        let max_stale = issuer
            .max_stale
            .or(self.jwks_max_stale)
            .or(identity_provider.then(|| DEFAULT_OIDC_MAX_STALE.max(interval)));
        if max_stale.is_some_and(|age| age < interval) {
            return Err(ConfigError::JwksMaxStale);
        }
        let schedule = Schedule {
            interval,
            min_gap: issuer
                .min_retry
                .or(self.jwks_min_retry)
                .unwrap_or(DEFAULT_JWKS_MIN_RETRY),
            max_stale,
            timeout: issuer
                .fetch_timeout
                .or(self.fetch_timeout)
                .unwrap_or(DEFAULT_FETCH_TIMEOUT),
        };
        let on_change = cache.cloned().map(|cache| -> Box<dyn Fn() + Send + Sync> {
            if several {
                Box::new(move || cache.forget_issuer(index))
            } else {
                Box::new(move || cache.clear())
            }
        });
        let (iss, keys) = match &issuer.keys {
            Keys::Source(KeySource::Key(key)) => {
                check_secret_len(
                    key.secret_len(),
                    key.algorithm,
                    issuer.allow_short_secret || self.allow_short_secret,
                )?;
                (issuer.iss.clone(), KeyStore::Key(key.clone()))
            }
            Keys::Source(KeySource::Jwks(source)) => (
                issuer.iss.clone(),
                KeyStore::Jwks(Arc::new(Jwks::new(
                    Origin::Jwks(source.clone()),
                    schedule,
                    on_change,
                ))),
            ),
            Keys::Discovery(url) => {
                if issuer.iss.as_ref().is_some_and(|iss| iss != url) {
                    return Err(ConfigError::InvalidIssuerUrl {
                        issuer: url.clone(),
                        reason: "an identity provider's iss is its issuer URL; .issuer(..) named another".into(),
                    });
                }
                let discovery = Discovery::new(url, issuer.insecure_http || self.insecure_http)?;
                (
                    Some(url.clone()),
                    KeyStore::Jwks(Arc::new(Jwks::new(
                        Origin::Discovery(discovery),
                        schedule,
                        on_change,
                    ))),
                )
            }
        };
        Ok(Trusted {
            iss,
            keys,
            audiences,
            grants: issuer.grants,
            grants_permissions: issuer.grants_permissions,
        })
    }
}

/// A token that passed every check of its issuer: its claims, which
/// issuer (by index), and the generation of that issuer's key set.
struct Verified {
    claims: Claims,
    issuer: u32,
    generation: u64,
}

impl Verifier {
    /// Starts a verifier for a [`VerificationKey`](crate::VerificationKey) or a
    /// [`JwksSource`](crate::JwksSource). Add
    /// at least one [`audience`](VerifierBuilder::audience).
    pub fn builder(keys: impl Into<KeySource>) -> VerifierBuilder {
        Self::trusting(TrustedIssuer::with_keys(None, Keys::Source(keys.into())))
    }

    /// Starts a verifier for an identity provider found by OpenID Connect
    /// discovery (see [`TrustedIssuer::oidc`]): Keycloak's
    /// `https://HOST/realms/REALM`, Auth0's `https://TENANT.auth0.com/`,
    /// Entra ID's `https://login.microsoftonline.com/TENANT/v2.0`, ...
    /// Add at least one [`audience`](VerifierBuilder::audience), then
    /// [`load`](VerifierBuilder::load) it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), scopegate::ConfigError> {
    /// use scopegate::{SubjectFormat, Verifier};
    /// let verifier = Verifier::oidc("https://keycloak.example.com/realms/ops")
    ///     .audience("urn:example:ledger")
    ///     .subject(SubjectFormat::Any)
    ///     .load()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn oidc(issuer: impl Into<String>) -> VerifierBuilder {
        Self::trusting(TrustedIssuer::oidc(issuer))
    }

    /// Starts a verifier that trusts `issuer`; add others with
    /// [`trust`](VerifierBuilder::trust).
    pub fn trusting(issuer: TrustedIssuer) -> VerifierBuilder {
        VerifierBuilder {
            issuers: vec![issuer],
            jwks_refresh: None,
            jwks_min_retry: None,
            jwks_max_stale: None,
            fetch_timeout: None,
            insecure_http: false,
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            subject: None,
            vocabulary_subject: SubjectFormat::Uuid,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            cache_entries: DEFAULT_CACHE_ENTRIES,
            cache_bytes: DEFAULT_CACHE_BYTES,
            allow_short_secret: false,
            deny_list: None,
            max_session_age: None,
            cookie: None,
            origins: Vec::new(),
        }
    }

    /// Verifies one token string: refused past the maximum token size, a
    /// cache hit if this token verified before with its issuer's current
    /// keys and has not expired, else the signature and every claim rule
    /// (and the result is cached); then, with a deny-list, refused if
    /// revoked.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, InvalidReason> {
        let now = now();
        match self.cached(token.as_bytes(), now) {
            Some(hit) => hit,
            None => self.verify_fresh(token, now),
        }
    }

    /// The verified-token cache's answer for `token`, as received, at `now`
    /// (the request's one clock read): `None` on a miss (or with the cache
    /// off), else the cached claims, refused if revoked. A hit was verified
    /// by its issuer's current key set and has not expired.
    #[inline(always)]
    pub(crate) fn cached(
        &self,
        token: &[u8],
        now: i64,
    ) -> Option<Result<Arc<Claims>, InvalidReason>> {
        let claims = self
            .cache
            .as_deref()?
            .get(token, now, self.leeway, |issuer| self.generation(issuer))?;
        Some(self.check_live(&claims, now).map(|()| claims))
    }

    /// Verifies `token` without looking it up (after a miss of
    /// [`cached`](Self::cached)): refused past the maximum token size, else
    /// the signature and every claim rule at `now`, then refused if revoked;
    /// a valid token is cached.
    pub(crate) fn verify_fresh(&self, token: &str, now: i64) -> Result<Arc<Claims>, InvalidReason> {
        if token.len() > self.max_token_size {
            return Err(InvalidReason::TooLarge);
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let Verified {
            claims,
            issuer,
            generation,
        } = self.check(token, now)?;
        self.check_live(&claims, now)?;
        let claims = Arc::new(claims);
        if let Some(cache) = &self.cache {
            cache.insert(token, Arc::clone(&claims), issuer, generation);
        }
        Ok(claims)
    }

    /// What may change after a token verified, checked on every
    /// verification, cached or not: with a maximum session age, refuses a
    /// token whose chain started too long before `now`; with a deny-list,
    /// refuses a revoked token or chain (the list sees the token's issuer),
    /// and a token without `jti`, and every token while the list has never
    /// been loaded.
    #[inline]
    fn check_live(&self, claims: &Claims, now: i64) -> Result<(), InvalidReason> {
        if let Some(age) = self.max_session_age {
            let start = claims
                .session_start()
                .ok_or(InvalidReason::InvalidClaim(SESSION_START_CLAIM))?;
            if start.saturating_add(age).saturating_add(self.leeway) < now {
                return Err(InvalidReason::SessionExpired);
            }
        }
        let Some(list) = &self.deny_list else {
            return Ok(());
        };
        let token = TokenRef::from_claims(claims).ok_or(InvalidReason::MissingClaim("jti"))?;
        match list.revocation_status(&token) {
            RevocationStatus::NotRevoked => Ok(()),
            RevocationStatus::Revoked => Err(InvalidReason::Revoked),
            RevocationStatus::NotLoaded => Err(InvalidReason::RevocationsNotLoaded),
        }
    }

    /// The generation of issuer `index`'s current key set (`None` for no
    /// such issuer, which a cache entry never names).
    #[inline]
    fn generation(&self, index: u32) -> Option<u64> {
        self.issuers
            .get(index as usize)
            .map(|issuer| issuer.keys.generation())
    }

    /// Which issuer `compact` claims to come from: the only one, or, for a
    /// verifier of several, the one its `iss` names (then with the decoded
    /// payload, so it is decoded once).
    fn select(&self, compact: &Compact<'_>) -> Result<(usize, Option<Vec<u8>>), InvalidReason> {
        if self.issuers.len() == 1 {
            return Ok((0, None));
        }
        let payload = jws::b64(compact.payload)?;
        let iss = peek_issuer(&payload)?;
        let index = self
            .issuers
            .iter()
            .position(|issuer| issuer.iss.as_deref() == Some(iss.as_str()))
            .ok_or(InvalidReason::UntrustedIssuer)?;
        Ok((index, Some(payload)))
    }

    /// Verifies one token string without the cache or the count: its
    /// issuer (by `iss`, when there are several), the signature with that
    /// issuer's keys only, every claim rule with its audiences and `iss`,
    /// and what it may grant.
    fn check(&self, token: &str, now: i64) -> Result<Verified, InvalidReason> {
        let compact = Compact::split(token)?;
        let header = jws::b64(compact.header)?;
        let header = jws::header(&header)?;
        let (index, payload) = self.select(&compact)?;
        let issuer = &self.issuers[index];
        let key_set;
        let (key, generation) = match &issuer.keys {
            KeyStore::Key(key) => (key, 0),
            KeyStore::Jwks(jwks) => {
                key_set = jwks.current();
                if key_set.is_empty() {
                    return Err(InvalidReason::KeysUnavailable);
                }
                let kid = header.kid.as_deref().ok_or(InvalidReason::MissingKeyId)?;
                let key = key_set.get(kid).ok_or(InvalidReason::UnknownKey)?;
                (key, key_set.generation)
            }
        };
        jws::check_alg(&header, key.algorithm)?;
        jws::check_signature(&compact, key)?;
        let payload = match payload {
            Some(payload) => payload,
            None => jws::b64(compact.payload)?,
        };
        let claims = Claims::parse(
            &payload,
            &ClaimRules {
                now,
                leeway: self.leeway,
                audiences: &issuer.audiences,
                issuer: issuer.iss.as_deref(),
                subject: self.subject,
            },
        )?;
        issuer.check_grants(&claims)?;
        Ok(Verified {
            claims,
            issuer: index as u32,
            generation,
        })
    }

    /// Whether [`Reissue`](crate::Reissue) may re-mint a token with these
    /// verified claims: not when its issuer is an identity provider. (It
    /// then checks that this verifier accepts the fresh token.)
    pub(crate) fn may_reissue(&self, claims: &Claims) -> bool {
        let issuer = match &*self.issuers {
            [only] => Some(only),
            several => several
                .iter()
                .find(|issuer| issuer.iss.is_some() && issuer.iss == claims.iss),
        };
        issuer.is_some_and(|issuer| !issuer.is_identity_provider())
    }

    /// Whether this verifier accepts `token`, a token [`Reissue`](crate::Reissue)
    /// has just minted, at `now`: otherwise it was minted by a key that is
    /// not the token's issuer's, and must not be handed out. Neither counted
    /// nor cached.
    pub(crate) fn accepts_minted(&self, token: &str, now: i64) -> bool {
        self.check(token, now).is_ok()
    }

    /// Number of tokens in the verified-token cache (0 when it is off).
    pub fn cached_tokens(&self) -> usize {
        self.cache.as_deref().map_or(0, TokenCache::len)
    }

    /// Empties the verified-token cache. Done automatically when the key set
    /// changes (though entries of an earlier key set are never used anyway:
    /// each records the key-set generation that verified it).
    pub fn clear_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// How many signature checks have run: at most one per request that
    /// presented a token, however many extractors read it, and none for a
    /// token served from the cache.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// This verifier's identity, unique in the process. A request's
    /// verification result is bound to the verifier that produced it, so a
    /// second verifier (another scope, another audience) never reuses it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The longest a refresh chain lives, if the verifier has a
    /// [`max_session_age`](VerifierBuilder::max_session_age).
    pub fn max_session_age(&self) -> Option<Duration> {
        self.max_session_age
            .map(|age| Duration::from_secs(age.unsigned_abs()))
    }

    /// The longest token accepted, in bytes.
    pub fn max_token_size(&self) -> usize {
        self.max_token_size
    }

    /// The token cookie, if one is declared.
    pub(crate) fn cookie(&self) -> Option<&CookieSource> {
        self.cookie.as_ref()
    }

    /// The algorithm tokens must be signed with, for a single-key verifier
    /// of one issuer (`None` for a JWKS, where each key pins its own, and
    /// for several issuers).
    pub fn algorithm(&self) -> Option<jsonwebtoken::Algorithm> {
        match &*self.issuers {
            [Trusted {
                keys: KeyStore::Key(key),
                ..
            }] => Some(key.algorithm),
            _ => None,
        }
    }

    /// The `iss` of each trusted issuer, in the order they were given
    /// (`None` for a verifier of one issuer configured without one).
    pub fn issuers(&self) -> impl Iterator<Item = Option<&str>> {
        self.issuers.iter().map(|issuer| issuer.iss.as_deref())
    }

    /// Fetches every JWKS and identity provider's keys now (and starts each
    /// scheduled refresh that is not running yet). When a key set changed,
    /// tokens verified with the earlier set are no longer served from the
    /// cache (and the cache is flushed), so tokens of a removed key stop at
    /// once. On failure the last good keys stay in use, up to the maximum
    /// stale age. Returns whether any keys changed (the first error, after
    /// trying them all); always `Ok(false)` for single keys.
    pub async fn refresh_keys(&self) -> Result<bool, KeySetError> {
        let mut changed = false;
        let mut first_error = None;
        for jwks in self.issuers.iter().filter_map(|i| i.keys.jwks()) {
            match jwks.refresh(None).await {
                Ok(c) => changed |= c,
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
            jwks.start_schedule();
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(changed),
        }
    }

    /// An early refresh for a token whose `kid` its issuer's keys lack (or
    /// whose issuer has no keys yet): that issuer's keys, at most one fetch
    /// per minimum retry gap, however many requests ask. Returns whether
    /// keys changed.
    pub(crate) async fn refresh_early(&self, token: &str) -> bool {
        let Some(jwks) = Compact::split(token)
            .and_then(|compact| self.select(&compact))
            .ok()
            .and_then(|(index, _)| self.issuers[index].keys.jwks())
        else {
            return false;
        };
        let changed = match jwks.refresh(Some(jwks.schedule.min_gap)).await {
            Ok(changed) => changed,
            Err(err) => {
                tracing::warn!(target: "scopegate", source = %jwks.origin(), error = %err, "early JWKS refresh failed; keeping the last good keys");
                false
            }
        };
        jwks.start_schedule();
        changed
    }
}
