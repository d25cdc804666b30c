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

    /// Whether the token with this `jti`, from the issuer `iss` (its `iss`
    /// claim; `None` for a token without one), is revoked: what a
    /// [`Verifier`](crate::Verifier) asks. A `jti` is unique only within
    /// its issuer, so a store shared by a verifier of several issuers keys
    /// its revocations by both. By default it asks
    /// [`is_revoked`](Self::is_revoked), which then refuses a revoked
    /// `jti` from every issuer: never less safe, at worst a token of
    /// another issuer that happens to share the `jti` is refused too.
    fn is_revoked_for(&self, iss: Option<&str>, jti: &str) -> bool {
        let _ = iss;
        self.is_revoked(jti)
    }
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

    fn is_revoked_for(&self, iss: Option<&str>, jti: &str) -> bool {
        (**self).is_revoked_for(iss, jti)
    }
}

/// An in-memory [`DenyList`], keyed by issuer and `jti`. Each entry is kept
/// until its token can no longer verify anyway (its `exp` plus the largest
/// leeway a verifier accepts, [`MAX_LEEWAY`]), then dropped, so the list
/// stays as small as the set of live revoked tokens.
///
/// [`revoke_claims`](Self::revoke_claims) revokes a token of its own issuer;
/// [`revoke`](Self::revoke), which has only the `jti`, revokes it from every
/// issuer.
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
    /// `jti` -> the issuers it is revoked for, each with when the entry may
    /// go (seconds since the epoch). Nearly always one.
    until: HashMap<Box<str>, Vec<(Scope, i64)>>,
    /// Purge when the map grows past this; doubles with the live set, so
    /// purging costs O(1) amortized per revocation.
    purge_at: usize,
}

/// Which issuers' tokens of a `jti` a revocation covers.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    /// Every issuer's ([`MemoryDenyList::revoke`]).
    Any,
    /// Those whose `iss` is this (`None`: tokens without one).
    Issuer(Option<Box<str>>),
}

impl Scope {
    fn covers(&self, iss: Option<&str>) -> bool {
        match self {
            Scope::Any => true,
            Scope::Issuer(issuer) => issuer.as_deref() == iss,
        }
    }
}

/// Entries below this count are never purged early.
const MIN_PURGE_AT: usize = 1024;

impl MemoryDenyList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes the token whose `jti` is `jti` and whose `exp` is `exp`
    /// (seconds since the epoch), whichever issuer it came from. Every later
    /// verification of it fails.
    pub fn revoke(&self, jti: &str, exp: i64) {
        self.insert(jti, Scope::Any, exp);
    }

    /// Revokes the token of the issuer `iss` (its `iss` claim; `None` for a
    /// token without one) whose `jti` is `jti` and whose `exp` is `exp`.
    /// A token of another issuer with the same `jti` is not affected.
    pub fn revoke_issued(&self, iss: Option<&str>, jti: &str, exp: i64) {
        self.insert(jti, Scope::Issuer(iss.map(Into::into)), exp);
    }

    /// Revokes the token these verified claims came from, for its issuer.
    /// Returns `false` (and revokes nothing) when it has no `jti`.
    pub fn revoke_claims(&self, claims: &Claims) -> bool {
        match &claims.jti {
            Some(jti) => {
                self.revoke_issued(claims.iss.as_deref(), jti, claims.exp);
                true
            }
            None => false,
        }
    }

    fn insert(&self, jti: &str, scope: Scope, exp: i64) {
        let until = exp.saturating_add(MAX_LEEWAY.as_secs() as i64);
        let mut entries = self.write();
        let scopes = entries.until.entry(jti.into()).or_default();
        match scopes.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, at)) => *at = (*at).max(until),
            None => scopes.push((scope, until)),
        }
        if entries.until.len() > entries.purge_at.max(MIN_PURGE_AT) {
            purge(&mut entries, crate::claims::now());
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
    entries.until.retain(|_, scopes| {
        scopes.retain(|(_, until)| *until >= now);
        !scopes.is_empty()
    });
    entries.purge_at = 2 * entries.until.len();
}

impl DenyList for MemoryDenyList {
    /// Whether `jti` is revoked for any issuer. A hash lookup.
    fn is_revoked(&self, jti: &str) -> bool {
        self.read().until.contains_key(jti)
    }

    /// A hash lookup. An entry still present is a revoked token: one whose
    /// time has passed can no longer verify anyway, so the clock is not read.
    fn is_revoked_for(&self, iss: Option<&str>, jti: &str) -> bool {
        self.read()
            .until
            .get(jti)
            .is_some_and(|scopes| scopes.iter().any(|(scope, _)| scope.covers(iss)))
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
    fn keyed_by_issuer_and_jti() {
        let list = MemoryDenyList::new();
        let exp = crate::claims::now() + 600;
        list.revoke_issued(Some("https://a"), "j1", exp);
        assert!(list.is_revoked_for(Some("https://a"), "j1"));
        assert!(!list.is_revoked_for(Some("https://b"), "j1"));
        assert!(!list.is_revoked_for(None, "j1"));
        list.revoke_issued(None, "j2", exp);
        assert!(list.is_revoked_for(None, "j2"));
        assert!(!list.is_revoked_for(Some("https://a"), "j2"));
        // Without an issuer: every issuer's token with that jti.
        list.revoke("j3", exp);
        for iss in [None, Some("https://a"), Some("https://b")] {
            assert!(list.is_revoked_for(iss, "j3"), "{iss:?}");
        }
        // A store that only implements is_revoked refuses the jti from
        // every issuer.
        struct Plain;
        impl DenyList for Plain {
            fn is_revoked(&self, jti: &str) -> bool {
                jti == "j1"
            }
        }
        assert!(Plain.is_revoked_for(Some("https://b"), "j1"));
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
