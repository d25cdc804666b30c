//! `scopegate.toml`: a crate's own vocabulary (SPEC §6), read when a macro
//! expands.
//!
//! The file sits next to the `Cargo.toml` of the crate being compiled
//! (`CARGO_MANIFEST_DIR`), or, for a trybuild case, of the crate whose case
//! it is ([`trybuild_source`]). [`for_crate`] reads it once per file version
//! (cached by path, length and modification time) and checks it all,
//! collecting every mistake with its line and column and what to write
//! instead. Every expansion that read the file includes it with
//! `include_bytes!` ([`Config::tracking`]), so the compiler recompiles the
//! crate when it changes. Without the file the vocabulary is Airflow's.
//!
//! The file is read with toml's spanned document parser and checked by
//! hand rather than through serde with `deny_unknown_fields`: serde stops at
//! the first problem and cannot say which `[owners."..."]` table an unknown
//! key is in, nor suggest the key that was meant.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use proc_macro2::TokenStream;
use quote::quote;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::path::is_ident;
use crate::suggest;
use crate::vocab::{
    Compare, Format, Owner, Permissions, Subject, Vocabulary, MAX_PERMISSIONS, MAX_TYPES,
};

/// The file's name, next to `Cargo.toml`.
pub(crate) const FILE_NAME: &str = "scopegate.toml";

/// What the macros of one crate work with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// The crate's `scopegate.toml`, when it has one (valid or not).
    pub(crate) file: Option<PathBuf>,
    /// The vocabulary, or every problem of the file, each a whole
    /// diagnostic starting with `path:line:column:`.
    pub(crate) vocabulary: Result<Arc<Vocabulary>, Arc<Vec<String>>>,
    /// Whether this expansion reports the file's problems: only the first
    /// to read this version of the file in this compiler process does.
    pub(crate) report: bool,
}

impl Config {
    /// Airflow's vocabulary, from no file.
    pub(crate) fn airflow() -> Config {
        Config {
            file: None,
            vocabulary: Ok(Vocabulary::airflow()),
            report: true,
        }
    }

    /// The problems of the file that this expansion reports: all of them
    /// the first time the file (this version of it) is read in this
    /// compiler process, none afterwards. Every macro reads it (a
    /// `vocabulary!()` and a `#[routes]` group in one crate), and each
    /// problem is one the user fixes once, so rustc shows it once. The
    /// others expand to stubs (Airflow's vocabulary for `vocabulary!()`,
    /// routes without a policy), which add no error of their own; the
    /// first one's errors fail the build. (Where one process expands
    /// several times, as rust-analyzer's macro server, a later expansion
    /// of a call may not show them; `cargo check` always does.)
    pub(crate) fn errors(&self) -> &[String] {
        match &self.vocabulary {
            Err(errors) if self.report => errors,
            _ => &[],
        }
    }

    /// An item that makes the compiler read the file, so that a change to
    /// it recompiles the crate (as askama does for its config). Nothing when
    /// there is no file, or when its path is not UTF-8.
    pub(crate) fn tracking(&self) -> TokenStream {
        match self.file.as_deref().and_then(Path::to_str) {
            Some(path) => quote! {
                const _: &[u8] = ::core::include_bytes!(#path);
            },
            None => TokenStream::new(),
        }
    }
}

type Key = (PathBuf, u64, Option<SystemTime>);

/// The configuration of the crate being compiled: its `scopegate.toml`,
/// else Airflow's vocabulary. Read and checked once per version of the
/// file, however many macros expand.
pub(crate) fn for_crate() -> Config {
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Config::airflow();
    };
    let dir = PathBuf::from(dir);
    let dir = trybuild_source(&dir).unwrap_or(dir);
    let path = dir.join(FILE_NAME);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Config::airflow();
    };
    let key: Key = (path.clone(), meta.len(), meta.modified().ok());
    static CACHE: Mutex<Option<HashMap<Key, Config>>> = Mutex::new(None);
    if let Ok(cache) = CACHE.lock() {
        if let Some(config) = cache.as_ref().and_then(|c| c.get(&key)) {
            return Config {
                report: false,
                ..config.clone()
            };
        }
    }
    let vocabulary = match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text).map(Arc::new).map_err(Arc::new),
        Err(e) => Err(Arc::new(vec![format!(
            "{}: cannot read the file: {e}",
            path.display()
        )])),
    };
    let config = Config {
        file: Some(path),
        vocabulary,
        report: true,
    };
    if let Ok(mut cache) = CACHE.lock() {
        cache
            .get_or_insert_with(HashMap::new)
            .insert(key, config.clone());
    }
    config
}

/// The crate whose trybuild case is being compiled, when the crate being
/// compiled is one of trybuild's: its cases then use that crate's words.
///
/// trybuild compiles the cases of crate `C` (`tests/ui/*-fail.rs`) as
/// binaries `trybuild000`, `trybuild001`, .. of a crate it generates,
/// `C-tests` in `<target>/tests/trybuild/C/`, whose `Cargo.toml` lists each
/// `[[bin]]` with the absolute path of its case file. So the manifest
/// directory of a case is not `C`'s, but its file is in `C`: the nearest
/// directory above it with a `Cargo.toml` is `C`'s, and its
/// `scopegate.toml` applies. `None` for any other crate.
fn trybuild_source(manifest_dir: &Path) -> Option<PathBuf> {
    let package = std::env::var("CARGO_PKG_NAME").ok()?;
    // Before reading anything: most crates are not `<crate>-tests`.
    package.strip_suffix("-tests")?;
    let bin = std::env::var("CARGO_BIN_NAME").ok()?;
    let manifest = std::fs::read_to_string(manifest_dir.join("Cargo.toml")).ok()?;
    let case = trybuild_case(manifest_dir, &package, &bin, &manifest)?;
    case.ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file())
        .map(Path::to_owned)
}

/// The file of the trybuild case `bin`, when `manifest_dir` (whose
/// `Cargo.toml` is `manifest`) is the crate trybuild generates for a crate's
/// cases: `<target>/tests/trybuild/<crate>/`, package `<crate>-tests`.
fn trybuild_case(manifest_dir: &Path, package: &str, bin: &str, manifest: &str) -> Option<PathBuf> {
    let name = package.strip_suffix("-tests")?;
    let mut up = manifest_dir.iter().rev();
    if (up.next()?, up.next()?, up.next()?)
        != (name.as_ref(), "trybuild".as_ref(), "tests".as_ref())
    {
        return None;
    }
    let manifest = DeTable::parse(manifest).ok()?;
    let Some(DeValue::Array(bins)) = manifest.get_ref().get("bin").map(Spanned::get_ref) else {
        return None;
    };
    bins.iter().find_map(|entry| {
        let DeValue::Table(entry) = entry.get_ref() else {
            return None;
        };
        let field = |key: &str| match entry.get(key).map(Spanned::get_ref) {
            Some(DeValue::String(s)) => Some(s.as_ref()),
            _ => None,
        };
        let path = Path::new(field("path")?);
        (field("name")? == bin && path.is_absolute()).then(|| path.to_owned())
    })
}

/// Checks the text of a `scopegate.toml` found at `path`: the vocabulary,
/// or every problem in it.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Vocabulary, Vec<String>> {
    let mut cx = FileCx {
        path,
        text,
        errors: Vec::new(),
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = if e.message() == "duplicate key" {
                let key = text.get(span.clone()).unwrap_or_default().trim();
                format!(
                    "`{key}` is declared twice: declare each key, and each \
                     `[owners.\"...\"]` table, once"
                )
            } else {
                format!("this is not valid TOML: {}", e.message())
            };
            cx.error(span, message);
            return Err(cx.errors);
        }
    };
    let vocabulary = cx.file(root.as_ref());
    match vocabulary {
        Some(v) if cx.errors.is_empty() => Ok(v),
        _ => Err(cx.errors),
    }
}

/// `[permissions]`, checked on its own, and where its parts were written,
/// for the checks against `[token]` and `[owners]`.
struct DeclaredPermissions {
    permissions: Permissions,
    /// The `claim` value, or the table when it is not written.
    claim_span: Range<usize>,
    /// Each name's, in order.
    name_spans: Vec<Range<usize>>,
}

/// The checks of one file, collecting its problems.
struct FileCx<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<String>,
}

type Entry<'t, 'i> = (&'t Spanned<Cow<'i, str>>, &'t Spanned<DeValue<'i>>);

/// A table's entries in the order the file lists them.
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// The registered claims the verifier reads itself: none of them carries
/// a token type.
const REGISTERED: [&str; 7] = ["sub", "exp", "iat", "nbf", "aud", "iss", "jti"];
/// The registered claims that are not strings: none of them holds an id.
const NOT_IDS: [&str; 4] = ["exp", "iat", "nbf", "aud"];

impl FileCx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = position(self.text, span.start);
        self.errors.push(format!(
            "{}:{line}:{column}: {}",
            self.path.display(),
            message.into()
        ));
    }

    /// Reports keys of `table` that are not in `known`; `table_name` names
    /// the table (`` `[token]` ``), empty for the top level.
    fn unknown_keys(&mut self, table: &DeTable<'_>, known: &[&str], table_name: &str) {
        let (place, owner) = if table_name.is_empty() {
            ("at the top level".to_owned(), "scopegate.toml")
        } else {
            (format!("in {table_name}"), table_name)
        };
        for (key, _) in entries(table) {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hints = suggest::near_misses(name, known);
            let fix = if hints.is_empty() {
                format!("{owner} takes {}", and_list(known))
            } else {
                format!("did you mean {}?", suggest::alternatives(&hints))
            };
            self.error(key.span(), format!("unknown key `{name}` {place}: {fix}"));
        }
    }

    fn file(&mut self, root: &DeTable<'_>) -> Option<Vocabulary> {
        self.unknown_keys(root, &["token", "owners", "permissions"], "");
        let permissions = root.get("permissions").map(|value| match value.get_ref() {
            DeValue::Table(t) => self.permissions(t, value.span()),
            _ => {
                self.error(
                    value.span(),
                    "`permissions` is a table: write `[permissions]` with `names = [..]` under it",
                );
                None
            }
        });
        let token = match root.get("token") {
            None if permissions.is_some() => Some(None),
            None => {
                self.error(
                    0..0,
                    "no `[token]` table: declare this crate's token types, e.g. \
                     `[token]` with `types = [\"execution\", \"workload\"]` and \
                     `default = \"execution\"`, or its permissions in `[permissions]` with \
                     `names = [..]`",
                );
                None
            }
            Some(value) => match value.get_ref() {
                // A crate of permissions whose `[token]` says only what a
                // `sub` looks like: its tokens still have no type.
                DeValue::Table(t)
                    if permissions.is_some()
                        && ["claim", "types", "default"]
                            .iter()
                            .all(|key| t.get(*key).is_none()) =>
                {
                    self.unknown_keys(t, &["claim", "types", "default", "subject"], "`[token]`");
                    Some(None)
                }
                DeValue::Table(t) => self.token(t, value.span()).map(Some),
                _ => {
                    self.error(
                        value.span(),
                        "`token` is a table: write `[token]` with `types = [..]` and \
                         `default = \"..\"` under it",
                    );
                    None
                }
            },
        };
        let owners = match root.get("owners") {
            None => Some(Vec::new()),
            Some(value) => match value.get_ref() {
                DeValue::Table(t) => self.owners(t),
                _ => {
                    self.error(
                        value.span(),
                        "`owners` is a table of tables: write `[owners.\"dag:self\"]` with \
                         `param = \"dag_id\"` under it",
                    );
                    None
                }
            },
        };
        let subject = match root.get("token").map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => self.subject(t),
            _ => Some(Subject::Uuid),
        };
        if let (Some(Some(declared)), Some(Some((claim, _, _)))) = (&permissions, &token) {
            self.permissions_against(declared, claim);
        }
        if let (Some(Some(declared)), Some(owners)) = (&permissions, &owners) {
            self.permissions_against_owners(declared, owners);
        }
        let permissions = match permissions {
            Some(declared) => Some(declared?.permissions),
            None => None,
        };
        let (claim, types, default) = token?.unwrap_or_default();
        Some(
            Vocabulary::with_permissions(
                claim,
                types,
                default,
                owners?,
                permissions,
                Some(self.path.to_owned()),
            )
            .with_subject(subject?),
        )
    }

    /// `[token] subject`: what a token's `sub` looks like; default "uuid".
    fn subject(&mut self, table: &DeTable<'_>) -> Option<Subject> {
        let Some(value) = table.get("subject") else {
            return Some(Subject::Uuid);
        };
        let written = self.string(value, "subject", "any")?;
        if let Some(found) = Subject::ALL.into_iter().find(|k| k.keyword() == written) {
            return Some(found);
        }
        let hint = match suggest::near_misses(&written, &Subject::ALL.map(Subject::keyword)).first()
        {
            Some(h) => format!("did you mean `subject = \"{h}\"`? Write"),
            None => "write".to_owned(),
        };
        self.error(
            value.span(),
            format!(
                "`subject = \"{written}\"` is not a subject format: {hint} `subject = \"uuid\"` \
                 (a token's `sub` is a UUID, as Airflow's task instance ids) or \
                 `subject = \"any\"` (any non-empty string: user names, account ids)"
            ),
        );
        None
    }

    /// `[permissions]`: the claim, the format and the names, with where
    /// each was written for later checks.
    fn permissions(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
    ) -> Option<DeclaredPermissions> {
        self.unknown_keys(table, &["claim", "format", "names"], "`[permissions]`");
        let before = self.errors.len();
        let (claim, claim_span) = match table.get("claim") {
            None => (Some("scope".to_owned()), span.clone()),
            Some(v) => {
                let claim = self.string(v, "claim", "scope").and_then(|c| {
                    if !c.is_empty() && !REGISTERED.contains(&c.as_str()) {
                        return Some(c);
                    }
                    self.error(
                        v.span(),
                        format!(
                            "`claim = \"{c}\"` cannot carry permissions{}: name the claim \
                             that does, e.g. `claim = \"scope\"`",
                            if c.is_empty() {
                                String::new()
                            } else {
                                format!(", the verifier checks `{c}` itself")
                            }
                        ),
                    );
                    None
                });
                (claim, v.span())
            }
        };
        let format = match table.get("format") {
            None => Some(Format::Space),
            Some(v) => self.string(v, "format", "space").and_then(|f| {
                if let Some(found) = Format::ALL.into_iter().find(|k| k.keyword() == f) {
                    return Some(found);
                }
                let hint = match suggest::near_misses(&f, &Format::ALL.map(Format::keyword)).first()
                {
                    Some(h) => format!("did you mean `format = \"{h}\"`? Write"),
                    None => "write".to_owned(),
                };
                self.error(
                    v.span(),
                    format!(
                        "`format = \"{f}\"` is not a permissions format: {hint} \
                         `format = \"space\"` (one string, names separated by spaces, as OAuth \
                         2's `scope`) or `format = \"array\"` (a JSON array of strings)"
                    ),
                );
                None
            }),
        };
        let names = match table.get("names") {
            None => {
                self.error(
                    span,
                    "`[permissions]` has no `names`: write the permissions this crate's routes \
                     require, e.g. `names = [\"reports:read\", \"ledger:admin\"]`",
                );
                None
            }
            Some(v) => self.permission_names(v),
        };
        if self.errors.len() != before {
            return None;
        }
        let (names, spans) = names?;
        Some(DeclaredPermissions {
            permissions: Permissions {
                claim: claim?,
                format: format?,
                names,
            },
            claim_span,
            name_spans: spans,
        })
    }

    /// `names = [..]`: a non-empty list of distinct scope-tokens, none of
    /// them a `token:*` scope.
    fn permission_names(
        &mut self,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<(Vec<String>, Vec<Range<usize>>)> {
        let example = "write e.g. `names = [\"reports:read\", \"ledger:admin\"]`";
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span(),
                format!("`names` is a list of strings: {example}"),
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                value.span(),
                format!(
                    "`names` is empty: write at least one permission, {}",
                    &example[6..]
                ),
            );
            return None;
        }
        if items.len() > MAX_PERMISSIONS {
            self.error(
                value.span(),
                format!(
                    "`names` lists {} permissions, and a crate may declare at most \
                     {MAX_PERMISSIONS}: remove some",
                    items.len()
                ),
            );
            return None;
        }
        let before = self.errors.len();
        let mut names: Vec<String> = Vec::new();
        let mut spans = Vec::new();
        for item in items.iter() {
            let DeValue::String(name) = item.get_ref() else {
                self.error(
                    item.span(),
                    "a permission is a string: write it in quotes, e.g. \"reports:read\"",
                );
                continue;
            };
            let name = name.as_ref();
            if let Some(rest) = name.strip_prefix("token:") {
                self.error(
                    item.span(),
                    format!(
                        "permission `{name}` cannot start with `token:`, which names token \
                         types: rename it, e.g. \"{}\"",
                        if rest.is_empty() { "admin" } else { rest }
                    ),
                );
            } else if !is_permission_name(name) {
                self.error(item.span(), bad_permission(name));
            } else if names.iter().any(|n| n == name) {
                self.error(
                    item.span(),
                    format!("permission `{name}` is listed twice in `names`: remove this one"),
                );
            } else {
                names.push(name.to_owned());
                spans.push(item.span());
            }
        }
        (self.errors.len() == before).then_some((names, spans))
    }

    /// `[permissions]` against `[token]`: their claims differ.
    fn permissions_against(&mut self, declared: &DeclaredPermissions, type_claim: &str) {
        let claim = &declared.permissions.claim;
        if claim == type_claim {
            self.error(
                declared.claim_span.clone(),
                format!(
                    "`[permissions]` reads its names from the claim `{claim}`, which is also \
                     `[token]`'s type claim: one claim cannot carry both a token type and \
                     permissions; name another claim for one of them, e.g. `claim = \"scp\"` \
                     in `[permissions]`"
                ),
            );
        }
    }

    /// `[permissions]` against `[owners."..."]`: no name is both.
    fn permissions_against_owners(&mut self, declared: &DeclaredPermissions, owners: &[Owner]) {
        for (name, span) in declared.permissions.names.iter().zip(&declared.name_spans) {
            if owners.iter().any(|o| o.scope == *name) {
                self.error(
                    span.clone(),
                    format!(
                        "permission `{name}` is also an owner scope, `[owners.\"{name}\"]`: a \
                         route could not tell which one it requires; rename one of them"
                    ),
                );
            }
        }
    }

    /// `[token]`: the claim, the types and the default.
    fn token(
        &mut self,
        table: &DeTable<'_>,
        span: Range<usize>,
    ) -> Option<(String, Vec<String>, usize)> {
        self.unknown_keys(
            table,
            &["claim", "types", "default", "subject"],
            "`[token]`",
        );
        let claim = match table.get("claim") {
            None => Some("scope".to_owned()),
            Some(v) => self
                .string(v, "claim", "scope")
                .and_then(|c| self.type_claim(c, v.span())),
        };
        let types = match table.get("types") {
            None => {
                self.error(
                    span.clone(),
                    "`[token]` has no `types`: write this crate's token types, e.g. \
                     `types = [\"execution\", \"workload\"]`",
                );
                None
            }
            Some(v) => self.types(v),
        };
        let default = match (table.get("default"), &types) {
            (None, _) => {
                let first = types
                    .as_ref()
                    .and_then(|t| t.first())
                    .map_or("execution", String::as_str);
                self.error(
                    span,
                    format!(
                        "`[token]` has no `default`: write the type of a token without the \
                         claim, which is also what a route with no `token:*` scope accepts, \
                         e.g. `default = \"{first}\"`"
                    ),
                );
                None
            }
            (Some(v), types) => {
                let example = types
                    .as_ref()
                    .and_then(|t| t.first())
                    .map_or("execution", String::as_str);
                let name = self.string(v, "default", example);
                match (name, types) {
                    (Some(name), Some(types)) => {
                        let found = types.iter().position(|t| *t == name);
                        if found.is_none() {
                            let names: Vec<&str> = types.iter().map(String::as_str).collect();
                            let hints = suggest::near_misses(&name, &names);
                            let fix = if hints.is_empty() {
                                format!("write one of {}", suggest::list(&names))
                            } else {
                                format!("did you mean {}?", suggest::alternatives(&hints))
                            };
                            self.error(
                                v.span(),
                                format!("`default = \"{name}\"` is not one of `types`: {fix}"),
                            );
                        }
                        found
                    }
                    _ => None,
                }
            }
        };
        Some((claim?, types?, default?))
    }

    /// The claim that carries the token type: not one the verifier owns.
    fn type_claim(&mut self, claim: String, span: Range<usize>) -> Option<String> {
        if claim.is_empty() || REGISTERED.contains(&claim.as_str()) {
            self.error(
                span,
                format!(
                    "`claim = \"{claim}\"` cannot carry the token type{}: name the claim \
                     that does, e.g. `claim = \"scope\"`",
                    if claim.is_empty() {
                        String::new()
                    } else {
                        format!(", the verifier checks `{claim}` itself")
                    }
                ),
            );
            return None;
        }
        Some(claim)
    }

    /// `types = [..]`: a non-empty list of distinct, well-formed names.
    fn types(&mut self, value: &Spanned<DeValue<'_>>) -> Option<Vec<String>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span(),
                "`types` is a list of strings: write e.g. `types = [\"execution\", \"workload\"]`",
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                value.span(),
                "`types` is empty: write at least one token type, e.g. `types = [\"execution\"]`",
            );
            return None;
        }
        if items.len() > MAX_TYPES {
            self.error(
                value.span(),
                format!(
                    "`types` lists {} token types, and a crate may declare at most \
                     {MAX_TYPES}: remove some",
                    items.len()
                ),
            );
            return None;
        }
        let before = self.errors.len();
        let mut types: Vec<String> = Vec::new();
        for item in items.iter() {
            let DeValue::String(name) = item.get_ref() else {
                self.error(
                    item.span(),
                    "a token type is a string: write it in quotes, e.g. \"execution\"",
                );
                continue;
            };
            let name = name.as_ref();
            if !is_type_name(name) {
                self.error(item.span(), bad_name("token type", name, is_type_name));
            } else if types.iter().any(|t| t == name) {
                self.error(
                    item.span(),
                    format!("token type `{name}` is listed twice in `types`: remove this one"),
                );
            } else {
                types.push(name.to_owned());
            }
        }
        (self.errors.len() == before).then_some(types)
    }

    /// `[owners."..."]` tables, in file order.
    fn owners(&mut self, table: &DeTable<'_>) -> Option<Vec<Owner>> {
        let before = self.errors.len();
        let mut owners = Vec::new();
        for (key, value) in entries(table) {
            let scope = key.get_ref().as_ref();
            let DeValue::Table(fields) = value.get_ref() else {
                self.error(
                    value.span(),
                    format!(
                        "`owners.\"{scope}\"` is a table: write `[owners.\"{scope}\"]` with \
                         `param = \"...\"` under it"
                    ),
                );
                continue;
            };
            if let Some(owner) = self.owner(scope, key.span(), fields) {
                owners.push(owner);
            }
        }
        (self.errors.len() == before).then_some(owners)
    }

    /// One `[owners."scope"]` table.
    fn owner(&mut self, scope: &str, span: Range<usize>, table: &DeTable<'_>) -> Option<Owner> {
        let name = format!("`[owners.\"{scope}\"]`");
        self.unknown_keys(table, &["param", "claim", "compare", "label"], &name);
        let before = self.errors.len();
        if let Some(ty) = scope.strip_prefix("token:") {
            self.error(
                span.clone(),
                format!(
                    "owner scope `{scope}` cannot start with `token:`, which names token \
                     types: rename it, e.g. `[owners.\"{}:self\"]`",
                    if ty.is_empty() { "x" } else { ty }
                ),
            );
        } else if !is_scope_name(scope) {
            self.error(span.clone(), bad_name("owner scope", scope, is_scope_name));
        }
        let stem: String = scope
            .split(':')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let example = if stem.is_empty() {
            "resource_id".to_owned()
        } else {
            format!("{stem}_id")
        };
        let param = match table.get("param") {
            None => {
                self.error(
                    span,
                    format!(
                        "`[owners.\"{scope}\"]` has no `param`: write the path parameter \
                         this scope guards, e.g. `param = \"{example}\"`"
                    ),
                );
                None
            }
            Some(v) => self.string(v, "param", &example).and_then(|p| {
                if is_ident(&p) {
                    return Some(p);
                }
                let fixed: String = p
                    .trim()
                    .chars()
                    .map(|c| if c == '-' || c == ' ' { '_' } else { c })
                    .collect();
                let fix = if is_ident(&fixed) {
                    fixed
                } else {
                    example.clone()
                };
                self.error(
                    v.span(),
                    format!(
                        "`param = \"{p}\"` is not a path parameter name: write an \
                         identifier, e.g. `param = \"{fix}\"`"
                    ),
                );
                None
            }),
        };
        let claim = match table.get("claim") {
            None => Some("sub".to_owned()),
            Some(v) => self.string(v, "claim", "sub").and_then(|c| {
                if !c.is_empty() && !NOT_IDS.contains(&c.as_str()) {
                    return Some(c);
                }
                self.error(
                    v.span(),
                    format!(
                        "`claim = \"{c}\"` cannot hold the owner's id: name the claim that \
                         does, e.g. `claim = \"sub\"`"
                    ),
                );
                None
            }),
        };
        let compare = match table.get("compare") {
            None => Some(Compare::Uuid),
            Some(v) => self.string(v, "compare", "uuid").and_then(|c| {
                let all = [Compare::Uuid, Compare::Exact];
                if let Some(found) = all.into_iter().find(|k| k.keyword() == c) {
                    return Some(found);
                }
                let hint = match suggest::near_misses(&c, &all.map(Compare::keyword)).first() {
                    Some(h) => format!("did you mean `compare = \"{h}\"`? Write"),
                    None => "write".to_owned(),
                };
                self.error(
                    v.span(),
                    format!(
                        "`compare = \"{c}\"` is not a comparison: {hint} `compare = \"uuid\"` \
                         (both parsed as UUIDs) or `compare = \"exact\"` (byte for byte)"
                    ),
                );
                None
            }),
        };
        let label = match table.get("label") {
            None => param.clone(),
            Some(v) => self.string(v, "label", "task instance ID").and_then(|l| {
                if !l.trim().is_empty() && !l.chars().any(char::is_control) {
                    return Some(l);
                }
                self.error(
                    v.span(),
                    "`label` names the parameter in the 403 (\"Token subject does not \
                     match <label>\"): write one line of text, e.g. `label = \"task instance ID\"`",
                );
                None
            }),
        };
        if self.errors.len() != before {
            return None;
        }
        Some(Owner {
            scope: scope.to_owned(),
            param: param?,
            claim: claim?,
            compare: compare?,
            label: label?,
        })
    }

    /// A string value, or an error that shows `key = "example"`.
    fn string(&mut self, value: &Spanned<DeValue<'_>>, key: &str, example: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref().to_owned()),
            other => {
                self.error(
                    value.span(),
                    format!(
                        "`{key}` is a string, not {}: write `{key} = \"{example}\"`",
                        article(other.type_str())
                    ),
                );
                None
            }
        }
    }
}

/// "an integer", "a table".
fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

/// `` `a`, `b` and `c` ``.
fn and_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => format!("{} and `{last}`", suggest::list(init)),
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// A token type: `[a-z0-9_-]+`, so `token:<type>` reads as one word and
/// fits an HTTP header unquoted.
fn is_type_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An owner scope: `[a-z0-9_.:-]+`, so it fits the `scope="..."` of a
/// `WWW-Authenticate` header.
fn is_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b':')
        })
}

/// A permission: RFC 6749's scope-token, printable ASCII without a space,
/// `"` or `\`, so it fits a `scope` claim and the `scope="..."` of a
/// `WWW-Authenticate` header as it is.
fn is_permission_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// The message for a permission with a forbidden character, with a fixed
/// spelling when there is an obvious one.
fn bad_permission(name: &str) -> String {
    let fixed: String = name
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('_'),
            '"' | '\\' => None,
            c if c.is_ascii_graphic() => Some(c),
            _ => None,
        })
        .collect();
    let what = format!(
        "permission `{}` must be printable ASCII without spaces, `\"` or `\\` (RFC 6749's \
         scope-token)",
        name.escape_debug()
    );
    if is_permission_name(&fixed) {
        format!("{what}: write \"{fixed}\"")
    } else {
        what
    }
}

/// The message for a malformed type or scope name, with a fixed spelling
/// when there is an obvious one.
fn bad_name(what: &str, name: &str, valid: fn(&str) -> bool) -> String {
    let allowed = if what == "token type" {
        "lower-case letters, digits, `_` and `-`"
    } else {
        "lower-case letters, digits, `_`, `-`, `.` and `:`"
    };
    let fixed: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .collect();
    if valid(&fixed) {
        format!("{what} `{name}` must be {allowed}: write \"{fixed}\"")
    } else {
        format!("{what} `{name}` must be {allowed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/svc/scopegate.toml";

    fn errors(text: &str) -> Vec<String> {
        let errs = parse(Path::new(PATH), text).expect_err("the file has mistakes");
        errs.into_iter()
            .map(|e| e.strip_prefix(PATH).expect("names the file").to_owned())
            .collect()
    }

    fn vocabulary(text: &str) -> Vocabulary {
        parse(Path::new(PATH), text).expect("a valid file")
    }

    /// SPEC §6's example: Airflow's own vocabulary, written out.
    const AIRFLOW: &str = r#"
[token]
claim = "scope"                     # the claim that carries the token type
types = ["execution", "workload"]
default = "execution"

[owners."ti:self"]
param = "task_instance_id"
claim = "sub"
compare = "uuid"
label = "task instance ID"

[owners."ct:self"]
param = "connection_test_id"
label = "connection test ID"
"#;

    #[test]
    fn the_spec_example_is_airflows_vocabulary() {
        let v = vocabulary(AIRFLOW);
        assert!(v.is_airflow());
        assert_eq!(v.file.as_deref(), Some(Path::new(PATH)));
        assert_eq!(
            v.names(),
            ["token:execution", "token:workload", "ti:self", "ct:self"],
            "owners keep the file's order"
        );
    }

    #[test]
    fn defaults_of_optional_keys() {
        let v = vocabulary(
            r#"
            [token]
            types = ["reader", "writer"]
            default = "writer"
            [owners."account:self"]
            param = "account"
            "#,
        );
        assert_eq!(v.claim, "scope");
        assert_eq!(v.default, 1);
        let o = &v.owners[0];
        assert_eq!(
            (o.claim.as_str(), o.compare, o.label.as_str()),
            ("sub", Compare::Uuid, "account")
        );
        let v = vocabulary("[token]\ntypes = [\"only\"]\ndefault = \"only\"\n");
        assert!(v.owners.is_empty());
        assert_eq!(v.names(), ["token:only"]);
    }

    #[test]
    fn malformed_toml_names_the_line() {
        assert_eq!(
            errors("[token]\ntypes = [\"a\", \"b\"\ndefault = \"a\"\n"),
            [":3:1: this is not valid TOML: missing comma between array elements, expected `,`"]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\"]\ndefault = \"a\"\n[owners.\"x:self\"]\nparam = \"x\"\n[owners.'x:self']\nparam = \"y\"\n"),
            [":6:9: `'x:self'` is declared twice: declare each key, and each \
              `[owners.\"...\"]` table, once"]
        );
    }

    #[test]
    fn unknown_keys_get_a_hint() {
        assert_eq!(
            errors(
                "[token]\ntypes = [\"a\"]\ndefaults = \"a\"\n\n[owners.\"x:self\"]\nparm = \"x\"\n\
                 [tokens]\n"
            ),
            [
                ":7:2: unknown key `tokens` at the top level: did you mean `token`?",
                ":3:1: unknown key `defaults` in `[token]`: did you mean `default`?",
                ":1:1: `[token]` has no `default`: write the type of a token without the claim, \
                 which is also what a route with no `token:*` scope accepts, e.g. `default = \"a\"`",
                ":6:1: unknown key `parm` in `[owners.\"x:self\"]`: did you mean `param`?",
                ":5:9: `[owners.\"x:self\"]` has no `param`: write the path parameter this scope \
                 guards, e.g. `param = \"x_id\"`",
            ]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\"]\ndefault = \"a\"\nexpiry = 3\n"),
            [":4:1: unknown key `expiry` in `[token]`: `[token]` takes `claim`, `types`, `default` and `subject`"]
        );
    }

    #[test]
    fn the_token_table() {
        assert_eq!(
            errors("# nothing\n"),
            [
                ":1:1: no `[token]` table: declare this crate's token types, e.g. `[token]` with \
              `types = [\"execution\", \"workload\"]` and `default = \"execution\"`, or its \
              permissions in `[permissions]` with `names = [..]`"
            ]
        );
        assert_eq!(
            errors("token = \"execution\"\n"),
            [
                ":1:9: `token` is a table: write `[token]` with `types = [..]` and \
              `default = \"..\"` under it"
            ]
        );
        assert_eq!(
            errors("[token]\ndefault = \"a\"\n"),
            [
                ":1:1: `[token]` has no `types`: write this crate's token types, e.g. \
              `types = [\"execution\", \"workload\"]`"
            ]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"execution\", \"workload\"]\ndefault = \"exec\"\n"),
            [":3:11: `default = \"exec\"` is not one of `types`: did you mean `execution`?"]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\", \"b\"]\ndefault = \"zzz\"\n"),
            [":3:11: `default = \"zzz\"` is not one of `types`: write one of `a`, `b`"]
        );
        assert_eq!(
            errors("[token]\ntypes = \"a\"\ndefault = 1\n"),
            [
                ":2:9: `types` is a list of strings: write e.g. `types = [\"execution\", \"workload\"]`",
                ":3:11: `default` is a string, not an integer: write `default = \"execution\"`",
            ]
        );
        assert_eq!(
            errors("[token]\ntypes = []\ndefault = \"a\"\n"),
            [":2:9: `types` is empty: write at least one token type, e.g. `types = [\"execution\"]`"]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\", \"Big One\", \"a\", 3, \"b c!\"]\ndefault = \"a\"\n"),
            [
                ":2:15: token type `Big One` must be lower-case letters, digits, `_` and `-`: \
                 write \"big_one\"",
                ":2:26: token type `a` is listed twice in `types`: remove this one",
                ":2:31: a token type is a string: write it in quotes, e.g. \"execution\"",
                ":2:34: token type `b c!` must be lower-case letters, digits, `_` and `-`",
            ]
        );
        let many: Vec<String> = (0..65).map(|i| format!("\"t{i}\"")).collect();
        assert_eq!(
            errors(&format!("[token]\ntypes = [{}]\ndefault = \"t0\"\n", many.join(", "))),
            [":2:9: `types` lists 65 token types, and a crate may declare at most 64: remove some"]
        );
        let most: Vec<String> = (0..64).map(|i| format!("\"t{i}\"")).collect();
        let v = vocabulary(&format!(
            "[token]\ntypes = [{}]\ndefault = \"t63\"\n",
            most.join(", ")
        ));
        assert_eq!((v.types.len(), v.default), (64, 63));
        assert_eq!(
            errors("[token]\nclaim = \"sub\"\ntypes = [\"a\"]\ndefault = \"a\"\n"),
            [
                ":2:9: `claim = \"sub\"` cannot carry the token type, the verifier checks `sub` \
              itself: name the claim that does, e.g. `claim = \"scope\"`"
            ]
        );
        assert_eq!(
            errors("[token]\nclaim = \"\"\ntypes = [\"a\"]\ndefault = \"a\"\n"),
            [
                ":2:9: `claim = \"\"` cannot carry the token type: name the claim that does, e.g. \
              `claim = \"scope\"`"
            ]
        );
    }

    /// Issue 24: `[token] subject` says what a `sub` looks like, so that
    /// the verifier and the testing kit built from the vocabulary follow
    /// it.
    #[test]
    fn the_subject_format() {
        let v = vocabulary("[token]\ntypes = [\"a\"]\ndefault = \"a\"\n");
        assert_eq!(v.subject, Subject::Uuid, "the default is Airflow's");
        let v = vocabulary("[token]\ntypes = [\"a\"]\ndefault = \"a\"\nsubject = \"any\"\n");
        assert_eq!(v.subject, Subject::Any);
        let v = vocabulary(&AIRFLOW.replace(
            "default = \"execution\"",
            "default = \"execution\"\nsubject = \"uuid\"",
        ));
        assert!(v.is_airflow(), "`subject = \"uuid\"` is Airflow's");
        let v = vocabulary(&AIRFLOW.replace(
            "default = \"execution\"",
            "default = \"execution\"\nsubject = \"any\"",
        ));
        assert!(
            !v.is_airflow(),
            "Airflow's words with any subject are not Airflow's"
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\"]\ndefault = \"a\"\nsubject = \"uuids\"\n"),
            [
                ":4:11: `subject = \"uuids\"` is not a subject format: did you mean \
              `subject = \"uuid\"`? Write `subject = \"uuid\"` (a token's `sub` is a UUID, as \
              Airflow's task instance ids) or `subject = \"any\"` (any non-empty string: user \
              names, account ids)"
            ]
        );
        assert_eq!(
            errors("[token]\ntypes = [\"a\"]\ndefault = \"b\"\nsubject = true\n"),
            [
                ":3:11: `default = \"b\"` is not one of `types`: did you mean `a`?",
                ":4:11: `subject` is a string, not a boolean: write `subject = \"any\"`",
            ]
        );
    }

    const TOKEN: &str = "[token]\ntypes = [\"a\"]\ndefault = \"a\"\n";

    #[test]
    fn owner_tables() {
        assert_eq!(
            errors(&format!("{TOKEN}[owners.\"dag:self\"]\nlabel = \"DAG\"\n")),
            [":4:9: `[owners.\"dag:self\"]` has no `param`: write the path parameter this scope \
              guards, e.g. `param = \"dag_id\"`"]
        );
        assert_eq!(
            errors(&format!(
                "{TOKEN}[owners.\"dag:self\"]\nparam = \"dag-id\"\ncompare = \"exakt\"\n\
                 claim = \"exp\"\nlabel = \"\"\n"
            )),
            [
                ":5:9: `param = \"dag-id\"` is not a path parameter name: write an identifier, \
                 e.g. `param = \"dag_id\"`",
                ":7:9: `claim = \"exp\"` cannot hold the owner's id: name the claim that does, \
                 e.g. `claim = \"sub\"`",
                ":6:11: `compare = \"exakt\"` is not a comparison: did you mean \
                 `compare = \"exact\"`? Write `compare = \"uuid\"` (both parsed as UUIDs) or \
                 `compare = \"exact\"` (byte for byte)",
                ":8:9: `label` names the parameter in the 403 (\"Token subject does not match \
                 <label>\"): write one line of text, e.g. `label = \"task instance ID\"`",
            ]
        );
        assert_eq!(
            errors(&format!(
                "{TOKEN}[owners.\"token:admin\"]\nparam = \"x\"\n[owners.\"Dag Self\"]\nparam = \"y\"\n"
            )),
            [
                ":4:9: owner scope `token:admin` cannot start with `token:`, which names token \
                 types: rename it, e.g. `[owners.\"admin:self\"]`",
                ":6:9: owner scope `Dag Self` must be lower-case letters, digits, `_`, `-`, `.` \
                 and `:`: write \"dag_self\"",
            ]
        );
        assert_eq!(
            errors(&format!("owners = [\"x\"]\n{TOKEN}")),
            [
                ":1:10: `owners` is a table of tables: write `[owners.\"dag:self\"]` with \
              `param = \"dag_id\"` under it"
            ]
        );
        assert_eq!(
            errors(&format!("{TOKEN}[owners]\n\"x:self\" = \"x_id\"\n")),
            [
                ":5:12: `owners.\"x:self\"` is a table: write `[owners.\"x:self\"]` with \
              `param = \"...\"` under it"
            ]
        );
        let v = vocabulary(&format!(
            "{TOKEN}[owners.\"b:self\"]\nparam = \"b\"\ncompare = \"exact\"\nclaim = \"acct\"\n\
             [owners.\"a:self\"]\nparam = \"a\"\n"
        ));
        assert_eq!(v.names(), ["token:a", "b:self", "a:self"]);
        assert_eq!(v.owners[0].compare, Compare::Exact);
        assert_eq!(v.owners[0].claim, "acct");
    }

    /// Issue 24: a trybuild case of a crate is compiled in a crate trybuild
    /// generates; it is recognised by its place, its name and its `[[bin]]`.
    #[test]
    fn a_trybuild_case_is_found_in_the_generated_manifest() {
        let dir = Path::new("/w/target/tests/trybuild/notes");
        let manifest = r#"
[package]
name = "notes-tests"
version = "0.0.0"

[dependencies.notes]
path = "/w/notes"

[[bin]]
name = "notes-tests"
path = "main.rs"

[[bin]]
name = "trybuild000"
path = "/w/notes/tests/ui/owner-typo-fail.rs"

[[bin]]
name = "trybuild001"
path = "/w/notes/tests/ui/ti-token-fail.rs"
"#;
        assert_eq!(
            trybuild_case(dir, "notes-tests", "trybuild001", manifest),
            Some(PathBuf::from("/w/notes/tests/ui/ti-token-fail.rs"))
        );
        assert_eq!(
            trybuild_case(dir, "notes-tests", "notes-tests", manifest),
            None,
            "trybuild's own main.rs is no case"
        );
        assert_eq!(
            trybuild_case(dir, "notes-tests", "trybuild009", manifest),
            None
        );
        assert_eq!(
            trybuild_case(dir, "notes", "trybuild001", manifest),
            None,
            "not a `-tests` package"
        );
        assert_eq!(
            trybuild_case(
                Path::new("/w/notes-tests"),
                "notes-tests",
                "trybuild001",
                manifest
            ),
            None,
            "not under tests/trybuild"
        );
        assert_eq!(
            trybuild_case(
                Path::new("/w/target/tests/trybuild/other"),
                "notes-tests",
                "trybuild001",
                manifest
            ),
            None
        );
    }

    const PERMISSIONS: &str = "[permissions]\nnames = [\"reports:read\", \"ledger:admin\"]\n";

    /// Issue 24's gap after issue 19: a crate of permissions alone says its
    /// subject format in a `[token]` that has nothing else, and stays
    /// untyped.
    #[test]
    fn permissions_with_a_token_table_of_only_the_subject() {
        let v = vocabulary(&format!("{PERMISSIONS}\n[token]\nsubject = \"any\"\n"));
        assert!(!v.typed());
        assert_eq!(v.subject, Subject::Any);
        assert_eq!(v.names(), ["reports:read", "ledger:admin"]);
        // Anything else in that table is still checked, and a `[token]`
        // with types still needs its default.
        assert_eq!(
            errors(&format!(
                "{PERMISSIONS}\n[token]\nsubject = \"any\"\nsubjects = 1\n"
            )),
            [":6:1: unknown key `subjects` in `[token]`: did you mean `subject`?"]
        );
        assert!(!errors(&format!("{PERMISSIONS}\n[token]\ntypes = [\"a\"]\n")).is_empty());
    }

    #[test]
    fn permissions_alone_make_a_vocabulary_without_types() {
        let v = vocabulary(PERMISSIONS);
        assert!(!v.typed());
        assert!(!v.is_airflow());
        let p = v.permissions.as_ref().unwrap();
        assert_eq!((p.claim.as_str(), p.format), ("scope", Format::Space));
        assert_eq!(v.names(), ["reports:read", "ledger:admin"]);
        let v = vocabulary(&format!(
            "{TOKEN}[permissions]\nclaim = \"roles\"\nformat = \"array\"\nnames = [\"a:b\", \"x!\"]\n\
             [owners.\"a:self\"]\nparam = \"a\"\n"
        ));
        assert!(v.typed());
        assert_eq!(v.names(), ["token:a", "a:self", "a:b", "x!"]);
        assert_eq!(v.permissions.unwrap().format, Format::Array);
    }

    #[test]
    fn mistakes_in_permissions() {
        assert_eq!(
            errors("[permissions]\nformat = \"spaces\"\nnames = [\"a\"]\n"),
            [
                ":2:10: `format = \"spaces\"` is not a permissions format: did you mean \
              `format = \"space\"`? Write `format = \"space\"` (one string, names separated by \
              spaces, as OAuth 2's `scope`) or `format = \"array\"` (a JSON array of strings)"
            ]
        );
        assert_eq!(
            errors(
                "[permissions]\nnames = [\"token:admin\", \"a b\", \"ok\", \"ok\", \"q\\\"\", 3]\n"
            ),
            [
                ":2:10: permission `token:admin` cannot start with `token:`, which names token \
                 types: rename it, e.g. \"admin\"",
                ":2:25: permission `a b` must be printable ASCII without spaces, `\"` or `\\` \
                 (RFC 6749's scope-token): write \"a_b\"",
                ":2:38: permission `ok` is listed twice in `names`: remove this one",
                ":2:44: permission `q\\\"` must be printable ASCII without spaces, `\"` or `\\` \
                 (RFC 6749's scope-token): write \"q\"",
                ":2:51: a permission is a string: write it in quotes, e.g. \"reports:read\"",
            ]
        );
        assert_eq!(
            errors(&format!("{TOKEN}[permissions]\nnames = [\"a\"]\n")),
            [
                ":4:1: `[permissions]` reads its names from the claim `scope`, which is also \
              `[token]`'s type claim: one claim cannot carry both a token type and permissions; \
              name another claim for one of them, e.g. `claim = \"scp\"` in `[permissions]`"
            ]
        );
        assert_eq!(
            errors(&format!(
                "{TOKEN}[permissions]\nclaim = \"scp\"\nnames = [\"a:self\"]\n\
                 [owners.\"a:self\"]\nparam = \"a\"\n"
            )),
            [":6:10: permission `a:self` is also an owner scope, `[owners.\"a:self\"]`: a route \
              could not tell which one it requires; rename one of them"]
        );
        assert_eq!(
            errors("[permissions]\nclaim = \"sub\"\nnames = []\nformt = 1\n"),
            [
                ":4:1: unknown key `formt` in `[permissions]`: did you mean `format`?",
                ":2:9: `claim = \"sub\"` cannot carry permissions, the verifier checks `sub` \
                 itself: name the claim that does, e.g. `claim = \"scope\"`",
                ":3:9: `names` is empty: write at least one permission, e.g. \
                 `names = [\"reports:read\", \"ledger:admin\"]`",
            ]
        );
        assert_eq!(
            errors("[permissions]\nclaim = \"scp\"\n"),
            [
                ":1:1: `[permissions]` has no `names`: write the permissions this crate's routes \
              require, e.g. `names = [\"reports:read\", \"ledger:admin\"]`"
            ]
        );
        let many: Vec<String> = (0..65).map(|i| format!("\"p{i}\"")).collect();
        assert_eq!(
            errors(&format!("[permissions]\nnames = [{}]\n", many.join(", "))),
            [":2:9: `names` lists 65 permissions, and a crate may declare at most 64: remove some"]
        );
        assert_eq!(
            errors("permissions = [\"a\"]\n"),
            [":1:15: `permissions` is a table: write `[permissions]` with `names = [..]` under it"]
        );
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(position("ab\ncd", 0), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é\nx", 3), (2, 1));
        assert_eq!(position("éx", 2), (1, 2));
    }

    #[test]
    fn without_a_manifest_dir_the_vocabulary_is_airflows() {
        let c = Config::airflow();
        assert!(c.file.is_none());
        assert!(c.tracking().is_empty());
        assert!(c.vocabulary.unwrap().is_airflow());
    }
}
