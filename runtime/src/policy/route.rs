//! Route policies: which token types a route accepts and which path
//! parameters the token must own ([`Owner`]), and the check of one token's
//! claims against them. Everything here is `const`-constructible so the
//! macros bake a policy into the binary as static data.

use std::borrow::Cow;
use std::fmt;

use actix_web::dev::{Path, ResourcePath};

use super::parse_hyphenated_uuid;
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
fn path_value(raw: &str) -> Option<Cow<'_, str>> {
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
}

impl<T: ClaimSource + ?Sized> ClaimSource for &T {
    fn string_claim(&self, name: &str) -> StringClaim<'_> {
        (**self).string_claim(name)
    }
}

impl<T: ClaimSource + ?Sized> ClaimSource for std::sync::Arc<T> {
    fn string_claim(&self, name: &str) -> StringClaim<'_> {
        (**self).string_claim(name)
    }
}

/// Why a route policy refused a verified token. The web layer renders it:
/// [`UnknownType`](Denial::UnknownType) as 401, the others as 403.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        }
    }
}

/// The complete access policy of one route.
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
    public: bool,
}

impl RoutePolicy {
    /// A route that needs no token.
    pub const PUBLIC: RoutePolicy = RoutePolicy {
        token_types: TokenTypes::EMPTY,
        owners: &[],
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
            public: false,
        }
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

    /// [`token_type`](Self::token_type) as the type's index in the
    /// vocabulary, which [`TokenTypes`] holds as a bit.
    fn type_index<C: ClaimSource + ?Sized>(&self, claims: &C) -> Result<usize, Denial> {
        let vocabulary = self.vocabulary();
        let unknown = Denial::UnknownType {
            claim: vocabulary.claim(),
        };
        match claims.string_claim(vocabulary.claim()) {
            StringClaim::Absent => Ok(vocabulary.default_index()),
            StringClaim::Str(name) => vocabulary.find(name).ok_or(unknown),
            StringClaim::NotAString => Err(unknown),
        }
    }

    /// Checks a verified token against this protected policy: its type
    /// (resolved in the route's vocabulary, once), then every owner against
    /// the matched path. Returns the token's type. Makes no heap
    /// allocation unless an owner's path parameter holds a `%` escape, which
    /// is decoded before it is compared.
    /// A public policy allows any token type and checks no owner.
    pub fn check<C, T>(&self, claims: &C, path: &Path<T>) -> Result<TokenType, Denial>
    where
        C: ClaimSource + ?Sized,
        T: ResourcePath,
    {
        let index = self.type_index(claims)?;
        let ty = self.vocabulary().type_at(index);
        if self.public {
            return Ok(ty);
        }
        if !self.token_types.contains_index(index) {
            return Err(Denial::TypeNotAllowed {
                got: ty,
                allowed: self.token_types,
            });
        }
        for owner in self.owners {
            let claim = match claims.string_claim(owner.claim) {
                StringClaim::Str(s) => Some(s),
                StringClaim::Absent | StringClaim::NotAString => None,
            };
            if !owner.owns(claim, path) {
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
    fn only_hyphenated_uuids_are_accepted_in_paths() {
        assert!(parse_hyphenated_uuid(TI).is_some());
        assert!(parse_hyphenated_uuid(&TI.to_uppercase()).is_some());
        assert!(parse_hyphenated_uuid(&format!("{{{TI}}}")).is_none());
        assert!(parse_hyphenated_uuid(&format!("urn:uuid:{TI}")).is_none());
        assert!(parse_hyphenated_uuid(&TI.replace('-', "")).is_none());
    }
}
