//! Revocation: the [`DenyList`] hook a [`Verifier`](crate::Verifier)
//! consults on every verification, cache hits included, and
//! [`MemoryDenyList`], an in-memory implementation whose entries expire with
//! their tokens.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::claims::{Claims, MAX_LEEWAY};

/// A `jti` deny-list: the tokens an application has revoked before their
/// expiry. Register one with
/// [`VerifierBuilder::deny_list`](crate::VerifierBuilder::deny_list); a
/// revoked token is then refused with `401 Invalid auth token: token
/// revoked` on every later request, whether its verification is cached or
/// not.
///
/// With a deny-list, a token **without** a `jti` is refused (`missing
/// required claim 'jti'`): it could never be revoked. Tokens minted by
/// [`Issuer`](crate::Issuer) and by Airflow always carry one. A refreshed
/// token has a `jti` of its own: to cut a running task off, revoke the
/// tokens it holds, or rotate the key.
///
/// `is_revoked` is **synchronous** and runs on every request, on the actix
/// worker, so it must answer from memory: a hash lookup, never I/O. A store
/// that lives in a database (Airflow keeps revoked `jti`s in its
/// `revoked_token` table, with their `exp`) is mirrored in memory and the
/// mirror refreshed in the background; a revocation then takes effect within
/// one refresh period:
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use std::time::Duration;
/// use scopegate::{DenyList, VerificationKey, Verifier};
///
/// /// An in-memory copy of the `revoked_token` table.
/// #[derive(Default)]
/// struct RevokedTokenTable {
///     jtis: RwLock<Arc<HashSet<String>>>,
/// }
///
/// impl DenyList for RevokedTokenTable {
///     fn is_revoked(&self, jti: &str) -> bool {
///         match self.jtis.read() {
///             Ok(jtis) => jtis.contains(jti),
///             Err(_) => true, // a poisoned mirror fails closed
///         }
///     }
/// }
///
/// impl RevokedTokenTable {
///     /// Swaps in a fresh copy; requests never wait on the database.
///     fn replace(&self, jtis: HashSet<String>) {
///         if let Ok(mut current) = self.jtis.write() {
///             *current = Arc::new(jtis);
///         }
///     }
/// }
///
/// /// Your query, e.g. `SELECT jti FROM revoked_token WHERE exp > now()`.
/// async fn select_revoked_jtis() -> Result<HashSet<String>, std::io::Error> {
///     Ok(HashSet::new())
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let table = Arc::new(RevokedTokenTable::default());
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-32-bytes-or-more")?)
///     .audience("urn:airflow.apache.org:task")
///     .deny_list(table.clone())
///     .build()?;
///
/// // Refresh the mirror every few seconds, for as long as the server runs.
/// actix_web::rt::spawn(async move {
///     loop {
///         match select_revoked_jtis().await {
///             Ok(jtis) => table.replace(jtis),
///             Err(err) => eprintln!("revoked_token: {err}; keeping the last copy"),
///         }
///         actix_web::rt::time::sleep(Duration::from_secs(5)).await;
///     }
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub trait DenyList: Send + Sync {
    /// Whether the token with this `jti` is revoked. Called for every
    /// verification, cached or not: answer from memory, without blocking.
    fn is_revoked(&self, jti: &str) -> bool;
}

impl std::fmt::Debug for dyn DenyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DenyList")
    }
}

impl<T: DenyList + ?Sized> DenyList for Arc<T> {
    fn is_revoked(&self, jti: &str) -> bool {
        (**self).is_revoked(jti)
    }
}

/// An in-memory [`DenyList`]. Each entry is kept until its token can no
/// longer verify anyway (its `exp` plus the largest leeway a verifier
/// accepts, [`MAX_LEEWAY`]), then dropped, so the list stays as small as the
/// set of live revoked tokens.
///
/// ```
/// use std::sync::Arc;
/// use scopegate::{MemoryDenyList, VerificationKey, Verifier};
///
/// let revoked = Arc::new(MemoryDenyList::new());
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-32-bytes-or-more")?)
///     .audience("urn:airflow.apache.org:task")
///     .deny_list(revoked.clone())
///     .build()?;
/// // Later, e.g. from an admin endpoint, with the token's verified claims:
/// revoked.revoke("6f1c0e5e2b1a4c7d9e8f00112233abcd", 1_900_000_000);
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryDenyList {
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// `jti` -> when the entry may go (seconds since the epoch).
    until: HashMap<Box<str>, i64>,
    /// Purge when the map grows past this; doubles with the live set, so
    /// purging costs O(1) amortized per revocation.
    purge_at: usize,
}

/// Entries below this count are never purged early.
const MIN_PURGE_AT: usize = 1024;

impl MemoryDenyList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes the token whose `jti` is `jti` and whose `exp` is `exp`
    /// (seconds since the epoch). Every later verification of it fails.
    pub fn revoke(&self, jti: &str, exp: i64) {
        let until = exp.saturating_add(MAX_LEEWAY.as_secs() as i64);
        let mut entries = self.write();
        entries.until.insert(jti.into(), until);
        if entries.until.len() > entries.purge_at.max(MIN_PURGE_AT) {
            purge(&mut entries, crate::claims::now());
        }
    }

    /// Revokes the token these verified claims came from. Returns `false`
    /// (and revokes nothing) when it has no `jti`.
    pub fn revoke_claims(&self, claims: &Claims) -> bool {
        match &claims.jti {
            Some(jti) => {
                self.revoke(jti, claims.exp);
                true
            }
            None => false,
        }
    }

    /// Drops the entries of tokens that have expired (past `exp` plus
    /// [`MAX_LEEWAY`]); returns how many are left. Also done as the list
    /// grows.
    pub fn purge(&self) -> usize {
        let mut entries = self.write();
        purge(&mut entries, crate::claims::now());
        entries.until.len()
    }

    /// How many revocations are held.
    pub fn len(&self) -> usize {
        self.read().until.len()
    }

    /// Whether no revocation is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn purge(entries: &mut Entries, now: i64) {
    entries.until.retain(|_, until| *until >= now);
    entries.purge_at = 2 * entries.until.len();
}

impl DenyList for MemoryDenyList {
    /// A hash lookup. An entry still present is a revoked token: one whose
    /// time has passed can no longer verify anyway, so the clock is not read.
    fn is_revoked(&self, jti: &str) -> bool {
        self.read().until.contains_key(jti)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_until_the_token_could_no_longer_verify() {
        let list = MemoryDenyList::new();
        let now = crate::claims::now();
        list.revoke("live", now + 600);
        // Expired, but within the largest leeway: still held.
        list.revoke("recent", now - 60);
        // Expired beyond any leeway: dropped at the next purge.
        list.revoke("old", now - 3600);
        assert!(list.is_revoked("live") && list.is_revoked("recent"));
        assert!(!list.is_revoked("never"));
        assert_eq!(list.purge(), 2);
        assert!(!list.is_revoked("old"));
        assert!(list.is_revoked("live") && list.is_revoked("recent"));
    }

    #[test]
    fn purged_as_it_grows() {
        let list = MemoryDenyList::new();
        let now = crate::claims::now();
        for i in 0..10_000 {
            list.revoke(&format!("expired-{i}"), now - 3600);
        }
        assert!(
            list.len() <= MIN_PURGE_AT + 1,
            "{} expired entries held",
            list.len()
        );
        list.revoke("live", now + 600);
        assert!(list.is_revoked("live"));
    }
}
