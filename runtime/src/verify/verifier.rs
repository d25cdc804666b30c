//! The [`Verifier`]: crypto and registered claims, never route scopes nor
//! token types, which belong to a vocabulary and are a route policy's
//! business. The per-request record that makes it run once per request is
//! in the web layer (`web/request.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::claims::{now, ClaimRules, Claims, SubjectFormat, MAX_LEEWAY, SESSION_START_CLAIM};
use crate::jose::jwks::{Jwks, Schedule};
use crate::jose::jws::{self, Compact};
use crate::jose::keys::check_secret_len;
use crate::jose::{
    ConfigError, InvalidReason, JwksSource, KeySetError, VerificationKey, DEFAULT_JWKS_MIN_RETRY,
    DEFAULT_JWKS_REFRESH,
};

use super::cache::{TokenCache, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
use super::revoke::{DenyList, TokenRef};

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
pub struct Verifier {
    /// Unique in the process: a per-request result is bound to it.
    id: u64,
    keys: KeyStore,
    audiences: Vec<String>,
    issuer: Option<String>,
    leeway: i64,
    subject: SubjectFormat,
    max_token_size: usize,
    cache: Option<Arc<TokenCache>>,
    deny_list: Option<Arc<dyn DenyList>>,
    /// In seconds.
    max_session_age: Option<i64>,
    verifications: AtomicU64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("audiences", &self.audiences)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("subject", &self.subject)
            .field("max_token_size", &self.max_token_size)
            .field(
                "cache_entries",
                &self.cache.as_deref().map(TokenCache::max_entries),
            )
            .field("deny_list", &self.deny_list.is_some())
            .field("max_session_age", &self.max_session_age)
            .finish()
    }
}

/// What a [`Verifier`] checks signatures with: one key, or a JWKS whose
/// keys are selected by the token's `kid`.
#[derive(Debug)]
pub enum KeySource {
    /// One key; a `kid` in the token is ignored (Airflow's secret-signed
    /// tokens carry `"kid": "not-used"`).
    Key(VerificationKey),
    /// A JWKS file or URL; `kid` is required.
    Jwks(JwksSource),
}

impl From<VerificationKey> for KeySource {
    fn from(key: VerificationKey) -> Self {
        KeySource::Key(key)
    }
}

impl From<JwksSource> for KeySource {
    fn from(source: JwksSource) -> Self {
        KeySource::Jwks(source)
    }
}

enum KeyStore {
    Key(VerificationKey),
    /// Shared with its scheduled refresh task (which holds a `Weak`).
    Jwks(Arc<Jwks>),
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyStore::Key(key) => key.fmt(f),
            KeyStore::Jwks(jwks) => f
                .debug_struct("Jwks")
                .field("schedule", &jwks.schedule)
                .finish_non_exhaustive(),
        }
    }
}

/// Builds a [`Verifier`]; see [`Verifier::builder`].
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    keys: KeySource,
    jwks_refresh: Duration,
    jwks_min_retry: Duration,
    jwks_max_stale: Option<Duration>,
    audiences: Vec<String>,
    issuer: Option<String>,
    leeway: Duration,
    subject: SubjectFormat,
    max_token_size: usize,
    cache_entries: usize,
    cache_bytes: usize,
    allow_short_secret: bool,
    deny_list: Option<Arc<dyn DenyList>>,
    max_session_age: Option<Duration>,
}

impl VerifierBuilder {
    /// Accepts tokens whose `aud` names `audience`. Call again to accept
    /// several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Requires `iss` to equal `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Consults `list` on every verification, cache hits included: a token
    /// whose `jti` or refresh chain it holds is refused (`token revoked`),
    /// and a token without a `jti` is refused too, since it could never be
    /// revoked. Needs a [`max_session_age`](Self::max_session_age), so that
    /// every chain, and so its revocation, ends. See [`DenyList`] for
    /// stores that live in a database.
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
    /// its own.
    pub fn subject(mut self, format: SubjectFormat) -> Self {
        self.subject = format;
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

    /// Interval between scheduled JWKS refreshes (default 3600 s).
    pub fn jwks_refresh(mut self, interval: Duration) -> Self {
        self.jwks_refresh = interval;
        self
    }

    /// Minimum gap between two JWKS fetches, for early refreshes on an
    /// unknown `kid` and retries after a failure (default 10 s).
    pub fn jwks_min_retry(mut self, gap: Duration) -> Self {
        self.jwks_min_retry = gap;
        self
    }

    /// Drops the JWKS keys when no fetch has succeeded for `age` (off by
    /// default: the last good keys are kept however long the source is
    /// down). Every token is then refused until a fetch succeeds, so taking
    /// the JWKS endpoint down cannot keep a removed key alive forever. The
    /// scheduled refresh checks it after each failed fetch, so the keys go
    /// within one minimum retry gap after `age`. Must be at least the
    /// refresh interval.
    pub fn jwks_max_stale(mut self, age: Duration) -> Self {
        self.jwks_max_stale = Some(age);
        self
    }

    /// Builds the verifier and, for a JWKS, fetches the key set once (on the
    /// blocking pool) and starts its scheduled refresh on the current tokio
    /// runtime (actix's System, `#[tokio::test]`); the refresh ends when the
    /// verifier is dropped. Fails if that first fetch fails.
    pub async fn load(self) -> Result<Verifier, ConfigError> {
        let verifier = self.build()?;
        verifier.refresh_keys().await?;
        Ok(verifier)
    }

    /// Builds the verifier without I/O. Fails without an audience, with an
    /// HMAC secret shorter than its algorithm's hash (unless
    /// [`allow_short_secret`](Self::allow_short_secret)), with a leeway over
    /// [`MAX_LEEWAY`], with a maximum stale age below the refresh
    /// interval, or with a deny-list but no maximum session age. A JWKS
    /// verifier starts with no keys: use [`load`](Self::load), or its first
    /// token triggers the (rate-limited) fetch, which also starts the
    /// scheduled refresh.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if self.audiences.is_empty() {
            return Err(ConfigError::NoAudience);
        }
        if self
            .jwks_max_stale
            .is_some_and(|age| age < self.jwks_refresh)
        {
            return Err(ConfigError::JwksMaxStale);
        }
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
        if let KeySource::Key(key) = &self.keys {
            check_secret_len(key.secret_len(), key.algorithm, self.allow_short_secret)?;
        }
        let cache = TokenCache::new(self.cache_entries, self.cache_bytes).map(Arc::new);
        let keys = match self.keys {
            KeySource::Key(key) => KeyStore::Key(key),
            KeySource::Jwks(source) => {
                let schedule = Schedule {
                    interval: self.jwks_refresh,
                    min_gap: self.jwks_min_retry,
                    max_stale: self.jwks_max_stale,
                };
                let flush = cache.clone().map(|cache| -> Box<dyn Fn() + Send + Sync> {
                    Box::new(move || cache.clear())
                });
                KeyStore::Jwks(Arc::new(Jwks::new(source, schedule, flush)))
            }
        };
        if let (Some(list), Some(age)) = (&self.deny_list, self.max_session_age) {
            list.set_max_session_age(age);
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(Verifier {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            keys,
            audiences: self.audiences,
            issuer: self.issuer,
            // At most MAX_LEEWAY, checked above.
            leeway: self.leeway.as_secs() as i64,
            subject: self.subject,
            max_token_size: self.max_token_size,
            cache,
            deny_list: self.deny_list,
            max_session_age,
            verifications: AtomicU64::new(0),
        })
    }
}

impl Verifier {
    /// Starts a verifier for a [`VerificationKey`] or a [`JwksSource`]. Add
    /// at least one [`audience`](VerifierBuilder::audience).
    pub fn builder(keys: impl Into<KeySource>) -> VerifierBuilder {
        VerifierBuilder {
            keys: keys.into(),
            jwks_refresh: DEFAULT_JWKS_REFRESH,
            jwks_min_retry: DEFAULT_JWKS_MIN_RETRY,
            jwks_max_stale: None,
            audiences: Vec::new(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            subject: SubjectFormat::Uuid,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            cache_entries: DEFAULT_CACHE_ENTRIES,
            cache_bytes: DEFAULT_CACHE_BYTES,
            allow_short_secret: false,
            deny_list: None,
            max_session_age: None,
        }
    }

    /// Verifies one token string: refused past the maximum token size, a
    /// cache hit if this token verified before with the current keys and has
    /// not expired, else the signature and every claim rule (and the result
    /// is cached); then, with a deny-list, refused if revoked.
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
    /// by the current key set and has not expired.
    #[inline]
    pub(crate) fn cached(
        &self,
        token: &[u8],
        now: i64,
    ) -> Option<Result<Arc<Claims>, InvalidReason>> {
        let claims = self
            .cache
            .as_deref()?
            .get(token, now, self.leeway, self.generation())?;
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
        let (claims, generation) = self.verify_uncached(token, now)?;
        self.check_live(&claims, now)?;
        let claims = Arc::new(claims);
        if let Some(cache) = &self.cache {
            cache.insert(token, Arc::clone(&claims), generation);
        }
        Ok(claims)
    }

    /// What may change after a token verified, checked on every
    /// verification, cached or not: with a maximum session age, refuses a
    /// token whose chain started too long before `now`; with a deny-list,
    /// refuses a revoked token or chain, and a token without `jti`.
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
        if list.is_token_revoked(&token) {
            return Err(InvalidReason::Revoked);
        }
        Ok(())
    }

    /// The generation of the current key set: fixed for a single key, bumped
    /// by every change of a JWKS.
    fn generation(&self) -> u64 {
        match &self.keys {
            KeyStore::Key(_) => 0,
            KeyStore::Jwks(jwks) => jwks.generation(),
        }
    }

    /// Verifies one token string without the cache: the signature, then every
    /// claim rule. Returns the claims and the generation of the key set that
    /// verified them. Each call counts as one signature check in
    /// [`verifications`](Self::verifications).
    fn verify_uncached(&self, token: &str, now: i64) -> Result<(Claims, u64), InvalidReason> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let compact = Compact::split(token)?;
        let header = jws::b64(compact.header)?;
        let header = jws::header(&header)?;
        let key_set;
        let (key, generation) = match &self.keys {
            KeyStore::Key(key) => (key, 0),
            KeyStore::Jwks(jwks) => {
                let kid = header.kid.as_deref().ok_or(InvalidReason::MissingKeyId)?;
                key_set = jwks.current();
                let key = key_set.get(kid).ok_or(InvalidReason::UnknownKey)?;
                (key, key_set.generation)
            }
        };
        jws::check_alg(&header, key.algorithm)?;
        jws::check_signature(&compact, key)?;
        let payload = jws::b64(compact.payload)?;
        let claims = Claims::parse(
            &payload,
            &ClaimRules {
                now,
                leeway: self.leeway,
                audiences: &self.audiences,
                issuer: self.issuer.as_deref(),
                subject: self.subject,
            },
        )?;
        Ok((claims, generation))
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

    /// The algorithm tokens must be signed with, for a single-key verifier
    /// (`None` for a JWKS, where each key pins its own).
    pub fn algorithm(&self) -> Option<jsonwebtoken::Algorithm> {
        match &self.keys {
            KeyStore::Key(key) => Some(key.algorithm),
            KeyStore::Jwks(_) => None,
        }
    }

    pub(crate) fn jwks(&self) -> Option<&Arc<Jwks>> {
        match &self.keys {
            KeyStore::Jwks(jwks) => Some(jwks),
            KeyStore::Key(_) => None,
        }
    }

    /// Fetches the JWKS now (and starts the scheduled refresh if it is not
    /// running yet). When the key set changed, tokens verified with the
    /// earlier set are no longer served from the cache (and the cache is
    /// flushed), so tokens of a removed key stop at once. On failure the last
    /// good keys stay in use, up to the maximum stale age. Returns whether
    /// the keys changed; always `Ok(false)` for a single-key verifier.
    pub async fn refresh_keys(&self) -> Result<bool, KeySetError> {
        self.refresh(None).await
    }

    /// An early refresh for an unknown `kid`: at most one fetch per minimum
    /// retry gap, however many requests ask. Returns whether keys changed.
    pub(crate) async fn refresh_early(&self) -> bool {
        let gap = self.jwks().map(|j| j.schedule.min_gap);
        match self.refresh(gap).await {
            Ok(changed) => changed,
            Err(err) => {
                tracing::warn!(target: "scopegate", error = %err, "early JWKS refresh failed; keeping the last good keys");
                false
            }
        }
    }

    async fn refresh(&self, min_gap: Option<Duration>) -> Result<bool, KeySetError> {
        let Some(jwks) = self.jwks() else {
            return Ok(false);
        };
        jwks.start_schedule();
        jwks.refresh(min_gap).await
    }
}
