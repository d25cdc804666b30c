//! `#[routes]` groups: raw arguments -> the checked model of a group and
//! every route and group inside it.
//!
//! A group merges its prefix and scopes into the routes it contains, finds
//! scopegate's attributes on its items by name or by path (see
//! [`crate::attrs`]), refuses routes it could not apply to (inside a plain
//! `mod`, hidden in a `#[cfg_attr]`, or an actix-web route without
//! `#[protect]`), and checks the rules that span routes: duplicates and the
//! 405 fallbacks.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{Attribute, Ident, Item, ItemMod};

use crate::attrs::{self, Kind};
use crate::cfg::{self, Conditions};
use crate::model::{
    allowed_types, check_tail, owners, path_text, read_options, resolve_items, Checked, Ctxt,
    Enclosing, Form, Macro, Method, Route,
};
use crate::parse::{GroupArgs, RouteArgs};
use crate::path::RoutePath;

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
    Route(Box<Route>),
    Group(Group),
}

/// The message for a `#[protect]` on a handler that has scopegate's
/// `#[route]`.
pub(crate) const PROTECT_WITH_ROUTE: &str = "`#[protect]` goes above one of actix-web's route \
     attributes; scopegate's `#[route]` takes its scopes itself: remove `#[protect]` and write \
     them in `#[route(.., scopes = [..])]`";

/// Items `#[routes]` generates in the module, and with the `openapi`
/// feature.
const GENERATED: [&str; 6] = [
    "configure",
    "ROUTES",
    REGISTER_ROUTES,
    TABLE,
    ROUTES_AND_MARKERS,
    crate::include::REPLAY,
];
const GENERATED_OPENAPI: [&str; 2] = ["openapi", ADD_OPENAPI];

/// The hidden function of a group that registers its routes (and its nested
/// groups' routes) one by one, without the 405 markers; an outer group calls
/// it, so that only the `configure` called by the application adds markers.
pub(crate) const REGISTER_ROUTES: &str = "__scopegate_register_routes";

/// The hidden function of a group that lists its routes (and its nested
/// groups' routes) for its dispatcher (SPEC §14).
pub(crate) const TABLE: &str = "__scopegate_table";

/// The hidden function of a group that registers its routes one by one and
/// then its 405 markers: what its dispatcher stands in front of.
pub(crate) const ROUTES_AND_MARKERS: &str = "__scopegate_routes_and_markers";

/// The hidden function of a group that adds its routes (and its nested
/// groups' routes) to an OpenAPI document, with the `openapi` feature.
pub(crate) const ADD_OPENAPI: &str = "__scopegate_openapi";

/// The name an item defines in its module, if it defines one.
pub(crate) fn item_ident(item: &Item) -> Option<&Ident> {
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

/// Takes every scopegate attribute (`#[route]`, `#[routes]`, `#[protect]`)
/// out of `attrs`, and every `#[cfg_attr]` that hides one: what a handler
/// must not carry besides the one being expanded.
pub(crate) fn take_route_macros(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    attrs::take(attrs, |a| attrs::is_scopegate(a) || cfg::hides_any(a))
}

impl Group {
    /// Checks a top-level `#[routes]` module and everything inside it.
    pub(crate) fn top(
        cx: &mut Ctxt,
        args: syn::Result<GroupArgs>,
        module: ItemMod,
        enclosing: &Enclosing,
    ) -> Group {
        let before = cx.count();
        let mut group = Group::new(cx, args, module, enclosing);
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
        enclosing.modules.push(name.clone());
        match args {
            Ok(args) => {
                let options = read_options(cx, args.options, Macro::Group);
                if let Some(key) = &options.included {
                    cx.error(key.span(), crate::include::INCLUDED_INLINE);
                }
                match &options.include {
                    // A top-level group's valid `include` was expanded into
                    // the chain that assembles its tree; an invalid one was
                    // reported when read.
                    Some((key, paths)) if !paths.is_empty() && !outer.modules.is_empty() => {
                        cx.error(key.span(), crate::include::INCLUDE_NESTED);
                    }
                    _ => {}
                }
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
                            check_tail(cx, outer, &prefix, lit.span());
                            enclosing.prefix = outer.prefix.join(&prefix);
                            enclosing.prefix_text = enclosing.prefix.canonical();
                        }
                        Err(e) => cx.error(lit.span(), e),
                    }
                }
                if let Some((_, exprs)) = &options.scopes {
                    let declared = resolve_items(cx, &enclosing, exprs);
                    if !exprs.is_empty() && enclosing.scoped_group.is_none() {
                        enclosing.scoped_group = Some(name.clone());
                    }
                    let vocab = std::sync::Arc::clone(&enclosing.vocab);
                    enclosing
                        .token_types
                        .extend(allowed_types(&vocab, &declared));
                    for owner in owners(&vocab, &declared) {
                        if !enclosing.owners.iter().any(|(o, _)| *o == owner) {
                            enclosing.owners.push((owner, name.clone()));
                        }
                    }
                    enclosing
                        .items
                        .extend(declared.into_iter().map(|item| (item, name.clone())));
                }
                if let Some((_, paths)) = &options.guard {
                    if !paths.is_empty() && enclosing.guarded_group.is_none() {
                        enclosing.guarded_group = Some(name.clone());
                    }
                    for path in paths {
                        let text = path_text(path);
                        match enclosing.guards.iter().find(|(g, _)| path_text(g) == text) {
                            Some((_, group)) => cx.error_spanned(
                                path,
                                format!(
                                    "guard `{text}` already runs on this group's routes, from \
                                     `#[routes]` on `mod {group}`: remove it here"
                                ),
                            ),
                            None => enclosing.guards.push((path.clone(), name.clone())),
                        }
                    }
                }
            }
            Err(e) => cx.push(e),
        }
        if cx.count() > before {
            enclosing.broken = true;
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
                GroupItem::Route(r) => out.push(&**r),
                GroupItem::Group(g) => out.extend(g.routes()),
                GroupItem::Plain(_) => {}
            }
        }
        out
    }
}

/// The 405 marker `#[routes]` registers for one path shape of a group,
/// after every route of the group (SPEC §3 "Wrong method"), where it
/// registers its routes one by one.
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
        // A shape that another covers goes first, whatever their parameter
        // counts: `/x/<key:path>/item/<>` before `/x/<key:path>`.
        let strictly_covers =
            |a: &Checked, b: &Checked| a.path.covers(&b.path) && !b.path.covers(&a.path);
        let mut ordered = Vec::with_capacity(shapes.len());
        while !shapes.is_empty() {
            let next = (0..shapes.len())
                .find(|&i| !shapes.iter().any(|other| strictly_covers(shapes[i], other)))
                .unwrap_or(0);
            ordered.push(shapes.remove(next));
        }
        ordered
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
        let openapi = cfg!(feature = "openapi") && GENERATED_OPENAPI.iter().any(|g| ident == g);
        if GENERATED.iter().any(|g| ident == g) || openapi {
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
    let mut ours = attrs::take(attrs, attrs::is_scopegate);
    let has = |ours: &[Attribute], kind| ours.iter().any(|a| attrs::kind(a) == kind);
    if has(&ours, Kind::Route) && has(&ours, Kind::Protect) {
        for protect in attrs::take(&mut ours, |a| attrs::kind(a) == Kind::Protect) {
            cx.error_spanned(protect, PROTECT_WITH_ROUTE);
        }
    }
    for extra in ours.iter().skip(1) {
        cx.error_spanned(
            extra,
            "only one `#[route]`, `#[routes]` or `#[protect]` per item: declare another handler \
             for another route",
        );
    }
    match (item, ours.first()) {
        (Item::Fn(func), Some(attr)) if attrs::kind(attr) == Kind::Route => {
            let args = attr.parse_args::<RouteArgs>();
            GroupItem::Route(Box::new(Route::new(cx, args, func, enclosing)))
        }
        (Item::Fn(func), Some(attr)) if attrs::kind(attr) == Kind::Protect => {
            let args = group_args(attr);
            let span = syn::spanned::Spanned::span(attr);
            GroupItem::Route(Box::new(Route::protect(cx, args, func, span, enclosing)))
        }
        (Item::Mod(module), Some(attr)) if attrs::kind(attr) == Kind::Routes => {
            let args = group_args(attr);
            let mut inner = enclosing.clone();
            inner.conditions = enclosing.conditions.and(&Conditions::of(&module.attrs));
            GroupItem::Group(Group::new(cx, args, module, &inner))
        }
        (item, None) => {
            match &item {
                Item::Mod(module) => {
                    let mut module = module.clone();
                    report_stray_routes(cx, &mut module);
                    return GroupItem::Plain(Item::Mod(module));
                }
                Item::Fn(func) => report_unprotected(cx, &func.attrs),
                _ => {}
            }
            GroupItem::Plain(item)
        }
        (item, Some(attr)) => {
            let message = match attrs::kind(attr) {
                Kind::Routes => "`#[routes]` goes on an inline `mod`",
                Kind::Protect => {
                    "`#[protect]` goes on an `async fn` handler, above its actix-web route attribute"
                }
                _ => "`#[route]` goes on an `async fn` handler",
            };
            cx.error_spanned(attr, message);
            GroupItem::Plain(item)
        }
    }
}

/// The arguments of `#[routes(..)]` or `#[protect(..)]`; none for a bare
/// `#[routes]`.
fn group_args(attr: &Attribute) -> syn::Result<GroupArgs> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(GroupArgs {
            options: Vec::new(),
        }),
        _ => attr.parse_args::<GroupArgs>(),
    }
}

/// An actix-web route attribute on a handler of a group, without
/// `#[protect]`, would register a route the group neither prefixes, nor
/// protects, nor lists. Refuse it.
fn report_unprotected(cx: &mut Ctxt, attrs: &[Attribute]) {
    for attr in attrs {
        if let Kind::Actix(name) = attrs::kind(attr) {
            cx.error_spanned(
                attr,
                format!(
                    "this actix-web `#[{name}]` is inside a `#[routes]` group, which would neither \
                     prefix, protect nor list it: add `#[protect]` (or `#[protect(scopes = \
                     [..])]`) above it, or move the handler out of the group"
                ),
            );
        }
    }
}

/// A `#[route]` (or `#[protect]`) in a plain `mod` inside a group would
/// expand on its own, outside the group's prefix and scopes. Refuse it, and
/// take the attribute out so that it does not expand at all.
fn report_stray_routes(cx: &mut Ctxt, module: &mut ItemMod) {
    let ident = module.ident.clone();
    let before = cx.count();
    let Some((_, items)) = &mut module.content else {
        return;
    };
    for item in items.iter_mut() {
        match item {
            Item::Fn(f) => {
                let stray = attrs::take(&mut f.attrs, |a| {
                    matches!(attrs::kind(a), Kind::Route | Kind::Protect)
                        || cfg::hides(a, "route")
                        || cfg::hides(a, "protect")
                });
                for attr in stray {
                    cx.error_spanned(
                        attr,
                        format!(
                            "this route is in `mod {ident}`, which has no `#[routes]`, so the group \
                             would not apply to it: add `#[routes]` to `mod {ident}`"
                        ),
                    );
                }
            }
            Item::Mod(m) => {
                let is_group =
                    |a: &Attribute| attrs::kind(a) == Kind::Routes || cfg::hides(a, "routes");
                let groups = attrs::take(&mut m.attrs, is_group);
                for attr in &groups {
                    cx.error_spanned(
                        attr,
                        format!(
                            "this group is in `mod {ident}`, which has no `#[routes]`, so the outer \
                             group would not apply to it: add `#[routes]` to `mod {ident}`"
                        ),
                    );
                }
                if groups.is_empty() {
                    report_stray_routes(cx, m);
                } else {
                    strip_routes(m);
                }
            }
            _ => {}
        }
    }
    if cx.count() > before {
        // A `use scopegate::route;` for the refused route is now unused:
        // one error is enough.
        module
            .attrs
            .push(syn::parse_quote!(#[allow(unused_imports)]));
    }
}

/// Takes scopegate's attributes out of everything in a refused group, so
/// that none of it expands on its own.
fn strip_routes(module: &mut ItemMod) {
    let Some((_, items)) = &mut module.content else {
        return;
    };
    for item in items {
        if let Some(attrs) = item_attrs_mut(item) {
            attrs::take(attrs, attrs::is_scopegate);
        }
        if let Item::Mod(m) = item {
            strip_routes(m);
        }
    }
}

/// Whether a `#[protect]` handler's actix attribute has a `guard = ".."` of
/// its own: a request it refuses goes on to the routes after it, so it
/// shadows none of them.
fn has_actix_guard(route: &Route) -> bool {
    match &route.form {
        Form::Protect(Some(actix)) => actix.rest.iter().any(|nv| nv.path.is_ident("guard")),
        _ => false,
    }
}

/// Two routes with the same method and path shape match the same requests.
/// Under identical `#[cfg]`s (or none) that is an error now; under
/// different ones it is an error only where both exist, which the macro
/// cannot tell: those pairs are returned for the expansion to check.
///
/// A route whose every path an earlier route of the same method matches
/// (`GET /v/keys` after `GET /v/<key:path>`) is never reached, since actix
/// tries routes in declaration order: an error too, under identical
/// `#[cfg]`s.
fn check_duplicates(cx: &mut Ctxt, group: &Group) -> Vec<CfgDuplicate> {
    let mut declared_before: Vec<(&Route, &Checked)> = Vec::new();
    let mut seen: HashMap<(Method, String), Vec<&Route>> = HashMap::new();
    // Under different `#[cfg]`s, two handlers may share a name.
    let mut ids: HashMap<(&str, String), &Route> = HashMap::new();
    let mut deferred = Vec::new();
    for route in group.routes() {
        let Some(checked) = &route.checked else {
            continue;
        };
        let id = checked.doc.operation_id.as_str();
        if let Some(first) = ids.insert((id, route.conditions.text()), route) {
            cx.error(
                route.name().span(),
                format!(
                    "this route's OpenAPI operationId (its group modules and name, joined by \
                     `_`) is `{id}`, which `{}` has too: rename this handler or its module",
                    first.name()
                ),
            );
        }
        let declared = format!("{} {}", checked.method.upper(), checked.path.canonical());
        let shadow = declared_before.iter().find(|(r, c)| {
            c.method == checked.method
                && !has_actix_guard(r)
                && r.conditions.text() == route.conditions.text()
                && c.path.shape() != checked.path.shape()
                && c.path.covers(&checked.path)
        });
        if let Some((first, c)) = shadow {
            cx.error(
                checked.path_span,
                format!(
                    "`{declared}` is never reached: `{}`, declared before it, matches every path \
                     it matches (`{} {}`): declare this route before `{}`",
                    first.name(),
                    c.method.upper(),
                    c.path.canonical(),
                    first.name()
                ),
            );
        }
        declared_before.push((route, checked));
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
