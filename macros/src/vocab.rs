//! The vocabulary: the token types, owner scopes and permissions a crate's
//! routes may name, and the one table of scopes built from them. Every rule
//! of the DSL (unknown scope, "did you mean", duplicates, owners without
//! their parameter, the ownership lint) reads this table.
//!
//! A crate declares its vocabulary in `scopegate.toml` ([`crate::config`]);
//! without one it gets Airflow's ([`Vocabulary::airflow`]), where adding a
//! new `xx:self` kind is one line in [`AIRFLOW_OWNERS`].

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::suggest;

/// Airflow's token types (SPEC §1), in the `scope` claim; the first is the
/// default.
const AIRFLOW_TYPES: [&str; 2] = ["execution", "workload"];

/// Airflow's owner scopes: scope, path parameter, label. Each compares the
/// token's `sub` with the parameter as UUIDs.
const AIRFLOW_OWNERS: [(&str, &str, &str); 2] = [
    ("ti:self", "task_instance_id", "task instance ID"),
    ("ct:self", "connection_test_id", "connection test ID"),
];

/// The most token types a vocabulary may declare: a route's allowed types
/// are a 64-bit set at run time.
pub(crate) const MAX_TYPES: usize = 64;

/// The most permissions a vocabulary may declare: a token's permissions
/// are a 64-bit set at run time.
pub(crate) const MAX_PERMISSIONS: usize = 64;

/// How a token's permissions claim is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// One string, names separated by spaces (OAuth 2's `scope`).
    Space,
    /// A JSON array of strings.
    Array,
}

impl Format {
    pub(crate) const ALL: [Format; 2] = [Format::Space, Format::Array];

    /// How it is written in `scopegate.toml`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Format::Space => "space",
            Format::Array => "array",
        }
    }

    /// The name of the `scopegate::PermissionFormat` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Format::Space => "Space",
            Format::Array => "Array",
        }
    }
}

/// `[permissions]`: the claim, its format and the names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Permissions {
    pub(crate) claim: String,
    pub(crate) format: Format,
    pub(crate) names: Vec<String>,
}

/// How an owner compares its claim with the path parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    /// Both parsed as hyphenated UUIDs, so case does not matter.
    Uuid,
    /// Byte for byte.
    Exact,
}

impl Compare {
    /// How it is written in `scopegate.toml`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Compare::Uuid => "uuid",
            Compare::Exact => "exact",
        }
    }

    /// The name of the `scopegate::Compare` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Compare::Uuid => "Uuid",
            Compare::Exact => "Exact",
        }
    }
}

/// What a token's `sub` looks like (`[token] subject = ".."`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A UUID, as Airflow's task instance ids: the default.
    #[default]
    Uuid,
    /// Any non-empty string.
    Any,
}

impl Subject {
    pub(crate) const ALL: [Subject; 2] = [Subject::Uuid, Subject::Any];

    /// How it is written in `scopegate.toml`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Subject::Uuid => "uuid",
            Subject::Any => "any",
        }
    }

    /// The name of the `scopegate::SubjectFormat` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Subject::Uuid => "Uuid",
            Subject::Any => "Any",
        }
    }
}

/// An owner scope such as `ti:self`: the token's `claim` must equal the
/// path parameter `param`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    /// What a route writes in `scopes = [..]`.
    pub(crate) scope: String,
    pub(crate) param: String,
    pub(crate) claim: String,
    pub(crate) compare: Compare,
    /// How the 403 names the parameter: "Token subject does not match
    /// <label>".
    pub(crate) label: String,
}

/// What declaring a scope does to a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Tokens of the type at this index of [`Vocabulary::types`] may call
    /// the route (inside `any(..)`: the alternative is for that type).
    Allows(usize),
    /// The owner at this index of [`Vocabulary::owners`] is enforced.
    Owns(usize),
    /// The permission at this index of the vocabulary's permissions is
    /// required.
    Requires(usize),
}

/// One scope a route may declare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scope {
    /// What the developer writes in `scopes = [..]`.
    pub(crate) name: String,
    pub(crate) effect: Effect,
}

/// Where a scope is in [`Vocabulary::scopes`].
pub(crate) type ScopeId = usize;

/// A crate's words: token types, the claim that carries them, owner
/// scopes and permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Vocabulary {
    /// The claim that carries the token type (empty without types).
    pub(crate) claim: String,
    /// The token types, as declared; empty for a crate that declares
    /// `[permissions]` and no `[token]`, whose tokens have no type (one
    /// implicit type at run time, index 0).
    pub(crate) types: Vec<String>,
    /// Index in `types` of the type of a token without the claim, and of
    /// what a route with no `token:*` scope accepts.
    pub(crate) default: usize,
    pub(crate) owners: Vec<Owner>,
    /// What a token's `sub` looks like.
    pub(crate) subject: Subject,
    /// `[permissions]`, if declared.
    pub(crate) permissions: Option<Permissions>,
    /// `token:<type>` for every type, then every owner scope, then every
    /// permission: the one table of what a route may declare.
    scopes: Vec<Scope>,
    /// The `scopegate.toml` that declared it; `None` for Airflow's.
    pub(crate) file: Option<PathBuf>,
}

impl Vocabulary {
    /// A vocabulary from its parts; builds the scope table.
    pub(crate) fn new(
        claim: String,
        types: Vec<String>,
        default: usize,
        owners: Vec<Owner>,
        file: Option<PathBuf>,
    ) -> Vocabulary {
        Vocabulary::with_permissions(claim, types, default, owners, None, file)
    }

    /// [`new`](Self::new), with permissions.
    pub(crate) fn with_permissions(
        claim: String,
        types: Vec<String>,
        default: usize,
        owners: Vec<Owner>,
        permissions: Option<Permissions>,
        file: Option<PathBuf>,
    ) -> Vocabulary {
        let tokens = types.iter().enumerate().map(|(i, t)| Scope {
            name: format!("token:{t}"),
            effect: Effect::Allows(i),
        });
        let owned = owners.iter().enumerate().map(|(i, o)| Scope {
            name: o.scope.clone(),
            effect: Effect::Owns(i),
        });
        let required = permissions
            .iter()
            .flat_map(|p| p.names.iter().enumerate())
            .map(|(i, name)| Scope {
                name: name.clone(),
                effect: Effect::Requires(i),
            });
        let scopes = tokens.chain(owned).chain(required).collect();
        Vocabulary {
            claim,
            types,
            default,
            owners,
            permissions,
            subject: Subject::Uuid,
            scopes,
            file,
        }
    }

    /// This vocabulary, with tokens whose `sub` is `subject`.
    pub(crate) fn with_subject(mut self, subject: Subject) -> Vocabulary {
        self.subject = subject;
        self
    }

    /// Whether tokens have a type (the crate declares `[token]`).
    pub(crate) fn typed(&self) -> bool {
        !self.types.is_empty()
    }

    /// Airflow's vocabulary (SPEC §1): what a crate without
    /// `scopegate.toml` uses.
    pub(crate) fn airflow() -> Arc<Vocabulary> {
        static AIRFLOW: OnceLock<Arc<Vocabulary>> = OnceLock::new();
        Arc::clone(AIRFLOW.get_or_init(|| {
            let owners = AIRFLOW_OWNERS
                .iter()
                .map(|(scope, param, label)| Owner {
                    scope: (*scope).to_owned(),
                    param: (*param).to_owned(),
                    claim: "sub".to_owned(),
                    compare: Compare::Uuid,
                    label: (*label).to_owned(),
                })
                .collect();
            Arc::new(Vocabulary::new(
                "scope".to_owned(),
                AIRFLOW_TYPES.map(str::to_owned).to_vec(),
                0,
                owners,
                None,
            ))
        }))
    }

    /// Whether this is Airflow's vocabulary, word for word (from no file, or
    /// from a file that declares exactly it).
    pub(crate) fn is_airflow(&self) -> bool {
        let airflow = Vocabulary::airflow();
        self.claim == airflow.claim
            && self.types == airflow.types
            && self.default == airflow.default
            && self.owners == airflow.owners
            && self.permissions.is_none()
            && self.subject == airflow.subject
    }

    /// The scope at `id`.
    pub(crate) fn scope(&self, id: ScopeId) -> &Scope {
        &self.scopes[id]
    }

    /// The scope spelled exactly `name`.
    pub(crate) fn lookup(&self, name: &str) -> Option<ScopeId> {
        self.scopes.iter().position(|s| s.name == name)
    }

    /// The names of every scope, in table order.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.scopes.iter().map(|s| s.name.as_str()).collect()
    }

    /// The owners that guard path parameter `param`.
    pub(crate) fn owners_of(&self, param: &str) -> Vec<usize> {
        (0..self.owners.len())
            .filter(|i| self.owners[*i].param == param)
            .collect()
    }

    /// The message for a scope that is not in the table: a "did you mean"
    /// hint for a near miss, else the list of known scopes.
    pub(crate) fn unknown_message(&self, name: &str) -> String {
        if let (false, Some(ty), Some(file)) =
            (self.typed(), name.strip_prefix("token:"), &self.file)
        {
            return format!(
                "`{name}`: this crate's tokens have no type, as {} declares `[permissions]` and \
                 no `[token]`: remove `{name}`, or declare the types in a `[token]` table, e.g. \
                 `types = [\"{}\"]`",
                file.display(),
                if ty.is_empty() { "user" } else { ty }
            );
        }
        let names = self.names();
        let hints = suggest::near_misses(name, &names);
        let mut message = if hints.is_empty() {
            format!(
                "unknown scope `{name}`: write one of {}",
                suggest::list(&names)
            )
        } else {
            format!(
                "unknown scope `{name}`: did you mean {}?",
                suggest::alternatives(&hints)
            )
        };
        if let (Some(file), Some(ty)) = (&self.file, name.strip_prefix("token:")) {
            if hints.is_empty() && !ty.is_empty() {
                message = format!(
                    "unknown scope `{name}`: `{ty}` is not a token type of this crate: \
                     write one of {}, or add \"{ty}\" to `types` in {}",
                    suggest::list(&names),
                    file.display()
                );
            }
        } else if let (Some(file), Some(_), true) =
            (&self.file, &self.permissions, hints.is_empty())
        {
            message = format!(
                "unknown scope `{name}`: write one of {}, or add \"{name}\" to `names` in \
                 `[permissions]` of {}",
                suggest::list(&names),
                file.display()
            );
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_unique_and_found() {
        let v = Vocabulary::airflow();
        for (id, name) in v.names().into_iter().enumerate() {
            assert_eq!(v.lookup(name), Some(id));
        }
        let mut names = v.names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 4);
        assert_eq!(v.lookup("Token:workload"), None);
        assert_eq!(v.scope(1).effect, Effect::Allows(1));
        assert_eq!(v.scope(2).effect, Effect::Owns(0));
        assert_eq!(v.owners_of("task_instance_id"), [0]);
        assert!(v.owners_of("dag_id").is_empty());
        assert!(v.is_airflow());
    }

    #[test]
    fn near_misses_get_a_hint() {
        let v = Vocabulary::airflow();
        assert_eq!(
            v.unknown_message("token:workloads"),
            "unknown scope `token:workloads`: did you mean `token:workload`?"
        );
        assert_eq!(
            v.unknown_message("ti:selff"),
            "unknown scope `ti:selff`: did you mean `ti:self`?"
        );
        assert_eq!(
            v.unknown_message("token:"),
            "unknown scope `token:`: did you mean `token:execution` or `token:workload`?"
        );
        assert_eq!(
            v.unknown_message("workload"),
            "unknown scope `workload`: did you mean `token:workload`?"
        );
        assert_eq!(
            v.unknown_message("TI:SELF"),
            "unknown scope `TI:SELF`: did you mean `ti:self`?"
        );
    }

    #[test]
    fn far_misses_list_every_scope() {
        assert_eq!(
            Vocabulary::airflow().unknown_message("admin"),
            "unknown scope `admin`: write one of `token:execution`, `token:workload`, \
             `ti:self`, `ct:self`"
        );
    }

    #[test]
    fn a_declared_vocabulary_names_its_file_for_an_unknown_type() {
        let v = Vocabulary::new(
            "kind".into(),
            vec!["reader".into(), "writer".into()],
            0,
            vec![Owner {
                scope: "account:self".into(),
                param: "account".into(),
                claim: "sub".into(),
                compare: Compare::Exact,
                label: "account".into(),
            }],
            Some(PathBuf::from("/x/scopegate.toml")),
        );
        assert!(!v.is_airflow());
        assert_eq!(
            v.unknown_message("token:admin"),
            "unknown scope `token:admin`: `admin` is not a token type of this crate: write one \
             of `token:reader`, `token:writer`, `account:self`, or add \"admin\" to `types` in \
             /x/scopegate.toml"
        );
        assert_eq!(
            v.unknown_message("account:slef"),
            "unknown scope `account:slef`: did you mean `account:self`?"
        );
        assert_eq!(
            v.unknown_message("ti:self"),
            "unknown scope `ti:self`: write one of `token:reader`, `token:writer`, `account:self`"
        );
    }
}
