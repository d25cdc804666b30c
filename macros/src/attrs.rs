//! Which macro an attribute is: scopegate's `#[route]`, `#[routes]` or
//! `#[protect]`, by name or by path (`#[scopegate::route]`), or one of
//! actix-web's route attributes (`#[get("/..")]`, `#[actix_web::put(..)]`,
//! `#[route("/..", method = "..")]`).
//!
//! A group sees its items' attributes before rustc resolves their names, so
//! it decides from the spelling: a bare `route` is scopegate's unless its
//! first argument is a string (actix's `#[route("/..", ..)]`), and a bare
//! method name is actix's only when its first argument is a string.

use proc_macro2::TokenTree;
use syn::{Attribute, Lit, Meta};

/// What an attribute is, as far as scopegate is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// scopegate's `#[route]`.
    Route,
    /// `#[routes]`: scopegate's on a `mod`, actix's on a `fn`.
    Routes,
    /// scopegate's `#[protect]`.
    Protect,
    /// One of actix-web's route attributes, named by its macro: `get`, ...,
    /// `connect`, `route`, or `routes` (written by path).
    Actix(&'static str),
    /// Anything else.
    Other,
}

/// actix-web's route attributes: one per method, and `route`.
const ACTIX_MACROS: [&str; 10] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace", "connect", "route",
];

/// The crates whose path names scopegate's macros.
const SCOPEGATE_CRATES: [&str; 2] = ["scopegate", "scopegate_macros"];

/// Whether the attribute's first argument is a string literal, as in every
/// actix-web route attribute.
fn starts_with_string(attr: &Attribute) -> bool {
    let Meta::List(list) = &attr.meta else {
        return false;
    };
    match list.tokens.clone().into_iter().next() {
        Some(TokenTree::Literal(lit)) => matches!(Lit::new(lit), Lit::Str(_)),
        _ => false,
    }
}

/// What `attr` is.
pub(crate) fn kind(attr: &Attribute) -> Kind {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["route"] if starts_with_string(attr) => Kind::Actix("route"),
        ["route"] => Kind::Route,
        ["routes"] => Kind::Routes,
        ["protect"] => Kind::Protect,
        [krate, name] if SCOPEGATE_CRATES.contains(krate) => match *name {
            "route" => Kind::Route,
            "routes" => Kind::Routes,
            "protect" => Kind::Protect,
            _ => Kind::Other,
        },
        ["actix_web", "routes"] => Kind::Actix("routes"),
        ["actix_web", name] => actix_macro(name).map_or(Kind::Other, Kind::Actix),
        [name] if starts_with_string(attr) => actix_macro(name).map_or(Kind::Other, Kind::Actix),
        _ => Kind::Other,
    }
}

fn actix_macro(name: &str) -> Option<&'static str> {
    ACTIX_MACROS.into_iter().find(|m| *m == name)
}

/// Whether `attr` is scopegate's `#[route]`, `#[routes]` or `#[protect]`.
pub(crate) fn is_scopegate(attr: &Attribute) -> bool {
    matches!(kind(attr), Kind::Route | Kind::Routes | Kind::Protect)
}

/// Takes every attribute for which `pick` holds out of `attrs`, in order.
pub(crate) fn take(
    attrs: &mut Vec<Attribute>,
    pick: impl Fn(&Attribute) -> bool,
) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs).into_iter().partition(|a| pick(a));
    *attrs = kept;
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn kind_of(attr: Attribute) -> Kind {
        kind(&attr)
    }

    #[test]
    fn scopegate_by_name_and_by_path() {
        assert_eq!(kind_of(parse_quote!(#[route(get, "/x")])), Kind::Route);
        assert_eq!(
            kind_of(parse_quote!(#[scopegate::route(get, "/x")])),
            Kind::Route
        );
        assert_eq!(
            kind_of(parse_quote!(#[::scopegate::routes(prefix = "/a")])),
            Kind::Routes
        );
        assert_eq!(kind_of(parse_quote!(#[routes])), Kind::Routes);
        assert_eq!(
            kind_of(parse_quote!(#[protect(scopes = [])])),
            Kind::Protect
        );
        assert_eq!(
            kind_of(parse_quote!(#[scopegate_macros::protect])),
            Kind::Protect
        );
        assert_eq!(kind_of(parse_quote!(#[scopegate::other])), Kind::Other);
    }

    #[test]
    fn actix_by_name_with_a_path_string_or_by_path() {
        assert_eq!(kind_of(parse_quote!(#[get("/x")])), Kind::Actix("get"));
        assert_eq!(
            kind_of(parse_quote!(#[route("/x", method = "GET")])),
            Kind::Actix("route")
        );
        assert_eq!(
            kind_of(parse_quote!(#[actix_web::put("/x")])),
            Kind::Actix("put")
        );
        assert_eq!(
            kind_of(parse_quote!(#[::actix_web::connect("/x")])),
            Kind::Actix("connect")
        );
        assert_eq!(
            kind_of(parse_quote!(#[actix_web::routes])),
            Kind::Actix("routes")
        );
        // Bare names without a path string are someone else's.
        assert_eq!(kind_of(parse_quote!(#[trace])), Kind::Other);
        assert_eq!(kind_of(parse_quote!(#[get(x)])), Kind::Other);
        assert_eq!(kind_of(parse_quote!(#[doc = "get"])), Kind::Other);
        assert_eq!(kind_of(parse_quote!(#[other::get("/x")])), Kind::Other);
    }
}
