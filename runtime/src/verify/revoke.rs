//! Revocation: the [`DenyList`] hook a [`Verifier`](crate::Verifier)
//! consults on every verification, cache hits included, with what it
//! knows of the token ([`TokenRef`]: its `jti`, its refresh chain, its
//! issuer, its expiry), and [`MemoryDenyList`], an in-memory implementation
//! whose entries expire with their tokens and chains.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::claims::{Claims, MAX_LEEWAY};

/// What a [`DenyList`] is asked about: the identifiers of one verified
/// token, borrowed from its claims. Built per request without allocating;
/// fields may be added (hence `#[non_exhaustive]`; build one with
/// [`new`](Self::new) and the `with_` methods in tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRef<'a> {
    /// The token's `jti`.
    pub jti: &'a str,
    /// Its refresh chain ([`Claims::chain`]): the
    /// [`CHAIN_CLAIM`](crate::CHAIN_CLAIM) the issuer wrote, or, for a
    /// token minted without one, its own `jti`, which the tokens refreshed
    /// from it carry as their chain.
    pub chain: &'a str,
    /// Its `iss`, when it has one.
    pub iss: Option<&'a str>,
    /// Its `exp`, seconds since the epoch.
    pub exp: i64,
}

impl<'a> TokenRef<'a> {
    /// A token with this `jti` and `exp`, and no chain but itself.
    pub fn new(jti: &'a str, exp: i64) -> Self {
        TokenRef {
            jti,
            chain: jti,
            iss: None,
            exp,
        }
    }

    /// The same token, in refresh chain `chain`.
    #[must_use]
    pub fn with_chain(mut self, chain: &'a str) -> Self {
        self.chain = chain;
        self
    }

    /// The same token, issued by `iss`.
    #[must_use]
    pub fn with_issuer(mut self, iss: &'a str) -> Self {
        self.iss = Some(iss);
        self
    }

    /// The identifiers of verified `claims`; `None` without a `jti`.
    pub fn from_claims(claims: &'a Claims) -> Option<Self> {
        let jti = claims.jti.as_deref()?;
        Some(TokenRef {
            jti,
            chain: claims.chain().unwrap_or(jti),
            iss: claims.iss.as_deref(),
            exp: claims.exp,
        })
    }
}

/// What a [`DenyList`] answers about one token
/// ([`DenyList::revocation_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationStatus {
    /// Neither the token nor its chain is revoked: it may be used.
    NotRevoked,
    /// The token, or its refresh chain, is revoked: `401 Invalid auth
    /// token: token revoked`.
    Revoked,
    /// The list cannot tell yet: it has never loaded the revocations (a
    /// replica that started while its store was down). Every token is
    /// refused, with `503` ([`AuthError::RevocationsNotLoaded`](crate::AuthError::RevocationsNotLoaded)),
    /// until it has: serving would un-revoke what the store holds.
    NotLoaded,
}

/// A deny-list: the tokens, and the refresh chains, an application has
/// revoked before their expiry. Register one with
/// [`VerifierBuilder::deny_list`](crate::VerifierBuilder::deny_list); a
/// revoked token is then refused with `401 Invalid auth token: token
/// revoked` on every later request, whether its verification is cached or
/// not.
///
/// **Chains.** A refreshed token has a `jti` of its own but carries its
/// chain's id ([`CHAIN_CLAIM`](crate::CHAIN_CLAIM), `sid`), so a list that
/// holds the chain refuses every token of it: revoking a leaked token cuts
/// off the tokens refreshed from it, and those it was refreshed from.
/// Implement [`is_token_revoked`](Self::is_token_revoked), which sees the
/// `jti`, the chain and the issuer at once.
///
/// With a deny-list, a token **without** a `jti` is refused (`missing
/// required claim 'jti'`): it could never be revoked. Tokens minted by
/// [`Issuer`](crate::Issuer) and by Airflow always carry one. The verifier
/// must also have a
/// [`max_session_age`](crate::VerifierBuilder::max_session_age): no token
/// of a chain verifies past the chain's start plus that age, so a chain's
/// revocation can be forgotten then; the verifier tells its list the age
/// when it is built ([`set_max_session_age`](Self::set_max_session_age)).
///
/// `is_token_revoked` is **synchronous** and runs on every request, on the
/// actix worker, so it must answer from memory: a hash lookup, never I/O. A
/// store that lives in a database (Airflow keeps revoked `jti`s in its
/// `revoked_token` table, with their `exp`) is mirrored in memory and the
/// mirror refreshed in the background; a revocation then takes effect
/// within one refresh period:
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use std::time::Duration;
/// use scopegate::{DenyList, TokenRef, VerificationKey, Verifier};
///
/// /// An in-memory copy of the `revoked_token` table: revoked `jti`s and
/// /// revoked chains.
/// #[derive(Default)]
/// struct RevokedTokenTable {
///     ids: RwLock<Arc<HashSet<String>>>,
/// }
///
/// impl DenyList for RevokedTokenTable {
///     fn is_token_revoked(&self, token: &TokenRef<'_>) -> bool {
///         match self.ids.read() {
///             Ok(ids) => ids.contains(token.jti) || ids.contains(token.chain),
///             Err(_) => true, // a poisoned mirror fails closed
///         }
///     }
/// }
///
/// impl RevokedTokenTable {
///     /// Swaps in a fresh copy; requests never wait on the database.
///     fn replace(&self, ids: HashSet<String>) {
///         if let Ok(mut current) = self.ids.write() {
///             *current = Arc::new(ids);
///         }
///     }
/// }
///
/// /// Your query, e.g. `SELECT id FROM revoked_token WHERE until > now()`.
/// async fn select_revoked_ids() -> Result<HashSet<String>, std::io::Error> {
///     Ok(HashSet::new())
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let table = Arc::new(RevokedTokenTable::default());
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:airflow.apache.org:task")
///     .deny_list(table.clone())
///     .max_session_age(Duration::from_secs(24 * 3600))
///     .build()?;
///
/// // Refresh the mirror every few seconds, for as long as the server runs.
/// actix_web::rt::spawn(async move {
///     loop {
///         match select_revoked_ids().await {
///             Ok(ids) => table.replace(ids),
///             Err(err) => eprintln!("revoked_token: {err}; keeping the last copy"),
///         }
///         actix_web::rt::time::sleep(Duration::from_secs(5)).await;
///     }
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub trait DenyList: Send + Sync {
    /// What the verifier asks, on every verification: whether `token` is
    /// revoked, or whether the list cannot tell yet
    /// ([`RevocationStatus::NotLoaded`]: a list mirrored from a store that
    /// has never been loaded). The default asks
    /// [`is_token_revoked`](Self::is_token_revoked): a list that is always
    /// loaded (in memory, or mirrored from a database it read at start-up)
    /// implements that alone.
    #[inline]
    fn revocation_status(&self, token: &TokenRef<'_>) -> RevocationStatus {
        if self.is_token_revoked(token) {
            RevocationStatus::Revoked
        } else {
            RevocationStatus::NotRevoked
        }
    }

    /// Whether `token` is revoked: its `jti`, or its chain. Called for
    /// every verification, cached or not: answer from memory, without
    /// blocking.
    ///
    /// The default asks [`is_revoked`](Self::is_revoked) about the `jti`
    /// alone, so a list written before chains keeps working (without
    /// chains).
    fn is_token_revoked(&self, token: &TokenRef<'_>) -> bool {
        #[allow(deprecated)]
        self.is_revoked(token.jti)
    }

    /// Whether the token with this `jti` is revoked. The lookup of a list
    /// written before refresh chains; the verifier asks
    /// [`is_token_revoked`](Self::is_token_revoked), whose default calls
    /// this. A list must implement one of the two: this default refuses
    /// every token, so a list that implements neither fails closed.
    #[deprecated(
        since = "0.1.0",
        note = "implement `is_token_revoked`, which also sees the token's refresh chain and issuer: \
                a list that answers by `jti` alone lets the tokens refreshed from a revoked one live"
    )]
    fn is_revoked(&self, jti: &str) -> bool {
        let _ = jti;
        true
    }

    /// Told once by [`VerifierBuilder::build`](crate::VerifierBuilder::build)
    /// of every verifier that uses this list: its maximum session age. No
    /// token of a chain verifies past the chain's start plus `age` (and the
    /// leeway), so a list may forget a chain's revocation then, and need
    /// keep no entry longer. The default ignores it.
    fn set_max_session_age(&self, age: Duration) {
        let _ = age;
    }
}

impl std::fmt::Debug for dyn DenyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DenyList")
    }
}

impl<T: DenyList + ?Sized> DenyList for Arc<T> {
    fn revocation_status(&self, token: &TokenRef<'_>) -> RevocationStatus {
        (**self).revocation_status(token)
    }

    fn is_token_revoked(&self, token: &TokenRef<'_>) -> bool {
        (**self).is_token_revoked(token)
    }

    #[allow(deprecated)]
    fn is_revoked(&self, jti: &str) -> bool {
        (**self).is_revoked(jti)
    }

    fn set_max_session_age(&self, age: Duration) {
        (**self).set_max_session_age(age);
    }
}

/// An in-memory [`DenyList`] of tokens and refresh chains, keyed by issuer
/// and id: a `jti` or a chain id is unique only within its issuer, so with
/// a verifier of several issuers ([`TrustedIssuer`](crate::TrustedIssuer)),
/// revoking one issuer's token never refuses another issuer's that happens
/// to share the id. [`revoke_claims`](Self::revoke_claims) and the
/// `_issued` methods revoke for one issuer; [`revoke`](Self::revoke) and
/// [`revoke_chain`](Self::revoke_chain), which have only the id, for every
/// issuer. A token's entry
/// is kept until the token can no longer verify anyway (its `exp` plus the
/// largest leeway a verifier accepts, [`MAX_LEEWAY`]); a chain's until no
/// token of it can (the chain's start plus the verifier's maximum session
/// age, plus [`MAX_LEEWAY`]); then they are dropped, so the list stays as
/// small as the set of live revocations.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use scopegate::{MemoryDenyList, VerificationKey, Verifier};
///
/// let revoked = Arc::new(MemoryDenyList::new());
/// let verifier = Verifier::builder(VerificationKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
///     .audience("urn:airflow.apache.org:task")
///     .deny_list(revoked.clone())
///     .max_session_age(Duration::from_secs(24 * 3600))
///     .build()?;
/// // Later, e.g. from an admin endpoint, with a leaked token's verified
/// // claims: it, and every token of its refresh chain, are refused.
/// # let token = scopegate::Issuer::builder(scopegate::SigningKey::secret("a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!")?)
/// #     .audience("urn:airflow.apache.org:task").build()?.issue(uuid::Uuid::new_v4(), scopegate::TokenType::EXECUTION)?;
/// let claims = verifier.verify(&token)?;
/// assert!(revoked.revoke_claims(&claims));
/// assert!(verifier.verify(&token).is_err());
/// // A token alone, by its `jti` and `exp`:
/// revoked.revoke("6f1c0e5e2b1a4c7d9e8f00112233abcd", 1_900_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryDenyList {
    inner: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// `jti` -> the issuers it is revoked for, each with when the entry may
    /// go (seconds since the epoch). Nearly always one.
    jtis: HashMap<Box<str>, Scopes>,
    /// Chain id -> the same.
    chains: HashMap<Box<str>, Scopes>,
    /// Purge when the maps grow past this; doubles with the live set, so
    /// purging costs O(1) amortized per revocation.
    purge_at: usize,
    /// The longest maximum session age of the verifiers using the list, in
    /// seconds; `None` until one is built with it.
    max_session_age: Option<i64>,
}

/// The issuers an id is revoked for, each until a time.
type Scopes = Vec<(Scope, i64)>;

/// Which issuers' tokens with an id a revocation covers.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    /// Every issuer's ([`MemoryDenyList::revoke`], `revoke_chain`).
    Any,
    /// Those whose `iss` is this (`None`: tokens without one).
    Issuer(Option<Box<str>>),
}

impl Scope {
    fn of(iss: Option<&str>) -> Scope {
        Scope::Issuer(iss.map(Into::into))
    }

    fn covers(&self, iss: Option<&str>) -> bool {
        match self {
            Scope::Any => true,
            Scope::Issuer(issuer) => issuer.as_deref() == iss,
        }
    }
}

/// Adds (or extends) the revocation of `id` for `scope` until `until`.
fn insert(map: &mut HashMap<Box<str>, Scopes>, id: &str, scope: Scope, until: i64) {
    let scopes = match map.get_mut(id) {
        Some(scopes) => scopes,
        None => map.entry(id.into()).or_default(),
    };
    match scopes.iter_mut().find(|(s, _)| *s == scope) {
        Some((_, at)) => *at = (*at).max(until),
        None => scopes.push((scope, until)),
    }
}

/// Whether `id` is revoked for the issuer `iss`.
fn covers(map: &HashMap<Box<str>, Scopes>, id: &str, iss: Option<&str>) -> bool {
    map.get(id)
        .is_some_and(|scopes| scopes.iter().any(|(scope, _)| scope.covers(iss)))
}

/// Entries below this count are never purged early.
const MIN_PURGE_AT: usize = 1024;

impl MemoryDenyList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes the token whose `jti` is `jti` and whose `exp` is `exp`
    /// (seconds since the epoch), whichever issuer it came from, and no
    /// other token of its chain. Every later verification of it fails.
    pub fn revoke(&self, jti: &str, exp: i64) {
        self.revoke_jti(Scope::Any, jti, exp);
    }

    /// Revokes the token of the issuer `iss` (its `iss` claim; `None` for a
    /// token without one) whose `jti` is `jti` and whose `exp` is `exp`. A
    /// token of another issuer with the same `jti` is not affected.
    pub fn revoke_issued(&self, iss: Option<&str>, jti: &str, exp: i64) {
        self.revoke_jti(Scope::of(iss), jti, exp);
    }

    /// Revokes every token of refresh chain `chain`, whichever issuer they
    /// came from: every later verification of a token whose chain it is
    /// fails. `until` (seconds since the epoch) is when no token of the
    /// chain can verify any more, its start plus the verifier's maximum
    /// session age; the entry is kept until then plus [`MAX_LEEWAY`].
    pub fn revoke_chain(&self, chain: &str, until: i64) {
        self.revoke_chain_of(Scope::Any, chain, until);
    }

    /// [`revoke_chain`](Self::revoke_chain) for the tokens of the issuer
    /// `iss` only.
    pub fn revoke_chain_issued(&self, iss: Option<&str>, chain: &str, until: i64) {
        self.revoke_chain_of(Scope::of(iss), chain, until);
    }

    fn revoke_jti(&self, scope: Scope, jti: &str, exp: i64) {
        let until = exp.saturating_add(MAX_LEEWAY.as_secs() as i64);
        let mut entries = self.write();
        insert(&mut entries.jtis, jti, scope, until);
        entries.purge_if_large();
    }

    fn revoke_chain_of(&self, scope: Scope, chain: &str, until: i64) {
        let until = until.saturating_add(MAX_LEEWAY.as_secs() as i64);
        let mut entries = self.write();
        insert(&mut entries.chains, chain, scope, until);
        entries.purge_if_large();
    }

    /// Revokes the token these verified claims came from, and its whole
    /// refresh chain ([`Claims::chain`]): the tokens refreshed from it and
    /// those it was refreshed from; for its issuer (its `iss`) only. The chain's entry is kept until its
    /// start ([`Claims::session_start`]) plus the maximum session age of
    /// the verifiers using this list; before a verifier is built with the
    /// list, it is kept. Returns `false` (and revokes nothing) when the
    /// token has no `jti`.
    pub fn revoke_claims(&self, claims: &Claims) -> bool {
        let Some(token) = TokenRef::from_claims(claims) else {
            return false;
        };
        let start = claims.session_start().unwrap_or(claims.iat);
        let age = self.read().max_session_age;
        let chain_until = age.map_or(i64::MAX, |age| start.saturating_add(age).max(claims.exp));
        self.revoke_issued(token.iss, token.jti, token.exp);
        self.revoke_chain_issued(token.iss, token.chain, chain_until);
        true
    }

    /// Whether the token with this `jti` is revoked by its `jti`, for any
    /// issuer (a revoked chain is
    /// [`is_chain_revoked`](Self::is_chain_revoked)).
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.read().jtis.contains_key(jti)
    }

    /// Whether the refresh chain `chain` is revoked, for any issuer.
    pub fn is_chain_revoked(&self, chain: &str) -> bool {
        self.read().chains.contains_key(chain)
    }

    /// Drops the entries of tokens and chains that can no longer verify
    /// (past their time plus [`MAX_LEEWAY`]); returns how many are left.
    /// Also done as the list grows.
    pub fn purge(&self) -> usize {
        let mut entries = self.write();
        entries.purge(crate::claims::now());
        entries.len()
    }

    /// How many revocations (tokens and chains) are held.
    pub fn len(&self) -> usize {
        self.read().len()
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

impl Entries {
    fn len(&self) -> usize {
        let count = |map: &HashMap<Box<str>, Scopes>| map.values().map(Vec::len).sum::<usize>();
        count(&self.jtis) + count(&self.chains)
    }

    fn purge_if_large(&mut self) {
        if self.len() > self.purge_at.max(MIN_PURGE_AT) {
            self.purge(crate::claims::now());
        }
    }

    fn purge(&mut self, now: i64) {
        for map in [&mut self.jtis, &mut self.chains] {
            map.retain(|_, scopes| {
                scopes.retain(|(_, until)| *until >= now);
                !scopes.is_empty()
            });
        }
        self.purge_at = 2 * self.len();
    }
}

impl DenyList for MemoryDenyList {
    /// Hash lookups of the `jti` and, when a chain is revoked, of the
    /// chain, each for the token's issuer. An entry still present is a
    /// revocation in force: one whose time has passed can no longer verify
    /// anyway, so the clock is not read.
    fn is_token_revoked(&self, token: &TokenRef<'_>) -> bool {
        let entries = self.read();
        covers(&entries.jtis, token.jti, token.iss)
            || (!entries.chains.is_empty() && covers(&entries.chains, token.chain, token.iss))
    }

    fn is_revoked(&self, jti: &str) -> bool {
        MemoryDenyList::is_revoked(self, jti)
    }

    fn set_max_session_age(&self, age: Duration) {
        let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        let mut entries = self.write();
        entries.max_session_age = Some(entries.max_session_age.map_or(age, |a| a.max(age)));
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
    fn keyed_by_issuer_and_id() {
        let list = MemoryDenyList::new();
        let exp = crate::claims::now() + 600;
        let from = |iss: Option<&'static str>, jti: &'static str| {
            let token = TokenRef::new(jti, exp);
            match iss {
                Some(iss) => token.with_issuer(iss),
                None => token,
            }
        };
        list.revoke_issued(Some("https://a"), "j1", exp);
        assert!(list.is_token_revoked(&from(Some("https://a"), "j1")));
        assert!(!list.is_token_revoked(&from(Some("https://b"), "j1")));
        assert!(!list.is_token_revoked(&from(None, "j1")));
        list.revoke_issued(None, "j2", exp);
        assert!(list.is_token_revoked(&from(None, "j2")));
        assert!(!list.is_token_revoked(&from(Some("https://a"), "j2")));
        // By jti alone: every issuer's token with that jti.
        list.revoke("j3", exp);
        for iss in [None, Some("https://a"), Some("https://b")] {
            assert!(list.is_token_revoked(&from(iss, "j3")), "{iss:?}");
        }
        // Chains likewise.
        list.revoke_chain_issued(Some("https://a"), "c1", exp);
        let in_c1 = |iss| from(iss, "j9").with_chain("c1");
        assert!(list.is_token_revoked(&in_c1(Some("https://a"))));
        assert!(!list.is_token_revoked(&in_c1(Some("https://b"))));
        list.revoke_chain("c1", exp);
        assert!(list.is_token_revoked(&in_c1(Some("https://b"))));
        // Two scopes of one id count twice, and are purged together.
        list.revoke_issued(Some("https://b"), "j1", exp);
        assert_eq!(list.len(), 6);
        assert_eq!(list.purge(), 6);
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

    #[test]
    fn a_revoked_chain_holds_every_token_of_it_until_the_chain_ends() {
        let list = MemoryDenyList::new();
        let now = crate::claims::now();
        list.revoke_chain("chain-a", now + 3600);
        // An expired chain, beyond any leeway: dropped at the next purge.
        list.revoke_chain("chain-old", now - 3600);
        let in_a = TokenRef::new("j-2", now + 600).with_chain("chain-a");
        let in_b = TokenRef::new("j-3", now + 600).with_chain("chain-b");
        assert!(list.is_token_revoked(&in_a));
        assert!(!list.is_token_revoked(&in_b));
        // A token without a chain of its own is the chain its jti names.
        list.revoke("j-4", now + 600);
        assert!(list.is_token_revoked(&TokenRef::new("j-4", now + 600)));
        assert!(!list.is_token_revoked(&TokenRef::new("j-5", now).with_chain("j-4")));
        list.revoke_chain("j-6", now + 600);
        assert!(list.is_token_revoked(&TokenRef::new("j-7", now).with_chain("j-6")));
        assert_eq!(list.purge(), 3);
        assert!(!list.is_chain_revoked("chain-old"));
    }

    #[test]
    fn a_chain_is_kept_for_the_verifiers_maximum_session_age() {
        let list = MemoryDenyList::new();
        let now = crate::claims::now();
        let payload = |iat: i64, jti: &str| {
            serde_json::to_vec(&serde_json::json!({
                "sub": "s", "iat": iat, "exp": iat + 600, "aud": "a", "jti": jti,
                crate::claims::CHAIN_CLAIM: format!("chain-{jti}"),
            }))
            .unwrap()
        };
        let audiences = ["a".to_owned()];
        let claims = |iat, jti| {
            let rules = crate::claims::ClaimRules {
                now: iat,
                leeway: 0,
                audiences: &audiences,
                issuer: None,
                subject: crate::claims::SubjectFormat::Any,
            };
            Claims::parse(&payload(iat, jti), &rules).unwrap()
        };
        // Before a verifier told the list its age, a chain is kept.
        assert!(list.revoke_claims(&claims(now - 10 * 86400, "early")));
        list.set_max_session_age(Duration::from_secs(3600));
        list.set_max_session_age(Duration::from_secs(86400));
        list.set_max_session_age(Duration::from_secs(600));
        // The longest age told counts: a chain started 5 minutes ago lives
        // on, and so does its token.
        assert!(list.revoke_claims(&claims(now - 300, "live")));
        // A chain started 3 days ago ended: its entries go at the purge.
        assert!(list.revoke_claims(&claims(now - 3 * 86400, "ended")));
        assert_eq!(list.len(), 6);
        assert_eq!(list.purge(), 3, "the early chain, the live token and chain");
        assert!(list.is_chain_revoked("chain-early"));
        assert!(list.is_chain_revoked("chain-live") && list.is_revoked("live"));
        assert!(!list.is_chain_revoked("chain-ended"));
    }

    /// A list written before chains (it implements `is_revoked` only)
    /// still refuses the tokens it names; one that implements neither
    /// lookup refuses everything.
    #[test]
    #[allow(deprecated)]
    fn lists_written_before_chains_keep_working_and_neither_fails_closed() {
        struct Old;
        impl DenyList for Old {
            fn is_revoked(&self, jti: &str) -> bool {
                jti == "revoked"
            }
        }
        struct Neither;
        impl DenyList for Neither {}
        let token = |jti| TokenRef::new(jti, 0).with_chain("c");
        assert!(Old.is_token_revoked(&token("revoked")));
        assert!(!Old.is_token_revoked(&token("fine")));
        assert!(Arc::new(Old).is_token_revoked(&token("revoked")));
        assert!(Neither.is_token_revoked(&token("fine")));
        let list = Arc::new(MemoryDenyList::new());
        list.revoke("revoked", i64::MAX);
        assert!(DenyList::is_revoked(&list, "revoked"));
        assert!(!DenyList::is_revoked(&list, "fine"));
    }
}
