//! Revocation across replicas (feature `redis`, SPEC §13): [`RedisStore`]
//! writes revocations to Redis (a sorted set, scored by when each may be
//! forgotten) and publishes each one; [`RedisDenyList`] mirrors that set
//! in memory, on every replica, and keeps the mirror current from the
//! channel, so a check is a local lookup. Its I/O runs on a thread of its
//! own: no request ever waits on Redis.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::{watch, Notify};

use crate::claims::{now, Claims, MAX_LEEWAY};

use super::mirror::{Mirror, Revocation, RevokedKind, DEFAULT_MAX_REVOCATIONS};
use super::revoke::{DenyList, RevocationStatus, TokenRef};

/// The sorted set and channel names' default prefix.
pub const DEFAULT_REDIS_KEY: &str = "scopegate:revocations";
/// Default for [`RedisStore::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`RedisStore::command_timeout`].
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a replica waits between two connection attempts: well under
/// the 1 s it has to catch up once the store is back.
const RETRY_GAP: Duration = Duration::from_millis(200);
/// How often a connected replica pings the store, so a hung store is
/// noticed (and reported) within a ping and a command timeout.
const PING_EVERY: Duration = Duration::from_secs(1);
/// How often expired revocations are dropped from the mirror when no
/// message arrives.
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// The longest message or member read from the store, in bytes.
const MAX_MESSAGE_BYTES: usize = 2048;
/// Messages applied to the mirror at once, at most.
const MAX_BATCH: usize = 1024;
/// The gap between two log lines of the same recurring trouble (a store
/// that stays down, a stream of malformed messages).
const LOG_GAP: Duration = Duration::from_secs(60);

/// Why a revocation could not be stored, or a store not opened. Its
/// `Display` names the store by its address, never by its password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not a Redis URL.
    #[error("not a Redis URL: expected redis://[:PASSWORD@]HOST[:PORT][/DB] (or rediss://, redis+unix://)")]
    InvalidUrl,
    /// The store could not be reached, refused the command, or did not
    /// answer in time.
    #[error("{store}: {error}")]
    Unavailable {
        /// The store's address, without credentials.
        store: String,
        /// What went wrong.
        error: String,
    },
    /// A chain's revocation needs the maximum session age, which the list
    /// learns from the verifier it is built into.
    #[error(
        "no maximum session age: build a Verifier with this deny-list (it tells the list its \
         maximum session age), or set RedisStore::max_session_age"
    )]
    NoMaxSessionAge,
}

/// Where revocations are shared: a Redis server, the sorted set that holds
/// them and the channel that announces each one.
///
/// The set, `scopegate:revocations` by default, holds one member per
/// revocation, scored by when it may be forgotten (a token's `exp`, a
/// chain's end, plus [`MAX_LEEWAY`](crate::MAX_LEEWAY)); each write drops
/// the members whose time has passed and keeps the key's expiry at the
/// latest, so Redis forgets every revocation once its token or chain can no
/// longer verify. The channel has the same name. A revoker needs `ZADD`,
/// `ZREMRANGEBYSCORE`, `EXPIREAT`, `PUBLISH`, `MULTI` and `EXEC`; a
/// replica only `SUBSCRIBE`, `ZRANGEBYSCORE` and `PING`. The store is
/// expected to persist its data (RDB or AOF): a Redis that restarts empty
/// un-revokes nothing a running replica has seen, but a replica started
/// after it would not learn of them.
///
/// Build it without I/O; [`store`](Self::store) connects per call.
///
/// ```
/// use std::time::Duration;
/// use scopegate::RedisStore;
///
/// let store = RedisStore::open("redis://:s3cret@127.0.0.1:6379/0")?
///     .max_session_age(Duration::from_secs(48 * 3600));
/// assert_eq!(store.name(), "redis://127.0.0.1:6379/0"); // never the password
/// # Ok::<(), scopegate::StoreError>(())
/// ```
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    name: String,
    key: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    max_entries: usize,
    /// In seconds; 0 when unknown.
    max_session_age: i64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The store at `url`: `redis://[USER:PASSWORD@]HOST[:PORT][/DB]`,
    /// `rediss://` (if the client was built with TLS, which scopegate's is
    /// not) or `redis+unix:///PATH`. No I/O.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|_| StoreError::InvalidUrl)?;
        let info = client.get_connection_info();
        let db = info.redis_settings().db();
        let name = match info.addr() {
            redis::ConnectionAddr::Unix(path) => {
                format!("redis+unix://{}?db={db}", path.display())
            }
            redis::ConnectionAddr::TcpTls { .. } => format!("rediss://{}/{db}", info.addr()),
            addr => format!("redis://{addr}/{db}"),
        };
        Ok(RedisStore {
            client,
            name,
            key: DEFAULT_REDIS_KEY.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_entries: DEFAULT_MAX_REVOCATIONS,
            max_session_age: 0,
        })
    }

    /// The sorted set's name, and the channel's (default
    /// [`DEFAULT_REDIS_KEY`]): one per group of replicas that share
    /// revocations.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The longest a connection may take (default 1 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest any command may take (default 1 s): a hung store fails
    /// a revocation, or marks a replica's store down, after that long.
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The most revocations a [`RedisDenyList`] holds locally (default
    /// [`DEFAULT_MAX_REVOCATIONS`]); further ones are dropped, logged, and
    /// reported by [`RedisDenyList::health`].
    #[must_use]
    pub fn max_revocations(mut self, max: usize) -> Self {
        self.max_entries = max;
        self
    }

    /// The longest a refresh chain lives: no revocation is kept, in the
    /// store or in a replica, longer than that (plus
    /// [`MAX_LEEWAY`](crate::MAX_LEEWAY)) from now. A [`RedisDenyList`]
    /// also learns it from the verifier it is built into.
    #[must_use]
    pub fn max_session_age(mut self, age: Duration) -> Self {
        self.max_session_age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// The store's address, for logs and health checks: scheme, host, port
    /// and database, never a user name or password.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn unavailable(&self, error: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            store: self.name.clone(),
            error: error.to_string(),
        }
    }

    async fn timed<T, E: std::fmt::Display>(
        &self,
        limit: Duration,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(limit, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.unavailable(format_args!("{what}: {err}"))),
            Err(_) => Err(self.unavailable(format_args!(
                "{what}: no answer within {} ms",
                limit.as_millis()
            ))),
        }
    }

    async fn command_connection(&self) -> Result<redis::aio::MultiplexedConnection, StoreError> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout));
        self.timed(
            self.connect_timeout,
            "connect",
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
    }

    /// Stores `revocations` and announces each to every replica, in one
    /// transaction, on a connection of its own, within the connect and
    /// command timeouts. Each is validated and its time clamped to the
    /// maximum session age, when set; one already past is left out. Call
    /// it inside a tokio runtime (actix's). `Ok` once Redis has them.
    pub async fn store(&self, revocations: &[Revocation]) -> Result<(), StoreError> {
        let now = now();
        let longest = self.longest().unwrap_or(i64::MAX);
        let valid: Vec<Revocation> = revocations
            .iter()
            .filter_map(|r| r.clone().validated(now, longest))
            .collect();
        let Some(last) = valid.iter().map(|r| r.until).max() else {
            return Ok(());
        };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for r in &valid {
            pipe.cmd("ZADD")
                .arg(&self.key)
                .arg("GT")
                .arg(r.until)
                .arg(wire::member(r))
                .ignore();
        }
        pipe.cmd("ZREMRANGEBYSCORE")
            .arg(&self.key)
            .arg("-inf")
            .arg(format!("({now}"))
            .ignore();
        // A key without expiry takes the latest time; one with an earlier
        // expiry is pushed back to it.
        pipe.cmd("EXPIREAT")
            .arg(&self.key)
            .arg(last)
            .arg("NX")
            .ignore();
        pipe.cmd("EXPIREAT")
            .arg(&self.key)
            .arg(last)
            .arg("GT")
            .ignore();
        for r in &valid {
            pipe.cmd("PUBLISH")
                .arg(&self.key)
                .arg(wire::message(r))
                .ignore();
        }
        let mut conn = self.command_connection().await?;
        self.timed(
            self.command_timeout,
            "store",
            pipe.query_async::<()>(&mut conn),
        )
        .await
    }

    /// The longest a revocation is kept from now, in seconds, if known.
    fn longest(&self) -> Option<i64> {
        (self.max_session_age > 0).then(|| {
            self.max_session_age
                .saturating_add(MAX_LEEWAY.as_secs() as i64)
        })
    }
}

/// The store's encoding: a member is the JSON object of a revocation's
/// kind, issuer and id (keys sorted, so the same revocation is one
/// member); a message adds its time.
mod wire {
    use super::{Revocation, RevokedKind, MAX_MESSAGE_BYTES};

    #[derive(serde::Deserialize)]
    struct Wire {
        kind: String,
        iss: Option<String>,
        id: String,
        until: Option<i64>,
    }

    pub(super) fn member(r: &Revocation) -> String {
        serde_json::json!({ "kind": r.kind.as_str(), "iss": r.issuer, "id": r.id }).to_string()
    }

    pub(super) fn message(r: &Revocation) -> String {
        serde_json::json!({
            "kind": r.kind.as_str(), "iss": r.issuer, "id": r.id, "until": r.until,
        })
        .to_string()
    }

    /// A revocation from a member and its score, or from a message (whose
    /// time is inside it: `until` is `None`). Validation of the values is
    /// the mirror's.
    pub(super) fn parse(bytes: &[u8], until: Option<i64>) -> Option<Revocation> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return None;
        }
        let wire: Wire = serde_json::from_slice(bytes).ok()?;
        Some(Revocation {
            kind: RevokedKind::parse(&wire.kind)?,
            issuer: wire.iss,
            id: wire.id,
            until: until.or(wire.until)?,
        })
    }
}

/// What the replica knows of its store, for [`RedisDenyList::health`].
#[derive(Debug)]
enum Link {
    /// Never connected yet.
    Starting,
    /// Connected and loaded.
    Up,
    /// Lost (or never reached) since `since`, for `error`.
    Down {
        since: Instant,
        error: String,
        attempts: u64,
        logged: Instant,
    },
}

/// What the list's handle and its thread share.
#[derive(Debug)]
struct Shared {
    store: RedisStore,
    mirror: Mirror,
    link: Mutex<Link>,
    /// The longest maximum session age told, in seconds; 0 until one is.
    max_session_age: AtomicI64,
    age_known: Notify,
    /// Revocations ignored as malformed, since start.
    invalid: AtomicU64,
    /// Revocations dropped because the mirror was full, since start.
    dropped: AtomicU64,
}

impl Shared {
    fn longest(&self) -> Option<i64> {
        let age = self.max_session_age.load(Ordering::Relaxed);
        (age > 0).then(|| age.saturating_add(MAX_LEEWAY.as_secs() as i64))
    }

    fn link(&self) -> std::sync::MutexGuard<'_, Link> {
        self.link
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `batch` (from a load when `loaded`), counting and logging
    /// what was ignored or dropped, at most once per [`LOG_GAP`].
    fn apply(&self, batch: Vec<Option<Revocation>>, loaded: bool, last_log: &mut Option<Instant>) {
        let Some(longest) = self.longest() else {
            return;
        };
        let unparsed = batch.iter().filter(|r| r.is_none()).count();
        let applied = self
            .mirror
            .apply(batch.into_iter().flatten(), now(), longest, loaded);
        let invalid = applied.invalid + unparsed;
        if invalid > 0 {
            self.invalid.fetch_add(invalid as u64, Ordering::Relaxed);
        }
        if applied.dropped > 0 {
            self.dropped
                .fetch_add(applied.dropped as u64, Ordering::Relaxed);
        }
        if (invalid > 0 || applied.dropped > 0) && last_log.is_none_or(|at| at.elapsed() >= LOG_GAP)
        {
            *last_log = Some(Instant::now());
            tracing::error!(
                target: "scopegate",
                store = %self.store.name,
                ignored_malformed = self.invalid.load(Ordering::Relaxed),
                dropped_full = self.dropped.load(Ordering::Relaxed),
                max = self.store.max_entries,
                "revocations ignored (malformed or past) or dropped (local copy full); \
                 counts since start, logged at most once a minute"
            );
        }
    }

    fn set_up(&self, held: usize) {
        let mut link = self.link();
        match &*link {
            Link::Down { since, .. } => tracing::info!(
                target: "scopegate",
                store = %self.store.name,
                down_for_ms = since.elapsed().as_millis() as u64,
                revocations = held,
                "revocation store reachable again; list reloaded"
            ),
            _ => tracing::info!(
                target: "scopegate",
                store = %self.store.name,
                revocations = held,
                "revocation list loaded"
            ),
        }
        *link = Link::Up;
    }

    /// Records a failure; logs the first of an outage at error, then at
    /// most once per [`LOG_GAP`].
    fn set_down(&self, error: StoreError) {
        let error = match error {
            StoreError::Unavailable { error, .. } => error,
            other => other.to_string(),
        };
        let mut link = self.link();
        let now = Instant::now();
        let (log, attempts, since) = match &mut *link {
            Link::Down {
                since,
                attempts,
                logged,
                error: last,
            } => {
                *attempts += 1;
                *last = error.clone();
                let log = logged.elapsed() >= LOG_GAP;
                if log {
                    *logged = now;
                }
                (log, *attempts, *since)
            }
            _ => {
                *link = Link::Down {
                    since: now,
                    error: error.clone(),
                    attempts: 1,
                    logged: now,
                };
                (true, 1, now)
            }
        };
        if log {
            tracing::error!(
                target: "scopegate",
                store = %self.store.name,
                error = %error,
                down_for_s = since.elapsed().as_secs(),
                attempts,
                loaded = self.mirror.is_loaded(),
                "revocation store unreachable: refusing the revocations seen, serving the rest \
                 (or, never loaded, refusing every token with 503); retrying every 200 ms, \
                 logged at most once a minute"
            );
        }
    }
}

/// A [`DenyList`] shared by every replica through Redis (feature `redis`,
/// SPEC §13): a revocation made on any replica, or stored by any process
/// with [`RedisStore::store`], is refused on every replica within a
/// second, while a check stays a local lookup (a hash lookup in an
/// immutable snapshot: no lock, no network, no allocation).
///
/// On a thread of its own, the list subscribes to the store's channel,
/// then loads the full set, then applies each message as it arrives; it
/// pings the store every second and, when the connection is lost or a ping
/// or command times out, retries every 200 ms, loading the full set again
/// on each reconnect. It starts once it knows the maximum session age,
/// which the [`Verifier`](crate::Verifier) it is built into tells it (or
/// [`RedisStore::max_session_age`]): no revocation is held longer.
///
/// **When the store is down** the list keeps refusing every revocation it
/// has seen, serves every other token, logs an error (the first of an
/// outage, then once a minute), and [`health`](Self::health) reports it.
/// A list that has never loaded refuses every token with `503`
/// ([`RevocationStatus::NotLoaded`]), since it cannot tell a revoked token
/// from another. A store that comes back empty un-revokes nothing: each
/// revocation is held until its time. What a replica holds is validated
/// (ids of at most 256 bytes, issuers of 1,024) and bounded
/// ([`RedisStore::max_revocations`], each kept at most the maximum session
/// age), so whoever can publish to the channel cannot exhaust its memory.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use scopegate::{RedisDenyList, RedisStore, VerificationKey, Verifier};
///
/// # actix_web::rt::System::new().block_on(async {
/// let revoked = Arc::new(RedisDenyList::new(RedisStore::open("redis://127.0.0.1:6379")?));
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:airflow.apache.org:task")
///     .deny_list(revoked.clone())
///     .max_session_age(Duration::from_secs(24 * 3600))
///     .build()?;
/// # let token = scopegate::Issuer::builder(scopegate::SigningKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
/// #     .audience("urn:airflow.apache.org:task").build()?.issue(uuid::Uuid::new_v4(), scopegate::TokenType::EXECUTION)?;
/// // Later, with a leaked token's verified claims: refused here at once,
/// // and on every replica within a second.
/// let claims = verifier.verify(&token)?;
/// revoked.revoke_claims(&claims).await?;
/// // Readiness: Err names the store (never its password) while it is down.
/// if let Err(why) = revoked.health() {
///     eprintln!("{why}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct RedisDenyList {
    shared: Arc<Shared>,
    /// Dropping it stops the thread.
    _stop: watch::Sender<()>,
}

impl RedisDenyList {
    /// Starts mirroring `store` on a thread of its own (named
    /// `scopegate-revocations`), which ends when the list is dropped. It
    /// connects once the maximum session age is known; until it has loaded
    /// the full list, every token is [`RevocationStatus::NotLoaded`].
    pub fn new(store: RedisStore) -> Self {
        let (stop, stopped) = watch::channel(());
        let shared = Arc::new(Shared {
            mirror: Mirror::new(store.max_entries),
            max_session_age: AtomicI64::new(store.max_session_age),
            store,
            link: Mutex::new(Link::Starting),
            age_known: Notify::new(),
            invalid: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let task = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("scopegate-revocations".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(mirror_store(&task, stopped)),
                    Err(err) => task.set_down(task.store.unavailable(format_args!(
                        "cannot start the revocation thread's runtime: {err}"
                    ))),
                }
            });
        if let Err(err) = spawned {
            shared.set_down(
                shared
                    .store
                    .unavailable(format_args!("cannot start the revocation thread: {err}")),
            );
        }
        RedisDenyList {
            shared,
            _stop: stop,
        }
    }

    /// The store's address, without credentials.
    pub fn name(&self) -> &str {
        self.shared.store.name()
    }

    /// Readiness: `Ok` while the store is connected and the list loaded;
    /// otherwise why, naming the store (never its password): not loaded
    /// yet, unreachable (since when, and what the replica still refuses),
    /// or revocations dropped because the local copy was full.
    pub fn health(&self) -> Result<(), String> {
        let name = self.name();
        let held = self.shared.mirror.len();
        match &*self.shared.link() {
            Link::Starting => {
                return Err(format!(
                    "revocation store {name}: not loaded yet (connecting); refusing every token \
                     with 503 until it is"
                ))
            }
            Link::Down { since, error, .. } => {
                let loaded = if self.shared.mirror.is_loaded() {
                    format!("refusing the {held} revocations seen, serving the rest")
                } else {
                    "never loaded: refusing every token with 503".to_owned()
                };
                return Err(format!(
                    "revocation store {name}: unreachable for {} s ({error}); {loaded}",
                    since.elapsed().as_secs()
                ));
            }
            Link::Up => {}
        }
        match self.shared.dropped.load(Ordering::Relaxed) {
            0 => Ok(()),
            dropped => Err(format!(
                "revocation store {name}: the local copy is full ({} revocations); {dropped} \
                 dropped since start",
                self.shared.store.max_entries
            )),
        }
    }

    /// Whether the full list has been loaded once.
    pub fn is_loaded(&self) -> bool {
        self.shared.mirror.is_loaded()
    }

    /// How many revocations this replica holds.
    pub fn len(&self) -> usize {
        self.shared.mirror.len()
    }

    /// Whether this replica holds no revocation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Revokes, here at once and then on every replica through the store:
    /// the local copy refuses them before the store is written (even when
    /// that fails); `Ok` once the store has them. Call it inside a tokio
    /// runtime (actix's); it waits at most the connect and command
    /// timeouts.
    pub async fn revoke(&self, revocations: &[Revocation]) -> Result<(), StoreError> {
        if self.shared.longest().is_none() {
            return Err(StoreError::NoMaxSessionAge);
        }
        let mut store = self.shared.store.clone();
        store.max_session_age = self.shared.max_session_age.load(Ordering::Relaxed);
        let mut last_log = None;
        self.shared.apply(
            revocations.iter().cloned().map(Some).collect(),
            false,
            &mut last_log,
        );
        store.store(revocations).await
    }

    /// Revokes the token these verified claims came from and its whole
    /// refresh chain ([`Revocation::of_claims`]), as
    /// [`revoke`](Self::revoke) does. A token without `jti` cannot be
    /// revoked (and is refused by a verifier with a deny-list anyway):
    /// `Ok` and nothing stored.
    pub async fn revoke_claims(&self, claims: &Claims) -> Result<(), StoreError> {
        let age = self.shared.max_session_age.load(Ordering::Relaxed);
        if age <= 0 {
            return Err(StoreError::NoMaxSessionAge);
        }
        match Revocation::of_claims(claims, Duration::from_secs(age.unsigned_abs())) {
            Some(both) => self.revoke(&both).await,
            None => Ok(()),
        }
    }
}

impl DenyList for RedisDenyList {
    /// A lookup in the local copy: [`RevocationStatus::NotLoaded`] until
    /// the full list was loaded once.
    #[inline]
    fn revocation_status(&self, token: &TokenRef<'_>) -> RevocationStatus {
        self.shared.mirror.status(token)
    }

    /// Whether the local copy holds the token or its chain (`true` while
    /// the list has never been loaded: it fails closed).
    fn is_token_revoked(&self, token: &TokenRef<'_>) -> bool {
        self.revocation_status(token) != RevocationStatus::NotRevoked
    }

    fn set_max_session_age(&self, age: Duration) {
        let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        self.shared
            .max_session_age
            .fetch_max(age, Ordering::Relaxed);
        self.shared.age_known.notify_one();
    }
}

/// The list's thread: waits for the maximum session age, then keeps a
/// session with the store, reconnecting every [`RETRY_GAP`] after a loss,
/// until `stop` says the list was dropped.
async fn mirror_store(shared: &Shared, mut stop: watch::Receiver<()>) {
    while shared.longest().is_none() {
        tokio::select! {
            () = shared.age_known.notified() => {}
            _ = stop.changed() => return,
        }
    }
    let mut last_log = None;
    loop {
        let error = tokio::select! {
            error = session(shared, &mut last_log) => error,
            _ = stop.changed() => return,
        };
        shared.set_down(error);
        tokio::select! {
            () = tokio::time::sleep(RETRY_GAP) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One connection's life: subscribe, load the full set, then apply each
/// message and ping every second. Returns why it ended.
async fn session(shared: &Shared, last_log: &mut Option<Instant>) -> StoreError {
    let store = &shared.store;
    let run = async {
        let mut pubsub = store
            .timed(
                store.connect_timeout,
                "connect",
                store.client.get_async_pubsub(),
            )
            .await?;
        // Subscribe first: what is revoked while the set loads is in the
        // channel, and applying it twice is harmless.
        store
            .timed(
                store.command_timeout,
                "subscribe",
                pubsub.subscribe(&store.key),
            )
            .await?;
        let (mut sink, mut messages) = pubsub.split();
        let mut conn = store.command_connection().await?;
        let now = now();
        let rows: Vec<(Vec<u8>, f64)> = store
            .timed(
                store.command_timeout,
                "load",
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&store.key)
                    .arg(format!("({now}"))
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(store.max_entries)
                    .query_async(&mut conn),
            )
            .await?;
        drop(conn);
        let batch = rows
            .iter()
            .map(|(member, score)| wire::parse(member, Some(*score as i64)))
            .collect();
        shared.apply(batch, true, last_log);
        shared.set_up(shared.mirror.len());
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut purge = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        return Err(store.unavailable("connection closed"));
                    };
                    let mut batch = vec![wire::parse(message.get_payload_bytes(), None)];
                    while batch.len() < MAX_BATCH {
                        match messages.next().now_or_never() {
                            Some(Some(message)) => {
                                batch.push(wire::parse(message.get_payload_bytes(), None));
                            }
                            Some(None) => return Err(store.unavailable("connection closed")),
                            None => break,
                        }
                    }
                    shared.apply(batch, false, last_log);
                }
                _ = ping.tick() => {
                    store
                        .timed(store.command_timeout, "ping", sink.ping::<redis::Value>())
                        .await?;
                }
                _ = purge.tick() => shared.apply(Vec::new(), false, last_log),
            }
        }
    };
    match run.await {
        Ok(never) => never,
        Err(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_never_holds_credentials() {
        for (url, name) in [
            (
                "redis://:s3cret@127.0.0.1:6379/2",
                "redis://127.0.0.1:6379/2",
            ),
            (
                "redis://user:s3cret@example.com",
                "redis://example.com:6379/0",
            ),
            (
                "redis+unix:///run/redis.sock?pass=s3cret",
                "redis+unix:///run/redis.sock?db=0",
            ),
        ] {
            let store = RedisStore::open(url).unwrap();
            assert_eq!(store.name(), name);
            assert!(!format!("{store:?}").contains("s3cret"));
        }
        assert_eq!(
            RedisStore::open("http://x").unwrap_err(),
            StoreError::InvalidUrl
        );
        assert!(!StoreError::InvalidUrl.to_string().contains("http://x"));
    }

    #[test]
    fn members_and_messages_round_trip_and_junk_is_refused() {
        let r = Revocation::chain("c-1", 1_900_000_000).with_issuer(Some("https://idp"));
        assert_eq!(
            wire::member(&r),
            r#"{"id":"c-1","iss":"https://idp","kind":"chain"}"#
        );
        assert_eq!(
            wire::parse(wire::message(&r).as_bytes(), None),
            Some(r.clone())
        );
        assert_eq!(
            wire::parse(wire::member(&r).as_bytes(), Some(r.until)),
            Some(r.clone())
        );
        for junk in [
            &b"not json"[..],
            br#"{"kind":"everything","iss":null,"id":"x","until":1}"#,
            br#"{"kind":"token","iss":null,"id":"x"}"#,
            br#"{"kind":"token","iss":null,"id":7,"until":1}"#,
            &[b' '; MAX_MESSAGE_BYTES + 1],
        ] {
            assert_eq!(wire::parse(junk, None), None);
        }
    }
}
