//! The verified-token cache: a running task sends the same token on every
//! heartbeat, so a token that verified once is looked up, not re-verified,
//! until it expires.
//!
//! - Keyed by the exact token bytes: a token differing in any byte (a
//!   tampered signature, a shared prefix) is a different key and misses.
//!   A lookup takes the bytes as received, so a hit needs no other check of
//!   them (see `web/bearer.rs`).
//! - Hashed by the token's length and its last [`HASHED_TAIL`] bytes only,
//!   so a lookup costs the same for a 400-byte HS512 token as for a
//!   1,000-byte RS512 one. Those bytes are inside the signature, which no
//!   one can choose without the key, and only verified tokens are ever
//!   stored: no client can pile up entries of one hash. (The hasher is also
//!   seeded per process.) Equality is still the whole token.
//! - Bounded in entries *and* bytes: each entry weighs at least one unit of
//!   `max_bytes / max_entries`, and more for large tokens, so neither a flood
//!   of distinct tokens nor a few huge ones can grow it past its budget.
//! - An entry is never used past the token's `exp` plus the leeway.
//! - Each entry records the issuer that verified it and the generation of
//!   that issuer's key set; a hit whose generation is not the issuer's
//!   current one is a miss (and is removed), so a verification that raced a
//!   key rotation can never serve a token of a removed key. An issuer's
//!   entries are also flushed when its key set changes (the others' stay),
//!   but correctness does not depend on that.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::claims::Claims;

/// Default maximum number of cached tokens.
pub const DEFAULT_CACHE_ENTRIES: usize = 16 * 1024;
/// Default memory budget of the cache, in bytes (tokens plus claims).
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Fixed per-entry overhead assumed on top of the token's own bytes: the
/// `Claims` struct, the `Arc`, the cache slot.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Claims>() + 64;

/// One cached verification: the claims, the issuer (the verifier's index
/// of it) and the generation of its key set that verified them.
#[derive(Clone)]
struct Entry {
    claims: Arc<Claims>,
    issuer: u32,
    generation: u64,
}

/// How many of a token's last bytes its hash covers. Every signature is at
/// least 43 base64url characters (HS256's 32 bytes), so for a verified
/// token these are signature bytes.
const HASHED_TAIL: usize = 16;

/// The hash of a token's bytes: its length and its last [`HASHED_TAIL`]
/// bytes.
fn hash_token<H: Hasher>(token: &[u8], state: &mut H) {
    state.write_usize(token.len());
    state.write(&token[token.len().saturating_sub(HASHED_TAIL)..]);
}

/// A cached token: its bytes, compared in full, hashed by [`hash_token`].
#[derive(PartialEq, Eq)]
struct TokenKey(Box<[u8]>);

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(&self.0, state);
    }
}

/// A token to look up, as received: hashed as a [`TokenKey`] of the same
/// bytes, and equal to it only byte for byte.
struct Lookup<'a>(&'a [u8]);

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl Equivalent<TokenKey> for Lookup<'_> {
    fn equivalent(&self, key: &TokenKey) -> bool {
        *self.0 == *key.0
    }
}

#[derive(Clone)]
struct ByBytes {
    unit: usize,
}

impl Weighter<TokenKey, Entry> for ByBytes {
    fn weight(&self, TokenKey(token): &TokenKey, _: &Entry) -> u64 {
        // The claims are parsed from the token, so they are no larger than
        // it: count the token twice plus the fixed overhead.
        let bytes = 2 * token.len() + ENTRY_OVERHEAD;
        bytes.div_ceil(self.unit).max(1) as u64
    }
}

pub(crate) struct TokenCache {
    cache: Cache<TokenKey, Entry, ByBytes>,
    max_entries: usize,
}

impl TokenCache {
    /// `None` when `max_entries` is zero (caching off).
    pub fn new(max_entries: usize, max_bytes: usize) -> Option<Self> {
        if max_entries == 0 {
            return None;
        }
        let unit = (max_bytes / max_entries).max(1);
        Some(TokenCache {
            cache: Cache::with_weighter(max_entries, max_entries as u64, ByBytes { unit }),
            max_entries,
        })
    }

    /// The cached claims of `token`, if they were verified by the key set
    /// its issuer has now (`generation` of the entry's issuer: `None` for
    /// none) and are still within `exp + leeway` at `now`. An entry that
    /// fails either test is removed.
    #[inline(always)]
    pub fn get(
        &self,
        token: &[u8],
        now: i64,
        leeway: i64,
        generation: impl FnOnce(u32) -> Option<u64>,
    ) -> Option<Arc<Claims>> {
        let entry = self.cache.get(&Lookup(token))?;
        if generation(entry.issuer) != Some(entry.generation)
            || entry.claims.exp.saturating_add(leeway) < now
        {
            self.cache.remove(&Lookup(token));
            return None;
        }
        Some(entry.claims)
    }

    /// Remembers that `token` verified to `claims` with the key set of
    /// `generation` of `issuer`.
    pub fn insert(&self, token: &str, claims: Arc<Claims>, issuer: u32, generation: u64) {
        self.cache.insert(
            TokenKey(token.as_bytes().into()),
            Entry {
                claims,
                issuer,
                generation,
            },
        );
    }

    pub fn clear(&self) {
        self.cache.clear();
    }

    /// Drops the entries of `issuer` (whose key set changed), keeping the
    /// other issuers'.
    pub fn forget_issuer(&self, issuer: u32) {
        self.cache.retain(|_, entry| entry.issuer != issuer);
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }
}
