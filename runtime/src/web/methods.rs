//! The HTTP methods a route may declare, as a set.

use std::fmt;

use actix_web::http::Method;

/// A set of the methods `#[route]` knows.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Methods(u8);

/// The methods, in the order of their bits.
static ALL: [(Method, &str); 8] = [
    (Method::GET, "GET"),
    (Method::POST, "POST"),
    (Method::PUT, "PUT"),
    (Method::PATCH, "PATCH"),
    (Method::DELETE, "DELETE"),
    (Method::HEAD, "HEAD"),
    (Method::OPTIONS, "OPTIONS"),
    (Method::TRACE, "TRACE"),
];

/// Bit indexes of [`ALL`], sorted by name: the order of an `Allow` header.
const BY_NAME: [usize; 8] = [4, 0, 5, 6, 3, 1, 2, 7];

impl Methods {
    /// No method.
    pub const NONE: Methods = Methods(0);
    /// `GET`.
    pub const GET: Methods = Methods(1);
    /// `POST`.
    pub const POST: Methods = Methods(1 << 1);
    /// `PUT`.
    pub const PUT: Methods = Methods(1 << 2);
    /// `PATCH`.
    pub const PATCH: Methods = Methods(1 << 3);
    /// `DELETE`.
    pub const DELETE: Methods = Methods(1 << 4);
    /// `HEAD`.
    pub const HEAD: Methods = Methods(1 << 5);
    /// `OPTIONS`.
    pub const OPTIONS: Methods = Methods(1 << 6);
    /// `TRACE`.
    pub const TRACE: Methods = Methods(1 << 7);

    /// The method named `name` (`"GET"`), or none for another name.
    pub fn named(name: &str) -> Methods {
        ALL.iter()
            .position(|(_, n)| *n == name)
            .map_or(Methods::NONE, |i| Methods(1 << i))
    }

    /// The request method `method`, or none for a method no route can
    /// declare (`CONNECT`, an extension method).
    pub fn of(method: &Method) -> Methods {
        // Compared by reference to actix's constants: the common methods
        // are an enum inside `Method`, so this is a few comparisons.
        ALL.iter()
            .position(|(m, _)| m == method)
            .map_or(Methods::NONE, |i| Methods(1 << i))
    }

    /// Both sets.
    pub const fn union(self, other: Methods) -> Methods {
        Methods(self.0 | other.0)
    }

    /// Whether the two sets share a method.
    pub const fn intersects(self, other: Methods) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names, sorted, joined with `", "`: an `Allow` header's value
    /// (`"DELETE, GET, PUT"`).
    pub fn allow(self) -> String {
        let mut out = String::new();
        for i in BY_NAME {
            if self.0 & (1 << i) != 0 {
                if !out.is_empty() {
                    out.push_str(", ");
                }
                out.push_str(ALL[i].1);
            }
        }
        out
    }
}

impl fmt::Debug for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Methods({})", self.allow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_names_sorted() {
        let all = ALL
            .iter()
            .fold(Methods::NONE, |s, (_, n)| s.union(Methods::named(n)));
        assert_eq!(
            all.allow(),
            "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE"
        );
        assert_eq!(Methods::PUT.union(Methods::GET).allow(), "GET, PUT");
        assert_eq!(Methods::named("PROPFIND"), Methods::NONE);
        assert_eq!(Methods::of(&Method::CONNECT), Methods::NONE);
        assert_eq!(Methods::of(&Method::PATCH), Methods::PATCH);
    }
}
