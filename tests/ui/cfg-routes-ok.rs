//! `#[cfg]` on routes and nested groups: a route whose cfg is off does not
//! exist (no struct, no `ROUTES` entry, no registration), without a single
//! warning. `any()` is always off, `all()` always on.
#![deny(warnings, missing_docs)]

use actix_web::{App, HttpResponse};
use scopegate::routes;

/// Routes under cfgs.
#[routes(prefix = "/a")]
pub mod api {
    use super::*;

    #[cfg(any())]
    #[route(get, "/off")]
    async fn off() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// The cfg may come after `#[route]`.
    #[route(get, "/on")]
    #[cfg(all())]
    async fn on() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Same method and path under cfgs that exclude each other: not a
    /// duplicate.
    #[cfg(debug_assertions)]
    #[route(get, "/mode")]
    async fn debug_mode() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[cfg(not(debug_assertions))]
    #[route(get, "/mode")]
    async fn release_mode() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// A `cfg_attr` that adds no `cfg` changes nothing.
    #[cfg_attr(all(), allow(unused_variables))]
    #[cfg_attr(any(), deprecated)]
    #[route(get, "/attr")]
    async fn attr() -> HttpResponse {
        let unused = 1;
        HttpResponse::Ok().finish()
    }

    /// A `cfg_attr` that adds a `cfg` is a cfg.
    #[cfg_attr(all(), cfg(any()))]
    #[route(get, "/attr-off")]
    async fn attr_off() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// A whole nested group under a cfg.
    #[cfg(any())]
    #[routes(prefix = "/gone")]
    pub mod gone {
        use super::*;

        #[route(get, "/x")]
        async fn x() -> HttpResponse {
            HttpResponse::Ok().finish()
        }
    }
}

/// A standalone route whose cfg is off (rustc applies it before
/// `#[route]`, wherever it is written): `.service(standalone)` is cfg'd
/// with it.
#[scopegate::route(get, "/standalone")]
#[cfg(any())]
async fn standalone() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let listed: Vec<(&str, &str)> = api::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(
        listed,
        [("GET", "/a/on"), ("GET", "/a/mode"), ("GET", "/a/attr")]
    );
    #[cfg(any())]
    let _ = standalone::INFO;
    let app = App::new().configure(api::configure);
    #[cfg(any())]
    let app = app.service(standalone);
    let _ = app;
}
