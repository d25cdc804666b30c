//! Route policies: which token types a route accepts, which path
//! parameters the token must own ([`Owner`]), which permissions it must
//! hold and which alternatives ([`AnyOf`]) it must satisfy
//! ([`Requirement`]), the guards that run after it ([`GuardInfo`]), and the
//! check of one token's claims against them. Everything here is
//! `const`-constructible so the macros bake a policy into the binary as
//! static data.

use std::borrow::Cow;
use std::fmt;

use actix_web::dev::{Path, ResourcePath};

use super::parse_hyphenated_uuid;
use super::permission::{MalformedClaim, Permission, PermissionClaim, PermissionSet, Permissions};
use super::vocabulary::{TokenType, TokenTypes, Vocabulary};

/// How an [`Owner`] compares its claim with the path parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compare {
    /// Both must be hyphenated UUIDs (either case) and equal as UUIDs; any
    /// other spelling is refused, so one resource has exactly one path.
    Uuid,
    /// Byte for byte, with the value the handler receives: the path
    /// parameter percent-decoded as `web::Path` decodes it.
    Exact,
}

/// An owner scope such as `ti:self`: the token's `claim` must equal the
/// path parameter `param`; otherwise 403 "Token subject does not match
/// `label`".
///
/// ```
/// use scopegate::{Compare, Owner};
/// // Airflow's: the `sub` claim against the UUID in the path.
/// const TI_SELF: Owner = Owner::new("ti:self", "task_instance_id", "task instance ID");
/// assert_eq!((TI_SELF.claim(), TI_SELF.compare()), ("sub", Compare::Uuid));
/// // Another service's: an account id, compared byte for byte.
/// const ACCOUNT: Owner = Owner::new("account:self", "account", "account")
///     .with_claim("acct")
///     .with_compare(Compare::Exact);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    scope: &'static str,
    param: &'static str,
    claim: &'static str,
    compare: Compare,
    label: &'static str,
}

impl Owner {
    /// `scope` is the declared name (`"ti:self"`), `param` the path
    /// parameter (`"task_instance_id"`), and `label` how the 403 names it
    /// (`"task instance ID"`). The claim is `sub`, compared as UUIDs.
    pub const fn new(scope: &'static str, param: &'static str, label: &'static str) -> Owner {
        Owner {
            scope,
            param,
            claim: "sub",
            compare: Compare::Uuid,
            label,
        }
    }

    /// The same owner, comparing the claim `claim` instead of `sub`.
    #[must_use]
    pub const fn with_claim(mut self, claim: &'static str) -> Owner {
        self.claim = claim;
        self
    }

    /// The same owner, comparing with `compare`.
    #[must_use]
    pub const fn with_compare(mut self, compare: Compare) -> Owner {
        self.compare = compare;
        self
    }

    /// The declared scope, e.g. `ti:self`.
    pub const fn scope(&self) -> &'static str {
        self.scope
    }

    /// The path parameter it guards.
    pub const fn param(&self) -> &'static str {
        self.param
    }

    /// The claim compared with the parameter.
    pub const fn claim(&self) -> &'static str {
        self.claim
    }

    /// How the claim and the parameter are compared.
    pub const fn compare(&self) -> Compare {
        self.compare
    }

    /// How the 403 names the parameter, e.g. `task instance ID`.
    pub const fn label(&self) -> &'static str {
        self.label
    }

    /// Whether the path parameter holds the claim's value: the value the
    /// handler receives ([`path_value`]), never the raw segment.
    fn owns<T: ResourcePath>(&self, claim: Option<&str>, path: &Path<T>) -> bool {
        let (Some(claim), Some(param)) = (claim, path.get(self.param)) else {
            return false;
        };
        let Some(param) = path_value(param) else {
            return false;
        };
        match self.compare {
            Compare::Exact => claim == param,
            Compare::Uuid => match (parse_hyphenated_uuid(claim), parse_hyphenated_uuid(&param)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// The value `web::Path` hands a handler for a matched parameter, from its
/// `match_info` form: every `%XX` escape (two hex digits, either case)
/// decoded, the others left as they are, as actix-router's path
/// deserializer does. (The router decodes a request's path once before it
/// matches it, except `%25`, `%2F` and `%2B`, so that `%2F` never splits a
/// segment; `web::Path` decodes those. `team%2B1` in the path is the
/// handler's `team+1`.) Borrowed, without allocating, when there is no `%`.
///
/// `None` when the decoded bytes are not UTF-8: `web::Path` would hand the
/// handler a lossy copy (U+FFFD for each bad sequence), which several paths
/// share, so no claim is compared with it.
pub(crate) fn path_value(raw: &str) -> Option<Cow<'_, str>> {
    let bytes = raw.as_bytes();
    if !bytes.contains(&b'%') {
        return Some(Cow::Borrowed(raw));
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let [b'%', hi, lo, ..] = bytes[i..] {
            if let (Some(hi), Some(lo)) = (hex_digit(hi), hex_digit(lo)) {
                decoded.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

/// The value of one hex digit, either case.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A claim as a route policy reads it: only string values matter to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringClaim<'a> {
    /// The token has no such claim.
    Absent,
    /// A string.
    Str(&'a str),
    /// Something else: a number, a list, an object, `null`, `true`.
    NotAString,
}

/// Where a route policy reads claims from: the verified claims (see
/// `scopegate::Claims`), without this layer knowing their type.
pub trait ClaimSource {
    /// The claim named `name`.
    fn string_claim(&self, name: &str) -> StringClaim<'_>;

    /// The claim named `name`, as a permissions claim: a string or an
    /// array. The default reads strings only (an array is
    /// [`PermissionClaim::Other`]); `scopegate::Claims` reads both.
    fn permission_claim(&self, name: &str) -> PermissionClaim<'_> {
        match self.string_claim(name) {
            StringClaim::Absent => PermissionClaim::Absent,
            StringClaim::Str(s) => PermissionClaim::Str(s),
            StringClaim::NotAString => PermissionClaim::Other,
        }
    }

    /// The token's permissions among `permissions`, as bits
    /// ([`Permissions::parse`]). The default parses the claim on every
    /// call; `scopegate::Claims` parses it once per token and keeps the
    /// bits with the claims, keyed by [`Permissions::key`].
    fn permission_bits(&self, permissions: &Permissions) -> Result<u64, MalformedClaim> {
        permissions.parse(self.permission_claim(permissions.claim()))
    }
}

impl<T: ClaimSource + ?Sized> ClaimSource for &T {
    fn string_claim(&self, name: &str) -> StringClaim<'_> {
        (**self).string_claim(name)
    }

    fn permission_claim(&self, name: &str) -> PermissionClaim<'_> {
        (**self).permission_claim(name)
    }

    fn permission_bits(&self, permissions: &Permissions) -> Result<u64, MalformedClaim> {
        (**self).permission_bits(permissions)
    }
}

impl<T: ClaimSource + ?Sized> ClaimSource for std::sync::Arc<T> {
    fn string_claim(&self, name: &str) -> StringClaim<'_> {
        (**self).string_claim(name)
    }

    fn permission_claim(&self, name: &str) -> PermissionClaim<'_> {
        (**self).permission_claim(name)
    }

    fn permission_bits(&self, permissions: &Permissions) -> Result<u64, MalformedClaim> {
        (**self).permission_bits(permissions)
    }
}

/// The string value of `owner`'s claim, if it has one.
fn owner_claim<'c, C: ClaimSource + ?Sized>(claims: &'c C, owner: &Owner) -> Option<&'c str> {
    match claims.string_claim(owner.claim) {
        StringClaim::Str(s) => Some(s),
        StringClaim::Absent | StringClaim::NotAString => None,
    }
}

/// One condition of an [`Alternative`]: a permission held, a resource
/// owned, or the token being of a type (a *predicate*: it restricts the
/// alternative to tokens of that type; it never widens the types a route
/// accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    /// The token holds this permission.
    Permission(Permission),
    /// The token owns the resource in the path.
    Owner(Owner),
    /// The token is of one of these types (written `token:<type>`).
    TokenType(TokenTypes),
}

impl Condition {
    #[inline]
    fn holds<C, T>(&self, ty: usize, bits: u64, claims: &C, path: &Path<T>) -> bool
    where
        C: ClaimSource + ?Sized,
        T: ResourcePath,
    {
        match self {
            Condition::Permission(p) => p.held_by(bits),
            Condition::TokenType(types) => types.contains_index(ty),
            Condition::Owner(owner) => owner.owns(owner_claim(claims, owner), path),
        }
    }

    /// The names a 403's `scope` lists for it: a permission's name; an
    /// owner's scope and a type predicate only when the `any(..)` names no
    /// permission at all (`permissions_only`).
    fn scope_names(&self, permissions_only: bool, out: &mut Vec<String>) {
        match self {
            Condition::Permission(p) => out.push(p.name().to_owned()),
            Condition::Owner(o) if !permissions_only => out.push(o.scope().to_owned()),
            Condition::TokenType(types) if !permissions_only => {
                out.extend(types.iter().map(|t| format!("token:{t}")));
            }
            Condition::Owner(_) | Condition::TokenType(_) => {}
        }
    }
}

impl fmt::Display for Condition {
    /// As declared: `reports:read`, `account:self`, `token:service`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Permission(p) => f.write_str(p.name()),
            Condition::Owner(o) => f.write_str(o.scope()),
            Condition::TokenType(types) => {
                for (i, ty) in types.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "token:{ty}")?;
                }
                Ok(())
            }
        }
    }
}

/// One alternative of an [`AnyOf`]: every condition holds (`all(a, b)`, or
/// a single condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Alternative {
    conditions: &'static [Condition],
}

impl Alternative {
    /// All of `conditions` (one for a plain item of `any(..)`).
    pub const fn all(conditions: &'static [Condition]) -> Alternative {
        Alternative { conditions }
    }

    /// Its conditions.
    pub const fn conditions(&self) -> &'static [Condition] {
        self.conditions
    }
}

impl fmt::Display for Alternative {
    /// `a`, or `all(a, b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.conditions {
            [one] => one.fmt(f),
            all => {
                f.write_str("all(")?;
                for (i, c) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    c.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// `any(..)`: at least one alternative holds.
///
/// ```
/// use scopegate::{Alternative, AnyOf, Compare, Condition, Owner, PermissionFormat, Permissions};
/// const PERMS: Permissions =
///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]);
/// const ACCOUNT: Owner = Owner::new("account:self", "account", "account")
///     .with_claim("acct")
///     .with_compare(Compare::Exact);
/// const OWNER_OR_ADMIN: AnyOf = AnyOf::new(&[
///     Alternative::all(&[Condition::Owner(ACCOUNT)]),
///     Alternative::all(&[Condition::Permission(PERMS.permission("ledger:admin"))]),
/// ]);
/// assert_eq!(OWNER_OR_ADMIN.to_string(), "account:self, ledger:admin");
/// assert_eq!(OWNER_OR_ADMIN.scope(), "ledger:admin");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyOf {
    alternatives: &'static [Alternative],
    /// The bits of the alternatives that are one permission: any of them
    /// held, the `any(..)` holds, without looking further.
    single: u64,
    /// Whether every alternative is one permission: then `single` decides.
    only_single: bool,
}

impl AnyOf {
    /// Any of `alternatives`, in declaration order.
    pub const fn new(alternatives: &'static [Alternative]) -> AnyOf {
        let mut single = 0;
        let mut only_single = true;
        let mut i = 0;
        while i < alternatives.len() {
            match alternatives[i].conditions {
                [Condition::Permission(p)] => single |= p.bit(),
                _ => only_single = false,
            }
            i += 1;
        }
        AnyOf {
            alternatives,
            single,
            only_single,
        }
    }

    /// Its alternatives, in declaration order.
    pub const fn alternatives(&self) -> &'static [Alternative] {
        self.alternatives
    }

    #[inline]
    fn holds<C, T>(&self, ty: usize, bits: u64, claims: &C, path: &Path<T>) -> bool
    where
        C: ClaimSource + ?Sized,
        T: ResourcePath,
    {
        if bits & self.single != 0 {
            return true;
        }
        if self.only_single {
            return false;
        }
        self.alternatives.iter().any(|alt| {
            alt.conditions
                .iter()
                .all(|c| c.holds(ty, bits, claims, path))
        })
    }

    /// What a 403's `WWW-Authenticate` lists in `scope` (space-separated,
    /// in declaration order, without repeats): the permissions named in
    /// the `any(..)`; when it names none, its owner scopes and type
    /// predicates.
    pub fn scope(&self) -> String {
        let conditions = || self.alternatives.iter().flat_map(|a| a.conditions);
        let permissions_only = conditions().any(|c| matches!(c, Condition::Permission(_)));
        let mut names = Vec::new();
        for c in conditions() {
            c.scope_names(permissions_only, &mut names);
        }
        let mut seen: Vec<&str> = Vec::new();
        for name in &names {
            if !seen.contains(&name.as_str()) {
                seen.push(name);
            }
        }
        seen.join(" ")
    }
}

impl fmt::Display for AnyOf {
    /// The alternatives in declaration order, comma-joined:
    /// `account:self, all(reports:read, entries:write)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alt) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            alt.fmt(f)?;
        }
        Ok(())
    }
}

/// One item of a route's `scopes = [..]` besides its token types, checked
/// in declaration order (the enclosing groups' first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// The token holds this permission.
    Permission(Permission),
    /// The token owns the resource in the path.
    Owner(Owner),
    /// At least one alternative holds.
    Any(AnyOf),
}

impl Requirement {
    #[inline]
    fn check<C, T>(&self, ty: usize, bits: u64, claims: &C, path: &Path<T>) -> Result<(), Denial>
    where
        C: ClaimSource + ?Sized,
        T: ResourcePath,
    {
        match self {
            Requirement::Permission(p) if p.held_by(bits) => Ok(()),
            Requirement::Permission(p) => Err(Denial::MissingPermission(*p)),
            Requirement::Owner(owner) if owner.owns(owner_claim(claims, owner), path) => Ok(()),
            Requirement::Owner(owner) => Err(Denial::NotOwner(*owner)),
            Requirement::Any(any) if any.holds(ty, bits, claims, path) => Ok(()),
            Requirement::Any(any) => Err(Denial::NoAlternative(*any)),
        }
    }
}

impl fmt::Display for Requirement {
    /// As declared: `reports:read`, `account:self`, `any(a, all(b, c))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Permission(p) => f.write_str(p.name()),
            Requirement::Owner(o) => f.write_str(o.scope()),
            Requirement::Any(any) => write!(f, "any({any})"),
        }
    }
}

/// A guard, as its declaration describes it: its name and the statuses it
/// may answer with, for the OpenAPI document. The guard itself is actix
/// glue (`scopegate::Guard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GuardInfo {
    name: &'static str,
    statuses: &'static [u16],
}

impl GuardInfo {
    /// The guard `name`, which may refuse with `statuses`.
    pub const fn new(name: &'static str, statuses: &'static [u16]) -> GuardInfo {
        GuardInfo { name, statuses }
    }

    /// Its name: the function's.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The statuses it may refuse with (403 unless declared otherwise).
    pub const fn statuses(&self) -> &'static [u16] {
        self.statuses
    }
}

/// Why a route policy refused a verified token. The web layer renders it:
/// [`UnknownType`](Denial::UnknownType) and
/// [`MalformedPermissions`](Denial::MalformedPermissions) as 401, the
/// others as 403.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// The type claim holds no type of the route's vocabulary (or is not a
    /// string): the token is invalid here.
    UnknownType {
        /// The vocabulary's type claim.
        claim: &'static str,
    },
    /// A type the route does not accept.
    TypeNotAllowed {
        /// The token's type.
        got: TokenType,
        /// What the route accepts.
        allowed: TokenTypes,
    },
    /// The token does not own the resource in the path.
    NotOwner(Owner),
    /// The permissions claim has the wrong shape: the token is invalid
    /// here.
    MalformedPermissions {
        /// The vocabulary's permissions claim.
        claim: &'static str,
    },
    /// The token lacks a permission the route requires.
    MissingPermission(Permission),
    /// No alternative of an `any(..)` holds.
    NoAlternative(AnyOf),
}

impl fmt::Display for Denial {
    /// The `detail` the client gets (after "Invalid auth token: " for
    /// [`UnknownType`](Denial::UnknownType)).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::UnknownType { claim } if *claim == "scope" => {
                f.write_str("unknown token scope")
            }
            Denial::UnknownType { claim } => write!(f, "unknown token type in '{claim}'"),
            Denial::TypeNotAllowed { got, allowed } => write!(
                f,
                "Token type '{got}' not allowed for this endpoint. Allowed types: {allowed}"
            ),
            Denial::NotOwner(owner) => {
                write!(f, "Token subject does not match {}", owner.label)
            }
            Denial::MalformedPermissions { claim } => write!(f, "malformed {claim} claim"),
            Denial::MissingPermission(p) => write!(f, "Token lacks permission '{}'", p.name()),
            Denial::NoAlternative(any) => write!(f, "Token satisfies none of: {any}"),
        }
    }
}

/// The complete access policy of one route: the token types it accepts,
/// its owners, and, when it has permissions or alternatives, every
/// requirement in declaration order; and the guards that run after it.
///
/// ```
/// use scopegate::{Owner, RoutePolicy, TokenTypes};
/// static HEARTBEAT: RoutePolicy = RoutePolicy::protected(
///     TokenTypes::EXECUTION_ONLY,
///     &[Owner::new("ti:self", "task_instance_id", "task instance ID")],
/// );
/// assert!(!HEARTBEAT.is_public());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutePolicy {
    token_types: TokenTypes,
    owners: &'static [Owner],
    /// Empty: `owners`, in order, are the requirements.
    requirements: &'static [Requirement],
    /// The bits of the permissions `requirements` lists.
    required: u64,
    /// Which items of `requirements` are not permissions, one bit per
    /// index: what is left to check once `required` holds.
    others: u64,
    guards: &'static [&'static str],
    public: bool,
}

impl RoutePolicy {
    /// A route that needs no token.
    pub const PUBLIC: RoutePolicy = RoutePolicy {
        token_types: TokenTypes::EMPTY,
        owners: &[],
        requirements: &[],
        required: 0,
        others: 0,
        guards: &[],
        public: true,
    };

    /// A route that needs a token of one of `token_types` that passes every
    /// owner. An empty `token_types` means its vocabulary's default type
    /// only, as in the scope rules.
    pub const fn protected(token_types: TokenTypes, owners: &'static [Owner]) -> Self {
        let token_types = if token_types.is_empty() {
            let vocabulary = token_types.vocabulary();
            TokenTypes::none(vocabulary).with(vocabulary.default_type())
        } else {
            token_types
        };
        RoutePolicy {
            token_types,
            owners,
            requirements: &[],
            required: 0,
            others: 0,
            guards: &[],
            public: false,
        }
    }

    /// This policy with `requirements` checked, in order, after the token
    /// type, instead of the owners alone: every owner of
    /// [`protected`](Self::protected)'s list, the required permissions and
    /// the `any(..)`s, as the route declares them (its groups' first). The
    /// owners list stays what [`owners`](Self::owners) reports.
    ///
    /// ```
    /// use scopegate::{Owner, PermissionFormat, Permissions, Requirement, RoutePolicy, TokenTypes, Vocabulary};
    /// static LEDGER: Vocabulary = Vocabulary::new("role", &["clerk"], 0).with_permissions(
    ///     Permissions::new("scope", PermissionFormat::Space, &["reports:read", "ledger:admin"]),
    /// );
    /// static CLOSE: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&LEDGER), &[])
    ///     .with_requirements(&[
    ///         Requirement::Permission(LEDGER.permission("ledger:admin")),
    ///         Requirement::Permission(LEDGER.permission("reports:read")),
    ///     ]);
    /// assert_eq!(CLOSE.required_permissions().count(), 2);
    /// ```
    ///
    /// # Panics
    ///
    /// With more than 64 requirements (a compile error in a `const`).
    #[must_use]
    pub const fn with_requirements(mut self, requirements: &'static [Requirement]) -> Self {
        assert!(
            requirements.len() <= 64,
            "a route has at most 64 requirements"
        );
        let (mut required, mut others) = (0, 0);
        let mut i = 0;
        while i < requirements.len() {
            match requirements[i] {
                Requirement::Permission(p) => required |= p.bit(),
                _ => others |= 1 << i,
            }
            i += 1;
        }
        self.requirements = requirements;
        self.required = required;
        self.others = others;
        self
    }

    /// This policy with the names of its route's `guards` (outer groups'
    /// first, then the route's, in order), for route information; the
    /// route's enforcement runs the guards.
    #[must_use]
    pub const fn with_guards(mut self, guards: &'static [&'static str]) -> Self {
        self.guards = guards;
        self
    }

    /// Every requirement after the token type, in the order they are
    /// checked: the owners of a route without permissions or `any(..)`.
    pub fn requirements(&self) -> impl Iterator<Item = Requirement> + '_ {
        let owners = self.owners.iter().map(|o| Requirement::Owner(*o));
        let owners = self.requirements.is_empty().then_some(owners);
        owners
            .into_iter()
            .flatten()
            .chain(self.requirements.iter().copied())
    }

    /// The permissions this route requires (all of them), in order.
    pub fn required_permissions(&self) -> impl Iterator<Item = Permission> + '_ {
        self.requirements.iter().filter_map(|r| match r {
            Requirement::Permission(p) => Some(*p),
            _ => None,
        })
    }

    /// The `any(..)`s of this route, in order.
    pub fn alternatives(&self) -> impl Iterator<Item = AnyOf> + '_ {
        self.requirements.iter().filter_map(|r| match r {
            Requirement::Any(any) => Some(*any),
            _ => None,
        })
    }

    /// The names of this route's guards, in the order they run.
    pub const fn guards(&self) -> &'static [&'static str] {
        self.guards
    }

    /// The vocabulary of the route's token types.
    pub const fn vocabulary(&self) -> &'static Vocabulary {
        self.token_types.vocabulary()
    }

    /// The token types this route accepts (empty for a public route).
    pub const fn token_types(&self) -> TokenTypes {
        self.token_types
    }

    /// The owners this route enforces.
    pub const fn owners(&self) -> &'static [Owner] {
        self.owners
    }

    /// Whether the route needs no token.
    pub const fn is_public(&self) -> bool {
        self.public
    }

    /// The type of a token with these claims, in this route's vocabulary:
    /// the type claim's value, or the default type when it is absent.
    pub fn token_type<C: ClaimSource + ?Sized>(&self, claims: &C) -> Result<TokenType, Denial> {
        self.type_index(claims)
            .map(|i| self.vocabulary().type_at(i))
    }

    /// The permissions of a token with these claims, in this route's
    /// vocabulary: `None` when it declares none. A claim of the wrong shape
    /// holds none (a route of the vocabulary refuses such a token anyway).
    pub fn permissions<C: ClaimSource + ?Sized>(&self, claims: &C) -> Option<PermissionSet> {
        let permissions = self.vocabulary().permissions()?;
        Some(permissions.set(claims.permission_bits(permissions).unwrap_or(0)))
    }

    /// [`token_type`](Self::token_type) as the type's index in the
    /// vocabulary, which [`TokenTypes`] holds as a bit. A vocabulary
    /// without types reads no claim.
    fn type_index<C: ClaimSource + ?Sized>(&self, claims: &C) -> Result<usize, Denial> {
        let vocabulary = self.vocabulary();
        if !vocabulary.is_typed() {
            return Ok(vocabulary.default_index());
        }
        let unknown = Denial::UnknownType {
            claim: vocabulary.claim(),
        };
        match claims.string_claim(vocabulary.claim()) {
            StringClaim::Absent => Ok(vocabulary.default_index()),
            StringClaim::Str(name) => vocabulary.find(name).ok_or(unknown),
            StringClaim::NotAString => Err(unknown),
        }
    }

    /// The type of a token with these claims, and its permissions as bits
    /// (0 in a vocabulary without permissions): a permissions claim of the
    /// wrong shape is [`Denial::MalformedPermissions`].
    fn resolve<C: ClaimSource + ?Sized>(&self, claims: &C) -> Result<(usize, u64), Denial> {
        let index = self.type_index(claims)?;
        let bits = match self.vocabulary().permissions() {
            None => 0,
            Some(p) => claims
                .permission_bits(p)
                .map_err(|MalformedClaim| Denial::MalformedPermissions { claim: p.claim() })?,
        };
        Ok((index, bits))
    }

    /// Checks a verified token against this protected policy: its type
    /// and, in a vocabulary with permissions, its permissions claim
    /// (resolved once: a cache hit of `scopegate::Claims` compares bits,
    /// never strings); whether the route accepts the type; then every
    /// requirement in declaration order (owners against the matched path,
    /// permissions, `any(..)`s), the first that fails deciding. Returns the
    /// token's type. Makes no heap allocation unless an owner's path
    /// parameter holds a `%` escape, which is decoded before it is
    /// compared. A public policy allows any token type and checks nothing
    /// else.
    pub fn check<C, T>(&self, claims: &C, path: &Path<T>) -> Result<TokenType, Denial>
    where
        C: ClaimSource + ?Sized,
        T: ResourcePath,
    {
        if self.public {
            let index = self.type_index(claims)?;
            return Ok(self.vocabulary().type_at(index));
        }
        let (index, bits) = self.resolve(claims)?;
        let ty = self.vocabulary().type_at(index);
        if !self.token_types.contains_index(index) {
            return Err(Denial::TypeNotAllowed {
                got: ty,
                allowed: self.token_types,
            });
        }
        if !self.requirements.is_empty() {
            if bits & self.required == self.required {
                // Every permission is held: only the other items can fail,
                // and the first of them, in order, answers.
                let mut rest = self.others;
                while rest != 0 {
                    let i = rest.trailing_zeros() as usize;
                    self.requirements[i].check(index, bits, claims, path)?;
                    rest &= rest - 1;
                }
                return Ok(ty);
            }
            // A permission is missing: the first item that fails, in
            // declaration order, answers (an owner declared before it
            // included).
            for requirement in self.requirements {
                requirement.check(index, bits, claims, path)?;
            }
            return Ok(ty);
        }
        for owner in self.owners {
            if !owner.owns(owner_claim(claims, owner), path) {
                return Err(Denial::NotOwner(*owner));
            }
        }
        Ok(ty)
    }
}

/// One route as declared, for audits, docs and OpenAPI. `#[routes]`
/// generates a `ROUTES: &[RouteInfo]` listing every route of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    /// The HTTP method, upper-case (`"PATCH"`).
    pub method: &'static str,
    /// The full path in canonical form (`"/task-instances/<task_instance_id>/run"`).
    pub path: &'static str,
    /// The route's policy: allowed token types, owners, public.
    pub policy: RoutePolicy,
}

impl RouteInfo {
    /// Whether a token of type `ty` may call this route.
    pub const fn accepts(&self, ty: TokenType) -> bool {
        !self.policy.public && self.policy.token_types.contains(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::ResourceDef;
    use actix_web::dev::Url;
    use actix_web::http::Uri;
    use std::collections::HashMap;

    struct Claims(HashMap<&'static str, serde_json::Value>);

    impl ClaimSource for Claims {
        fn string_claim(&self, name: &str) -> StringClaim<'_> {
            match self.0.get(name) {
                None => StringClaim::Absent,
                Some(serde_json::Value::String(s)) => StringClaim::Str(s),
                Some(_) => StringClaim::NotAString,
            }
        }
    }

    fn claims(pairs: &[(&'static str, serde_json::Value)]) -> Claims {
        Claims(pairs.iter().cloned().collect())
    }

    fn path(pattern: &str, uri: &str) -> Path<Url> {
        let mut path = Path::new(Url::new(uri.parse::<Uri>().unwrap()));
        assert!(ResourceDef::new(pattern).capture_match_info(&mut path));
        path
    }

    const TI: &str = "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b";
    const LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
    static RUN: RoutePolicy = RoutePolicy::protected(
        TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
        &[Owner::new(
            "ti:self",
            "task_instance_id",
            "task instance ID",
        )],
    );
    static ACCOUNT: RoutePolicy = RoutePolicy::protected(
        TokenTypes::none(&LEDGER),
        &[Owner::new("account:self", "account", "account")
            .with_claim("acct")
            .with_compare(Compare::Exact)],
    );

    #[test]
    fn the_type_claim_absent_is_the_default_and_unknown_is_invalid() {
        use serde_json::json;
        let p = path("/ti/{task_instance_id}", &format!("/ti/{TI}"));
        let sub = ("sub", json!(TI));
        assert_eq!(
            RUN.check(&claims(std::slice::from_ref(&sub)), &p),
            Ok(TokenType::EXECUTION)
        );
        assert_eq!(
            RUN.check(&claims(&[sub.clone(), ("scope", json!("workload"))]), &p),
            Ok(TokenType::WORKLOAD)
        );
        for bad in [
            json!("Workload"),
            json!(["workload"]),
            json!(null),
            json!("clerk"),
        ] {
            let c = claims(&[sub.clone(), ("scope", bad)]);
            let denial = RUN.check(&c, &p).unwrap_err();
            assert_eq!(denial, Denial::UnknownType { claim: "scope" });
            assert_eq!(denial.to_string(), "unknown token scope");
        }
        let c = claims(&[("acct", json!("a-1")), ("role", json!("admin"))]);
        let p = path("/accounts/{account}", "/accounts/a-1");
        assert_eq!(
            ACCOUNT.check(&c, &p).unwrap_err().to_string(),
            "unknown token type in 'role'"
        );
    }

    #[test]
    fn types_then_owners() {
        use serde_json::json;
        let p = path("/accounts/{account}", "/accounts/a-1");
        assert_eq!(
            ACCOUNT.token_types().to_string(),
            "clerk",
            "the vocabulary's default"
        );
        let clerk = claims(&[("acct", json!("a-1"))]);
        assert_eq!(ACCOUNT.check(&clerk, &p), Ok(TokenType::new("clerk")));
        let auditor = claims(&[("acct", json!("a-1")), ("role", json!("auditor"))]);
        let denial = ACCOUNT.check(&auditor, &p).unwrap_err();
        assert_eq!(
            denial.to_string(),
            "Token type 'auditor' not allowed for this endpoint. Allowed types: clerk"
        );
        for other in [json!("A-1"), json!("a-2"), json!(1)] {
            let c = claims(&[("acct", other)]);
            let denial = ACCOUNT.check(&c, &p).unwrap_err();
            assert_eq!(denial.to_string(), "Token subject does not match account");
        }
        assert!(
            ACCOUNT.check(&claims(&[]), &p).is_err(),
            "no claim, no owner"
        );
    }

    #[test]
    fn uuid_owners_compare_parsed_hyphenated_uuids() {
        use serde_json::json;
        let upper = path(
            "/ti/{task_instance_id}",
            &format!("/ti/{}", TI.to_uppercase()),
        );
        assert!(RUN.check(&claims(&[("sub", json!(TI))]), &upper).is_ok());
        let simple = TI.replace('-', "");
        let p = path("/ti/{task_instance_id}", &format!("/ti/{simple}"));
        assert!(RUN.check(&claims(&[("sub", json!(TI))]), &p).is_err());
        let p = path("/ti/{task_instance_id}", &format!("/ti/{TI}"));
        assert!(RUN.check(&claims(&[("sub", json!(simple))]), &p).is_err());
        assert_eq!(
            RUN.check(&claims(&[("sub", json!("x"))]), &p)
                .unwrap_err()
                .to_string(),
            "Token subject does not match task instance ID"
        );
    }

    /// Issue 18, finding 2: an exact owner compares the claim with the value
    /// the handler's `web::Path<String>` receives: actix's router keeps
    /// `%25`, `%2F` and `%2B` encoded in `match_info`, and `web::Path`
    /// decodes them. `team%2B1` in the path is the account `team+1`.
    #[test]
    fn exact_owners_compare_the_value_the_handler_gets() {
        use serde_json::json;
        let owns = |acct: &str, uri: &str| {
            let p = path("/accounts/{account}", uri);
            ACCOUNT.check(&claims(&[("acct", json!(acct))]), &p).is_ok()
        };
        // The ledger's case: the literal `team%2B1` does not own `team+1`.
        assert!(!owns("team%2B1", "/accounts/team%2B1"));
        assert!(owns("team+1", "/accounts/team%2B1"));
        assert!(owns("team+1", "/accounts/team%2b1"));
        assert!(owns("team+1", "/accounts/team+1"));
        assert!(!owns("team%2B1", "/accounts/team+1"));
        // `/` and `%` likewise, decoded once.
        assert!(owns("a/b", "/accounts/a%2Fb"));
        assert!(!owns("a%2Fb", "/accounts/a%2Fb"));
        assert!(owns("100%", "/accounts/100%25"));
        assert!(owns("100%2B", "/accounts/100%252B"));
        assert!(!owns("100+", "/accounts/100%252B"));
        // Escapes that are not two hex digits stay as they are, as
        // `web::Path` leaves them.
        assert!(owns("50%", "/accounts/50%"));
        assert!(owns("%zz", "/accounts/%zz"));
        // The router decodes everything else already.
        assert!(owns("é", "/accounts/%C3%A9"));
        assert!(owns("a-1", "/accounts/a%2D1"));
        // What cannot be decoded to UTF-8 is refused: `web::Path` would hand
        // the handler a lossy copy, which no claim can be compared with.
        let mut raw = Path::new("/accounts/%FF");
        assert!(ResourceDef::new("/accounts/{account}").capture_match_info(&mut raw));
        for claim in ["%FF", "\u{FFFD}"] {
            assert!(ACCOUNT
                .check(&claims(&[("acct", json!(claim))]), &raw)
                .is_err());
        }
    }

    /// A UUID owner also compares the decoded value (the router decodes
    /// everything a UUID can hold, so this holds already; it must stay so).
    #[test]
    fn uuid_owners_compare_the_decoded_value() {
        use serde_json::json;
        let sub = claims(&[("sub", json!(TI))]);
        let escaped: String = TI.bytes().map(|b| format!("%{b:02X}")).collect();
        for uri in [
            format!("/ti/{escaped}"),
            format!("/ti/{}", TI.to_uppercase()),
            format!("/ti/{}", TI.replacen('-', "%2d", 2)),
        ] {
            let p = path("/ti/{task_instance_id}", &uri);
            assert!(RUN.check(&sub, &p).is_ok(), "{uri}");
        }
        let p = path(
            "/ti/{task_instance_id}",
            &format!("/ti/{}", TI.replacen('-', "%252D", 1)),
        );
        assert!(RUN.check(&sub, &p).is_err());
    }

    #[test]
    fn empty_token_types_default_to_the_vocabulary_default() {
        let p = RoutePolicy::protected(TokenTypes::EMPTY, &[]);
        assert_eq!(p.token_types(), TokenTypes::EXECUTION_ONLY);
        let info = RouteInfo {
            method: "GET",
            path: "/x",
            policy: p,
        };
        assert!(info.accepts(TokenType::EXECUTION));
        assert!(!info.accepts(TokenType::WORKLOAD));
        let public = RouteInfo {
            policy: RoutePolicy::PUBLIC,
            ..info
        };
        assert!(!public.accepts(TokenType::EXECUTION));
    }

    #[test]
    fn requirements_in_declaration_order_the_first_failure_answers() {
        use crate::policy::permission::{PermissionFormat, Permissions};
        use serde_json::json;
        static PERMS: Vocabulary = Vocabulary::new("role", &["clerk"], 0).with_permissions(
            Permissions::new("scope", PermissionFormat::Space, &["r", "w", "a"]),
        );
        const OWNER: Owner = Owner::new("account:self", "account", "account")
            .with_claim("acct")
            .with_compare(Compare::Exact);
        static OWNER_FIRST: RoutePolicy =
            RoutePolicy::protected(TokenTypes::none(&PERMS), &[OWNER]).with_requirements(&[
                Requirement::Owner(OWNER),
                Requirement::Permission(PERMS.permission("w")),
                Requirement::Any(AnyOf::new(&[
                    Alternative::all(&[Condition::Permission(PERMS.permission("a"))]),
                    Alternative::all(&[Condition::Permission(PERMS.permission("r"))]),
                ])),
            ]);
        static PERMISSION_FIRST: RoutePolicy =
            RoutePolicy::protected(TokenTypes::none(&PERMS), &[OWNER]).with_requirements(&[
                Requirement::Permission(PERMS.permission("w")),
                Requirement::Owner(OWNER),
            ]);
        let p = path("/accounts/{account}", "/accounts/a-1");
        let c = |acct: &str, scope: &str| claims(&[("acct", json!(acct)), ("scope", json!(scope))]);
        let denial =
            |policy: &RoutePolicy, c: &Claims| policy.check(c, &p).unwrap_err().to_string();
        assert_eq!(
            denial(&OWNER_FIRST, &c("a-2", "")),
            "Token subject does not match account"
        );
        assert_eq!(
            denial(&OWNER_FIRST, &c("a-2", "w a")),
            "Token subject does not match account"
        );
        assert_eq!(
            denial(&OWNER_FIRST, &c("a-1", "a")),
            "Token lacks permission 'w'"
        );
        assert_eq!(
            denial(&OWNER_FIRST, &c("a-1", "w")),
            "Token satisfies none of: a, r"
        );
        assert!(OWNER_FIRST.check(&c("a-1", "w r"), &p).is_ok());
        assert!(OWNER_FIRST.check(&c("a-1", "a w"), &p).is_ok());
        assert_eq!(
            denial(&PERMISSION_FIRST, &c("a-2", "")),
            "Token lacks permission 'w'"
        );
        assert_eq!(
            denial(&PERMISSION_FIRST, &c("a-2", "w")),
            "Token subject does not match account"
        );
        assert_eq!(OWNER_FIRST.required_permissions().count(), 1);
        assert_eq!(OWNER_FIRST.requirements().count(), 3);
        assert_eq!(
            RUN.requirements().count(),
            1,
            "the owners of a route without permissions"
        );
    }

    #[test]
    fn only_hyphenated_uuids_are_accepted_in_paths() {
        assert!(parse_hyphenated_uuid(TI).is_some());
        assert!(parse_hyphenated_uuid(&TI.to_uppercase()).is_some());
        assert!(parse_hyphenated_uuid(&format!("{{{TI}}}")).is_none());
        assert!(parse_hyphenated_uuid(&format!("urn:uuid:{TI}")).is_none());
        assert!(parse_hyphenated_uuid(&TI.replace('-', "")).is_none());
    }
}
