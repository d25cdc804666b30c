//! The local copy of a shared deny-list (feature `redis`): the
//! [`Revocation`]s a replica has seen, validated and bounded, kept as an
//! immutable snapshot that a lookup reads without a lock and that writers
//! replace whole. Knows nothing of where the revocations come from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::claims::{Claims, MAX_LEEWAY};

use super::revoke::{RevocationStatus, TokenRef};

/// The longest `jti` or chain id a revocation may name, in bytes: a
/// scopegate chain id is 32 hex digits, a UUID `jti` 36 characters.
pub const MAX_REVOKED_ID_BYTES: usize = 256;
/// The longest issuer a revocation may name, in bytes.
pub const MAX_REVOKED_ISSUER_BYTES: usize = 1024;
/// The default cap on the revocations a replica holds locally.
pub const DEFAULT_MAX_REVOCATIONS: usize = 100_000;

/// What a [`Revocation`] revokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokedKind {
    /// One token, by its `jti`.
    Token,
    /// Every token of a refresh chain, by the chain's id
    /// ([`CHAIN_CLAIM`](crate::CHAIN_CLAIM)).
    Chain,
}

impl RevokedKind {
    /// The word the store and its messages spell it with.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedKind::Token => "token",
            RevokedKind::Chain => "chain",
        }
    }

    /// The kind spelled `word`, if any.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "token" => Some(RevokedKind::Token),
            "chain" => Some(RevokedKind::Chain),
            _ => None,
        }
    }
}

/// One revocation of a shared deny-list: a token (by `jti`) or a refresh
/// chain, of an issuer (a token's `iss`, `None` for a token without one),
/// kept until `until`, seconds since the epoch, when no token it names can
/// verify any more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// A token or a chain.
    pub kind: RevokedKind,
    /// The `iss` of the tokens it names (`None`: tokens without `iss`).
    pub issuer: Option<String>,
    /// The `jti`, or the chain id.
    pub id: String,
    /// When the revocation may be forgotten, seconds since the epoch.
    pub until: i64,
}

impl Revocation {
    /// The token whose `jti` is `jti` and whose `exp` is `exp`: kept until
    /// `exp` plus [`MAX_LEEWAY`].
    pub fn token(jti: impl Into<String>, exp: i64) -> Self {
        Revocation {
            kind: RevokedKind::Token,
            issuer: None,
            id: jti.into(),
            until: exp.saturating_add(MAX_LEEWAY.as_secs() as i64),
        }
    }

    /// Every token of the refresh chain `chain`, which no token of verifies
    /// after `end` (its start plus the maximum session age): kept until
    /// `end` plus [`MAX_LEEWAY`].
    pub fn chain(chain: impl Into<String>, end: i64) -> Self {
        Revocation {
            kind: RevokedKind::Chain,
            issuer: None,
            id: chain.into(),
            until: end.saturating_add(MAX_LEEWAY.as_secs() as i64),
        }
    }

    /// The same revocation, for tokens issued by `issuer`.
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<impl Into<String>>) -> Self {
        self.issuer = issuer.map(Into::into);
        self
    }

    /// The two revocations that revoke a token and its whole refresh chain,
    /// from its verified claims and the verifiers' maximum session age: its
    /// `jti` until its `exp`, and its chain until the chain's start plus
    /// `max_session_age` (never before the token's own `exp`). `None` for a
    /// token without `jti`, which no deny-list can revoke.
    pub fn of_claims(claims: &Claims, max_session_age: Duration) -> Option<[Revocation; 2]> {
        let token = TokenRef::from_claims(claims)?;
        let start = claims.session_start().unwrap_or(claims.iat);
        let age = i64::try_from(max_session_age.as_secs()).unwrap_or(i64::MAX);
        let end = start.saturating_add(age).max(token.exp);
        Some([
            Revocation::token(token.jti, token.exp).with_issuer(token.iss),
            Revocation::chain(token.chain, end).with_issuer(token.iss),
        ])
    }

    /// Checks a revocation that came from outside (a store, a message):
    /// an id of 1 to [`MAX_REVOKED_ID_BYTES`] bytes, an issuer of at most
    /// [`MAX_REVOKED_ISSUER_BYTES`]; and clamps its time to `longest`
    /// seconds from `now`, the longest a token or chain can live (the
    /// maximum session age plus [`MAX_LEEWAY`]). `None` when it is
    /// malformed, or already past.
    pub(crate) fn validated(mut self, now: i64, longest: i64) -> Option<Self> {
        if self.id.is_empty()
            || self.id.len() > MAX_REVOKED_ID_BYTES
            || self
                .issuer
                .as_ref()
                .is_some_and(|iss| iss.len() > MAX_REVOKED_ISSUER_BYTES)
            || self.until < now
        {
            return None;
        }
        self.until = self.until.min(now.saturating_add(longest));
        Some(self)
    }
}

/// The revocations of one id: usually one issuer, and the latest time.
type Issuers = Vec<(Option<Arc<str>>, i64)>;

/// An immutable set of revocations, replaced whole by writers.
#[derive(Clone, Debug, Default)]
struct Snapshot {
    /// Whether the full list was loaded once: until then every token is
    /// [`RevocationStatus::NotLoaded`].
    loaded: bool,
    /// `jti` -> the issuers it is revoked for, with until when.
    tokens: HashMap<Arc<str>, Issuers>,
    /// Chain id -> the issuers it is revoked for, with until when.
    chains: HashMap<Arc<str>, Issuers>,
}

impl Snapshot {
    fn len(&self) -> usize {
        self.tokens.values().map(Vec::len).sum::<usize>()
            + self.chains.values().map(Vec::len).sum::<usize>()
    }

    fn holds(map: &HashMap<Arc<str>, Issuers>, id: &str, iss: Option<&str>) -> bool {
        map.get(id)
            .is_some_and(|issuers| issuers.iter().any(|(i, _)| i.as_deref() == iss))
    }

    /// Adds `r` (or extends the time of the same revocation); `false` when
    /// it is new and the set already holds `max` revocations.
    fn insert(&mut self, r: &Revocation, len: &mut usize, max: usize) -> bool {
        let map = match r.kind {
            RevokedKind::Token => &mut self.tokens,
            RevokedKind::Chain => &mut self.chains,
        };
        if let Some(issuers) = map.get_mut(r.id.as_str()) {
            if let Some((_, until)) = issuers
                .iter_mut()
                .find(|(i, _)| i.as_deref() == r.issuer.as_deref())
            {
                *until = (*until).max(r.until);
                return true;
            }
            if *len >= max {
                return false;
            }
            issuers.push((r.issuer.as_deref().map(Arc::from), r.until));
        } else {
            if *len >= max {
                return false;
            }
            map.insert(
                Arc::from(r.id.as_str()),
                vec![(r.issuer.as_deref().map(Arc::from), r.until)],
            );
        }
        *len += 1;
        true
    }

    fn purge(&mut self, now: i64) {
        for map in [&mut self.tokens, &mut self.chains] {
            map.retain(|_, issuers| {
                issuers.retain(|(_, until)| *until >= now);
                !issuers.is_empty()
            });
        }
    }
}

/// What [`Mirror::apply`] did with a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Revocations added or extended.
    pub kept: usize,
    /// Malformed or already past: ignored.
    pub invalid: usize,
    /// New, but the mirror was full: dropped.
    pub dropped: usize,
}

/// The local copy: a snapshot readers load without a lock, and a mutex
/// that serialises writers (the background task, and revocations made
/// through this replica's API).
#[derive(Debug)]
pub(crate) struct Mirror {
    snapshot: ArcSwap<Snapshot>,
    writer: Mutex<()>,
    max_entries: usize,
}

impl Mirror {
    /// An empty mirror, not loaded, holding at most `max_entries`.
    pub fn new(max_entries: usize) -> Self {
        Mirror {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            writer: Mutex::new(()),
            max_entries,
        }
    }

    /// The answer for `token`: a hash lookup of its `jti`, and one of its
    /// chain when any chain is revoked. No lock, no allocation, no clock.
    #[inline]
    pub fn status(&self, token: &TokenRef<'_>) -> RevocationStatus {
        let snapshot = self.snapshot.load();
        if !snapshot.loaded {
            return RevocationStatus::NotLoaded;
        }
        if Snapshot::holds(&snapshot.tokens, token.jti, token.iss)
            || (!snapshot.chains.is_empty()
                && Snapshot::holds(&snapshot.chains, token.chain, token.iss))
        {
            RevocationStatus::Revoked
        } else {
            RevocationStatus::NotRevoked
        }
    }

    /// Adds `batch` (validated against `now` and `longest`, see
    /// [`Revocation::validated`]), drops what has expired, and, with
    /// `loaded`, marks the mirror loaded. Never removes a revocation in
    /// force: a store that comes back empty un-revokes nothing.
    pub fn apply(
        &self,
        batch: impl IntoIterator<Item = Revocation>,
        now: i64,
        longest: i64,
        loaded: bool,
    ) -> Applied {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = Snapshot::clone(&self.snapshot.load());
        next.purge(now);
        let mut len = next.len();
        let mut applied = Applied::default();
        for r in batch {
            match r.validated(now, longest) {
                None => applied.invalid += 1,
                Some(r) if next.insert(&r, &mut len, self.max_entries) => applied.kept += 1,
                Some(_) => applied.dropped += 1,
            }
        }
        next.loaded |= loaded;
        self.snapshot.store(Arc::new(next));
        applied
    }

    /// Whether the full list was loaded once.
    pub fn is_loaded(&self) -> bool {
        self.snapshot.load().loaded
    }

    /// How many revocations are held.
    pub fn len(&self) -> usize {
        self.snapshot.load().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::now;

    const DAY: i64 = 86_400;

    #[test]
    fn nothing_answers_until_loaded_then_lookups_match_kind_and_issuer() {
        let mirror = Mirror::new(10);
        let now = now();
        let token = TokenRef::new("j", now + 60).with_chain("c");
        assert_eq!(mirror.status(&token), RevocationStatus::NotLoaded);
        mirror.apply([], now, DAY, true);
        assert_eq!(mirror.status(&token), RevocationStatus::NotRevoked);
        mirror.apply(
            [
                Revocation::token("j", now + 60).with_issuer(Some("a")),
                Revocation::chain("j", now + 60),
            ],
            now,
            DAY,
            false,
        );
        // Issuer "a"'s j is revoked, not the j of tokens without an issuer;
        // the chain j is not the token j.
        assert_eq!(mirror.status(&token), RevocationStatus::NotRevoked);
        assert_eq!(
            mirror.status(&token.with_issuer("a")),
            RevocationStatus::Revoked
        );
        assert_eq!(
            mirror.status(&TokenRef::new("k", now).with_chain("j")),
            RevocationStatus::Revoked
        );
        assert_eq!(mirror.len(), 2);
    }

    #[test]
    fn bounded_validated_and_clamped() {
        let mirror = Mirror::new(3);
        let now = now();
        let long = "x".repeat(MAX_REVOKED_ID_BYTES + 1);
        let applied = mirror.apply(
            [
                Revocation::token("", now + 60),
                Revocation::token(long, now + 60),
                Revocation::token("iss", now + 60)
                    .with_issuer(Some("i".repeat(MAX_REVOKED_ISSUER_BYTES + 1))),
                // Past beyond the leeway: nothing to keep.
                Revocation::token("old", now - 3600),
                // Far future: clamped to a day.
                Revocation::token("far", i64::MAX),
                Revocation::token("a", now + 60),
                Revocation::token("a", now + 120),
                Revocation::token("b", now + 60),
                Revocation::token("c", now + 60),
            ],
            now,
            DAY,
            true,
        );
        assert_eq!(
            applied,
            Applied {
                kept: 4,
                invalid: 4,
                dropped: 1
            }
        );
        assert_eq!(mirror.len(), 3);
        let snapshot = mirror.snapshot.load();
        assert_eq!(snapshot.tokens["far"][0].1, now + DAY);
        assert_eq!(
            snapshot.tokens["a"][0].1,
            now + 120 + MAX_LEEWAY.as_secs() as i64
        );
    }

    #[test]
    fn an_empty_reload_revokes_nothing_less_and_expired_entries_go() {
        let mirror = Mirror::new(10);
        let now = now();
        mirror.apply(
            [
                Revocation::token("j", now + 60),
                Revocation::chain("c", now + 60),
            ],
            now,
            DAY,
            true,
        );
        mirror.apply([], now, DAY, true);
        assert_eq!(mirror.len(), 2);
        // An hour later, both have expired.
        mirror.apply([], now + 3600, DAY, true);
        assert_eq!(mirror.len(), 0);
        assert!(mirror.is_loaded());
    }
}
