//! The one table of scopes a route may declare. Everything else (parsing,
//! merging, hints, expansion) reads this table, so adding a new `xx:self`
//! kind is one line in [`KNOWN`].

use crate::suggest;

/// A token type, mirroring `scopegate::TokenType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TokenKind {
    Execution,
    Workload,
}

impl TokenKind {
    /// The name of the matching `scopegate::TokenType` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            TokenKind::Execution => "Execution",
            TokenKind::Workload => "Workload",
        }
    }
}

/// What declaring a scope does to a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Tokens of this type may call the route.
    Allows(TokenKind),
    /// The token's `sub` must equal the UUID in path parameter `param`;
    /// `subject` is how runtime errors name that parameter.
    OwnsParam {
        param: &'static str,
        subject: &'static str,
    },
}

/// One known scope.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    /// What the developer writes in `scopes = [..]`.
    pub(crate) name: &'static str,
    pub(crate) effect: Effect,
}

impl Scope {
    const fn token(name: &'static str, kind: TokenKind) -> Scope {
        Scope {
            name,
            effect: Effect::Allows(kind),
        }
    }

    const fn owner(name: &'static str, param: &'static str, subject: &'static str) -> Scope {
        Scope {
            name,
            effect: Effect::OwnsParam { param, subject },
        }
    }
}

/// Every scope a route may declare.
pub(crate) const KNOWN: &[Scope] = &[
    Scope::token("token:execution", TokenKind::Execution),
    Scope::token("token:workload", TokenKind::Workload),
    Scope::owner("ti:self", "task_instance_id", "task instance ID"),
    Scope::owner("ct:self", "connection_test_id", "connection test ID"),
];

/// The known scope spelled exactly `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Scope> {
    KNOWN.iter().find(|s| s.name == name)
}

/// The names of every known scope, in table order.
pub(crate) fn names() -> Vec<&'static str> {
    KNOWN.iter().map(|s| s.name).collect()
}

/// The message for a scope that is not in the table: a "did you mean" hint
/// for a near miss, else the list of known scopes.
pub(crate) fn unknown_message(name: &str) -> String {
    let names = names();
    let hints = suggest::near_misses(name, &names);
    if hints.is_empty() {
        format!(
            "unknown scope `{name}`: write one of {}",
            suggest::list(&names)
        )
    } else {
        format!(
            "unknown scope `{name}`: did you mean {}?",
            suggest::alternatives(&hints)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_unique_and_found() {
        for scope in KNOWN {
            assert_eq!(lookup(scope.name), Some(scope));
        }
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN.len());
        assert_eq!(lookup("Token:workload"), None);
    }

    #[test]
    fn near_misses_get_a_hint() {
        assert_eq!(
            unknown_message("token:workloads"),
            "unknown scope `token:workloads`: did you mean `token:workload`?"
        );
        assert_eq!(
            unknown_message("ti:selff"),
            "unknown scope `ti:selff`: did you mean `ti:self`?"
        );
        assert_eq!(
            unknown_message("token:"),
            "unknown scope `token:`: did you mean `token:execution` or `token:workload`?"
        );
        assert_eq!(
            unknown_message("workload"),
            "unknown scope `workload`: did you mean `token:workload`?"
        );
        assert_eq!(
            unknown_message("TI:SELF"),
            "unknown scope `TI:SELF`: did you mean `ti:self`?"
        );
    }

    #[test]
    fn far_misses_list_every_scope() {
        assert_eq!(
            unknown_message("admin"),
            "unknown scope `admin`: write one of `token:execution`, `token:workload`, \
             `ti:self`, `ct:self`"
        );
    }
}
