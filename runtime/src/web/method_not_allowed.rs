//! 405 Method Not Allowed for a known path, as FastAPI answers it (SPEC §3
//! "Wrong method").
//!
//! `#[route]` registers one resource per route, guarded by its method, so a
//! request whose path matches but whose method does not would fall through
//! to actix's 404. At the end of a `#[routes]` group's `configure`, the
//! macro registers one fallback resource per path of the group, after every
//! route of the group, with [`register_fallback`]: whatever reaches it has a
//! known path and a method no route of the group declares for it. The
//! fallback needs no token and runs no policy: like FastAPI, the method is
//! refused before authentication.

use std::borrow::Cow;
use std::future::{ready, Ready};

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::render::{reason, render, Refusal};

use crate::claims::LogSafe;

/// The 405 answer: `{"detail": "Method Not Allowed"}` with `Allow: allow`,
/// as FastAPI (Starlette) sends it (in the shape of the application's
/// [`Renderer`](super::render::Renderer), with the `Allow` header whatever
/// it does), and an `info` log line naming the method and the route (never
/// a token: the request's headers are not read).
pub fn method_not_allowed(req: &HttpRequest, allow: &HeaderValue) -> HttpResponse {
    tracing::info!(
        target: "scopegate",
        method = %req.method(),
        route = ?LogSafe(req.match_pattern().as_deref().unwrap_or(req.path())),
        allow = allow.to_str().unwrap_or_default(),
        outcome = "method_not_allowed",
    );
    let refusal = Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        reason::METHOD_NOT_ALLOWED,
        Cow::Owned(Value::from("Method Not Allowed")),
    )
    .with_allow(allow.clone());
    render(req, &refusal)
}

/// The `Allow` value for `methods`: sorted, without repeats, joined with
/// `", "` (`"DELETE, GET, PUT"`). `None` when there is no method, or when
/// one is not a valid header value (the macros only pass method names).
pub fn allow_header(methods: &[&str]) -> Option<HeaderValue> {
    let mut methods = methods.to_vec();
    methods.sort_unstable();
    methods.dedup();
    if methods.is_empty() {
        return None;
    }
    HeaderValue::from_str(&methods.join(", ")).ok()
}

/// Registers, under `pattern` (actix's syntax, `/variables/{key}`), a
/// resource for every method that answers `method_not_allowed` with the
/// `methods` the group declares for that path. Register it after the
/// routes it stands behind: actix tries resources in registration order.
///
/// With no method (every route on the path is `#[cfg]`'d out) nothing is
/// registered, so the path stays unknown: 404.
pub fn register_fallback(cfg: &mut web::ServiceConfig, pattern: &str, methods: &[&str]) {
    let Some(allow) = allow_header(methods) else {
        return;
    };
    cfg.service(
        web::resource(pattern).to(move |req: HttpRequest| -> Ready<HttpResponse> {
            ready(method_not_allowed(&req, &allow))
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::http::header::ALLOW;
    use actix_web::test::TestRequest;

    #[test]
    fn allow_is_sorted_without_repeats() {
        assert_eq!(
            allow_header(&["PUT", "GET", "DELETE", "GET"]).unwrap(),
            "DELETE, GET, PUT"
        );
        assert_eq!(allow_header(&["GET"]).unwrap(), "GET");
        assert_eq!(allow_header(&[]), None);
        assert_eq!(allow_header(&["GET\n"]), None);
    }

    #[actix_web::test]
    async fn the_response_is_fastapis() {
        let req = TestRequest::post().uri("/variables/x").to_http_request();
        let res = method_not_allowed(&req, &HeaderValue::from_static("DELETE, GET, PUT"));
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers().get(ALLOW).unwrap(), "DELETE, GET, PUT");
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body = to_bytes(res.into_body()).await.unwrap();
        assert_eq!(&body[..], br#"{"detail":"Method Not Allowed"}"#);
    }
}
