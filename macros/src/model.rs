//! Raw arguments -> the checked model of routes and groups.
//!
//! Every rule of the DSL lives here. Each check reports into a [`Ctxt`]
//! and carries on, so one build shows every mistake; a route or group with
//! any error has no checked form, and [`crate::expand`] emits a stub for it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, Ident, Item, ItemFn, ItemMod, Lit, LitStr,
    PathArguments, Type,
};

use crate::cfg::{self, Conditions};
use crate::parse::{GroupArgs, RawOption, RouteArgs};
use crate::path::RoutePath;
use crate::scopes::{self, Effect, Scope, TokenKind};
use crate::suggest;

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

    fn count(&self) -> usize {
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
    const ALL: [Method; 8] = [
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
        if let Some(m) = Method::ALL.into_iter().find(|m| m.keyword() == written) {
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
    /// A token of one of `token_types` (never empty) that owns every
    /// self-scope.
    Protected {
        token_types: BTreeSet<TokenKind>,
        self_scopes: Vec<&'static Scope>,
    },
}

/// What the groups around a route contribute to it.
#[derive(Clone, Default)]
pub(crate) struct Enclosing {
    prefix: RoutePath,
    /// The `prefix` literals, outermost first, for error messages.
    prefix_text: String,
    token_types: BTreeSet<TokenKind>,
    /// Self-scopes and the group that declared each.
    self_scopes: Vec<(&'static Scope, Ident)>,
    /// The outermost group that declares scopes.
    scoped_group: Option<Ident>,
    /// The `#[cfg]`s of the nested groups around the route.
    conditions: Conditions,
}

/// A `#[route]` handler and, when it has no errors, its checked form.
pub(crate) struct Route {
    /// The handler, without its `#[route]` attribute.
    pub(crate) func: ItemFn,
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
}

/// A route's options, read and checked for shape.
#[derive(Default)]
struct Options {
    scopes: Option<(Ident, Vec<LitStr>)>,
    public: Option<Ident>,
    prefix: Option<LitStr>,
}

/// Which macro an option list belongs to.
#[derive(Clone, Copy)]
enum Owner {
    Route,
    Group,
}

impl Owner {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Owner::Route => &["scopes", "public"],
            Owner::Group => &["prefix", "scopes"],
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Owner::Route => "`#[route]` takes `scopes = [\"...\"]` or `public`",
            Owner::Group => "`#[routes]` takes `prefix = \"/...\"` and `scopes = [\"...\"]`",
        }
    }
}

fn read_options(cx: &mut Ctxt, raw: Vec<RawOption>, owner: Owner) -> Options {
    let mut options = Options::default();
    let mut seen: Vec<String> = Vec::new();
    for RawOption { key, value } in raw {
        let name = key.to_string();
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
            let fix = if name == "scopes" {
                "merge them into one list"
            } else {
                "remove this one"
            };
            cx.error(key.span(), format!("`{name}` is given twice: {fix}"));
            continue;
        }
        seen.push(name.clone());
        match name.as_str() {
            "public" => match value {
                None => options.public = Some(key),
                Some(v) => cx.error_spanned(v, "`public` takes no value: write `public`"),
            },
            "prefix" => match value {
                Some(Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                })) => options.prefix = Some(lit),
                _ => cx.error(
                    key.span(),
                    "`prefix` takes a string: write `prefix = \"/task-instances\"`",
                ),
            },
            _ => match value {
                Some(Expr::Array(array)) => {
                    let mut lits = Vec::new();
                    for elem in array.elems {
                        match elem {
                            Expr::Lit(ExprLit {
                                lit: Lit::Str(lit), ..
                            }) => lits.push(lit),
                            other => cx.error_spanned(
                                other,
                                "a scope is a string literal: write e.g. `\"ti:self\"`",
                            ),
                        }
                    }
                    options.scopes = Some((key, lits));
                }
                _ => cx.error(
                    key.span(),
                    "`scopes` takes a list of strings: write `scopes = [\"ti:self\"]`",
                ),
            },
        }
    }
    options
}

/// Resolves scope strings against the table; reports unknown and repeated
/// ones.
fn resolve_scopes(cx: &mut Ctxt, lits: &[LitStr]) -> Vec<&'static Scope> {
    let mut resolved: Vec<&'static Scope> = Vec::new();
    for lit in lits {
        let name = lit.value();
        match scopes::lookup(&name) {
            Some(scope) if resolved.contains(&scope) => cx.error(
                lit.span(),
                format!("scope `{name}` is listed twice: remove this one"),
            ),
            Some(scope) => resolved.push(scope),
            None => cx.error(lit.span(), scopes::unknown_message(&name)),
        }
    }
    resolved
}

fn token_kinds<'a>(scopes: &'a [&'static Scope]) -> impl Iterator<Item = TokenKind> + 'a {
    scopes.iter().filter_map(|s| match s.effect {
        Effect::Allows(kind) => Some(kind),
        Effect::OwnsParam { .. } => None,
    })
}

fn self_param(scope: &Scope) -> Option<&'static str> {
    match scope.effect {
        Effect::OwnsParam { param, .. } => Some(param),
        Effect::Allows(_) => None,
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

impl Route {
    /// Checks one handler against its arguments and its enclosing groups.
    pub(crate) fn new(
        cx: &mut Ctxt,
        args: syn::Result<RouteArgs>,
        func: ItemFn,
        enclosing: &Enclosing,
    ) -> Route {
        let before = cx.count();
        if func.sig.asyncness.is_none() {
            cx.error(
                func.sig.fn_token.span,
                format!(
                    "a route handler must be async: write `async fn {}`",
                    func.sig.ident
                ),
            );
        }
        let checked = match args {
            Ok(args) => check_route(cx, args, &func, enclosing),
            Err(e) => {
                cx.push(e);
                None
            }
        };
        let checked = checked.filter(|_| cx.count() == before);
        let conditions = enclosing.conditions.and(&Conditions::of(&func.attrs));
        Route {
            func,
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

fn check_route(
    cx: &mut Ctxt,
    args: RouteArgs,
    func: &ItemFn,
    enclosing: &Enclosing,
) -> Option<Checked> {
    let method = Method::check(cx, &args.method);
    let path = match RoutePath::parse(&args.path.value()) {
        Ok(own) => {
            let repeated: Vec<_> = own
                .params()
                .filter(|p| enclosing.prefix.has_param(p))
                .map(str::to_owned)
                .collect();
            for p in &repeated {
                cx.error(
                    args.path.span(),
                    format!(
                        "path parameter `<{p}>` is already in the group prefix \"{}\": \
                         remove it from this path",
                        enclosing.prefix_text
                    ),
                );
            }
            Some(enclosing.prefix.join(&own))
        }
        Err(e) => {
            cx.error(args.path.span(), e);
            None
        }
    };
    let options = read_options(cx, args.options, Owner::Route);
    let own_scopes = options
        .scopes
        .as_ref()
        .map(|(_, lits)| resolve_scopes(cx, lits))
        .unwrap_or_default();

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
        return Some(Checked {
            method: method?,
            path: path?,
            path_span: args.path.span(),
            policy: Policy::Public,
        });
    }

    let mut token_types = enclosing.token_types.clone();
    token_types.extend(token_kinds(&own_scopes));
    if token_types.is_empty() {
        token_types.insert(TokenKind::Execution);
    }
    let mut self_scopes: Vec<&'static Scope> = Vec::new();
    let inherited = enclosing
        .self_scopes
        .iter()
        .map(|(s, group)| (*s, Some(group)));
    let own = own_scopes.iter().map(|s| (*s, None));
    for (scope, group) in inherited.chain(own) {
        let Some(param) = self_param(scope) else {
            continue;
        };
        if self_scopes.contains(&scope) {
            continue;
        }
        self_scopes.push(scope);
        let Some(path) = &path else { continue };
        if path.has_param(param) {
            continue;
        }
        let name = scope.name;
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
        cx.error(args.path.span(), message);
    }
    Some(Checked {
        method: method?,
        path: path?,
        path_span: args.path.span(),
        policy: Policy::Protected {
            token_types,
            self_scopes,
        },
    })
}

/// A `#[routes]` module.
pub(crate) struct Group {
    /// The module with its items taken out (they are in `items`).
    pub(crate) module: ItemMod,
    pub(crate) items: Vec<GroupItem>,
    /// Whether anything in this group or below it had an error.
    pub(crate) has_errors: bool,
    /// When a nested group exists: its own `#[cfg]`s and its outer nested
    /// groups'. Empty for a top-level group, whose own `#[cfg]` removes the
    /// whole module.
    pub(crate) conditions: Conditions,
    /// Routes with the same method and path under different `#[cfg]`s
    /// (top-level group only): an error in the configurations where both
    /// exist.
    pub(crate) cfg_duplicates: Vec<CfgDuplicate>,
}

/// Two routes with the same method and path whose `#[cfg]`s differ, so the
/// macro cannot tell whether both exist: the expansion reports it, under
/// both routes' conditions, as a `compile_error!`.
pub(crate) struct CfgDuplicate {
    pub(crate) message: String,
    /// The second route's path literal.
    pub(crate) span: Span,
    /// Both routes' conditions.
    pub(crate) conditions: Conditions,
}

/// One item of a group.
pub(crate) enum GroupItem {
    /// Anything that is neither a route nor a group, kept as written.
    Plain(Item),
    Route(Route),
    Group(Group),
}

/// Items `#[routes]` generates in the module.
const GENERATED: [&str; 3] = ["configure", "ROUTES", REGISTER_ROUTES];

/// The hidden function of a group that registers its routes (and its nested
/// groups' routes) without the 405 fallbacks; an outer group calls it, so
/// that only the `configure` called by the application adds fallbacks.
pub(crate) const REGISTER_ROUTES: &str = "__scopegate_register_routes";

/// Whether `attr` is `#[route(..)]` (or `#[scopegate::route(..)]`).
fn is_attr(attr: &Attribute, name: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == name)
}

fn item_ident(item: &Item) -> Option<&Ident> {
    match item {
        Item::Fn(i) => Some(&i.sig.ident),
        Item::Const(i) => Some(&i.ident),
        Item::Static(i) => Some(&i.ident),
        Item::Struct(i) => Some(&i.ident),
        Item::Enum(i) => Some(&i.ident),
        Item::Mod(i) => Some(&i.ident),
        Item::Type(i) => Some(&i.ident),
        Item::Union(i) => Some(&i.ident),
        Item::Trait(i) => Some(&i.ident),
        _ => None,
    }
}

fn item_attrs_mut(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    match item {
        Item::Fn(i) => Some(&mut i.attrs),
        Item::Const(i) => Some(&mut i.attrs),
        Item::Static(i) => Some(&mut i.attrs),
        Item::Struct(i) => Some(&mut i.attrs),
        Item::Enum(i) => Some(&mut i.attrs),
        Item::Mod(i) => Some(&mut i.attrs),
        Item::Type(i) => Some(&mut i.attrs),
        Item::Union(i) => Some(&mut i.attrs),
        Item::Trait(i) => Some(&mut i.attrs),
        Item::Impl(i) => Some(&mut i.attrs),
        Item::Use(i) => Some(&mut i.attrs),
        _ => None,
    }
}

/// Takes every `#[route]` and `#[routes]` out of `attrs`, and every
/// `#[cfg_attr]` that hides one.
pub(crate) fn take_route_macros(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs).into_iter().partition(|a| {
        ["route", "routes"]
            .iter()
            .any(|name| is_attr(a, name) || cfg::hides(a, name))
    });
    *attrs = kept;
    taken
}

/// Takes every attribute named `name` out of `attrs`.
fn take_attrs(attrs: &mut Vec<Attribute>, name: &str) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs)
        .into_iter()
        .partition(|a| is_attr(a, name));
    *attrs = kept;
    taken
}

impl Group {
    /// Checks a top-level `#[routes]` module and everything inside it.
    pub(crate) fn top(cx: &mut Ctxt, args: syn::Result<GroupArgs>, module: ItemMod) -> Group {
        let before = cx.count();
        let mut group = Group::new(cx, args, module, &Enclosing::default());
        group.cfg_duplicates = check_duplicates(cx, &group);
        group.has_errors = cx.count() > before;
        group
    }

    fn new(
        cx: &mut Ctxt,
        args: syn::Result<GroupArgs>,
        mut module: ItemMod,
        outer: &Enclosing,
    ) -> Group {
        let before = cx.count();
        let name = module.ident.clone();
        let mut enclosing = outer.clone();
        match args {
            Ok(args) => {
                let options = read_options(cx, args.options, Owner::Group);
                if let Some(lit) = &options.prefix {
                    match RoutePath::parse_prefix(&lit.value()) {
                        Ok(prefix) => {
                            for p in prefix.params() {
                                if outer.prefix.has_param(p) {
                                    cx.error(
                                        lit.span(),
                                        format!(
                                            "path parameter `<{p}>` is already in the outer \
                                             prefix \"{}\": remove it from this prefix",
                                            outer.prefix_text
                                        ),
                                    );
                                }
                            }
                            enclosing.prefix = outer.prefix.join(&prefix);
                            enclosing.prefix_text = enclosing.prefix.canonical();
                        }
                        Err(e) => cx.error(lit.span(), e),
                    }
                }
                if let Some((_, lits)) = &options.scopes {
                    let declared = resolve_scopes(cx, lits);
                    if !lits.is_empty() && enclosing.scoped_group.is_none() {
                        enclosing.scoped_group = Some(name.clone());
                    }
                    enclosing.token_types.extend(token_kinds(&declared));
                    for scope in declared {
                        if self_param(scope).is_some()
                            && !enclosing.self_scopes.iter().any(|(s, _)| *s == scope)
                        {
                            enclosing.self_scopes.push((scope, name.clone()));
                        }
                    }
                }
            }
            Err(e) => cx.push(e),
        }

        let mut items = Vec::new();
        match module.content.as_mut() {
            None => cx.error(
                module.semi.map_or(name.span(), |s| s.span),
                format!("`#[routes]` needs the module's items inline: write `mod {name} {{ .. }}`"),
            ),
            Some((_, content)) => {
                for item in std::mem::take(content) {
                    items.push(group_item(cx, item, &enclosing));
                }
            }
        }
        Group {
            module,
            items,
            has_errors: cx.count() > before,
            conditions: outer.conditions.clone(),
            cfg_duplicates: Vec::new(),
        }
    }

    /// Every route in this group and its nested groups, in declaration
    /// order.
    pub(crate) fn routes(&self) -> Vec<&Route> {
        let mut out = Vec::new();
        for item in &self.items {
            match item {
                GroupItem::Route(r) => out.push(r),
                GroupItem::Group(g) => out.extend(g.routes()),
                GroupItem::Plain(_) => {}
            }
        }
        out
    }
}

/// The 405 fallback `#[routes]` registers for one path shape of a group,
/// after every route of the group (SPEC §3 "Wrong method").
pub(crate) struct Fallback<'a> {
    /// The path, in actix's spelling, of the first route with this shape.
    pub(crate) pattern: String,
    /// Where that route's path literal is.
    pub(crate) span: Span,
    /// The routes whose path matches every path this one matches, its own
    /// included: their methods make the `Allow` header.
    pub(crate) routes: Vec<(&'a Route, Method)>,
}

impl Group {
    /// One fallback per distinct path shape of this group and its nested
    /// groups, the most specific first (`/items/search` before
    /// `/items/<id>`, which also matches it), so that a request matched by
    /// both gets the `Allow` that lists the most.
    pub(crate) fn fallbacks(&self) -> Vec<Fallback<'_>> {
        let checked: Vec<(&Route, &Checked)> = self
            .routes()
            .into_iter()
            .filter_map(|r| r.checked.as_ref().map(|c| (r, c)))
            .collect();
        let mut shapes: Vec<&Checked> = Vec::new();
        for (_, c) in &checked {
            if !shapes.iter().any(|s| s.path.shape() == c.path.shape()) {
                shapes.push(c);
            }
        }
        shapes.sort_by_key(|c| c.path.param_count());
        shapes
            .into_iter()
            .map(|shape| Fallback {
                pattern: shape.path.actix(),
                span: shape.path_span,
                routes: checked
                    .iter()
                    .filter(|(_, c)| c.path.covers(&shape.path))
                    .map(|(r, c)| (*r, c.method))
                    .collect(),
            })
            .collect()
    }
}

fn group_item(cx: &mut Ctxt, mut item: Item, enclosing: &Enclosing) -> GroupItem {
    if let Some(ident) = item_ident(&item) {
        if GENERATED.iter().any(|g| ident == g) {
            cx.error(
                ident.span(),
                format!("`{ident}` is generated by `#[routes]`: rename this item"),
            );
        }
    }
    let Some(attrs) = item_attrs_mut(&mut item) else {
        return GroupItem::Plain(item);
    };
    while let Some(cfg::Hidden {
        attr,
        name,
        predicate,
    }) = cfg::take_hidden_macro(attrs)
    {
        cx.error_spanned(
            attr,
            format!(
                "`#[routes]` cannot see a `#[{name}]` inside `#[cfg_attr]`, so this group's \
                 prefix and scopes would not apply to it: write `#[cfg({predicate})]` and \
                 `#[{name}(..)]` as two attributes"
            ),
        );
    }
    let route_attrs = take_attrs(attrs, "route");
    let group_attrs = take_attrs(attrs, "routes");
    for extra in route_attrs.iter().skip(1).chain(group_attrs.iter().skip(1)) {
        cx.error_spanned(
            extra,
            "only one `#[route]` or `#[routes]` per item: declare another handler for another route",
        );
    }
    match (item, route_attrs.first(), group_attrs.first()) {
        (Item::Fn(func), Some(attr), None) => {
            let args = attr.parse_args::<RouteArgs>();
            GroupItem::Route(Route::new(cx, args, func, enclosing))
        }
        (Item::Mod(module), None, Some(attr)) => {
            let args = match &attr.meta {
                syn::Meta::Path(_) => Ok(GroupArgs {
                    options: Vec::new(),
                }),
                _ => attr.parse_args::<GroupArgs>(),
            };
            let mut inner = enclosing.clone();
            inner.conditions = enclosing.conditions.and(&Conditions::of(&module.attrs));
            GroupItem::Group(Group::new(cx, args, module, &inner))
        }
        (item, None, None) => {
            if let Item::Mod(module) = &item {
                report_stray_routes(cx, module);
            }
            GroupItem::Plain(item)
        }
        (item, Some(attr), _) if !matches!(item, Item::Fn(_)) => {
            cx.error_spanned(attr, "`#[route]` goes on an `async fn` handler");
            GroupItem::Plain(item)
        }
        (item, _, Some(attr)) => {
            cx.error_spanned(attr, "`#[routes]` goes on an inline `mod`");
            GroupItem::Plain(item)
        }
        (item, Some(_), None) => GroupItem::Plain(item),
    }
}

/// A `#[route]` in a plain `mod` inside a group would expand on its own,
/// outside the group's prefix and scopes. Refuse it.
fn report_stray_routes(cx: &mut Ctxt, module: &ItemMod) {
    let Some((_, items)) = &module.content else {
        return;
    };
    for item in items {
        match item {
            Item::Fn(f) => {
                for attr in f
                    .attrs
                    .iter()
                    .filter(|a| is_attr(a, "route") || cfg::hides(a, "route"))
                {
                    cx.error_spanned(
                        attr,
                        format!(
                            "this route is in `mod {}`, which has no `#[routes]`, so the group \
                             would not apply to it: add `#[routes]` to `mod {}`",
                            module.ident, module.ident
                        ),
                    );
                }
            }
            Item::Mod(m) => {
                let is_group = |a: &&Attribute| is_attr(a, "routes") || cfg::hides(a, "routes");
                for attr in m.attrs.iter().filter(is_group) {
                    cx.error_spanned(
                        attr,
                        format!(
                            "this group is in `mod {}`, which has no `#[routes]`, so the outer \
                             group would not apply to it: add `#[routes]` to `mod {}`",
                            module.ident, module.ident
                        ),
                    );
                }
                if !m.attrs.iter().any(|a| is_group(&a)) {
                    report_stray_routes(cx, m);
                }
            }
            _ => {}
        }
    }
}

/// Two routes with the same method and path shape match the same requests.
/// Under identical `#[cfg]`s (or none) that is an error now; under
/// different ones it is an error only where both exist, which the macro
/// cannot tell: those pairs are returned for the expansion to check.
fn check_duplicates(cx: &mut Ctxt, group: &Group) -> Vec<CfgDuplicate> {
    let mut seen: HashMap<(Method, String), Vec<&Route>> = HashMap::new();
    let mut deferred = Vec::new();
    for route in group.routes() {
        let Some(checked) = &route.checked else {
            continue;
        };
        let declared = format!("{} {}", checked.method.upper(), checked.path.canonical());
        let earlier = seen
            .entry((checked.method, checked.path.shape()))
            .or_default();
        let same_cfg = earlier
            .iter()
            .find(|r| r.conditions.text() == route.conditions.text());
        if let Some(first) = same_cfg {
            cx.error(
                checked.path_span,
                format!(
                    "`{declared}` is already declared by `{}`: change the method or the path, \
                     or remove one of the two",
                    first.name()
                ),
            );
            continue;
        }
        for first in earlier.iter() {
            deferred.push(CfgDuplicate {
                message: format!(
                    "`{declared}` is already declared by `{}` when both their `#[cfg]`s hold: \
                     make the `#[cfg]`s exclude each other, change the method or the path, \
                     or remove one of the two",
                    first.name()
                ),
                span: checked.path_span,
                conditions: first.conditions.and(&route.conditions),
            });
        }
        earlier.push(route);
    }
    deferred
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn errors(cx: Ctxt) -> Vec<String> {
        cx.finish()
            .map(|e| e.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    fn route_in(args: &str, func: ItemFn, enclosing: &Enclosing) -> (Option<Checked>, Vec<String>) {
        let mut cx = Ctxt::default();
        let route = Route::new(&mut cx, syn::parse_str(args), func, enclosing);
        (route.checked, errors(cx))
    }

    fn route(args: &str) -> (Option<Checked>, Vec<String>) {
        route_in(
            args,
            parse_quote!(
                async fn h() {}
            ),
            &Enclosing::default(),
        )
    }

    fn group(module: ItemMod) -> (Group, Vec<String>) {
        let mut cx = Ctxt::default();
        let args = module
            .attrs
            .iter()
            .find(|a| is_attr(a, "routes"))
            .map(|a| a.parse_args::<GroupArgs>())
            .unwrap_or(Ok(GroupArgs {
                options: Vec::new(),
            }));
        let mut module = module;
        module.attrs.retain(|a| !is_attr(a, "routes"));
        let g = Group::top(&mut cx, args, module);
        (g, errors(cx))
    }

    fn policy(c: &Checked) -> (Vec<TokenKind>, Vec<&'static str>) {
        match &c.policy {
            Policy::Public => panic!("public"),
            Policy::Protected {
                token_types,
                self_scopes,
            } => (
                token_types.iter().copied().collect(),
                self_scopes.iter().map(|s| s.name).collect(),
            ),
        }
    }

    fn listing(g: &Group) -> Vec<(String, String, Vec<TokenKind>, Vec<&'static str>)> {
        g.routes()
            .into_iter()
            .map(|r| {
                let c = r.checked.as_ref().expect("checked");
                let (t, s) = policy(c);
                (c.method.upper(), c.path.canonical(), t, s)
            })
            .collect()
    }

    use TokenKind::{Execution as E, Workload as W};

    #[test]
    fn token_types_default_to_execution_only() {
        let (c, errs) = route(r#"get, "/variables/<variable_key>""#);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(policy(&c.unwrap()), (vec![E], vec![]));
        let (c, _) = route(r#"get, "/x", scopes = ["token:workload"]"#);
        assert_eq!(
            policy(&c.unwrap()),
            (vec![W], vec![]),
            "workload alone is workload only"
        );
        let (c, _) = route(r#"get, "/x", scopes = []"#);
        assert_eq!(policy(&c.unwrap()), (vec![E], vec![]));
    }

    #[test]
    fn public_routes() {
        let (c, errs) = route(r#"get, "/health", public"#);
        assert!(errs.is_empty());
        let c = c.unwrap();
        assert_eq!(c.policy, Policy::Public);
        assert_eq!(c.method, Method::Get);
        let (c, errs) = route(r#"get, "/health", public, scopes = []"#);
        assert!(c.is_none());
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("a `public` route takes no token"),
            "{errs:?}"
        );
        let (_, errs) = route_in(
            r#"get, "/health", public"#,
            parse_quote!(
                async fn h(t: Option<scopegate::TiToken>) {}
            ),
            &Enclosing::default(),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("cannot take a `TiToken`"), "{errs:?}");
    }

    #[test]
    fn group_scopes_merge_into_routes() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/task-instances", scopes = ["ti:self"])]
            mod task_instances {
                #[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workload"])]
                async fn run() {}
                #[route(put, "/{task_instance_id}/heartbeat")]
                async fn heartbeat() {}
                #[route(get, "/<task_instance_id>/w", scopes = ["token:workload"])]
                async fn w() {}
                fn helper() {}
            }
        });
        assert!(errs.is_empty(), "{errs:?}");
        assert!(!g.has_errors);
        assert_eq!(
            listing(&g),
            [
                (
                    "PATCH".into(),
                    "/task-instances/<task_instance_id>/run".into(),
                    vec![E, W],
                    vec!["ti:self"]
                ),
                (
                    "PUT".into(),
                    "/task-instances/<task_instance_id>/heartbeat".into(),
                    vec![E],
                    vec!["ti:self"]
                ),
                (
                    "GET".into(),
                    "/task-instances/<task_instance_id>/w".into(),
                    vec![W],
                    vec!["ti:self"]
                ),
            ]
        );
        assert!(matches!(
            g.items.last(),
            Some(GroupItem::Plain(Item::Fn(_)))
        ));
    }

    #[test]
    fn nested_groups_combine_outward_in() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/execution")]
            mod api {
                #[route(get, "/health", public)]
                async fn health() {}
                #[routes(prefix = "/connection-tests/<connection_test_id>", scopes = ["ct:self", "token:workload"])]
                mod ct {
                    #[route(get, "/connection", scopes = ["token:execution"])]
                    async fn connection() {}
                    #[routes(scopes = ["ti:self"])]
                    mod deeper {
                        #[route(get, "/ti/<task_instance_id>", scopes = ["ct:self"])]
                        async fn both() {}
                    }
                }
            }
        });
        assert!(errs.is_empty(), "{errs:?}");
        let routes = g.routes();
        assert_eq!(routes.len(), 3);
        assert_eq!(routes[0].checked.as_ref().unwrap().policy, Policy::Public);
        let c = routes[1].checked.as_ref().unwrap();
        assert_eq!(
            c.path.canonical(),
            "/execution/connection-tests/<connection_test_id>/connection"
        );
        assert_eq!(policy(c), (vec![E, W], vec!["ct:self"]));
        let c = routes[2].checked.as_ref().unwrap();
        assert_eq!(
            c.path.canonical(),
            "/execution/connection-tests/<connection_test_id>/ti/<task_instance_id>"
        );
        assert_eq!(
            policy(c),
            (vec![W], vec!["ct:self", "ti:self"]),
            "self-scopes accumulate once each"
        );
    }

    #[test]
    fn missing_self_scope_param_names_it() {
        let (c, errs) = route(r#"put, "/heartbeat", scopes = ["ti:self"]"#);
        assert!(c.is_none());
        assert_eq!(
            errs,
            ["`ti:self` needs the path parameter `task_instance_id`, but \"/heartbeat\" has none: \
              add `<task_instance_id>` to the path, or remove `ti:self`"]
        );
        let (_, errs) = group(parse_quote! {
            #[routes(prefix = "/task-instances", scopes = ["ti:self"])]
            mod task_instances {
                #[route(put, "/heartbeat")]
                async fn heartbeat() {}
            }
        });
        assert_eq!(
            errs,
            [
                "`ti:self` (from `#[routes]` on `mod task_instances`) needs the path parameter \
              `task_instance_id`, but \"/task-instances/heartbeat\" has none: \
              add `<task_instance_id>` to this path"
            ]
        );
    }

    #[test]
    fn every_error_is_reported() {
        let (c, errs) = route(
            r#"fetch, "task", scopes = ["token:workloads", "ti:selff", "token:", "ti:self", "ti:self"], pubic"#,
        );
        assert!(c.is_none());
        assert_eq!(
            errs,
            [
                "unknown HTTP method `fetch`: write one of `get`, `post`, `put`, `patch`, `delete`, `head`, `options`, `trace`",
                "path must start with `/`: write \"/task\"",
                "unknown option `pubic`: did you mean `public`?",
                "unknown scope `token:workloads`: did you mean `token:workload`?",
                "unknown scope `ti:selff`: did you mean `ti:self`?",
                "unknown scope `token:`: did you mean `token:execution` or `token:workload`?",
                "scope `ti:self` is listed twice: remove this one",
            ]
        );
    }

    #[test]
    fn methods() {
        let (_, errs) = route(r#"GET, "/x""#);
        assert_eq!(
            errs,
            ["HTTP methods are written in lower case: write `get`"]
        );
        let (_, errs) = route(r#"pacth, "/x""#);
        assert_eq!(errs, ["unknown HTTP method `pacth`: did you mean `patch`?"]);
        for m in Method::ALL {
            let (c, errs) = route(&format!(r#"{}, "/x""#, m.keyword()));
            assert!(errs.is_empty());
            assert_eq!(c.unwrap().method, m);
        }
        assert_eq!(Method::Options.guard(), "Options");
        assert_eq!(Method::Delete.upper(), "DELETE");
    }

    #[test]
    fn non_async_handlers_are_refused() {
        let (c, errs) = route_in(
            r#"get, "/x""#,
            parse_quote!(
                fn h() {}
            ),
            &Enclosing::default(),
        );
        assert!(c.is_none());
        assert_eq!(errs, ["a route handler must be async: write `async fn h`"]);
    }

    #[test]
    fn option_shapes() {
        let (_, errs) = route(r#"get, "/x", scopes = "ti:self""#);
        assert_eq!(
            errs,
            ["`scopes` takes a list of strings: write `scopes = [\"ti:self\"]`"]
        );
        let (_, errs) = route(r#"get, "/x", public = true"#);
        assert_eq!(errs, ["`public` takes no value: write `public`"]);
        let (_, errs) = route(r#"get, "/x", scopes = [], scopes = []"#);
        assert_eq!(errs, ["`scopes` is given twice: merge them into one list"]);
        let (_, errs) = route(r#"get, "/x", scopes = [ti_self]"#);
        assert_eq!(
            errs,
            ["a scope is a string literal: write e.g. `\"ti:self\"`"]
        );
        let (_, errs) = route(r#"get, "/x", prefix = "/a""#);
        assert_eq!(
            errs,
            ["unknown option `prefix`: `#[route]` takes `scopes = [\"...\"]` or `public`"]
        );
    }

    #[test]
    fn public_route_in_scoped_group() {
        let (g, errs) = group(parse_quote! {
            #[routes(scopes = ["token:workload"])]
            mod outer {
                #[routes(prefix = "/inner")]
                mod inner {
                    #[route(get, "/health", public)]
                    async fn health() {}
                }
            }
        });
        assert!(g.has_errors);
        assert_eq!(
            errs,
            ["a `public` route cannot be inside `mod outer`, whose `#[routes]` declares scopes: \
              move this route out of the group"]
        );
    }

    #[test]
    fn duplicate_routes_across_nested_groups() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/a")]
            mod outer {
                #[route(get, "/b/<x>")]
                async fn first() {}
                #[route(put, "/b/<x>")]
                async fn other_method() {}
                #[routes(prefix = "/b")]
                mod inner {
                    #[route(get, "/{y}")]
                    async fn second() {}
                }
            }
        });
        assert!(g.has_errors);
        assert_eq!(
            errs,
            [
                "`GET /a/b/<y>` is already declared by `first`: change the method or the path, \
              or remove one of the two"
            ]
        );
    }

    #[test]
    fn fallbacks_cover_each_path_shape_once_most_specific_first() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/shop")]
            mod shop {
                #[route(get, "/items/<id>")]
                async fn get_item() {}
                #[route(get, "/items/search")]
                async fn search() {}
                #[routes(prefix = "/items")]
                mod nested {
                    #[route(put, "/{other}")]
                    async fn put_item() {}
                    #[route(post, "/<id>/tags")]
                    async fn tag() {}
                }
            }
        });
        assert!(errs.is_empty(), "{errs:?}");
        let fallbacks: Vec<(String, Vec<(String, Method)>)> = g
            .fallbacks()
            .iter()
            .map(|f| {
                let routes = f
                    .routes
                    .iter()
                    .map(|(r, m)| (r.name().to_string(), *m))
                    .collect();
                (f.pattern.clone(), routes)
            })
            .collect();
        let route = |name: &str, m| (name.to_owned(), m);
        assert_eq!(
            fallbacks,
            [
                (
                    "/shop/items/search".to_owned(),
                    vec![
                        route("get_item", Method::Get),
                        route("search", Method::Get),
                        route("put_item", Method::Put),
                    ]
                ),
                (
                    "/shop/items/{id}".to_owned(),
                    vec![
                        route("get_item", Method::Get),
                        route("put_item", Method::Put)
                    ]
                ),
                (
                    "/shop/items/{id}/tags".to_owned(),
                    vec![route("tag", Method::Post)]
                ),
            ]
        );
    }

    #[test]
    fn duplicates_under_cfgs() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/a")]
            mod g {
                #[cfg(unix)]
                #[route(get, "/x")]
                async fn unix_x() {}
                #[cfg(not(unix))]
                #[route(get, "/x")]
                async fn other_x() {}
                #[route(get, "/x")]
                #[cfg(unix)]
                async fn unix_again() {}
            }
        });
        assert_eq!(
            errs,
            [
                "`GET /a/x` is already declared by `unix_x`: change the method or the path, \
              or remove one of the two"
            ],
            "identical cfgs are a duplicate, whatever the attributes' order"
        );
        assert!(g.has_errors);
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/a")]
            mod g {
                #[route(get, "/<x>")]
                async fn always() {}
                #[cfg(feature = "x")]
                #[route(get, "/<y>")]
                async fn with_x() {}
                #[routes]
                #[cfg(unix)]
                mod inner {
                    #[route(get, "/{z}")]
                    async fn on_unix() {}
                }
            }
        });
        assert!(errs.is_empty(), "{errs:?}");
        assert!(!g.has_errors);
        let deferred: Vec<(String, String)> = g
            .cfg_duplicates
            .iter()
            .map(|d| (d.message.clone(), cfg_text(&d.conditions)))
            .collect();
        let message = |param: &str, first: &str| {
            format!(
                "`GET /a/<{param}>` is already declared by `{first}` when both their `#[cfg]`s \
                 hold: make the `#[cfg]`s exclude each other, change the method or the path, \
                 or remove one of the two"
            )
        };
        assert_eq!(
            deferred,
            [
                (message("y", "always"), "#[cfg(feature = \"x\")]".to_owned()),
                (message("z", "always"), "#[cfg(unix)]".to_owned()),
                (
                    message("z", "with_x"),
                    "#[cfg(feature = \"x\")] #[cfg(unix)]".to_owned()
                ),
            ]
        );
    }

    fn cfg_text(c: &Conditions) -> String {
        c.text().replace("# [", "#[").replace(" (", "(")
    }

    #[test]
    fn route_macros_in_cfg_attr_are_refused_inside_groups() {
        let (g, errs) = group(parse_quote! {
            #[routes(prefix = "/a", scopes = ["token:workload"])]
            mod g {
                #[cfg_attr(feature = "x", route(get, "/x"))]
                async fn hidden() {}
                #[cfg_attr(unix, scopegate::routes(prefix = "/b"))]
                mod hidden_group {}
                mod plain {
                    #[cfg_attr(unix, route(get, "/y"))]
                    async fn escaped() {}
                }
            }
        });
        assert!(g.has_errors);
        assert_eq!(
            errs,
            [
                "`#[routes]` cannot see a `#[route]` inside `#[cfg_attr]`, so this group's prefix \
                 and scopes would not apply to it: write `#[cfg(feature = \"x\")]` and \
                 `#[route(..)]` as two attributes",
                "`#[routes]` cannot see a `#[routes]` inside `#[cfg_attr]`, so this group's prefix \
                 and scopes would not apply to it: write `#[cfg(unix)]` and `#[routes(..)]` as \
                 two attributes",
                "this route is in `mod plain`, which has no `#[routes]`, so the group would not \
                 apply to it: add `#[routes]` to `mod plain`",
            ]
        );
        // Taken out, so they are not expanded on their own.
        match &g.items[0] {
            GroupItem::Plain(Item::Fn(f)) => assert!(f.attrs.is_empty()),
            _ => panic!("the handler is kept as a plain fn"),
        }
    }

    #[test]
    fn group_shape_errors() {
        let (_, errs) = group(parse_quote! {
            #[routes(prefix = "/a/<id>")]
            mod g {
                #[route(get, "/<id>")]
                async fn h() {}
                #[route(get, "/x")]
                struct NotAFn;
                fn configure() {}
                mod plain {
                    #[route(get, "/y")]
                    async fn escaped() {}
                }
            }
        });
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].starts_with("path parameter `<id>` is already in the group prefix \"/a/<id>\"")
        );
        assert_eq!(errs[1], "`#[route]` goes on an `async fn` handler");
        assert_eq!(
            errs[2],
            "`configure` is generated by `#[routes]`: rename this item"
        );
        assert!(errs[3].starts_with("this route is in `mod plain`, which has no `#[routes]`"));
        let (_, errs) = group(parse_quote! {
            #[routes(prefix = "/a/")]
            mod g;
        });
        assert_eq!(
            errs,
            [
                "prefix must not end with `/`: write \"/a\"",
                "`#[routes]` needs the module's items inline: write `mod g { .. }`",
            ]
        );
    }
}
