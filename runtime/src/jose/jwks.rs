//! JWKS key sets: loaded from a file, an http(s) URL (at most 1 MiB) or an
//! identity provider's discovery document (which names the JWKS URL),
//! refreshed on an interval by a task that starts by itself, and early
//! (rate-limited) when a token names an unknown `kid`, keeping the last good
//! keys when a fetch fails, up to an optional maximum stale age. Several
//! keys are active at once, so tokens signed with the old and the new key
//! both verify during a rotation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde::Deserialize;
use serde_json::Value;

use super::discovery::{Discovery, MAX_DISCOVERY_BYTES};
use super::error::KeySetError;
use super::fetch::{self, Limits, Transport};
use super::keys::VerificationKey;

/// Default interval between scheduled JWKS refreshes.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(3600);
/// Default minimum gap between two fetches (early refreshes and retries).
pub const DEFAULT_JWKS_MIN_RETRY: Duration = Duration::from_secs(10);
/// Default interval between two discoveries of an identity provider: its
/// configuration and JWKS are fetched again this often.
pub const DEFAULT_OIDC_REFRESH: Duration = Duration::from_secs(300);
/// Default maximum stale age of an identity provider's keys: when no
/// discovery has succeeded for this long, its keys are dropped, so a key
/// it revoked does not live on while it is unreachable. (Its tokens rarely
/// live longer: by then they have expired anyway.)
pub const DEFAULT_OIDC_MAX_STALE: Duration = Duration::from_secs(3600);
/// Default time limit of one fetch of a JWKS or discovery document.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest JWKS document accepted.
pub(crate) const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// Where a JWKS comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    /// A local file.
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
}

impl JwksSource {
    /// `http://...` and `https://...` are URLs; anything else is a file path.
    pub fn parse(location: &str) -> Self {
        if location.starts_with("http://") || location.starts_with("https://") {
            JwksSource::Url(location.to_owned())
        } else {
            JwksSource::File(location.into())
        }
    }
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::File(p) => write!(f, "{}", p.display()),
            JwksSource::Url(u) => f.write_str(u),
        }
    }
}

/// Where a key store's keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A JWKS file or URL.
    Jwks(JwksSource),
    /// An identity provider's discovery document, which names its JWKS.
    Discovery(Discovery),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Jwks(source) => source.fmt(f),
            Origin::Discovery(d) => f.write_str(&d.issuer),
        }
    }
}

/// The keys of one JWKS, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerificationKey>,
    /// The document the keys came from: a different document is a change.
    document: Vec<u8>,
    /// Bumped on every change of the set; 0 is the empty set before the
    /// first load. Cached verifications record it.
    pub generation: u64,
}

impl KeySet {
    /// Parses a JWKS document. Keys without a `kid`, for encryption, or of an
    /// unsupported type are skipped with a warning; a set with no usable key
    /// is an error.
    pub fn parse(document: &[u8]) -> Result<KeySet, KeySetError> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<Value>,
        }
        let doc: Document =
            serde_json::from_slice(document).map_err(|e| KeySetError::Invalid(e.to_string()))?;
        let mut keys = HashMap::new();
        for (i, value) in doc.keys.into_iter().enumerate() {
            match usable(value) {
                Ok((kid, key)) => {
                    keys.insert(kid, key);
                }
                Err(why) => {
                    tracing::warn!(target: "scopegate", key_index = i, reason = why, "skipping JWKS key")
                }
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::Invalid(
                "no usable signing key with a kid".into(),
            ));
        }
        Ok(KeySet {
            keys,
            document: document.to_vec(),
            generation: 0,
        })
    }

    pub fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.get(kid)
    }

    /// Whether the set holds no key (before the first load, or dropped).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }
}

fn usable(value: Value) -> Result<(String, VerificationKey), &'static str> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|_| "not a supported JWK")?;
    let kid = jwk.common.key_id.clone().ok_or("no kid")?;
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Err("an encryption key");
    }
    Ok((kid, VerificationKey::from_public_jwk(&jwk)?))
}

/// How a JWKS is kept fresh.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Between two scheduled fetches.
    pub interval: Duration,
    /// Minimum gap between fetches: early refreshes and retries.
    pub min_gap: Duration,
    /// Drop the keys when no fetch has succeeded for this long.
    pub max_stale: Option<Duration>,
    /// Time limit of one fetch (of each document, for a discovery).
    pub timeout: Duration,
}

/// A JWKS-backed key store: the current keys plus the refresh bookkeeping.
/// Shared (`Arc`) with its scheduled refresh task, which holds only a `Weak`
/// and so ends when the verifier is dropped.
pub(crate) struct Jwks {
    origin: Origin,
    current: RwLock<Arc<KeySet>>,
    /// The generation of `current`, readable without the lock (a cache hit
    /// reads it). Written under the write lock, right after `current`.
    generation: AtomicU64,
    /// Held while fetching, so concurrent refreshes coalesce into one. Holds
    /// when the last fetch started and when one last succeeded.
    fetching: tokio::sync::Mutex<Fetches>,
    pub(crate) schedule: Schedule,
    /// Called when the key set changes: the verifier flushes its cache
    /// (correctness does not depend on it: entries of an older generation
    /// are misses anyway).
    on_change: Option<OnChange>,
    /// Whether the scheduled refresh task has been started.
    scheduled: AtomicBool,
}

#[derive(Default)]
struct Fetches {
    started: Option<Instant>,
    succeeded: Option<Instant>,
}

/// What a key store calls when its key set changes.
pub(crate) type OnChange = Box<dyn Fn() + Send + Sync>;

impl Jwks {
    pub fn new(origin: Origin, schedule: Schedule, on_change: Option<OnChange>) -> Self {
        Jwks {
            origin,
            current: RwLock::new(Arc::new(KeySet::default())),
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(Fetches::default()),
            schedule,
            on_change,
            scheduled: AtomicBool::new(false),
        }
    }

    /// The current key set (a cheap `Arc` clone).
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The generation of the current key set.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Where the keys come from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Fetches the JWKS now (or, with `min_gap`, only if the last fetch
    /// started at least that long ago); for an identity provider, its
    /// discovery document first, whose issuer is checked every time.
    /// Returns `Ok(true)` when the key set changed. On failure the current
    /// keys are kept, unless no fetch has succeeded for the maximum stale
    /// age, or the source is misconfigured (a discovery document naming
    /// another issuer): then they are dropped.
    pub async fn refresh(&self, min_gap: Option<Duration>) -> Result<bool, KeySetError> {
        let mut fetches = self.fetching.lock().await;
        if let (Some(gap), Some(at)) = (min_gap, fetches.started) {
            if at.elapsed() < gap {
                return Ok(false);
            }
        }
        fetches.started = Some(Instant::now());
        let keys = match fetch(&self.origin, self.schedule.timeout)
            .await
            .and_then(|doc| KeySet::parse(&doc))
        {
            Ok(keys) => keys,
            Err(err) if err.is_misconfiguration() => {
                self.drop_misconfigured(&err);
                return Err(err);
            }
            Err(err) => {
                self.drop_if_stale(fetches.succeeded);
                return Err(err);
            }
        };
        fetches.succeeded = Some(Instant::now());
        let changed = self.current().document != keys.document;
        tracing::info!(target: "scopegate", source = %self.origin, kids = ?keys.kids(), changed, "JWKS loaded");
        if changed {
            self.replace(keys);
        }
        Ok(changed)
    }

    /// After a failed fetch: drops the keys when the last success is older
    /// than the maximum stale age (or never happened).
    fn drop_if_stale(&self, succeeded: Option<Instant>) {
        let Some(max) = self.schedule.max_stale else {
            return;
        };
        if succeeded.is_some_and(|at| at.elapsed() <= max) || self.current().keys.is_empty() {
            return;
        }
        tracing::error!(
            target: "scopegate",
            source = %self.origin,
            max_stale_secs = max.as_secs_f64(),
            "no JWKS fetch has succeeded for the maximum stale age: dropping the keys; every token is refused until a fetch succeeds",
        );
        self.replace(KeySet::default());
    }

    /// After a fetch that found the source misconfigured: its tokens are
    /// refused (never accepted on keys from such a source) until a fetch
    /// finds it right again.
    fn drop_misconfigured(&self, err: &KeySetError) {
        tracing::error!(
            target: "scopegate",
            source = %self.origin,
            error = %err,
            "misconfigured key source: its tokens are refused until it is fixed",
        );
        if !self.current().keys.is_empty() {
            self.replace(KeySet::default());
        }
    }

    /// Installs `keys` as the current set with the next generation and
    /// calls `on_change` (the verifier flushes its cache). From the moment the generation is stored, cached
    /// verifications of earlier sets are misses.
    fn replace(&self, mut keys: KeySet) {
        {
            let mut current = match self.current.write() {
                Ok(current) => current,
                Err(poisoned) => poisoned.into_inner(),
            };
            keys.generation = current.generation + 1;
            let generation = keys.generation;
            *current = Arc::new(keys);
            self.generation.store(generation, Ordering::Release);
        }
        if let Some(on_change) = &self.on_change {
            on_change();
        }
    }

    /// Starts the scheduled refresh on the current tokio runtime (actix's
    /// System, `#[tokio::test]`, ...), once per key store: a fetch every
    /// refresh interval, or every minimum retry gap while fetches fail or
    /// no keys have loaded yet (so a discovery that failed at start-up is
    /// retried). The task holds only a `Weak`, so it ends once the verifier
    /// is dropped. Without a current runtime nothing starts (the next
    /// refresh from inside one starts it).
    pub fn start_schedule(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Jwks> = Arc::downgrade(self);
        let Schedule {
            interval, min_gap, ..
        } = self.schedule;
        let mut wait = if self.current().keys.is_empty() {
            min_gap
        } else {
            interval
        };
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(wait).await;
                let Some(jwks) = weak.upgrade() else {
                    break;
                };
                wait = match jwks.refresh(None).await {
                    Ok(_) => interval,
                    Err(err) => {
                        if jwks.current().keys.is_empty() {
                            tracing::warn!(target: "scopegate", source = %jwks.origin, error = %err, retry_secs = min_gap.as_secs_f64(), "no keys yet: refusing this source's tokens until a fetch succeeds");
                        } else {
                            tracing::warn!(target: "scopegate", source = %jwks.origin, error = %err, "scheduled JWKS refresh failed; keeping the last good keys");
                        }
                        min_gap
                    }
                };
            }
        });
    }
}

/// Reads or downloads the JWKS on the blocking pool of the current tokio
/// runtime, so no actix worker ever waits on I/O: at most
/// [`MAX_JWKS_BYTES`], each download within `timeout`. For an identity
/// provider, its discovery document first (at most
/// [`MAX_DISCOVERY_BYTES`]), then the JWKS it names.
async fn fetch(origin: &Origin, timeout: Duration) -> Result<Vec<u8>, KeySetError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| KeySetError::NoRuntime)?;
    let origin = origin.clone();
    let jwks = move |transport| Limits {
        timeout,
        max_bytes: MAX_JWKS_BYTES,
        transport,
    };
    runtime
        .spawn_blocking(move || match &origin {
            Origin::Jwks(JwksSource::File(path)) => read_file(path),
            Origin::Jwks(JwksSource::Url(url)) => fetch::get(url, &jwks(Transport::AnyScheme)),
            Origin::Discovery(discovery) => {
                let limits = Limits {
                    timeout,
                    max_bytes: MAX_DISCOVERY_BYTES,
                    transport: discovery.transport,
                };
                let document = fetch::get(&discovery.url, &limits)?;
                let jwks_uri = discovery.jwks_uri(&document)?;
                fetch::get(&jwks_uri, &jwks(discovery.transport))
            }
        })
        .await
        .map_err(|_| KeySetError::Cancelled)?
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, KeySetError> {
    use std::io::Read as _;
    let io = |error| KeySetError::Io {
        source_name: path.display().to_string(),
        error,
    };
    let mut document = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_JWKS_BYTES + 1)
        .read_to_end(&mut document)
        .map_err(io)?;
    if document.len() as u64 > MAX_JWKS_BYTES {
        return Err(KeySetError::TooLarge {
            source_name: path.display().to_string(),
            limit: MAX_JWKS_BYTES,
        });
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            JwksSource::parse("https://x/jwks.json"),
            JwksSource::Url("https://x/jwks.json".into())
        );
        assert_eq!(
            JwksSource::parse("/etc/jwks.json"),
            JwksSource::File("/etc/jwks.json".into())
        );
    }

    #[test]
    fn parse_skips_unusable_keys() {
        let doc = br#"{"keys":[
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
            {"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"e","use":"enc"},
            {"kty":"nope","kid":"x"}
        ]}"#;
        let set = KeySet::parse(doc).unwrap();
        assert_eq!(set.kids(), ["a"]);
        assert_eq!(
            set.get("a").unwrap().algorithm(),
            jsonwebtoken::Algorithm::EdDSA
        );
        assert!(KeySet::parse(br#"{"keys":[]}"#).is_err());
        assert!(KeySet::parse(b"not json").is_err());
    }
}
