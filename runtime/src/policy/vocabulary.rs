//! A service's words: the claim that carries a token's type, the types, the
//! type of a token without the claim, the permissions it declares, and what
//! a subject looks like ([`Vocabulary`]); one type ([`TokenType`]) and a set
//! of them ([`TokenTypes`]). All `const`, so the macros bake them into the
//! binary.

use std::fmt;

use serde::Serialize;

use super::permission::{str_eq, Permission, Permissions};
use super::subject::SubjectFormat;

/// The most token types a vocabulary may have: a [`TokenTypes`] is a
/// 64-bit set.
pub const MAX_TYPES: usize = 64;

/// The token types a service knows, the claim that carries them, the type
/// of a token without that claim, and what its tokens' `sub` looks like.
///
/// A crate declares its vocabulary in `scopegate.toml` (see the crate
/// docs); without one it is [`Vocabulary::AIRFLOW`]. The macros put it in
/// every route's policy; nothing about it is parsed per request.
///
/// ```
/// use scopegate::{TokenType, Vocabulary};
/// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
/// assert_eq!(LEDGER.claim(), "role");
/// assert_eq!(LEDGER.default_type(), TokenType::new("clerk"));
/// assert_eq!(LEDGER.token_type("auditor"), Some(TokenType::new("auditor")));
/// assert_eq!(LEDGER.token_type("admin"), None);
/// ```
///
/// A vocabulary may also declare permissions ([`with_permissions`]), or
/// declare only permissions and no types ([`untyped`]).
///
/// [`with_permissions`]: Self::with_permissions
/// [`untyped`]: Self::untyped
///
/// `Vocabulary::token_type` is also how a type named at run time (a
/// command-line argument, a request field) becomes a [`TokenType`]:
/// [`TokenType::new`] takes a `&'static str`, the name as written in the
/// code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Vocabulary {
    claim: &'static str,
    types: &'static [&'static str],
    default: usize,
    permissions: Option<Permissions>,
    subject: SubjectFormat,
}

impl Vocabulary {
    /// Airflow's: `execution` (the default) and `workload`, in the `scope`
    /// claim.
    pub const AIRFLOW: Vocabulary = Vocabulary::new("scope", &["execution", "workload"], 0);

    /// The types `types` in the claim `claim`; `types[default]` is the type
    /// of a token without the claim and what a route with no `token:*`
    /// scope accepts.
    ///
    /// # Panics
    ///
    /// When `types` is empty or has more than [`MAX_TYPES`] entries,
    /// `default` is out of range, or `claim` is empty: in a `const` (as the
    /// macros write it), that is a compile error.
    pub const fn new(
        claim: &'static str,
        types: &'static [&'static str],
        default: usize,
    ) -> Vocabulary {
        assert!(
            !types.is_empty() && types.len() <= MAX_TYPES,
            "a vocabulary has 1 to 64 token types"
        );
        assert!(
            default < types.len(),
            "the default type is one of the types"
        );
        assert!(!claim.is_empty(), "the type claim has a name");
        Vocabulary {
            claim,
            types,
            default,
            permissions: None,
            subject: SubjectFormat::Uuid,
        }
    }

    /// This vocabulary, whose tokens' `sub` has the format `subject`
    /// (`[token] subject = ".."` in `scopegate.toml`; a vocabulary from
    /// [`new`](Self::new) takes UUIDs, as Airflow's). A verifier built with
    /// [`VerifierBuilder::vocabulary`](crate::VerifierBuilder::vocabulary),
    /// and a testing kit built with its vocabulary, accept such subjects.
    ///
    /// ```
    /// use scopegate::{SubjectFormat, Vocabulary};
    /// const NOTES: Vocabulary =
    ///     Vocabulary::new("kind", &["user", "service"], 0).with_subject(SubjectFormat::Any);
    /// assert_eq!(NOTES.subject(), SubjectFormat::Any);
    /// assert_eq!(Vocabulary::AIRFLOW.subject(), SubjectFormat::Uuid);
    /// ```
    #[must_use]
    pub const fn with_subject(mut self, subject: SubjectFormat) -> Vocabulary {
        self.subject = subject;
        self
    }

    /// What its tokens' `sub` looks like.
    pub const fn subject(&self) -> SubjectFormat {
        self.subject
    }

    /// A vocabulary without token types, for a crate whose
    /// `scopegate.toml` declares `[permissions]` and no `[token]`: no claim
    /// is read for a type, every token is of the one implicit type
    /// [`TokenType::UNTYPED`], and routes differ by the permissions they
    /// require.
    ///
    /// ```
    /// use scopegate::{PermissionFormat, Permissions, TokenType, Vocabulary};
    /// const NOTES: Vocabulary = Vocabulary::untyped(Permissions::new(
    ///     "scp",
    ///     PermissionFormat::Space,
    ///     &["notes:read", "notes:write"],
    /// ));
    /// assert!(!NOTES.is_typed());
    /// assert_eq!(NOTES.default_type(), TokenType::UNTYPED);
    /// ```
    pub const fn untyped(permissions: Permissions) -> Vocabulary {
        Vocabulary {
            claim: "",
            types: &[UNTYPED],
            default: 0,
            permissions: Some(permissions),
            subject: SubjectFormat::Uuid,
        }
    }

    /// This vocabulary, declaring `permissions` too.
    ///
    /// # Panics
    ///
    /// When the permissions' claim is the type claim (a compile error in a
    /// `const`): one claim cannot carry both.
    ///
    /// ```
    /// use scopegate::{PermissionFormat, Permissions, Vocabulary};
    /// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0)
    ///     .with_permissions(Permissions::new(
    ///         "scope",
    ///         PermissionFormat::Space,
    ///         &["reports:read", "entries:write", "ledger:admin"],
    ///     ));
    /// assert_eq!(LEDGER.permissions().unwrap().claim(), "scope");
    /// ```
    #[must_use]
    pub const fn with_permissions(mut self, permissions: Permissions) -> Vocabulary {
        assert!(
            !str_eq(self.claim, permissions.claim()),
            "the type claim and the permissions claim must differ"
        );
        self.permissions = Some(permissions);
        self
    }

    /// Whether tokens of this vocabulary have a type (it declares
    /// `[token]`).
    pub const fn is_typed(&self) -> bool {
        !self.claim.is_empty()
    }

    /// The permissions this vocabulary declares, if any.
    pub const fn permissions(&self) -> Option<&Permissions> {
        match &self.permissions {
            Some(p) => Some(p),
            None => None,
        }
    }

    /// The permission `name`, for a route's policy.
    ///
    /// # Panics
    ///
    /// When the vocabulary declares no such permission (a compile error in
    /// a `const`).
    pub const fn permission(&self, name: &'static str) -> Permission {
        match &self.permissions {
            Some(p) => p.permission(name),
            None => panic!("the vocabulary declares no permissions"),
        }
    }

    /// The claim that carries a token's type (empty for an
    /// [`untyped`](Self::untyped) vocabulary).
    pub const fn claim(&self) -> &'static str {
        self.claim
    }

    /// The types, as declared.
    pub const fn types(&self) -> &'static [&'static str] {
        self.types
    }

    /// The type of a token without the claim.
    pub const fn default_type(&self) -> TokenType {
        TokenType(self.types[self.default])
    }

    /// Where `name` is in [`types`](Self::types): only the exact spelling.
    pub const fn index(&self, name: &str) -> Option<usize> {
        let mut i = 0;
        while i < self.types.len() {
            if str_eq(self.types[i], name) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The type spelled exactly `name`, if this vocabulary has it.
    pub fn token_type(&self, name: &str) -> Option<TokenType> {
        self.index(name).map(|i| TokenType(self.types[i]))
    }

    /// [`index`](Self::index) at run time, comparing with `memcmp` rather
    /// than byte by byte.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.types.iter().position(|t| *t == name)
    }

    /// The index of the default type.
    pub(crate) const fn default_index(&self) -> usize {
        self.default
    }

    /// The type at `index` (one of [`index`](Self::index)'s answers).
    pub(crate) const fn type_at(&self, index: usize) -> TokenType {
        TokenType(self.types[index])
    }
}

/// The name of the one implicit type of an [`untyped`](Vocabulary::untyped)
/// vocabulary: not a valid type name in `scopegate.toml`, so no declared
/// type is ever mistaken for it.
const UNTYPED: &str = "";

/// A token type: its name in a [`Vocabulary`]. Cheap to copy and compare.
///
/// ```
/// use scopegate::TokenType;
/// const CLERK: TokenType = TokenType::new("clerk");
/// assert_eq!(CLERK.as_str(), "clerk");
/// assert_eq!(TokenType::WORKLOAD.to_string(), "workload");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TokenType(&'static str);

impl TokenType {
    /// Airflow's short-lived token, refreshed while the task runs; its
    /// default.
    pub const EXECUTION: TokenType = TokenType("execution");
    /// Airflow's long-lived token that survives an executor queue; accepted
    /// only on routes that opt in with `token:workload`.
    pub const WORKLOAD: TokenType = TokenType("workload");
    /// The type of every token of a vocabulary that declares no types
    /// ([`Vocabulary::untyped`]); its name is empty.
    pub const UNTYPED: TokenType = TokenType(UNTYPED);

    /// The type named `name`.
    pub const fn new(name: &'static str) -> TokenType {
        TokenType(name)
    }

    /// Its name, the value of the type claim.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

/// A set of the token types of one [`Vocabulary`], usable in `const`.
///
/// ```
/// use scopegate::{TokenType, TokenTypes, Vocabulary};
/// // Airflow's vocabulary:
/// const RUN: TokenTypes = TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD);
/// assert!(RUN.contains(TokenType::WORKLOAD));
/// assert_eq!(RUN.to_string(), "execution, workload");
///
/// // Another:
/// const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
/// const AUDIT: TokenTypes = TokenTypes::none(&LEDGER).with(TokenType::new("auditor"));
/// assert!(!AUDIT.contains(TokenType::new("clerk")));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenTypes {
    vocabulary: &'static Vocabulary,
    bits: u64,
}

impl TokenTypes {
    /// The empty set of Airflow's types.
    pub const EMPTY: TokenTypes = TokenTypes::none(&Vocabulary::AIRFLOW);
    /// `{execution}`: what a route accepts in Airflow's vocabulary when it
    /// names no `token:*` scope.
    pub const EXECUTION_ONLY: TokenTypes = TokenTypes::only(TokenType::EXECUTION);

    /// The empty set of `vocabulary`'s types.
    pub const fn none(vocabulary: &'static Vocabulary) -> TokenTypes {
        TokenTypes {
            vocabulary,
            bits: 0,
        }
    }

    /// The types of `vocabulary` whose index has its bit set in `bits`
    /// (bits beyond its types are ignored). The macros write sets this way.
    pub const fn from_bits(vocabulary: &'static Vocabulary, bits: u64) -> TokenTypes {
        let len = vocabulary.types.len();
        let mask = if len >= 64 { u64::MAX } else { (1 << len) - 1 };
        TokenTypes {
            vocabulary,
            bits: bits & mask,
        }
    }

    /// `{ty}`, in Airflow's vocabulary.
    ///
    /// # Panics
    ///
    /// When `ty` is not one of Airflow's types (a compile error in a
    /// `const`).
    pub const fn only(ty: TokenType) -> TokenTypes {
        TokenTypes::EMPTY.with(ty)
    }

    /// This set with `ty` added.
    ///
    /// # Panics
    ///
    /// When `ty` is not a type of this set's vocabulary (a compile error in
    /// a `const`).
    #[must_use]
    pub const fn with(self, ty: TokenType) -> TokenTypes {
        match self.vocabulary.index(ty.0) {
            Some(i) => TokenTypes {
                vocabulary: self.vocabulary,
                bits: self.bits | (1 << i),
            },
            None => panic!("the token type is not in this set's vocabulary"),
        }
    }

    /// The vocabulary whose types these are.
    pub const fn vocabulary(self) -> &'static Vocabulary {
        self.vocabulary
    }

    /// One bit per type, by index in the vocabulary.
    pub const fn bits(self) -> u64 {
        self.bits
    }

    /// Whether the type at `index` of the vocabulary is in the set.
    pub const fn contains_index(self, index: usize) -> bool {
        index < 64 && self.bits & (1 << index) != 0
    }

    /// Whether `ty` is in the set.
    pub const fn contains(self, ty: TokenType) -> bool {
        match self.vocabulary.index(ty.0) {
            Some(i) => self.contains_index(i),
            None => false,
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The members, sorted by name.
    pub fn iter(self) -> impl Iterator<Item = TokenType> {
        let types = self.vocabulary.types;
        let mut last: Option<&'static str> = None;
        std::iter::from_fn(move || {
            let next = types
                .iter()
                .enumerate()
                .filter(|(i, t)| self.contains_index(*i) && last.is_none_or(|l| **t > l))
                .map(|(_, t)| *t)
                .min()?;
            last = Some(next);
            Some(TokenType(next))
        })
    }
}

impl fmt::Display for TokenTypes {
    /// Sorted and comma-joined, e.g. `execution, workload`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ty) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(ty.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for TokenTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor", "admin"], 1);

    #[test]
    fn airflows_vocabulary() {
        let v = Vocabulary::AIRFLOW;
        assert_eq!(v.claim(), "scope");
        assert_eq!(v.default_type(), TokenType::EXECUTION);
        assert_eq!(v.token_type("workload"), Some(TokenType::WORKLOAD));
        assert_eq!(v.token_type("Workload"), None);
        assert_eq!(v.token_type("workloads"), None);
        assert_eq!(v.token_type("w\u{043e}rkload"), None);
        assert_eq!(
            serde_json::to_string(&TokenType::EXECUTION).unwrap(),
            "\"execution\""
        );
    }

    #[test]
    fn sets_are_sorted_by_name_whatever_the_declared_order() {
        const BOTH: TokenTypes = TokenTypes::only(TokenType::WORKLOAD).with(TokenType::EXECUTION);
        assert!(BOTH.contains(TokenType::EXECUTION));
        assert!(BOTH.contains(TokenType::WORKLOAD));
        assert!(!BOTH.contains(TokenType::new("clerk")));
        assert_eq!(BOTH.to_string(), "execution, workload");
        assert_eq!(TokenTypes::EXECUTION_ONLY.to_string(), "execution");
        assert!(TokenTypes::EMPTY.is_empty());
        let all = TokenTypes::from_bits(&LEDGER, u64::MAX);
        assert_eq!(all.bits(), 0b111);
        assert_eq!(all.to_string(), "admin, auditor, clerk");
        assert_eq!(format!("{all:?}"), r#"{"admin", "auditor", "clerk"}"#);
        assert_eq!(LEDGER.default_type(), TokenType::new("auditor"));
        let clerk = TokenTypes::none(&LEDGER).with(TokenType::new("clerk"));
        assert_eq!(clerk, TokenTypes::from_bits(&LEDGER, 1));
        assert_ne!(clerk, TokenTypes::from_bits(&Vocabulary::AIRFLOW, 1));
    }

    #[test]
    fn sixty_four_types_fit() {
        const NAMES: [&str; 64] = {
            let mut names = [""; 64];
            let all = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
            let mut i = 0;
            while i < 64 {
                names[i] = match all.split_at_checked(i) {
                    Some((_, rest)) => match rest.split_at_checked(1) {
                        Some((one, _)) => one,
                        None => "",
                    },
                    None => "",
                };
                i += 1;
            }
            names
        };
        const WIDE: Vocabulary = Vocabulary::new("t", &NAMES, 63);
        let all = TokenTypes::from_bits(&WIDE, u64::MAX);
        assert!(all.contains(TokenType::new("/")));
        assert!(all.contains_index(63));
        assert!(!all.contains_index(64));
        assert_eq!(all.iter().count(), 64);
    }
}
