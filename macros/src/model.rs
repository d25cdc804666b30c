//! Raw arguments -> the checked model of one route (groups are in
//! [`crate::group`]).
//!
//! Every rule of a route lives here: method, path, options, scopes against
//! the crate's vocabulary (token types, owners and their parameters,
//! permissions, `any(..)` and its type predicates), guards, and the
//! ownership lint. Each check reports into a [`Ctxt`] and carries on, so one build
//! shows every mistake; a route with any error has no checked form, and
//! [`crate::expand`] emits a stub for it.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::Arc;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, Ident, ItemFn, Lit, LitStr, PathArguments,
    Type,
};

use crate::actix::{self, ActixRoute};
use crate::cfg::Conditions;
use crate::config::{self, Config};
use crate::doc::{self, DeclaredResponse, Documentation};
use crate::parse::{GroupArgs, RawOption, RawValue, RouteArgs};
use crate::path::RoutePath;
use crate::scopes::{self, Item, ResolvedAny, ScopeExpr};
use crate::suggest;
use crate::vocab::{Compare, Effect, Subject, Vocabulary};

/// Collects every error of one macro invocation, like serde_derive's
/// `Ctxt`.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// Records an error at `span`.
    pub(crate) fn error(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn error_spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error from syn.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub(crate) fn count(&self) -> usize {
        self.errors.len()
    }

    /// Every error, combined into one, or `None` when all was well.
    pub(crate) fn finish(self) -> Option<syn::Error> {
        self.errors.into_iter().reduce(|mut all, e| {
            all.combine(e);
            all
        })
    }
}

/// The HTTP methods a route may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Trace,
}

impl Method {
    pub(crate) const ALL: [Method; 8] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
        Method::Trace,
    ];

    /// How the method is written in `#[route(..)]`: `patch`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
            Method::Head => "head",
            Method::Options => "options",
            Method::Trace => "trace",
        }
    }

    /// The method whose keyword is `keyword` (also actix's macro names).
    pub(crate) fn from_keyword(keyword: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.keyword() == keyword)
    }

    /// The method on the wire: `PATCH`.
    pub(crate) fn upper(self) -> String {
        self.keyword().to_ascii_uppercase()
    }

    /// The name of actix's guard function: `Patch`.
    pub(crate) fn guard(self) -> String {
        let kw = self.keyword();
        kw[..1].to_ascii_uppercase() + &kw[1..]
    }

    fn check(cx: &mut Ctxt, ident: &Ident) -> Option<Method> {
        let written = ident.to_string();
        if let Some(m) = Method::from_keyword(&written) {
            return Some(m);
        }
        let keywords = Method::ALL.map(Method::keyword);
        let hints = suggest::near_misses(&written, &keywords);
        let message = match hints.as_slice() {
            [one] if *one == written.to_lowercase() => {
                format!("HTTP methods are written in lower case: write `{one}`")
            }
            [] => format!(
                "unknown HTTP method `{written}`: write one of {}",
                suggest::list(&keywords)
            ),
            hints => format!(
                "unknown HTTP method `{written}`: did you mean {}?",
                suggest::alternatives(hints)
            ),
        };
        cx.error(ident.span(), message);
        None
    }
}

/// The access policy of a checked route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// No token needed.
    Public,
    /// A token of one of `token_types` (indexes into the vocabulary's
    /// types; never empty) that passes every check of `checks`, in order,
    /// and then every guard of `guards`, in order.
    Protected {
        token_types: BTreeSet<usize>,
        /// The owners the route requires outside `any(..)` (indexes into
        /// the vocabulary's owners), as route information lists them.
        owners: Vec<usize>,
        /// Every requirement after the type, in declaration order, the
        /// enclosing groups' first.
        checks: Vec<Check>,
        /// The guards, outer groups' first, then the route's, in order.
        guards: Vec<GuardRef>,
    },
}

/// A guard, as `guard = ..` names it: a path to a `#[scopegate::guard]`.
#[derive(Clone)]
pub(crate) struct GuardRef {
    pub(crate) path: syn::Path,
}

impl GuardRef {
    /// The path as written, without spaces.
    pub(crate) fn text(&self) -> String {
        path_text(&self.path)
    }

    /// The guard's name, as route information shows it: the last segment
    /// of its path (the function's name).
    pub(crate) fn name(&self) -> String {
        self.path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for GuardRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl PartialEq for GuardRef {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for GuardRef {}

/// One requirement of a route, after its token type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// The owner at this index.
    Owner(usize),
    /// The permission at this index.
    Permission(usize),
    /// `any(..)`: one of the alternatives, each all of its atoms.
    Any(Vec<Vec<Atom>>),
}

/// One condition inside `any(..)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Atom {
    Owner(usize),
    Permission(usize),
    /// The token is of the type at this index (a predicate).
    Type(usize),
}

impl Policy {
    /// Whether the route needs more than its owners to describe its checks
    /// (a permission or an `any(..)`).
    pub(crate) fn has_requirements(&self) -> bool {
        match self {
            Policy::Public => false,
            Policy::Protected { checks, .. } => checks
                .iter()
                .any(|c| matches!(c, Check::Permission(_) | Check::Any(_))),
        }
    }
}

/// What the groups around a route contribute to it, and the crate's
/// vocabulary.
#[derive(Clone)]
pub(crate) struct Enclosing {
    pub(crate) vocab: Arc<Vocabulary>,
    /// The crate's `scopegate.toml` has errors: scopes cannot be checked,
    /// so nothing is checked against them and every route is a stub.
    pub(crate) unchecked: bool,
    /// An enclosing group's arguments have errors: the route is still
    /// checked, but not by the rules that need all its scopes (the
    /// ownership lint), which would only add noise.
    pub(crate) broken: bool,
    pub(crate) prefix: RoutePath,
    /// The `prefix` literals, outermost first, for error messages.
    pub(crate) prefix_text: String,
    pub(crate) token_types: BTreeSet<usize>,
    /// Owners and the group that declared each.
    pub(crate) owners: Vec<(usize, Ident)>,
    /// Every scope item of the groups, in order, and the group that
    /// declared each.
    pub(crate) items: Vec<(Item, Ident)>,
    /// The guards of the groups, outer first, and the group of each.
    pub(crate) guards: Vec<(syn::Path, Ident)>,
    /// The outermost group that declares scopes.
    pub(crate) scoped_group: Option<Ident>,
    /// The outermost group that declares guards.
    pub(crate) guarded_group: Option<Ident>,
    /// The `#[cfg]`s of the nested groups around the route.
    pub(crate) conditions: Conditions,
    /// The modules of the groups around the route, outermost first.
    pub(crate) modules: Vec<Ident>,
}

impl Default for Enclosing {
    /// Airflow's vocabulary, no group.
    fn default() -> Self {
        Enclosing::top(Vocabulary::airflow())
    }
}

impl Enclosing {
    /// Outside every group, with `vocab`.
    pub(crate) fn top(vocab: Arc<Vocabulary>) -> Enclosing {
        Enclosing {
            vocab,
            unchecked: false,
            broken: false,
            prefix: RoutePath::default(),
            prefix_text: String::new(),
            token_types: BTreeSet::new(),
            owners: Vec::new(),
            items: Vec::new(),
            guards: Vec::new(),
            scoped_group: None,
            guarded_group: None,
            conditions: Conditions::default(),
            modules: Vec::new(),
        }
    }

    /// Outside every group, with the crate's configuration: its vocabulary,
    /// or, when its `scopegate.toml` has errors, those errors (at
    /// `Span::call_site()`, the macro's attribute) and nothing checked.
    pub(crate) fn from_config(cx: &mut Ctxt, config: &Config) -> Enclosing {
        match &config.vocabulary {
            Ok(vocab) => Enclosing::top(Arc::clone(vocab)),
            Err(_) => {
                for message in config.errors() {
                    cx.error(Span::call_site(), message);
                }
                let mut enclosing = Enclosing::top(Vocabulary::airflow());
                enclosing.unchecked = true;
                enclosing
            }
        }
    }
}

/// How a handler was declared.
pub(crate) enum Form {
    /// scopegate's `#[route(METHOD, "PATH", ..)]`.
    Route,
    /// `#[protect(..)]` above an actix-web route attribute, which stays in
    /// the handler's attributes; `None` when there is none.
    Protect(Option<Box<ActixRoute>>),
}

/// A `#[route]` or `#[protect]` handler and, when it has no errors, its
/// checked form.
pub(crate) struct Route {
    /// The handler, without its `#[route]` or `#[protect]` attribute.
    pub(crate) func: ItemFn,
    pub(crate) form: Form,
    pub(crate) checked: Option<Checked>,
    /// When the route exists: its own `#[cfg]`s and its nested groups'.
    pub(crate) conditions: Conditions,
}

/// A route that passed every check.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) method: Method,
    /// The full path, group prefixes included.
    pub(crate) path: RoutePath,
    /// Where the route's own path literal is.
    pub(crate) path_span: Span,
    pub(crate) policy: Policy,
    /// The vocabulary the policy's indexes refer to.
    pub(crate) vocab: Arc<Vocabulary>,
    /// What the route documents in OpenAPI.
    pub(crate) doc: Documentation,
}

/// A route's options, read and checked for shape.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) scopes: Option<(Ident, Vec<ScopeExpr>)>,
    /// `guard = path` or `guard = [a, b]`.
    pub(crate) guard: Option<(Ident, Vec<syn::Path>)>,
    pub(crate) public: Option<Ident>,
    pub(crate) prefix: Option<LitStr>,
    pub(crate) unowned: Option<(Ident, Vec<LitStr>)>,
    /// `request = T`: the documented JSON request body.
    pub(crate) request: Option<(Ident, Type)>,
    /// `responses(..)`: the documented responses.
    pub(crate) responses: Option<(Ident, Vec<DeclaredResponse>)>,
    /// `include = [..]`: the groups in their own files this group includes.
    pub(crate) include: Option<(Ident, Vec<syn::Path>)>,
    /// `included`: this group is in its own file, included by another.
    pub(crate) included: Option<Ident>,
}

/// Which macro an option list belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    Route,
    Group,
    Protect,
}

impl Macro {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Macro::Route => &[
                "scopes",
                "public",
                "unowned",
                "guard",
                "request",
                "responses",
            ],
            Macro::Group => &["prefix", "scopes", "guard", "include", "included"],
            Macro::Protect => &["scopes", "unowned", "guard", "request", "responses"],
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Macro::Route => {
                "`#[route]` takes `scopes = [\"...\"]` or `public`, and `unowned = [\"...\"]`, \
                 `guard = ..`, `request = T` and `responses(..)`"
            }
            Macro::Group => {
                "`#[routes]` takes `prefix = \"/...\"`, `scopes = [\"...\"]`, `guard = ..`, \
                 `include = [file::group, ..]` and `included`"
            }
            Macro::Protect => {
                "`#[protect]` takes `scopes = [\"...\"]`, `unowned = [\"...\"]`, `guard = ..`, \
                 `request = T` and `responses(..)`"
            }
        }
    }
}

/// `include = [path, ..]`: the groups to include, each named by its path
/// (`xcoms::xcoms`: the group `xcoms` of the file module `xcoms`).
fn include_list(cx: &mut Ctxt, key: &Ident, value: Option<Expr>) -> Option<Vec<syn::Path>> {
    const USAGE: &str = "`include` takes a list of groups in their own files, each by its path: \
                         write `include = [xcoms::xcoms]` for `#[routes(.., included)] mod xcoms` \
                         in the file module `xcoms`";
    let Some(Expr::Array(array)) = value else {
        cx.error(key.span(), USAGE);
        return None;
    };
    let mut paths: Vec<syn::Path> = Vec::new();
    for elem in array.elems {
        match elem {
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
                let path = p.path;
                let text = path.to_token_stream().to_string();
                if paths
                    .iter()
                    .any(|q| q.to_token_stream().to_string() == text)
                {
                    cx.error_spanned(
                        &path,
                        format!(
                            "`{}` is included twice: remove this one",
                            text.replace(" :: ", "::")
                        ),
                    );
                } else {
                    paths.push(path);
                }
            }
            other => cx.error_spanned(other, USAGE),
        }
    }
    Some(paths)
}

/// A list of string literals, `key = ["..", ..]`.
fn string_list(
    cx: &mut Ctxt,
    key: &Ident,
    value: Option<Expr>,
    usage: &str,
    element: &str,
) -> Option<Vec<LitStr>> {
    match value {
        Some(Expr::Array(array)) => {
            let mut lits = Vec::new();
            for elem in array.elems {
                match elem {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => lits.push(lit),
                    other => cx.error_spanned(other, element),
                }
            }
            Some(lits)
        }
        _ => {
            cx.error(key.span(), usage);
            None
        }
    }
}

pub(crate) fn read_options(cx: &mut Ctxt, raw: Vec<RawOption>, owner: Macro) -> Options {
    let mut options = Options::default();
    let mut seen: Vec<String> = Vec::new();
    for RawOption {
        key,
        value: raw_value,
    } in raw
    {
        let name = key.to_string();
        if owner == Macro::Protect && name == "public" {
            cx.error(
                key.span(),
                "`#[protect]` always needs a token: a handler that needs none is simply not \
                 scopegate's, so remove `#[protect]` (inside a `#[routes]` group, declare it \
                 with `#[route(get, \"/..\", public)]`)",
            );
            continue;
        }
        if !owner.keys().contains(&name.as_str()) {
            let hints = suggest::near_misses(&name, owner.keys());
            if hints.is_empty() {
                cx.error(
                    key.span(),
                    format!("unknown option `{name}`: {}", owner.usage()),
                );
            } else {
                cx.error(
                    key.span(),
                    format!(
                        "unknown option `{name}`: did you mean {}?",
                        suggest::alternatives(&hints)
                    ),
                );
            }
            continue;
        }
        if seen.contains(&name) {
            let fix = if matches!(name.as_str(), "scopes" | "unowned" | "guard") {
                "merge them into one list"
            } else {
                "remove this one"
            };
            cx.error(key.span(), format!("`{name}` is given twice: {fix}"));
            continue;
        }
        seen.push(name.clone());
        let value = match raw_value {
            RawValue::Type(ty) if name == "request" => {
                options.request = Some((key, ty));
                continue;
            }
            RawValue::List(list) if name == "responses" => {
                options.responses = doc::responses(cx, &key, &list).map(|r| (key, r));
                continue;
            }
            RawValue::None => None,
            RawValue::Expr(e) => Some(e),
            RawValue::Type(ty) => Some(Expr::Verbatim(ty.into_token_stream())),
            RawValue::List(list) => Some(Expr::Verbatim(list.into_token_stream())),
        };
        match name.as_str() {
            "request" => cx.error(
                key.span(),
                "`request` takes the type of the JSON request body: write `request = MyBody`",
            ),
            "responses" => cx.error(
                key.span(),
                "`responses` takes a list of statuses in parentheses: write \
                 `responses(201 = MyBody, 404)`",
            ),
            "public" => match value {
                None => options.public = Some(key),
                Some(v) => cx.error_spanned(v, "`public` takes no value: write `public`"),
            },
            "included" => match value {
                None => options.included = Some(key),
                Some(v) => cx.error_spanned(v, "`included` takes no value: write `included`"),
            },
            "include" => options.include = include_list(cx, &key, value).map(|l| (key, l)),
            "prefix" => match value {
                Some(Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                })) => options.prefix = Some(lit),
                _ => cx.error(
                    key.span(),
                    "`prefix` takes a string: write `prefix = \"/task-instances\"`",
                ),
            },
            "unowned" => {
                let lits = string_list(
                    cx,
                    &key,
                    value,
                    "`unowned` takes a list of path parameter names: write \
                     `unowned = [\"task_instance_id\"]`",
                    "a path parameter name is a string literal: write e.g. `\"task_instance_id\"`",
                );
                options.unowned = lits.map(|l| (key, l));
            }
            "guard" => {
                options.guard = guards(cx, &key, value).map(|g| (key, g));
            }
            _ => {
                options.scopes = scopes::read(cx, &key, value).map(|l| (key, l));
            }
        }
    }
    options
}

/// `guard = path` or `guard = [a, b]`: the guards, in order; a repeat is
/// reported.
fn guards(cx: &mut Ctxt, key: &Ident, value: Option<Expr>) -> Option<Vec<syn::Path>> {
    let usage = "`guard` takes a guard or a list of guards: write `guard = my_guard` or \
                 `guard = [first, second]`";
    let elems: Vec<Expr> = match value {
        Some(Expr::Path(p)) => vec![Expr::Path(p)],
        Some(Expr::Array(array)) => array.elems.into_iter().collect(),
        _ => {
            cx.error(key.span(), usage);
            return None;
        }
    };
    let mut paths: Vec<syn::Path> = Vec::new();
    for elem in elems {
        match elem {
            Expr::Path(p) if p.qself.is_none() => {
                let text = path_text(&p.path);
                if paths.iter().any(|q| path_text(q) == text) {
                    cx.error_spanned(
                        &p.path,
                        format!("guard `{text}` is listed twice: remove this one"),
                    );
                } else {
                    paths.push(p.path);
                }
            }
            other => cx.error_spanned(other, usage),
        }
    }
    Some(paths)
}

/// A path as written, without spaces: `guards::xcom_access`.
pub(crate) fn path_text(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// The scope items of `scopes = [..]` in the vocabulary, or none when the
/// crate's `scopegate.toml` has errors.
pub(crate) fn resolve_items(
    cx: &mut Ctxt,
    enclosing: &Enclosing,
    exprs: &[ScopeExpr],
) -> Vec<Item> {
    if enclosing.unchecked {
        return Vec::new();
    }
    scopes::resolve(cx, &enclosing.vocab, exprs)
}

/// The rules of a parameter that takes the rest of the path (SPEC §2) that
/// one path literal cannot tell: one per full path, the enclosing prefix
/// included, and never a parameter that an owner guards (its value spans
/// segments; an owner compares one). Reported at `span`, the literal of
/// `own`.
pub(crate) fn check_tail(cx: &mut Ctxt, enclosing: &Enclosing, own: &RoutePath, span: Span) {
    let Some(tail) = own.tail() else {
        return;
    };
    if let Some(first) = enclosing.prefix.tail() {
        cx.error(
            span,
            format!(
                "`<{first}:path>` in the group prefix \"{}\" already takes the rest of the \
                 path, and a path has at most one: write `<{tail}>` for one segment",
                enclosing.prefix_text
            ),
        );
    }
    if enclosing.unchecked {
        return;
    }
    let vocab = &enclosing.vocab;
    let guards = vocab.owners_of(tail);
    if let Some(owner) = guards.first() {
        cx.error(
            span,
            format!(
                "`<{tail}:path>` takes the rest of the path, but `{tail}` is the parameter \
                 `{}` guards, which owns one segment: write `<{tail}>`",
                vocab.owners[*owner].scope
            ),
        );
    }
}

/// The token types that `items` allow outside `any(..)`.
pub(crate) fn allowed_types<'a>(
    vocab: &'a Vocabulary,
    items: &'a [Item],
) -> impl Iterator<Item = usize> + 'a {
    items.iter().filter_map(|item| match item {
        Item::Scope(s) => match vocab.scope(*s).effect {
            Effect::Allows(ty) => Some(ty),
            Effect::Owns(_) | Effect::Requires(_) => None,
        },
        Item::Any(_) => None,
    })
}

/// The owners that `items` require outside `any(..)`.
pub(crate) fn owners<'a>(
    vocab: &'a Vocabulary,
    items: &'a [Item],
) -> impl Iterator<Item = usize> + 'a {
    items.iter().filter_map(|item| match item {
        Item::Scope(s) => match vocab.scope(*s).effect {
            Effect::Owns(owner) => Some(owner),
            Effect::Allows(_) | Effect::Requires(_) => None,
        },
        Item::Any(_) => None,
    })
}

/// SPEC §6: under `subject = "any"` a `sub` need not be a UUID, and a
/// `TiToken`'s `id` is one; its handler would answer 401 to every token
/// whose subject is not.
fn check_no_ti_token(cx: &mut Ctxt, func: &ItemFn, vocab: &Vocabulary) {
    let file = vocab
        .file
        .as_deref()
        .map_or_else(|| config::FILE_NAME.to_owned(), |f| f.display().to_string());
    for arg in &func.sig.inputs {
        if let FnArg::Typed(arg) = arg {
            if mentions_ti_token(&arg.ty) {
                cx.error_spanned(
                    &arg.ty,
                    format!(
                        "a `TiToken`'s `id` is a UUID, but this crate's subjects are any string \
                         (`subject = \"any\"` in {file}): take a `scopegate::Token` and read \
                         `token.sub()`, or write `subject = \"uuid\"` there"
                    ),
                );
            }
        }
    }
}

/// Whether `ty` names `TiToken`, alone or inside another type
/// (`Option<TiToken>`, `&TiToken`).
fn mentions_ti_token(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.iter().any(|seg| {
            seg.ident == "TiToken"
                || matches!(&seg.arguments, PathArguments::AngleBracketed(args)
                    if args.args.iter().any(|a| matches!(a, GenericArgument::Type(t) if mentions_ti_token(t))))
        }),
        Type::Reference(r) => mentions_ti_token(&r.elem),
        Type::Paren(p) => mentions_ti_token(&p.elem),
        Type::Group(g) => mentions_ti_token(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(mentions_ti_token),
        _ => false,
    }
}

/// The method, path and options of a route, however it was declared.
struct Declared {
    method: Option<Method>,
    path: LitStr,
    options: Vec<RawOption>,
    by: Macro,
}

impl Route {
    /// Checks a `#[route]` handler against its arguments and its enclosing
    /// groups.
    pub(crate) fn new(
        cx: &mut Ctxt,
        args: syn::Result<RouteArgs>,
        func: ItemFn,
        enclosing: &Enclosing,
    ) -> Route {
        let before = cx.count();
        check_async(cx, &func);
        let checked = match args {
            Ok(args) => {
                let declared = Declared {
                    method: Method::check(cx, &args.method),
                    path: args.path,
                    options: args.options,
                    by: Macro::Route,
                };
                check_route(cx, before, declared, &func, enclosing)
            }
            Err(e) => {
                cx.push(e);
                None
            }
        };
        Route::finish(cx, before, func, Form::Route, checked, enclosing)
    }

    /// Checks a `#[protect]` handler: its arguments, the actix-web route
    /// attribute under it (reported at `protect` when missing), and its
    /// enclosing groups.
    pub(crate) fn protect(
        cx: &mut Ctxt,
        args: syn::Result<GroupArgs>,
        func: ItemFn,
        protect: Span,
        enclosing: &Enclosing,
    ) -> Route {
        let before = cx.count();
        check_async(cx, &func);
        let found = actix::read(cx, &func, protect);
        let checked = match (args, &found) {
            (Ok(args), Some((actix, method))) => {
                let declared = Declared {
                    method: *method,
                    path: actix.path.clone(),
                    options: args.options,
                    by: Macro::Protect,
                };
                check_route(cx, before, declared, &func, enclosing)
            }
            (Ok(_), None) => None,
            (Err(e), _) => {
                cx.push(e);
                None
            }
        };
        let form = Form::Protect(found.map(|(actix, _)| Box::new(actix)));
        Route::finish(cx, before, func, form, checked, enclosing)
    }

    fn finish(
        cx: &Ctxt,
        before: usize,
        func: ItemFn,
        form: Form,
        checked: Option<Checked>,
        enclosing: &Enclosing,
    ) -> Route {
        let checked = checked.filter(|_| cx.count() == before && !enclosing.unchecked);
        let conditions = enclosing.conditions.and(&Conditions::of(&func.attrs));
        Route {
            func,
            form,
            checked,
            conditions,
        }
    }

    /// The handler's name, which is also the generated struct's.
    pub(crate) fn name(&self) -> &Ident {
        &self.func.sig.ident
    }

    /// The handler's doc comments, copied onto the struct.
    pub(crate) fn docs(&self) -> impl Iterator<Item = &Attribute> {
        self.func.attrs.iter().filter(|a| a.path().is_ident("doc"))
    }
}

fn check_async(cx: &mut Ctxt, func: &ItemFn) {
    if func.sig.asyncness.is_none() {
        cx.error(
            func.sig.fn_token.span,
            format!(
                "a route handler must be async: write `async fn {}`",
                func.sig.ident
            ),
        );
    }
}

/// Checks a declared route; `before` is the error count when the route's
/// checks began, so that rules which only make sense on an otherwise sound
/// route can tell whether it is.
fn check_route(
    cx: &mut Ctxt,
    before: usize,
    declared: Declared,
    func: &ItemFn,
    enclosing: &Enclosing,
) -> Option<Checked> {
    let Declared {
        method,
        path: path_lit,
        options,
        by,
    } = declared;
    let path = match RoutePath::parse(&path_lit.value()) {
        Ok(own) => {
            let repeated: Vec<_> = own
                .params()
                .filter(|p| enclosing.prefix.has_param(p))
                .map(str::to_owned)
                .collect();
            for p in &repeated {
                cx.error(
                    path_lit.span(),
                    format!(
                        "path parameter `<{p}>` is already in the group prefix \"{}\": \
                         remove it from this path",
                        enclosing.prefix_text
                    ),
                );
            }
            check_tail(cx, enclosing, &own, path_lit.span());
            Some(enclosing.prefix.join(&own))
        }
        Err(e) => {
            cx.error(path_lit.span(), e);
            None
        }
    };
    let options = read_options(cx, options, by);
    let own_items = options
        .scopes
        .as_ref()
        .map(|(_, exprs)| resolve_items(cx, enclosing, exprs))
        .unwrap_or_default();
    let vocab = &enclosing.vocab;

    if let Some(public) = &options.public {
        if options.scopes.is_some() {
            cx.error(
                public.span(),
                "a `public` route takes no token, so it cannot have scopes: \
                 remove `public` or remove `scopes = [..]`",
            );
        } else if let Some(group) = &enclosing.scoped_group {
            cx.error(
                public.span(),
                format!(
                    "a `public` route cannot be inside `mod {group}`, whose `#[routes]` \
                     declares scopes: move this route out of the group"
                ),
            );
        } else if let Some(group) = &enclosing.guarded_group {
            cx.error(
                public.span(),
                format!(
                    "a `public` route cannot be inside `mod {group}`, whose `#[routes]` \
                     declares a guard: a guard checks a request whose token a policy allowed, \
                     and a `public` route takes no token; move this route out of the group"
                ),
            );
        }
        if let Some((key, _)) = &options.guard {
            cx.error(
                key.span(),
                "a guard checks a request whose token a policy allowed, and a `public` route \
                 takes no token: remove `guard = ..`, or remove `public`",
            );
        }
        for arg in &func.sig.inputs {
            if let FnArg::Typed(arg) = arg {
                if mentions_ti_token(&arg.ty) {
                    cx.error_spanned(
                        &arg.ty,
                        "a `public` route gets no token, so it cannot take a `TiToken`: \
                         remove this argument, or remove `public`",
                    );
                }
            }
        }
        if let (Some(path), true) = (&path, cx.count() == before) {
            check_ownership(cx, enclosing, path, &path_lit, &[], &options);
        }
        let path = path?;
        let doc = documentation(func, enclosing, &path, &[], options);
        return Some(Checked {
            method: method?,
            path,
            path_span: path_lit.span(),
            policy: Policy::Public,
            vocab: Arc::clone(vocab),
            doc,
        });
    }

    if vocab.subject == Subject::Any {
        check_no_ti_token(cx, func, vocab);
    }
    let mut token_types = enclosing.token_types.clone();
    token_types.extend(allowed_types(vocab, &own_items));
    if token_types.is_empty() {
        token_types.insert(vocab.default);
    }
    let inherited = enclosing
        .items
        .iter()
        .map(|(item, group)| (item, Some(group)));
    let own = own_items.iter().map(|item| (item, None));
    let mut requirements = Requirements::default();
    for (item, group) in inherited.chain(own) {
        requirements.add(cx, vocab, item, group, &token_types);
    }
    let Requirements {
        checks,
        owners: route_owners,
        any_owners,
        ..
    } = requirements;
    if let Some(path) = &path {
        let needed = route_owners.iter().chain(&any_owners);
        let mut reported: Vec<usize> = Vec::new();
        for (owner, group) in needed {
            let def = &vocab.owners[*owner];
            let (name, param) = (&def.scope, &def.param);
            if path.has_param(param) || reported.contains(owner) {
                continue;
            }
            reported.push(*owner);
            let message = match group {
                None => format!(
                    "`{name}` needs the path parameter `{param}`, but \"{}\" has none: \
                     add `<{param}>` to the path, or remove `{name}`",
                    path.canonical()
                ),
                Some(group) => format!(
                    "`{name}` (from `#[routes]` on `mod {group}`) needs the path parameter \
                     `{param}`, but \"{}\" has none: add `<{param}>` to this path",
                    path.canonical()
                ),
            };
            cx.error(path_lit.span(), message);
        }
    }
    let route_owners: Vec<usize> = route_owners.into_iter().map(|(o, _)| o).collect();
    let mut checked_owners = route_owners.clone();
    for (owner, _) in &any_owners {
        if !checked_owners.contains(owner) {
            checked_owners.push(*owner);
        }
    }
    if let (Some(path), true) = (&path, cx.count() == before) {
        check_ownership(cx, enclosing, path, &path_lit, &checked_owners, &options);
    }
    let guards = route_guards(cx, enclosing, options.guard.as_ref());
    for declared in options.responses.iter().flat_map(|(_, r)| r) {
        if matches!(declared.status, 401 | 403) {
            cx.error(
                declared.lit.span(),
                format!(
                    "scopegate documents 401 and 403 on every protected route, with the \
                     `{{\"detail\": ..}}` body it answers them with: remove `{}` from `responses`",
                    declared.status
                ),
            );
        }
    }
    let path = path?;
    let doc = documentation(func, enclosing, &path, &checked_owners, options);
    Some(Checked {
        method: method?,
        path,
        path_span: path_lit.span(),
        policy: Policy::Protected {
            token_types,
            owners: route_owners,
            checks,
            guards,
        },
        vocab: Arc::clone(vocab),
        doc,
    })
}

/// A route's requirements, gathered in declaration order (the groups'
/// first), each owner and permission once.
#[derive(Default)]
struct Requirements<'g> {
    checks: Vec<Check>,
    /// Owners outside `any(..)`, and the group that declared each.
    owners: Vec<(usize, Option<&'g Ident>)>,
    /// Owners inside `any(..)`: checked, with an alternative.
    any_owners: Vec<(usize, Option<&'g Ident>)>,
    permissions: Vec<usize>,
}

impl<'g> Requirements<'g> {
    fn add(
        &mut self,
        cx: &mut Ctxt,
        vocab: &Vocabulary,
        item: &Item,
        group: Option<&'g Ident>,
        types: &BTreeSet<usize>,
    ) {
        match item {
            Item::Scope(id) => match vocab.scope(*id).effect {
                Effect::Allows(_) => {}
                Effect::Owns(owner) => {
                    if !self.owners.iter().any(|(o, _)| *o == owner) {
                        self.owners.push((owner, group));
                        self.checks.push(Check::Owner(owner));
                    }
                }
                Effect::Requires(permission) => {
                    if !self.permissions.contains(&permission) {
                        self.permissions.push(permission);
                        self.checks.push(Check::Permission(permission));
                    }
                }
            },
            Item::Any(any) => {
                if let Some(check) = self.any(cx, vocab, any, group, types) {
                    self.checks.push(check);
                }
            }
        }
    }

    /// An `any(..)` on a route that accepts `types`: each type predicate
    /// names an accepted type, and the predicates do not cover them all
    /// (the other alternatives would never be checked).
    fn any(
        &mut self,
        cx: &mut Ctxt,
        vocab: &Vocabulary,
        any: &ResolvedAny,
        group: Option<&'g Ident>,
        types: &BTreeSet<usize>,
    ) -> Option<Check> {
        let before = cx.count();
        let accepted: Vec<&str> = types
            .iter()
            .filter_map(|t| vocab.types.get(*t))
            .map(String::as_str)
            .collect();
        for (id, span) in any.scopes() {
            match vocab.scope(id).effect {
                Effect::Allows(ty) if !types.contains(&ty) => {
                    let name = &vocab.types[ty];
                    cx.error(
                        span,
                        format!(
                            "`token:{name}` inside `any(..)` is a predicate, \"the token is a \
                             `{name}` token\", and this route does not accept `{name}` tokens \
                             (it accepts {}): add \"token:{name}\" to its scopes, or remove it \
                             from `any(..)`",
                            suggest::list(&accepted)
                        ),
                    );
                }
                Effect::Owns(owner) if !self.any_owners.iter().any(|(o, _)| *o == owner) => {
                    self.any_owners.push((owner, group));
                }
                _ => {}
            }
        }
        if cx.count() != before {
            return None;
        }
        let alternatives: Vec<Vec<Atom>> = any
            .alternatives
            .iter()
            .map(|alt| {
                alt.iter()
                    .map(|(id, _)| match vocab.scope(*id).effect {
                        Effect::Allows(ty) => Atom::Type(ty),
                        Effect::Owns(owner) => Atom::Owner(owner),
                        Effect::Requires(p) => Atom::Permission(p),
                    })
                    .collect()
            })
            .collect();
        let covered: BTreeSet<usize> = alternatives
            .iter()
            .filter_map(|alt| match alt.as_slice() {
                [Atom::Type(ty)] => Some(*ty),
                _ => None,
            })
            .collect();
        if types.is_subset(&covered) {
            cx.error(any.span, always_holds(vocab, &alternatives, &accepted));
            return None;
        }
        Some(Check::Any(alternatives))
    }
}

/// The message for an `any(..)` whose type predicates cover every type the
/// route accepts.
fn always_holds(vocab: &Vocabulary, alternatives: &[Vec<Atom>], accepted: &[&str]) -> String {
    let owner = alternatives.iter().flatten().find_map(|a| match a {
        Atom::Owner(o) => Some(&vocab.owners[*o]),
        _ => None,
    });
    let types = suggest::list(accepted);
    match owner {
        Some(owner) => format!(
            "this `any(..)` always holds: its `token:*` alternatives cover every type this route \
             accepts ({types}), so the owner check `{}` in it never decides anything; remove the \
             `any(..)` and write `unowned = [\"{}\"]` if any allowed token may use any {} here",
            owner.scope, owner.param, owner.label
        ),
        None => format!(
            "this `any(..)` always holds: its `token:*` alternatives cover every type this route \
             accepts ({types}), so its other alternatives are never needed; remove it"
        ),
    }
}

/// The guards of a route: its groups' (outer first), then its own; a guard
/// its groups already run is reported.
fn route_guards(
    cx: &mut Ctxt,
    enclosing: &Enclosing,
    own: Option<&(Ident, Vec<syn::Path>)>,
) -> Vec<GuardRef> {
    let mut guards: Vec<GuardRef> = enclosing
        .guards
        .iter()
        .map(|(g, _)| GuardRef { path: g.clone() })
        .collect();
    for path in own.iter().flat_map(|(_, paths)| paths) {
        let text = path_text(path);
        match enclosing.guards.iter().find(|(g, _)| path_text(g) == text) {
            Some((_, group)) => cx.error_spanned(
                path,
                format!(
                    "guard `{text}` already runs on this route, from `#[routes]` on `mod \
                     {group}`: remove it here"
                ),
            ),
            None => guards.push(GuardRef { path: path.clone() }),
        }
    }
    guards
}

/// What the route documents: its doc comment, its names, its typed path
/// parameters (owners compared as UUIDs are UUIDs), and its bodies
/// (`request = T`, else a `web::Json<T>` argument; `responses(..)`, plus
/// 200 with the `T` of a `web::Json<T>` return type unless it declares a
/// 200).
fn documentation(
    func: &ItemFn,
    enclosing: &Enclosing,
    path: &RoutePath,
    owners: &[usize],
    options: Options,
) -> Documentation {
    let (summary, description) = doc::summary_and_description(&func.attrs);
    let name = func.sig.ident.to_string();
    let mut id: Vec<String> = enclosing.modules.iter().map(Ident::to_string).collect();
    id.push(name.trim_start_matches("r#").to_owned());
    let uuids: Vec<&str> = owners
        .iter()
        .map(|o| &enclosing.vocab.owners[*o])
        .filter(|o| o.compare == Compare::Uuid)
        .map(|o| o.param.as_str())
        .collect();
    let params: Vec<&str> = path.params().collect();
    let request = options
        .request
        .map(|(_, ty)| ty)
        .or_else(|| doc::json_argument(func));
    let mut responses: Vec<(u16, Option<Type>)> = options
        .responses
        .into_iter()
        .flat_map(|(_, r)| r)
        .map(|r| (r.status, r.body))
        .collect();
    if let Some(ty) = doc::json_return(func) {
        if !responses.iter().any(|(status, _)| *status == 200) {
            responses.insert(0, (200, Some(ty)));
        }
    }
    Documentation {
        summary,
        description,
        operation_id: id.join("_"),
        tag: enclosing.modules.last().map(Ident::to_string),
        params: doc::param_types(func, &params, &uuids),
        request,
        responses,
    }
}

/// The ownership lint (SPEC §6): every path parameter that an owner scope
/// guards is checked by one of its owners on this route, or waived by name
/// in `unowned = [..]`; and `unowned` names only parameters it can waive.
/// Runs only on a route with no other error, under groups without errors,
/// so it never adds noise to another mistake.
fn check_ownership(
    cx: &mut Ctxt,
    enclosing: &Enclosing,
    path: &RoutePath,
    path_lit: &LitStr,
    route_owners: &[usize],
    options: &Options,
) {
    if enclosing.broken || enclosing.unchecked {
        return;
    }
    let vocab = &enclosing.vocab;
    let public = options.public.is_some();
    let mut waived: Vec<String> = Vec::new();
    for lit in options.unowned.iter().flat_map(|(_, lits)| lits) {
        let param = lit.value();
        let guards = vocab.owners_of(&param);
        let checked_by = guards.iter().find(|o| route_owners.contains(o));
        let message = if waived.contains(&param) {
            format!("`{param}` is listed twice in `unowned`: remove this one")
        } else if !path.has_param(&param) {
            format!(
                "`unowned` names `{param}`, but \"{}\" has no parameter `{param}`: remove it \
                 from `unowned`",
                path.canonical()
            )
        } else if guards.is_empty() {
            format!(
                "`unowned` names `{param}`, which no owner scope guards, so there is nothing \
                 to waive: remove it from `unowned`"
            )
        } else if let Some(owner) = checked_by {
            format!(
                "`unowned` names `{param}`, but this route checks `{}`, which guards it: \
                 remove it from `unowned`",
                vocab.owners[*owner].scope
            )
        } else {
            waived.push(param);
            continue;
        };
        cx.error(lit.span(), message);
    }
    for param in path.params() {
        let guards = vocab.owners_of(param);
        if guards.is_empty()
            || guards.iter().any(|o| route_owners.contains(o))
            || waived.iter().any(|w| w == param)
        {
            continue;
        }
        let scopes: Vec<&str> = guards
            .iter()
            .map(|o| vocab.owners[*o].scope.as_str())
            .collect();
        let label = &vocab.owners[guards[0]].label;
        let full = path.canonical();
        let message = if public {
            format!(
                "\"{full}\" has the path parameter `{param}`, which {} guards, but this route is \
                 `public`: remove `public` and add {} to its scopes, or write \
                 `unowned = [\"{param}\"]` if anyone may use any {label} here",
                suggest::alternatives(&scopes),
                quoted_alternatives(&scopes)
            )
        } else {
            format!(
                "\"{full}\" has the path parameter `{param}`, which {} guards, but this route \
                 does not check it: add {} to its scopes, or write `unowned = [\"{param}\"]` if \
                 any allowed token may use any {label} here",
                suggest::alternatives(&scopes),
                quoted_alternatives(&scopes)
            )
        };
        cx.error(path_lit.span(), message);
    }
}

/// `"a"`, `"a"` or `"b"`, ...
fn quoted_alternatives(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}
