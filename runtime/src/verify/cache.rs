//! The verified-token cache: a running task sends the same token on every
//! heartbeat, so a token that verified once is looked up, not re-verified,
//! until it expires.
//!
//! - Keyed by the exact token string: a token differing in any byte (a
//!   tampered signature, a shared prefix) is a different key and misses.
//! - Bounded in entries *and* bytes: each entry weighs at least one unit of
//!   `max_bytes / max_entries`, and more for large tokens, so neither a flood
//!   of distinct tokens nor a few huge ones can grow it past its budget.
//! - An entry is never used past the token's `exp` plus the leeway.
//! - Each entry records the generation of the key set that verified it; a hit
//!   whose generation is not the current one is a miss (and is removed), so a
//!   verification that raced a key rotation can never serve a token of a
//!   removed key. The cache is also flushed when the key set changes, but
//!   correctness does not depend on that.

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::claims::Claims;

/// Default maximum number of cached tokens.
pub const DEFAULT_CACHE_ENTRIES: usize = 16 * 1024;
/// Default memory budget of the cache, in bytes (tokens plus claims).
pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Fixed per-entry overhead assumed on top of the token's own bytes: the
/// `Claims` struct, the `Arc`, the cache slot.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Claims>() + 64;

/// One cached verification: the claims and the key-set generation that
/// verified them.
#[derive(Clone)]
struct Entry {
    claims: Arc<Claims>,
    generation: u64,
}

#[derive(Clone)]
struct ByBytes {
    unit: usize,
}

impl Weighter<Box<str>, Entry> for ByBytes {
    fn weight(&self, token: &Box<str>, _: &Entry) -> u64 {
        // The claims are parsed from the token, so they are no larger than
        // it: count the token twice plus the fixed overhead.
        let bytes = 2 * token.len() + ENTRY_OVERHEAD;
        bytes.div_ceil(self.unit).max(1) as u64
    }
}

pub(crate) struct TokenCache {
    cache: Cache<Box<str>, Entry, ByBytes>,
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

    /// The cached claims of `token`, if they were verified by the key set of
    /// `generation` (the current one) and are still within `exp + leeway` at
    /// `now`. An entry that fails either test is removed.
    pub fn get(&self, token: &str, now: i64, leeway: i64, generation: u64) -> Option<Arc<Claims>> {
        let entry = self.cache.get(token)?;
        if entry.generation != generation || entry.claims.exp.saturating_add(leeway) < now {
            self.cache.remove(token);
            return None;
        }
        Some(entry.claims)
    }

    /// Remembers that `token` verified to `claims` with the key set of
    /// `generation`.
    pub fn insert(&self, token: &str, claims: Arc<Claims>, generation: u64) {
        self.cache
            .insert(token.into(), Entry { claims, generation });
    }

    pub fn clear(&self) {
        self.cache.clear();
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }
}
