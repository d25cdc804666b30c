//! How a `#[routes]` group registers its routes, so that a request costs the
//! same to route whether its route was declared first or last (SPEC §14).
//!
//! actix's router tries its resources one after the other, and matches a
//! resource whose path has parameters with a regex. A group's `configure`
//! registers instead, on the app, one [`Group`]:
//!
//! 1. **The dispatcher**: one resource for the whole group, whose guard
//!    walks a [`Trie`] of the group's patterns once. When the route actix
//!    would have picked (the first-declared route whose pattern and method
//!    match) is one of scopegate's `#[route]`s, the guard lets the request
//!    in with the route's parameters copied out of the path; the
//!    dispatcher puts them in `match_info`, as actix's matcher would (a
//!    pattern the trie does not take apart is matched by actix's matcher
//!    for that one route), and calls that route's service: its `Enforce`
//!    with its own policy, then its handler. Every pattern of the group is
//!    in the resource map under the dispatcher, so `req.match_pattern()` is
//!    the route's full pattern.
//! 2. **The group's routes, one by one, as actix registers them**, in
//!    declaration order, behind a guard that opens only when the dispatcher
//!    says so: for a `#[protect]` handler (its service is actix's), and for
//!    a request whose path an earlier pattern of the group also matches
//!    (`PUT /variables/keys`, served by `/variables/<variable_key>`), so
//!    that actix's router, which records the route it picks, gives
//!    `match_pattern()` the pattern of the route that served it.
//!
//! A path of more than 64 segments, which the dispatcher does not cut
//! into segments, is matched against each of the group's patterns in turn
//! by actix's matcher (slow, as before issue 21, and only for such paths);
//! the gated routes serve it when one of the group's routes does.
//!
//! Anything else goes on to the resources registered after the group: a
//! path the group does not serve, and a path it serves with other methods,
//! which the guard marks with their methods ([`record_wrong_method`]) so
//! that, if nothing after the group serves it either, the app's default
//! service answers 405 with `Allow` ([`Fallback`]). A 405 never stands in
//! front of a route registered later.
//!
//! The guard sees the request's URI, not actix's match state, so it can
//! only route a group registered on the `App` itself, where matching starts
//! at the start of the path. A group registered inside a `web::scope`
//! registers its routes one by one (step 2 without the gate) and its 405
//! markers after them.
//!
//! actix records that the dispatcher picked a request, not which of its
//! patterns, so `match_pattern()` looks the *raw* path up in the resource
//! map, from the app's first resource. The dispatcher therefore serves a
//! request only when that lookup finds the route's pattern: a path whose
//! re-quoting changed a segment the patterns read as text (`/%6Beys` for
//! `/keys`) goes to the gated routes, which record the route they pick.
//! One case is not covered yet: a resource registered on the app *before*
//! the group, whose pattern also matches a path the group serves but whose
//! method or guard refuses the request, comes first in that lookup, so
//! `match_pattern()` names its pattern (`tests/routing.rs`, ignored test
//! `an_earlier_route_of_another_method_does_not_lend_its_pattern`).
//! Register such resources after the group, or inside a scope.

use std::cell::{Cell, RefCell};
use std::num::NonZeroUsize;
use std::rc::Rc;

use actix_web::dev::{
    fn_service, AppService, Handler, HttpServiceFactory, ResourceDef, ResourceMap, Service,
    ServiceFactory, ServiceRequest, ServiceResponse, Url,
};
use actix_web::guard::{Guard, GuardContext};
use actix_web::{Error, FromRequest, HttpResponse, Responder};
use futures_util::future::LocalBoxFuture;

use super::methods::Methods;
use super::trie::{self, has_percent, RouteIndex, Segments, Trie, Uncut};

use super::enforce::Enforce;
use super::guard::GuardEntry;
use super::method_not_allowed::record_wrong_method;
use crate::policy::RoutePolicy;

/// A route's service as the dispatcher calls it: its `Enforce` (unless
/// public) around its handler.
pub type RouteFactory =
    actix_service::boxed::BoxServiceFactory<(), ServiceRequest, ServiceResponse, Error, ()>;

type RouteService = actix_service::boxed::BoxService<ServiceRequest, ServiceResponse, Error>;

/// One route of a group, as `#[routes]` lists it for the dispatcher: its
/// method, its full pattern in actix's syntax, and, for a `#[route]`, its
/// service (`None` for a `#[protect]` handler, whose service is actix's).
#[derive(Clone, Copy)]
pub struct Entry {
    /// `"GET"`, ...
    pub method: &'static str,
    /// The full path, as actix spells it: `/execution/variables/{variable_key}`.
    pub pattern: &'static str,
    /// Makes the route's service.
    pub service: Option<fn() -> RouteFactory>,
    /// Whether the method and the pattern alone decide whether the route
    /// serves a request: `false` for a `#[protect]` handler whose actix
    /// attribute adds guards (`guard = ".."`), which only actix can run.
    /// A group with such a route registers its routes one by one.
    pub exact: bool,
}

/// A route handler's service factory, as [`handler`] makes it.
pub trait HandlerFactory:
    ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = Error,
        InitError = (),
        Service: 'static,
    > + 'static
{
}

impl<T> HandlerFactory for T where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = Error,
            InitError = (),
            Service: 'static,
        > + 'static
{
}

/// The service of a route handler: its arguments extracted, then its
/// answer, exactly as actix's `Route::to` runs a handler, without boxing
/// the handler's future (the dispatcher or the route boxes the whole).
pub fn handler<F, Args>(handler: F) -> impl HandlerFactory
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    fn_service(move |req: ServiceRequest| {
        let handler = handler.clone();
        async move {
            let (req, mut payload) = req.into_parts();
            let res = match Args::from_request(&req, &mut payload).await {
                Err(err) => HttpResponse::from_error(err),
                Ok(data) => handler
                    .call(data)
                    .await
                    .respond_to(&req)
                    .map_into_boxed_body(),
            };
            Ok(ServiceResponse::new(req, res))
        }
    })
}

/// The service the dispatcher calls for a `#[route]`: its `handler` inside
/// `Enforce` with `policy` and `guards`, unless the route is public.
pub fn route_service(
    handler: impl HandlerFactory,
    policy: &'static RoutePolicy,
    guards: &'static [GuardEntry],
) -> RouteFactory {
    use actix_service::ServiceFactoryExt as _;
    if policy.is_public() {
        return actix_service::boxed::factory(handler);
    }
    actix_service::boxed::factory(
        actix_service::apply(Enforce::new(policy).with_guards(guards), handler)
            .map(ServiceResponse::map_into_boxed_body),
    )
}

/// A `#[routes]` group, as its `configure` registers it: `table` lists its
/// routes (those of its nested groups included, under their `#[cfg]`s) in
/// declaration order; `routes` registers them one by one, then the 405
/// markers of their paths.
pub struct Group {
    table: fn(&mut Vec<Entry>),
    routes: fn(&mut AppService),
}

impl Group {
    /// The group whose routes `table` lists and `routes` registers.
    pub fn new(table: fn(&mut Vec<Entry>), routes: fn(&mut AppService)) -> Group {
        Group { table, routes }
    }
}

impl HttpServiceFactory for Group {
    fn register(self, config: &mut AppService) {
        if !config.is_root() {
            (self.routes)(config);
            return;
        }
        let mut entries = Vec::new();
        (self.table)(&mut entries);
        let exact = entries.iter().all(|e| e.exact);
        if !exact || entries.is_empty() || entries.len() > usize::from(RouteIndex::MAX) {
            (self.routes)(config);
            return;
        }
        let table = Rc::new(Table::new(entries));
        let rdef = ResourceDef::prefix(table.prefix);
        let mut rmap = ResourceMap::new(rdef.clone());
        for pattern in &table.patterns {
            rmap.add(&mut ResourceDef::new(&pattern[table.prefix.len()..]), None);
        }
        let guard: Box<dyn Guard> = Box::new(DispatchGuard(Rc::clone(&table)));
        let factory = DispatchFactory {
            table,
            default: config.default_service(),
        };
        config.register_service(rdef, Some(vec![guard]), factory, Some(Rc::new(rmap)));
        let gated = actix_web::web::scope("")
            .guard(FlatGate)
            .service(Routes(self.routes));
        HttpServiceFactory::register(gated, config);
    }
}

/// Registers a group's routes one by one, inside the gated scope.
struct Routes(fn(&mut AppService));

impl HttpServiceFactory for Routes {
    fn register(self, config: &mut AppService) {
        (self.0)(config);
    }
}

/// The request marker that opens the gated scope of the group whose
/// dispatcher the request just left.
#[derive(Clone, Copy)]
struct GoFlat;

struct FlatGate;

impl Guard for FlatGate {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        ctx.req_data_mut().remove::<GoFlat>().is_some()
    }
}

/// A group's table, ready to route.
struct Table {
    entries: Vec<Entry>,
    /// The trie of the patterns after `prefix`.
    trie: Trie,
    /// The literal segments every pattern starts with (`/execution`), or
    /// nothing: the dispatcher's own resource.
    prefix: &'static str,
    /// Whether `prefix` has no `%`, so that a raw path that starts with it
    /// and has no `%` after it has none at all.
    plain_prefix: bool,
    /// The distinct patterns, in the order of their first route.
    patterns: Vec<&'static str>,
    /// Each route's index in `patterns`.
    pattern_of: Vec<usize>,
    /// How to fill `match_info` for each route.
    params: Vec<Params>,
    /// The dispatcher's decision, from its guard to its service. actix
    /// calls a resource's service right after its guards passed, on the
    /// same thread, before any other request is routed: see
    /// [`DispatchGuard`].
    decided: Cell<Option<Decision>>,
    /// The parameters of the decided request, copied out of its path for
    /// the dispatcher's service to put in `match_info`: by the guard,
    /// which reads the path without holding `match_info`, or by the
    /// service itself for a request the guard did not decide
    /// ([`Table::decide`]).
    values: RefCell<[String; MAX_PARAMS]>,
}

/// What the dispatcher's guard decided for a request.
#[derive(Clone, Copy)]
struct Decision {
    /// The request: the address of its head.
    request: usize,
    route: RouteIndex,
    /// Whether the guard copied the route's parameters out ([`Table::values`]).
    copied: bool,
}

/// How the dispatcher fills `match_info` for a route, as actix's matcher
/// would.
enum Params {
    /// No parameter.
    None,
    /// Parameters found from the segments the trie's walk went through:
    /// whole segments, and, for a route with a tail (`{key:.+}`), the tail
    /// and the pieces after it.
    Walked {
        /// Every parameter's name, in the pattern's order.
        names: Vec<&'static str>,
        /// Where each parameter is, in the same order.
        slots: Vec<Slot>,
    },
    /// A pattern the trie leaves to actix: actix's matcher for the
    /// pattern after the prefix.
    Actix(ResourceDef),
}

/// Where a parameter is in a path the route's pattern matched.
#[derive(Clone, Copy)]
enum Slot {
    /// The whole segment at this depth (after the prefix).
    Depth(usize),
    /// A tail from the segment at `depth` to the path's last `after`
    /// segments.
    Tail { depth: usize, after: usize },
    /// The whole segment this many from the path's end (1: the last).
    FromEnd(NonZeroUsize),
}

/// The name of a one-segment parameter `{name}`, if `segment` is one.
fn param_name(segment: &str) -> Option<&str> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    (!name.is_empty() && !name.contains(['{', '}', ':'])).then_some(name)
}

/// The name of a tail `{name:.+}`, if `segment` is one.
fn tail_name(segment: &str) -> Option<&str> {
    let (name, regex) = segment
        .strip_prefix('{')?
        .strip_suffix('}')?
        .split_once(':')?;
    (regex == ".+" && !name.is_empty() && !name.contains(['{', '}', ':'])).then_some(name)
}

/// The most parameters the dispatcher fills itself; a route with more is
/// left to actix's matcher.
const MAX_PARAMS: usize = 8;

impl Params {
    fn of(rest: &'static str) -> Params {
        if !rest.contains(['{', '}']) {
            return Params::None;
        }
        let actix = || Params::Actix(ResourceDef::new(rest));
        let mut names = Vec::new();
        let mut slots = Vec::new();
        let pieces: Vec<&'static str> = rest.split('/').skip(1).collect();
        for (at, segment) in pieces.iter().enumerate() {
            if let Some(name) = param_name(segment) {
                names.push(name);
                slots.push(Slot::Depth(at));
            } else if let Some(name) = tail_name(segment) {
                names.push(name);
                let after = &pieces[at + 1..];
                slots.push(Slot::Tail {
                    depth: at,
                    after: after.len(),
                });
                for (i, piece) in after.iter().enumerate() {
                    match (param_name(piece), NonZeroUsize::new(after.len() - i)) {
                        (Some(name), Some(back)) => {
                            names.push(name);
                            slots.push(Slot::FromEnd(back));
                        }
                        (None, _) if !piece.contains(['{', '}']) => {}
                        _ => return actix(),
                    }
                }
                break;
            } else if segment.contains(['{', '}']) {
                return actix();
            }
        }
        if names.len() > MAX_PARAMS {
            return actix();
        }
        Params::Walked { names, slots }
    }

    /// Fills `match_info`, whose unprocessed part is the path after the
    /// prefix (`prefix` bytes), that the route's pattern matched, with the
    /// parameters in `values` (from [`copy`], if it copied them),
    /// which it takes. `false` if they were not copied (the path does not
    /// match after all) or are in use.
    fn fill(
        &self,
        match_info: &mut actix_web::dev::Path<Url>,
        prefix: usize,
        values: Option<&RefCell<[String; MAX_PARAMS]>>,
    ) -> bool {
        let names = match self {
            Params::None => return true,
            Params::Actix(def) => return def.capture_match_info(match_info),
            Params::Walked { names, .. } => names,
        };
        let Some(Ok(mut values)) = values.map(RefCell::try_borrow_mut) else {
            return false;
        };
        let len = match_info.as_str().len() - prefix;
        for (name, value) in names.iter().zip(values.iter_mut()) {
            match_info.add_static(*name, std::mem::take(value));
        }
        match_info.skip(u16::try_from(len).unwrap_or(u16::MAX));
        true
    }
}

impl Table {
    fn new(entries: Vec<Entry>) -> Table {
        let prefix = common_prefix(entries.iter().map(|e| e.pattern));
        let trie = Trie::new(
            entries
                .iter()
                .map(|e| (Methods::named(e.method), &e.pattern[prefix.len()..])),
        );
        let mut patterns: Vec<&'static str> = Vec::new();
        let mut pattern_of = Vec::with_capacity(entries.len());
        for entry in &entries {
            let at = patterns
                .iter()
                .position(|p| *p == entry.pattern)
                .unwrap_or_else(|| {
                    patterns.push(entry.pattern);
                    patterns.len() - 1
                });
            pattern_of.push(at);
        }
        let params = entries
            .iter()
            .map(|e| Params::of(&e.pattern[prefix.len()..]))
            .collect();
        Table {
            entries,
            trie,
            prefix,
            plain_prefix: !prefix.contains('%'),
            patterns,
            pattern_of,
            params,
            decided: Cell::new(None),
            values: Default::default(),
        }
    }

    /// What the trie finds for `rest`, a path after the prefix with no `%`
    /// or already re-quoted, and `method` ([`trie::Found`]), and the path's
    /// segments; `None` for a path too deep to cut ([`Uncut::TooLong`]).
    fn find(&self, method: Methods, rest: &str) -> Option<(trie::Found, Segments)> {
        let segments = Segments::cut(rest, false).ok()?;
        Some((self.trie.find_cut(method, rest, &segments), segments))
    }

    /// The route the dispatcher serves a request for `path` (the whole
    /// path, re-quoted) with ([`Table::dispatch`]), and whether its
    /// parameters were copied into [`Table::values`].
    fn decide(&self, method: Methods, path: &str) -> Option<(usize, bool)> {
        let rest = path.strip_prefix(self.prefix)?;
        let (found, segments) = self.find(method, rest)?;
        let index = self.dispatch(&found)?;
        Some((index, self.copy(index, rest, &segments)))
    }

    /// Copies route `index`'s parameters out of `rest` into
    /// [`Table::values`] ([`copy`]); whether it did: not for a route
    /// without such parameters (none, or left to actix), nor if `values`
    /// is in use.
    #[inline]
    fn copy(&self, index: usize, rest: &str, segments: &Segments) -> bool {
        let Params::Walked { slots, .. } = &self.params[index] else {
            return false;
        };
        let Ok(mut values) = self.values.try_borrow_mut() else {
            return false;
        };
        copy(slots, rest, segments, &mut values[..]).is_some()
    }

    /// Whether the first pattern the raw (not re-quoted) path matches is
    /// `route`'s, as actix's `match_pattern()` finds it for a route it did
    /// not pick itself.
    fn first_pattern_is(&self, raw: &str, route: usize) -> bool {
        raw.strip_prefix(self.prefix)
            .and_then(|rest| self.find(Methods::NONE, rest))
            .and_then(|(found, _)| found.first)
            .is_some_and(|first| self.pattern_of[usize::from(first)] == self.pattern_of[route])
    }

    /// The route the dispatcher serves a request with, from what the trie
    /// found for it: the route actix would serve, when it is a `#[route]`
    /// (its service is ours) and no earlier pattern of the group matches
    /// the path (so that `match_pattern()` finds its pattern first).
    fn dispatch(&self, found: &trie::Found) -> Option<usize> {
        let serve = usize::from(found.serve?);
        let first = usize::from(found.first?);
        let ours = self.entries[serve].service.is_some();
        (ours && self.pattern_of[serve] == self.pattern_of[first]).then_some(serve)
    }
}

/// Copies the parameters at `slots` out of `rest` (a path after the
/// prefix, whose `segments` the route's pattern matched) into `values`, in
/// order; `None` if the path does not match after all.
fn copy(slots: &[Slot], rest: &str, segments: &Segments, values: &mut [String]) -> Option<()> {
    let count = segments.count();
    // One loop, so one place that allocates, which the compiler inlines.
    for (value, slot) in values.iter_mut().zip(slots) {
        let (start, end) = match *slot {
            Slot::Depth(depth) if depth < count => segments.segment(depth),
            Slot::Tail { depth, after } => segments.tail(depth, after)?,
            Slot::FromEnd(back) if back.get() <= count => segments.segment(count - back.get()),
            _ => return None,
        };
        *value = rest.get(start..end)?.to_owned();
    }
    Some(())
}

/// The literal segments that start every pattern, without the last
/// segment of any (so no route is the prefix itself): `/execution`.
fn common_prefix(patterns: impl Iterator<Item = &'static str>) -> &'static str {
    let mut common: Option<&'static str> = None;
    for pattern in patterns {
        // The pattern without its last segment, cut before the first
        // segment the trie does not read as literal text.
        let mut end = pattern.rfind('/').unwrap_or(0);
        if let Some(brace) = pattern.find(['{', '}']) {
            end = end.min(pattern[..brace].rfind('/').unwrap_or(0));
        }
        let candidate = &pattern[..end];
        common = Some(match common {
            None => candidate,
            Some(c) => {
                let mut len = 0;
                for (a, b) in c.split('/').zip(candidate.split('/')).skip(1) {
                    if a != b {
                        break;
                    }
                    len += 1 + a.len();
                }
                &c[..len]
            }
        });
    }
    common.unwrap_or("")
}

/// The dispatcher's guard: routes the request on the URI's path, re-quoted
/// as actix re-quotes it.
struct DispatchGuard(Rc<Table>);

impl Guard for DispatchGuard {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        let head = ctx.head();
        let raw = head.uri.path();
        let table = &self.0;
        // The raw path, cut at its slashes; one with a `%` is matched as
        // actix matches it, re-quoted.
        let (mut path, mut rest) = (raw, "");
        let mut segments = Segments::EMPTY;
        let cut = match raw.strip_prefix(table.prefix) {
            Some(after) if table.plain_prefix => {
                rest = after;
                segments.cut_into(after, true)
            }
            _ if has_percent(raw.as_bytes()) => Err(Uncut::Percent),
            _ => return false,
        };
        let requoted;
        match cut {
            Ok(()) => {}
            Err(Uncut::Percent) => {
                requoted = Url::new(head.uri.clone());
                path = requoted.path();
                let Some(after) = path.strip_prefix(table.prefix) else {
                    return false;
                };
                rest = after;
                if segments.cut_into(after, false).is_err() {
                    return table.pass_deep(ctx, after);
                }
            }
            Err(Uncut::TooLong) => return table.pass_deep(ctx, rest),
        }
        let segments = &segments;
        let found = table
            .trie
            .find_cut(Methods::of(&head.method), rest, segments);
        if let Some(index) = table.dispatch(&found) {
            if path.len() != raw.len() && !table.first_pattern_is(raw, index) {
                // Re-quoting changed a segment the route's pattern reads as
                // text (`/%6Beys` for `/keys`): `match_pattern()` looks the
                // raw path up, so only actix's own routes, which record
                // the route they pick, name the route's pattern.
                return go_flat(ctx);
            }
            table.decided.set(Some(Decision {
                request: std::ptr::from_ref(head) as usize,
                route: index as RouteIndex,
                copied: table.copy(index, rest, segments),
            }));
            return true;
        }
        table.pass(ctx, &found)
    }
}

impl Table {
    /// The dispatcher's guard for a request it does not serve itself, from
    /// what was `found` for it: one of the group's routes serves it, so it
    /// goes to them as actix registers them, which pick it; or they serve
    /// its path with other methods, so it is marked with theirs; `false`.
    fn pass(&self, ctx: &GuardContext<'_>, found: &trie::Found) -> bool {
        if found.serve.is_some() {
            return go_flat(ctx);
        }
        if let Some(first) = found.first {
            let pattern = self.entries[usize::from(first)].pattern;
            record_wrong_method(&mut ctx.req_data_mut(), found.allow, pattern);
        }
        false
    }

    /// The dispatcher's guard for a path too deep to cut (`rest`, after
    /// the prefix), from [`Trie::find_each`]: see [`Table::pass`].
    fn pass_deep(&self, ctx: &GuardContext<'_>, rest: &str) -> bool {
        let found = self.trie.find_each(Methods::of(&ctx.head().method), rest);
        self.pass(ctx, &found)
    }
}

/// Sends the request on to the group's routes as actix registers them
/// (the gated scope right after the dispatcher); `false`, the dispatcher's
/// guard's answer.
fn go_flat(ctx: &GuardContext<'_>) -> bool {
    ctx.req_data_mut().insert(GoFlat);
    false
}

struct DispatchFactory {
    table: Rc<Table>,
    default: Rc<RouteFactory>,
}

impl ServiceFactory<ServiceRequest> for DispatchFactory {
    type Response = ServiceResponse;
    type Error = Error;
    type Config = ();
    type Service = Dispatch;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Dispatch, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        let table = Rc::clone(&self.table);
        let default = self.default.new_service(());
        let services: Vec<_> = table
            .entries
            .iter()
            .map(|e| e.service.map(|make| make().new_service(())))
            .collect();
        Box::pin(async move {
            let mut built = Vec::with_capacity(services.len());
            for service in services {
                built.push(match service {
                    Some(future) => Some(future.await?),
                    None => None,
                });
            }
            Ok(Dispatch {
                table,
                services: built,
                default: default.await?,
            })
        })
    }
}

/// The dispatcher's service.
pub struct Dispatch {
    table: Rc<Table>,
    services: Vec<Option<RouteService>>,
    default: RouteService,
}

impl Service<ServiceRequest> for Dispatch {
    type Response = ServiceResponse;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse, Error>>;

    actix_web::dev::always_ready!();

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let table = &self.table;
        let request = std::ptr::from_ref(req.head()) as usize;
        let decided = match table.decided.take() {
            Some(decision) if decision.request == request => {
                Some((usize::from(decision.route), decision.copied))
            }
            // Not the request the guard decided for: route it again, on
            // actix's re-quoted path.
            _ => table.decide(Methods::of(req.method()), req.match_info().as_str()),
        };
        let Some((index, copied)) = decided else {
            return self.default.call(req);
        };
        let prefix = table.prefix.len();
        let values = copied.then_some(&table.values);
        if !table.params[index].fill(req.match_info_mut(), prefix, values) {
            return self.default.call(req);
        }
        match &self.services[index] {
            Some(service) => service.call(req),
            None => self.default.call(req),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_is_whole_literal_segments() {
        let p = |v: &[&'static str]| common_prefix(v.iter().copied());
        assert_eq!(
            p(&["/execution/health", "/execution/variables/{k}"]),
            "/execution"
        );
        assert_eq!(
            p(&["/execution/health", "/execution/health/ping"]),
            "/execution"
        );
        assert_eq!(p(&["/health", "/health/ping"]), "");
        assert_eq!(p(&["/a/b/{c}/d", "/a/b/{c}/e"]), "/a/b");
        assert_eq!(p(&["/ab/x", "/a/x"]), "");
        assert_eq!(p(&["/{x}/y"]), "");
        assert_eq!(p(&["/items/{id}"]), "/items");
        assert_eq!(p(&["/files/{a}.{b}/x"]), "/files");
    }
}
