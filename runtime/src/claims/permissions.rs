//! A token's permissions, kept with its claims: parsed once per token (the
//! first route check after its verification), then read back as bits by
//! every later check, cache hits included, without comparing a string.
//!
//! The bits mean something only for the declaration they were parsed with
//! (`Permissions`): each is stored under that declaration's key, so a
//! verifier shared by two crates whose permission names differ never lets
//! one read the other's bits. A few declarations fit; past them a token's
//! permissions are parsed on every check (correct, only slower).

use std::fmt;
use std::sync::OnceLock;

use crate::policy::MalformedClaim;

/// How many declarations of permissions one token keeps bits for.
const SLOTS: usize = 2;

/// Bits of a token's permissions, each under its declaration's key.
#[derive(Default)]
pub(crate) struct PermissionCache {
    slots: [OnceLock<(u128, Result<u64, MalformedClaim>)>; SLOTS],
}

impl Clone for PermissionCache {
    /// An empty cache: a copy of the claims may be changed (their `extra`
    /// is public), so it parses its permissions again rather than keep
    /// bits of claims it no longer holds.
    fn clone(&self) -> Self {
        PermissionCache::default()
    }
}

impl PermissionCache {
    /// The bits for the declaration `key`: kept ones, else `parse()`'s,
    /// kept in the first free slot.
    #[inline]
    pub(crate) fn get_or_parse(
        &self,
        key: u128,
        parse: impl FnOnce() -> Result<u64, MalformedClaim>,
    ) -> Result<u64, MalformedClaim> {
        let mut parse = Some(parse);
        let mut parsed = None;
        for slot in &self.slots {
            if let Some((k, bits)) = slot.get() {
                if *k == key {
                    return *bits;
                }
                continue;
            }
            let bits = *parsed.get_or_insert_with(|| parse.take().map_or(Ok(0), |p| p()));
            let (k, kept) = slot.get_or_init(|| (key, bits));
            if *k == key {
                return *kept;
            }
            // Another declaration took the slot meanwhile: try the next.
        }
        match parsed {
            Some(bits) => bits,
            None => parse.map_or(Ok(0), |p| p()),
        }
    }
}

impl PartialEq for PermissionCache {
    /// A cache of what the claims say: two equal sets of claims are equal
    /// whatever each has parsed so far.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for PermissionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.slots.iter().filter(|s| s.get().is_some()).count();
        write!(f, "PermissionCache({kept} kept)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn parsed_once_per_declaration_and_never_mixed_up() {
        let cache = PermissionCache::default();
        let calls = Cell::new(0);
        let parse = |bits| {
            let calls = &calls;
            move || {
                calls.set(calls.get() + 1);
                Ok(bits)
            }
        };
        assert_eq!(cache.get_or_parse(1, parse(0b01)), Ok(0b01));
        assert_eq!(cache.get_or_parse(1, parse(0b11)), Ok(0b01), "kept");
        assert_eq!(cache.get_or_parse(2, parse(0b10)), Ok(0b10), "another key");
        assert_eq!(cache.get_or_parse(2, parse(0)), Ok(0b10));
        assert_eq!(calls.get(), 2);
        // A third declaration: parsed every time, never another's bits.
        assert_eq!(cache.get_or_parse(3, parse(0b100)), Ok(0b100));
        assert_eq!(cache.get_or_parse(3, parse(0b101)), Ok(0b101));
        assert_eq!(cache.get_or_parse(1, parse(0)), Ok(0b01));
        assert_eq!(calls.get(), 4);
        let malformed = PermissionCache::default();
        assert_eq!(
            malformed.get_or_parse(7, || Err(MalformedClaim)),
            Err(MalformedClaim)
        );
        assert_eq!(malformed.get_or_parse(7, || Ok(1)), Err(MalformedClaim));
    }

    #[test]
    fn a_copy_parses_again() {
        let cache = PermissionCache::default();
        assert_eq!(cache.get_or_parse(1, || Ok(0b10)), Ok(0b10));
        let copy = cache.clone();
        assert_eq!(copy.get_or_parse(1, || Ok(0b01)), Ok(0b01));
        assert_eq!(cache.get_or_parse(1, || Ok(0b01)), Ok(0b10));
    }
}
