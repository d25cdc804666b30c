//! Route policies: which token types a route accepts and which path
//! parameters the token must own. Everything here is `const`-constructible so
//! the `#[route]` macro can bake a policy into the binary as static data.

use std::fmt;

use actix_web::dev::{Path, ResourcePath};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AuthError;
use crate::token::Claims;

/// The kind of a token, carried in its `scope` claim.
///
/// A token without a `scope` claim is an [`Execution`](TokenType::Execution)
/// token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Short-lived token, refreshed while the task runs. The default.
    Execution,
    /// Long-lived token that survives an executor queue; accepted only on
    /// routes that opt in with `token:workload`.
    Workload,
}

impl TokenType {
    /// Every token type, in sorted order.
    pub const ALL: [TokenType; 2] = [TokenType::Execution, TokenType::Workload];

    /// The claim value: `"execution"` or `"workload"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::Execution => "execution",
            TokenType::Workload => "workload",
        }
    }

    /// Parses a `scope` claim value. Anything but the exact lower-case
    /// spellings is refused.
    pub fn from_claim(value: &str) -> Option<TokenType> {
        match value {
            "execution" => Some(TokenType::Execution),
            "workload" => Some(TokenType::Workload),
            _ => None,
        }
    }

    const fn bit(self) -> u8 {
        match self {
            TokenType::Execution => 1,
            TokenType::Workload => 2,
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`TokenType`]s, usable in `const` context.
///
/// ```
/// use scopegate::{TokenType, TokenTypes};
/// const RUN: TokenTypes = TokenTypes::EMPTY
///     .with(TokenType::Execution)
///     .with(TokenType::Workload);
/// assert!(RUN.contains(TokenType::Workload));
/// assert_eq!(RUN.to_string(), "execution, workload");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TokenTypes(u8);

impl TokenTypes {
    /// The empty set.
    pub const EMPTY: TokenTypes = TokenTypes(0);
    /// `{execution}`: what a route accepts when it names no `token:*` scope.
    pub const EXECUTION_ONLY: TokenTypes = TokenTypes::only(TokenType::Execution);

    /// The set holding just `ty`.
    pub const fn only(ty: TokenType) -> TokenTypes {
        TokenTypes(ty.bit())
    }

    /// This set with `ty` added.
    #[must_use]
    pub const fn with(self, ty: TokenType) -> TokenTypes {
        TokenTypes(self.0 | ty.bit())
    }

    /// Whether `ty` is in the set.
    pub const fn contains(self, ty: TokenType) -> bool {
        self.0 & ty.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in sorted order.
    pub fn iter(self) -> impl Iterator<Item = TokenType> {
        TokenType::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
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

impl FromIterator<TokenType> for TokenTypes {
    fn from_iter<I: IntoIterator<Item = TokenType>>(iter: I) -> Self {
        iter.into_iter().fold(TokenTypes::EMPTY, TokenTypes::with)
    }
}

/// A self-scope such as `ti:self`: the token's `sub` must equal the UUID in
/// the path parameter `param`.
///
/// The table of known self-scopes lives in the macro crate; the macro emits
/// one of these per scope. Build one by hand with [`SelfScope::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SelfScope {
    scope: &'static str,
    param: &'static str,
    subject: &'static str,
}

impl SelfScope {
    /// `scope` is the declared name (`"ti:self"`), `param` the path parameter
    /// (`"task_instance_id"`) and `subject` how error messages name it
    /// (`"task instance ID"`).
    pub const fn new(scope: &'static str, param: &'static str, subject: &'static str) -> Self {
        SelfScope {
            scope,
            param,
            subject,
        }
    }

    /// The declared scope, e.g. `ti:self`.
    pub const fn scope(&self) -> &'static str {
        self.scope
    }

    /// The path parameter that must hold the token's subject.
    pub const fn param(&self) -> &'static str {
        self.param
    }

    /// How error messages name the parameter, e.g. `task instance ID`.
    pub const fn subject(&self) -> &'static str {
        self.subject
    }

    /// Whether the path parameter holds `sub`. The parameter must be a
    /// hyphenated UUID (either case); braces, URNs and other spellings are
    /// refused so that one task has exactly one path.
    fn owns<T: ResourcePath>(&self, sub: &Uuid, path: &Path<T>) -> bool {
        path.get(self.param)
            .and_then(parse_hyphenated_uuid)
            .is_some_and(|id| id == *sub)
    }
}

/// Parses a UUID only in its 36-character hyphenated form, in either case.
pub(crate) fn parse_hyphenated_uuid(s: &str) -> Option<Uuid> {
    if s.len() != 36 {
        return None;
    }
    Uuid::try_parse(s).ok()
}

/// The complete access policy of one route.
///
/// ```
/// use scopegate::{RoutePolicy, SelfScope, TokenType, TokenTypes};
/// static HEARTBEAT: RoutePolicy = RoutePolicy::protected(
///     TokenTypes::EXECUTION_ONLY,
///     &[SelfScope::new("ti:self", "task_instance_id", "task instance ID")],
/// );
/// assert!(!HEARTBEAT.is_public());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutePolicy {
    token_types: TokenTypes,
    self_scopes: &'static [SelfScope],
    public: bool,
}

impl RoutePolicy {
    /// A route that needs no token.
    pub const PUBLIC: RoutePolicy = RoutePolicy {
        token_types: TokenTypes::EMPTY,
        self_scopes: &[],
        public: true,
    };

    /// A route that needs a token of one of `token_types` that owns every
    /// self-scope. An empty `token_types` means execution only, as in the
    /// scope rules.
    pub const fn protected(token_types: TokenTypes, self_scopes: &'static [SelfScope]) -> Self {
        let token_types = if token_types.is_empty() {
            TokenTypes::EXECUTION_ONLY
        } else {
            token_types
        };
        RoutePolicy {
            token_types,
            self_scopes,
            public: false,
        }
    }

    /// The token types this route accepts (empty for a public route).
    pub const fn token_types(&self) -> TokenTypes {
        self.token_types
    }

    /// The self-scopes this route enforces.
    pub const fn self_scopes(&self) -> &'static [SelfScope] {
        self.self_scopes
    }

    /// Whether the route needs no token.
    pub const fn is_public(&self) -> bool {
        self.public
    }

    /// Checks a verified token against this policy: first its type, then
    /// every self-scope against the matched path. Makes no heap allocation
    /// when the token passes.
    pub fn check<T: ResourcePath>(&self, claims: &Claims, path: &Path<T>) -> Result<(), AuthError> {
        if self.public {
            return Ok(());
        }
        if !self.token_types.contains(claims.scope) {
            return Err(AuthError::TokenTypeNotAllowed {
                got: claims.scope,
                allowed: self.token_types,
            });
        }
        for scope in self.self_scopes {
            if !scope.owns(&claims.sub, path) {
                return Err(AuthError::SubjectMismatch(*scope));
            }
        }
        Ok(())
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
    /// The route's policy: allowed token types, self-scopes, public.
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

    #[test]
    fn token_types_set_operations() {
        const BOTH: TokenTypes = TokenTypes::only(TokenType::Workload).with(TokenType::Execution);
        assert!(BOTH.contains(TokenType::Execution));
        assert!(BOTH.contains(TokenType::Workload));
        assert_eq!(BOTH.to_string(), "execution, workload");
        assert_eq!(TokenTypes::EXECUTION_ONLY.to_string(), "execution");
        assert!(TokenTypes::EMPTY.is_empty());
        assert_eq!(
            [TokenType::Workload].into_iter().collect::<TokenTypes>(),
            TokenTypes::only(TokenType::Workload)
        );
    }

    #[test]
    fn empty_token_types_default_to_execution() {
        let p = RoutePolicy::protected(TokenTypes::EMPTY, &[]);
        assert_eq!(p.token_types(), TokenTypes::EXECUTION_ONLY);
    }

    #[test]
    fn scope_claim_parsing_is_exact() {
        assert_eq!(TokenType::from_claim("workload"), Some(TokenType::Workload));
        assert_eq!(TokenType::from_claim("Workload"), None);
        assert_eq!(TokenType::from_claim("workloads"), None);
        assert_eq!(
            serde_json::to_string(&TokenType::Execution).unwrap(),
            "\"execution\""
        );
    }

    #[test]
    fn only_hyphenated_uuids_are_accepted_in_paths() {
        let id = "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b";
        assert!(parse_hyphenated_uuid(id).is_some());
        assert!(parse_hyphenated_uuid(&id.to_uppercase()).is_some());
        assert!(parse_hyphenated_uuid(&format!("{{{id}}}")).is_none());
        assert!(parse_hyphenated_uuid(&format!("urn:uuid:{id}")).is_none());
        assert!(parse_hyphenated_uuid(&id.replace('-', "")).is_none());
    }
}
