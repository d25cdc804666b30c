//! JWKS key sets: loaded from a file or an http(s) URL, refreshed on an
//! interval and early (rate-limited) when a token names an unknown `kid`,
//! keeping the last good keys when a fetch fails. Several keys are active at
//! once, so tokens signed with the old and the new key both verify during a
//! rotation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde::Deserialize;
use serde_json::Value;

use crate::keys::VerificationKey;
use crate::verify::Verifier;

/// Default interval between scheduled JWKS refreshes.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(3600);
/// Default minimum gap between two fetches (early refreshes and retries).
pub const DEFAULT_JWKS_MIN_RETRY: Duration = Duration::from_secs(10);
/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: u64 = 1024 * 1024;
/// Timeout of one JWKS fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Why a JWKS could not be loaded. The last good keys stay in use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// Reading the file failed.
    #[error("reading {source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The HTTP fetch failed (connection, status or size).
    #[error("fetching {url}: {error}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        error: String,
    },
    /// The document is not a JWKS, or holds no usable signing key.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
    /// The blocking task that fetched the JWKS was cancelled.
    #[error("the fetch task was cancelled")]
    Cancelled,
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

/// A JWKS-backed key store: the current keys plus the refresh bookkeeping.
pub(crate) struct Jwks {
    source: JwksSource,
    current: RwLock<Arc<KeySet>>,
    /// The generation of `current`, readable without the lock (a cache hit
    /// reads it). Written under the write lock, right after `current`.
    generation: AtomicU64,
    /// Held while fetching, so concurrent refreshes coalesce into one.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    pub(crate) interval: Duration,
    pub(crate) min_gap: Duration,
}

impl Jwks {
    pub fn new(source: JwksSource, interval: Duration, min_gap: Duration) -> Self {
        Jwks {
            source,
            current: RwLock::new(Arc::new(KeySet::default())),
            generation: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(None),
            interval,
            min_gap,
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

    /// Fetches the JWKS now (or, with `min_gap`, only if the last fetch
    /// started at least that long ago). Returns `Ok(true)` when the key set
    /// changed. On failure the current keys are kept.
    pub async fn refresh(&self, min_gap: Option<Duration>) -> Result<bool, KeySetError> {
        let mut last = self.fetching.lock().await;
        if let (Some(gap), Some(at)) = (min_gap, *last) {
            if at.elapsed() < gap {
                return Ok(false);
            }
        }
        *last = Some(Instant::now());
        let document = fetch(&self.source).await?;
        let keys = KeySet::parse(&document)?;
        let changed = self.current().document != keys.document;
        tracing::info!(target: "scopegate", source = %self.source, kids = ?keys.kids(), changed, "JWKS loaded");
        if changed {
            self.replace(keys);
        }
        Ok(changed)
    }

    /// Installs `keys` as the current set with the next generation. From the
    /// moment this returns, cached verifications of earlier sets are misses.
    fn replace(&self, mut keys: KeySet) {
        let mut current = match self.current.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        keys.generation = current.generation + 1;
        let generation = keys.generation;
        *current = Arc::new(keys);
        self.generation.store(generation, Ordering::Release);
    }
}

/// Reads or downloads the document on the blocking pool, so no actix worker
/// ever waits on I/O.
async fn fetch(source: &JwksSource) -> Result<Vec<u8>, KeySetError> {
    let source = source.clone();
    actix_web::rt::task::spawn_blocking(move || match &source {
        JwksSource::File(path) => std::fs::read(path).map_err(|error| KeySetError::Io {
            source_name: path.display().to_string(),
            error,
        }),
        JwksSource::Url(url) => {
            let http = |error: String| KeySetError::Http {
                url: url.clone(),
                error,
            };
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(FETCH_TIMEOUT))
                .build()
                .new_agent();
            let mut response = agent.get(url).call().map_err(|e| http(e.to_string()))?;
            response
                .body_mut()
                .with_config()
                .limit(MAX_JWKS_BYTES)
                .read_to_vec()
                .map_err(|e| http(e.to_string()))
        }
    })
    .await
    .map_err(|_| KeySetError::Cancelled)?
}

/// Starts the scheduled refresh of `verifier`'s JWKS on the current actix
/// (tokio) runtime: every refresh interval, or after the minimum retry gap
/// when a fetch failed. The task ends when the verifier is dropped. Does
/// nothing for a verifier with a static key.
pub fn spawn_key_refresh(verifier: &Arc<Verifier>) {
    let Some(jwks) = verifier.jwks() else {
        return;
    };
    let (interval, min_gap) = (jwks.interval, jwks.min_gap);
    let weak: Weak<Verifier> = Arc::downgrade(verifier);
    actix_web::rt::spawn(async move {
        let mut wait = interval;
        loop {
            actix_web::rt::time::sleep(wait).await;
            let Some(verifier) = weak.upgrade() else {
                break;
            };
            wait = match verifier.refresh_keys().await {
                Ok(_) => interval,
                Err(err) => {
                    tracing::warn!(target: "scopegate", error = %err, "JWKS refresh failed; keeping the last good keys");
                    min_gap
                }
            };
        }
    });
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
