//! Permissions (SPEC §10): the *set* of names an identity provider writes
//! into a token, as OAuth 2's space-separated `scope` (RFC 6749 §3.3, RFC
//! 9068), `scp`, or a `roles`/`permissions` array. A crate declares them in
//! `scopegate.toml` ([`Permissions`]); a route requires some of them
//! ([`Permission`]); a token holds a [`PermissionSet`], read from its claim
//! once per token and kept, as bits, with its cached claims.

use std::fmt;

use serde_json::Value;

/// The most permissions a vocabulary may declare: a token's set is a 64-bit
/// set.
pub const MAX_PERMISSIONS: usize = 64;

/// How a token's permissions claim is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PermissionFormat {
    /// One string, names separated by spaces: OAuth 2's `scope` (RFC 6749
    /// §3.3).
    Space,
    /// A JSON array of strings, as `roles` or `permissions` claims.
    Array,
}

impl PermissionFormat {
    /// How `scopegate.toml` writes it: `space` or `array`.
    pub const fn keyword(self) -> &'static str {
        match self {
            PermissionFormat::Space => "space",
            PermissionFormat::Array => "array",
        }
    }
}

/// The permissions a crate declares: the claim that carries them, its
/// format, and the names. Names outside the list are ignored in tokens.
///
/// ```
/// use scopegate::{PermissionFormat, Permissions};
/// const LEDGER: Permissions = Permissions::new(
///     "scope",
///     PermissionFormat::Space,
///     &["reports:read", "entries:write", "ledger:admin"],
/// );
/// assert_eq!(LEDGER.index("ledger:admin"), Some(2));
/// assert_eq!(LEDGER.index("ledger"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permissions {
    claim: &'static str,
    format: PermissionFormat,
    names: &'static [&'static str],
    /// What the bits mean, as one number: a token's set, cached with its
    /// claims, is read back only by permissions of the same key.
    key: u128,
}

/// FNV-1a, 128 bits, usable in `const`.
const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

const fn fnv(mut hash: u128, bytes: &[u8]) -> u128 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u128;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// Each part with its length first, so that no two declarations write the
/// same bytes.
const fn fnv_part(hash: u128, bytes: &[u8]) -> u128 {
    let len = (bytes.len() as u64).to_le_bytes();
    fnv(fnv(hash, &len), bytes)
}

/// Byte equality, usable in `const`.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Permissions {
    /// `names` in the claim `claim`, written in `format`.
    ///
    /// # Panics
    ///
    /// When `names` has more than [`MAX_PERMISSIONS`] entries, or `claim` is
    /// empty: in a `const` (as the macros write it), that is a compile
    /// error.
    pub const fn new(
        claim: &'static str,
        format: PermissionFormat,
        names: &'static [&'static str],
    ) -> Permissions {
        assert!(
            names.len() <= MAX_PERMISSIONS,
            "a vocabulary has at most 64 permissions"
        );
        assert!(!claim.is_empty(), "the permissions claim has a name");
        let mut key = fnv_part(FNV_OFFSET, claim.as_bytes());
        key = fnv_part(key, format.keyword().as_bytes());
        let mut i = 0;
        while i < names.len() {
            key = fnv_part(key, names[i].as_bytes());
            i += 1;
        }
        Permissions {
            claim,
            format,
            names,
            key,
        }
    }

    /// The claim that carries them.
    pub const fn claim(&self) -> &'static str {
        self.claim
    }

    /// How the claim is written.
    pub const fn format(&self) -> PermissionFormat {
        self.format
    }

    /// The names, as declared: a permission's bit is its index here.
    pub const fn names(&self) -> &'static [&'static str] {
        self.names
    }

    /// Where `name` is in [`names`](Self::names): only the exact spelling.
    pub const fn index(&self, name: &str) -> Option<usize> {
        let mut i = 0;
        while i < self.names.len() {
            if str_eq(self.names[i], name) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The permission `name`, for a route's policy.
    ///
    /// # Panics
    ///
    /// When `name` is not declared (a compile error in a `const`).
    pub const fn permission(&self, name: &'static str) -> Permission {
        match self.index(name) {
            Some(i) => Permission { name, bit: 1 << i },
            None => panic!("the permission is not declared in this vocabulary"),
        }
    }

    /// A number that tells these permissions from any other declaration:
    /// the claim, the format and every name, in order. A token's set,
    /// cached with its claims, is read back only under the same key, so a
    /// verifier shared by two crates whose names differ never lets one read
    /// the other's bits.
    pub const fn key(&self) -> u128 {
        self.key
    }

    /// The set a token's permissions claim holds: a missing claim is the
    /// empty set; names not declared are ignored; a claim of the wrong shape
    /// (a number, an array where a string was declared or the other way
    /// round, an array with a non-string item) is `Err`. The only place
    /// names are compared: once per token.
    pub fn parse(&self, claim: PermissionClaim<'_>) -> Result<u64, MalformedClaim> {
        let mut bits = 0u64;
        let mut add = |name: &str| {
            if let Some(i) = self.index(name) {
                bits |= 1 << i;
            }
        };
        match (self.format, claim) {
            (_, PermissionClaim::Absent) => {}
            (PermissionFormat::Space, PermissionClaim::Str(text)) => {
                text.split(' ').filter(|n| !n.is_empty()).for_each(add);
            }
            (PermissionFormat::Array, PermissionClaim::List(items)) => {
                for item in items {
                    match item {
                        Value::String(name) => add(name),
                        _ => return Err(MalformedClaim),
                    }
                }
            }
            _ => return Err(MalformedClaim),
        }
        Ok(bits)
    }

    /// The set of the permissions named `names`, e.g. what a trusted
    /// issuer may grant ([`TrustedIssuer::grants_permissions`](crate::TrustedIssuer::grants_permissions)).
    ///
    /// ```
    /// use scopegate::{PermissionFormat, Permissions};
    /// static LEDGER: Permissions =
    ///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]);
    /// let readers = LEDGER.set_of(&["reports:read"]);
    /// assert!(readers.has("reports:read") && !readers.has("ledger:admin"));
    /// ```
    ///
    /// # Panics
    ///
    /// When a name is not declared (a compile error in a `const`).
    pub const fn set_of(&'static self, names: &[&str]) -> PermissionSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < names.len() {
            match self.index(names[i]) {
                Some(bit) => bits |= 1 << bit,
                None => panic!("the permission is not declared in this vocabulary"),
            }
            i += 1;
        }
        self.set(bits)
    }

    /// The set of these permissions whose bits are `bits`.
    pub const fn set(&'static self, bits: u64) -> PermissionSet {
        let len = self.names.len();
        let mask = if len >= 64 { u64::MAX } else { (1 << len) - 1 };
        PermissionSet {
            permissions: self,
            bits: bits & mask,
        }
    }
}

/// A permissions claim as [`Permissions::parse`] reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PermissionClaim<'a> {
    /// The token has no such claim.
    Absent,
    /// A string.
    Str(&'a str),
    /// An array.
    List(&'a [Value]),
    /// Anything else.
    Other,
}

/// A permissions claim of the wrong shape: the token is invalid (401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedClaim;

/// One permission a route requires: its name and its bit.
///
/// ```
/// use scopegate::{PermissionFormat, Permissions};
/// static LEDGER: Permissions =
///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]);
/// let admin = LEDGER.permission("ledger:admin");
/// assert_eq!((admin.name(), admin.bit()), ("ledger:admin", 0b10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    name: &'static str,
    bit: u64,
}

impl Permission {
    /// Its name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Its bit in a [`PermissionSet`].
    pub const fn bit(&self) -> u64 {
        self.bit
    }

    /// Whether a token whose permissions are `bits` holds it.
    #[inline]
    pub const fn held_by(&self, bits: u64) -> bool {
        bits & self.bit != 0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The permissions a token holds, among those its route's vocabulary
/// declares.
///
/// ```
/// use scopegate::{PermissionClaim, PermissionFormat, Permissions};
/// static LEDGER: Permissions =
///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]);
/// let bits = LEDGER.parse(PermissionClaim::Str("ledger:admin openid")).unwrap();
/// let set = LEDGER.set(bits);
/// assert!(set.has("ledger:admin") && !set.has("reports:read"));
/// assert_eq!(set.to_string(), "ledger:admin");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermissionSet {
    permissions: &'static Permissions,
    bits: u64,
}

impl PermissionSet {
    /// Whether the set holds the permission named `name` (a name the
    /// vocabulary does not declare is never held).
    pub fn has(&self, name: &str) -> bool {
        self.permissions
            .index(name)
            .is_some_and(|i| self.bits & (1 << i) != 0)
    }

    /// Whether the set holds `permission`.
    pub const fn contains(&self, permission: Permission) -> bool {
        permission.held_by(self.bits)
    }

    /// The declaration whose names the bits stand for.
    pub const fn permissions(&self) -> &'static Permissions {
        self.permissions
    }

    /// One bit per permission, by index in the declaration.
    pub const fn bits(&self) -> u64 {
        self.bits
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// The names held, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        let names = self.permissions.names;
        (0..names.len())
            .filter(|i| self.bits & (1 << i) != 0)
            .map(move |i| names[i])
    }
}

impl fmt::Display for PermissionSet {
    /// The names held, in declaration order, separated by spaces (as the
    /// `scope` claim writes them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static LEDGER: Permissions = Permissions::new(
        "scope",
        PermissionFormat::Space,
        &["reports:read", "entries:write", "ledger:admin"],
    );
    static ROLES: Permissions =
        Permissions::new("roles", PermissionFormat::Array, &["reader", "writer"]);

    #[test]
    fn space_separated_names() {
        let parse = |s| LEDGER.parse(PermissionClaim::Str(s));
        assert_eq!(parse("reports:read ledger:admin"), Ok(0b101));
        assert_eq!(parse(""), Ok(0));
        assert_eq!(
            parse("  openid   reports:read  "),
            Ok(0b001),
            "unknown names ignored"
        );
        assert_eq!(
            parse("Reports:read reports:rea"),
            Ok(0),
            "exact spelling only"
        );
        assert_eq!(LEDGER.parse(PermissionClaim::Absent), Ok(0));
        let list = [json!("reports:read")];
        assert_eq!(
            LEDGER.parse(PermissionClaim::List(&list)),
            Err(MalformedClaim)
        );
        assert_eq!(LEDGER.parse(PermissionClaim::Other), Err(MalformedClaim));
    }

    #[test]
    fn arrays_of_strings() {
        let ok = [json!("writer"), json!("admin")];
        assert_eq!(ROLES.parse(PermissionClaim::List(&ok)), Ok(0b10));
        assert_eq!(ROLES.parse(PermissionClaim::List(&[])), Ok(0));
        let bad = [json!("reader"), json!(1)];
        assert_eq!(
            ROLES.parse(PermissionClaim::List(&bad)),
            Err(MalformedClaim)
        );
        assert_eq!(
            ROLES.parse(PermissionClaim::Str("reader")),
            Err(MalformedClaim)
        );
    }

    #[test]
    fn keys_tell_declarations_apart() {
        let same = Permissions::new(
            "scope",
            PermissionFormat::Space,
            &["reports:read", "entries:write", "ledger:admin"],
        );
        assert_eq!(same.key(), LEDGER.key());
        let reordered = Permissions::new(
            "scope",
            PermissionFormat::Space,
            &["entries:write", "reports:read", "ledger:admin"],
        );
        let other_claim = Permissions::new(
            "scp",
            PermissionFormat::Space,
            &["reports:read", "entries:write", "ledger:admin"],
        );
        let other_format = Permissions::new(
            "scope",
            PermissionFormat::Array,
            &["reports:read", "entries:write", "ledger:admin"],
        );
        // Lengths come first: "ab","c" is not "a","bc".
        let split1 = Permissions::new("x", PermissionFormat::Space, &["ab", "c"]);
        let split2 = Permissions::new("x", PermissionFormat::Space, &["a", "bc"]);
        let keys = [
            LEDGER.key(),
            reordered.key(),
            other_claim.key(),
            other_format.key(),
            split1.key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(split1.key(), split2.key());
    }

    #[test]
    fn sets_and_permissions() {
        let admin = LEDGER.permission("ledger:admin");
        assert_eq!(admin.bit(), 0b100);
        let set = LEDGER.set(0b101 | 1 << 40);
        assert_eq!(set.bits(), 0b101, "bits beyond the names are dropped");
        assert!(set.contains(admin));
        assert!(!set.contains(LEDGER.permission("entries:write")));
        assert!(set.has("reports:read"));
        assert!(!set.has("openid"));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            ["reports:read", "ledger:admin"]
        );
        assert_eq!(format!("{set:?}"), r#"{"reports:read", "ledger:admin"}"#);
        assert!(LEDGER.set(0).is_empty());
    }
}
