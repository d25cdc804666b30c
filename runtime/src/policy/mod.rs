//! The bottom layer: what a route allows, as constant data, and the check
//! of one token's claims against it. It imports nothing else of the crate:
//! claims reach it through [`ClaimSource`], and its refusals are
//! [`Denial`]s, which the web layer renders.
//!
//! - [`vocabulary`]: a service's words (the claim that carries a token's
//!   type, the types, the default, its permissions, what a subject looks
//!   like) and sets of its types;
//! - [`subject`]: what a token's `sub` must look like;
//! - [`permission`]: declared permissions, and a token's set of them;
//! - [`route`]: owners, requirements, route policies and route information;
//! - [`table`]: route information as a text table.

pub mod permission;
pub mod route;
pub mod subject;
pub mod table;
pub mod vocabulary;

pub use permission::{
    MalformedClaim, Permission, PermissionClaim, PermissionFormat, PermissionSet, Permissions,
    MAX_PERMISSIONS,
};
pub use route::{
    Alternative, AnyOf, ClaimSource, Compare, Condition, Denial, GuardInfo, Owner, Requirement,
    RouteInfo, RoutePolicy, StringClaim,
};
pub use subject::SubjectFormat;
pub use table::route_table;
pub use vocabulary::{TokenType, TokenTypes, Vocabulary, MAX_TYPES};

/// Parses a UUID only in its 36-character hyphenated form, in either case.
pub(crate) fn parse_hyphenated_uuid(s: &str) -> Option<uuid::Uuid> {
    if s.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(s).ok()
}
