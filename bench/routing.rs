//! Bench-only: actix apps that register the same routes in different
//! ways, for `bench/routing.sh`, which counts, with callgrind, the
//! instructions of a request to one route of each (issue 21, SPEC §14).
//!
//! ```text
//! bench_routing --layout LAYOUT --app APP --method GET --path /x --requests N
//! ```
//!
//! `--app example` is the example's 61 routes (the bench twin included), in
//! declaration order; `--app gen:N` is a generated API of N routes, in
//! groups of five (`GET`/`POST /api/g<i>/items`, `GET`/`PUT`/`DELETE
//! /api/g<i>/items/{id}`). Every handler answers 200 with no body and no
//! middleware, so what differs between layouts is routing alone. Layouts:
//!
//! - `flat`: one resource per route, guarded by its method, in declaration
//!   order, then one 405 fallback resource per path: what `#[routes]`
//!   registered before issue 21;
//! - `scopes`: an actix scope per group (the first literal segments), its
//!   routes as resources inside;
//! - `radix`: actix scopes nested per literal segment, a resource for the
//!   rest of a path once it has a parameter;
//! - `pattern`: one resource per distinct path, each method a route;
//! - `dispatch`: scopegate's group registration (a dispatcher over a trie,
//!   the routes one by one behind a gate): what `#[routes]` registers now;
//! - `alone`: the requested route only, registered first: the floor.
//!
//! The requests run in-process through `actix_web::test::call_service`, in
//! `measured`, which `bench/routing.sh` tells callgrind to count alone
//! (`--toggle-collect`). Every answer is checked.

use std::sync::OnceLock;

use actix_web::dev::{AppService, HttpServiceFactory, ResourceDef, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{guard, web, App, HttpResponse};
use scopegate::__private::{actix_service, register_marker, Entry, Group, RouteFactory};

/// Every route of the app, in declaration order: method and actix pattern.
static ROUTES: OnceLock<Vec<(Method, String)>> = OnceLock::new();

/// The example's routes, as `execution_api routes` lists them, in the
/// order `routes.rs` declares them.
const EXAMPLE: &str = include_str!("routing-example.txt");

async fn ok() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn routes() -> &'static [(Method, String)] {
    ROUTES.get().expect("routes set")
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// The distinct patterns, in the order of their first route, each with
/// the methods declared for it.
fn paths() -> Vec<(String, Vec<Method>)> {
    let mut out: Vec<(String, Vec<Method>)> = Vec::new();
    for (m, p) in routes() {
        match out.iter_mut().find(|(q, _)| q == p) {
            Some((_, ms)) => ms.push(m.clone()),
            None => out.push((p.clone(), vec![m.clone()])),
        }
    }
    out
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed().finish()
}

fn flat(cfg: &mut web::ServiceConfig) {
    for (m, p) in routes() {
        cfg.service(
            web::resource(p.as_str())
                .guard(guard::Method(m.clone()))
                .to(ok),
        );
    }
    let mut fallbacks = paths();
    fallbacks.sort_by_key(|(p, _)| p.matches('{').count());
    for (p, _) in fallbacks {
        cfg.service(web::resource(p).to(method_not_allowed));
    }
}

/// The literal segments a pattern starts with, `n` of them at most.
fn literal_head(pattern: &str, n: usize) -> String {
    let mut head = String::new();
    for seg in pattern.split('/').skip(1).take(n) {
        if seg.contains('{') {
            break;
        }
        head.push('/');
        head.push_str(seg);
    }
    head
}

fn scopes(cfg: &mut web::ServiceConfig) {
    // The common prefix, then one scope per group: the next literal segment.
    let top = literal_head(&routes()[0].1, 1);
    let mut groups: Vec<(String, Vec<(Method, String)>)> = Vec::new();
    for (m, p) in routes() {
        let rest = &p[top.len()..];
        let head = literal_head(rest, 1);
        let head = if head.len() == rest.len() {
            String::new()
        } else {
            head
        };
        let inner = rest[head.len()..].to_owned();
        match groups.iter_mut().find(|(h, _)| *h == head) {
            Some((_, v)) => v.push((m.clone(), inner)),
            None => groups.push((head, vec![(m.clone(), inner)])),
        }
    }
    let mut outer = web::scope(&top);
    for (head, routes) in groups {
        if head.is_empty() {
            // Routes with one segment: resources of the outer scope (a
            // scope "" would take every path).
            for (m, p) in routes {
                outer = outer.service(web::resource(p).guard(guard::Method(m)).to(ok));
            }
            continue;
        }
        let mut scope = web::scope(&head);
        for (m, p) in routes {
            scope = scope.service(web::resource(p).guard(guard::Method(m)).to(ok));
        }
        outer = outer.service(scope);
    }
    cfg.service(outer);
}

/// A scope per literal segment, recursively; a resource for the rest of a
/// path from its first parameter on.
fn radix_scope(prefix: &str, routes: &[(Method, String)]) -> actix_web::Scope {
    let mut scope = web::scope(prefix);
    let mut children: Vec<(String, Vec<(Method, String)>)> = Vec::new();
    for (m, p) in routes {
        let head = literal_head(p, 1);
        if head.is_empty() || head.len() == p.len() {
            scope = scope.service(
                web::resource(p.as_str())
                    .guard(guard::Method(m.clone()))
                    .to(ok),
            );
            continue;
        }
        let inner = p[head.len()..].to_owned();
        match children.iter_mut().find(|(h, _)| *h == head) {
            Some((_, v)) => v.push((m.clone(), inner)),
            None => children.push((head, vec![(m.clone(), inner)])),
        }
    }
    for (head, routes) in children {
        scope = scope.service(radix_scope(&head, &routes));
    }
    scope
}

fn radix(cfg: &mut web::ServiceConfig) {
    cfg.service(radix_scope("", routes()));
}

fn pattern(cfg: &mut web::ServiceConfig) {
    for (p, methods) in paths() {
        let mut resource = web::resource(p);
        for m in methods {
            resource = resource.route(web::method(m).to(ok));
        }
        cfg.service(resource);
    }
}

fn route_factory() -> RouteFactory {
    actix_service::boxed::factory(web::to(ok))
}

fn table(out: &mut Vec<Entry>) {
    for (m, p) in routes() {
        out.push(Entry {
            method: leak(m.as_str()),
            pattern: leak(p),
            service: Some(route_factory),
            exact: true,
        });
    }
}

fn one_by_one(config: &mut AppService) {
    for (m, p) in routes() {
        let resource = web::resource(p.as_str())
            .guard(guard::Method(m.clone()))
            .to(ok);
        HttpServiceFactory::register(resource, config);
    }
    for (p, ms) in paths() {
        let names: Vec<&str> = ms.iter().map(Method::as_str).collect();
        register_marker(config, leak(&p), &names);
    }
}

fn dispatch(cfg: &mut web::ServiceConfig) {
    cfg.service(Group::new(table, one_by_one));
    cfg.default_service(scopegate::Fallback::new());
}

fn alone(method: Method, path: String) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::resource(path).guard(guard::Method(method)).to(ok));
    }
}

fn generated(n: usize) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    let shapes = [
        (Method::GET, ""),
        (Method::POST, ""),
        (Method::GET, "/{id}"),
        (Method::PUT, "/{id}"),
        (Method::DELETE, "/{id}"),
    ];
    for i in 0..n {
        let (m, tail) = &shapes[i % 5];
        out.push((m.clone(), format!("/api/g{}/items{tail}", i / 5)));
    }
    out
}

fn example() -> Vec<(Method, String)> {
    EXAMPLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (m, p) = l.split_once(' ').expect("METHOD PATH");
            let p = actix_pattern(p.trim());
            (m.parse().expect("method"), p)
        })
        .collect()
}

struct Args {
    layout: String,
    method: Method,
    path: String,
    requests: usize,
    expect: u16,
}

/// The pattern of the route `path` names: its `{..}` filled in.
/// A route's path as `execution_api routes` prints it, in actix's syntax:
/// `<key:path>` is `{key:.+}`, `<name>` is `{name}`.
fn actix_pattern(path: &str) -> String {
    path.replace(":path>", ":.+>")
        .replace('<', "{")
        .replace('>', "}")
}

fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('x');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// What `--help` prints.
const USAGE: &str = "usage: bench_routing [--layout flat|scopes|radix|pattern|dispatch|alone] \
     [--app example|gen:N] [--method GET] [--path PATH|last] [--requests N] [--expect STATUS]\n\
     (defaults: dispatch, example, the last route, 1000 requests, 200); bench/routing.sh runs it \
     under callgrind";

fn parse() -> Args {
    let mut args = std::env::args().skip(1);
    let mut layout = "dispatch".to_owned();
    let mut app = "example".to_owned();
    let mut method = Method::GET;
    let mut path = None;
    let mut requests = 1000;
    let mut expect = 200;
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--layout" => layout = value,
            "--app" => app = value,
            "--method" => method = value.parse().expect("method"),
            "--path" => path = Some(value),
            "--requests" => requests = value.parse().expect("requests"),
            "--expect" => expect = value.parse().expect("status"),
            _ => panic!("unknown flag {flag}\n{USAGE}"),
        }
    }
    let routes = match app.strip_prefix("gen:") {
        Some(n) => generated(n.parse().expect("gen:N")),
        None => example(),
    };
    // `--path last` is the last route; a pattern is filled in.
    let path = match path.as_deref() {
        None | Some("last") => {
            let (m, p) = routes.last().expect("routes").clone();
            method = m;
            concrete(&p)
        }
        Some(p) => concrete(&actix_pattern(p)),
    };
    ROUTES.set(routes).expect("once");
    Args {
        layout,
        method,
        path,
        requests,
        expect,
    }
}

/// The pattern the request's path is served by, for `alone`.
fn pattern_of(method: &Method, path: &str) -> String {
    routes()
        .iter()
        .find(|(m, p)| m == method && ResourceDef::new(p.as_str()).is_match(path))
        .map(|(_, p)| p.clone())
        .expect("a route for the path")
}

#[inline(never)]
fn measured(args: &Args) {
    actix_web::rt::System::new().block_on(async {
        let app = App::new();
        let app = match args.layout.as_str() {
            "flat" => init_service(app.configure(flat)).await,
            "scopes" => init_service(app.configure(scopes)).await,
            "radix" => init_service(app.configure(radix)).await,
            "pattern" => init_service(app.configure(pattern)).await,
            "dispatch" => init_service(app.configure(dispatch)).await,
            "alone" => {
                let pattern = pattern_of(&args.method, &args.path);
                init_service(app.configure(alone(args.method.clone(), pattern))).await
            }
            other => panic!("unknown layout {other}"),
        };
        for _ in 0..args.requests {
            let req = TestRequest::default()
                .method(args.method.clone())
                .uri(&args.path)
                .to_request();
            let res: ServiceResponse = call_service(&app, req).await;
            assert_eq!(
                res.status().as_u16(),
                args.expect,
                "{} {}",
                args.method,
                args.path
            );
        }
    });
}

fn main() {
    let args = parse();
    measured(&args);
}
