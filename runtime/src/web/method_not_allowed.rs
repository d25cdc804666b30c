//! 405 Method Not Allowed for a known path, as FastAPI answers it (SPEC §3
//! "Wrong method"), answered only when no route of the app serves the
//! request.
//!
//! `#[route]` registers one resource per route, guarded by its method, so a
//! request whose path matches but whose method does not falls through to
//! the resources registered after it. A `#[routes]` group marks such a
//! request on its way through with the methods it declares for the path
//! ([`record_wrong_method`]: its dispatcher does, or, inside a
//! `web::scope`, one marker resource per path of the group, registered
//! after its routes, whose guard records and never matches). If a later
//! resource serves the request, the mark is ignored. If none does, the app's
//! default service runs, and the group's `configure` made that a
//! [`Fallback`]: a marked request gets 405 with `Allow`, any other 404 as
//! actix answers it. So a 405 never stands in front of a route registered
//! later, in this group or another.
//!
//! The fallback needs no token and runs no policy: like FastAPI, the method
//! is refused before authentication.

use std::borrow::Cow;
use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::dev::{
    AppService, Extensions, HttpServiceFactory, Service, ServiceFactory, ServiceRequest,
    ServiceResponse,
};
use actix_web::guard::{Guard, GuardContext};
use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::{Either, LocalBoxFuture};

use super::methods::Methods;
use serde_json::Value;

use super::render::{reason, render, Refusal};

use crate::claims::LogSafe;

/// The 405 answer: `{"detail": "Method Not Allowed"}` with `Allow: allow`,
/// as FastAPI (Starlette) sends it (in the shape of the application's
/// [`Renderer`](super::render::Renderer), with the `Allow` header whatever
/// it does), and an `info` log line naming the method and the route (never
/// a token: the request's headers are not read).
pub fn method_not_allowed(req: &HttpRequest, allow: &HeaderValue) -> HttpResponse {
    let route = req
        .extensions()
        .get::<WrongMethod>()
        .map(|w| w.pattern.to_owned())
        .or_else(|| req.match_pattern());
    tracing::info!(
        target: "scopegate",
        method = %req.method(),
        route = ?LogSafe(route.as_deref().unwrap_or(req.path())),
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

/// What a group learnt about a request whose path it declares with other
/// methods: the methods it declares for the path, and the pattern of the
/// first route on the path, for the log line.
#[derive(Clone, Copy, Debug)]
struct WrongMethod {
    allow: Methods,
    pattern: &'static str,
}

/// Marks the request (through its extensions) as one whose path `pattern`
/// declares `allow`, but not its method; a second mark adds its methods.
pub(crate) fn record_wrong_method(
    extensions: &mut Extensions,
    allow: Methods,
    pattern: &'static str,
) {
    match extensions.get_mut::<WrongMethod>() {
        Some(mark) => mark.allow = mark.allow.union(allow),
        None => {
            extensions.insert(WrongMethod { allow, pattern });
        }
    }
}

/// The methods the request was marked with, if any.
fn marked(req: &HttpRequest) -> Option<Methods> {
    req.extensions()
        .get::<WrongMethod>()
        .map(|w| w.allow)
        .filter(|m| !m.is_empty())
}

/// The guard of a 405 marker: records the path's methods, never matches.
struct Marker {
    allow: Methods,
    pattern: &'static str,
}

impl Guard for Marker {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        record_wrong_method(&mut ctx.req_data_mut(), self.allow, self.pattern);
        false
    }
}

/// Registers, under `pattern` (actix's syntax, `/variables/{key}`), a
/// marker: a resource whose guard marks every request that reaches it with
/// `methods` (the methods the group declares for that path) and never
/// matches, so the request goes on to the resources after it, and, if none
/// serves it, to the [`Fallback`]'s 405. Register it after the routes of
/// the path: actix tries resources in registration order.
///
/// With no method (every route on the path is `#[cfg]`'d out) nothing is
/// registered, so the path stays unknown: 404.
pub fn register_marker(config: &mut AppService, pattern: &'static str, methods: &[&str]) {
    let allow = methods
        .iter()
        .fold(Methods::NONE, |all, m| all.union(Methods::named(m)));
    if allow.is_empty() {
        return;
    }
    let marker = web::resource(pattern)
        .guard(Marker { allow, pattern })
        .to(HttpResponse::NotFound);
    HttpServiceFactory::register(marker, config);
}

/// The app's default service that `#[routes]` groups install: `405 Method
/// Not Allowed` with `Allow` for a request whose path a group declares with
/// other methods, and that no route of the app served; anything else goes
/// to the service it falls back on, actix's plain 404 unless told
/// otherwise ([`Fallback::or`]).
///
/// A group's `configure` makes it the app's default service. An app that
/// answers unknown paths its own way sets its default service *after*
/// `configure`, wrapped in this, so that wrong methods still get 405:
///
/// ```
/// use actix_web::{web, App, HttpResponse};
///
/// async fn not_found() -> HttpResponse {
///     HttpResponse::NotFound().json(serde_json::json!({"detail": "Not Found"}))
/// }
///
/// # fn configure(_: &mut web::ServiceConfig) {}
/// let app = App::new()
///     .configure(configure) // a #[routes] group's
///     .default_service(scopegate::Fallback::or(web::to(not_found)));
/// ```
pub struct Fallback<F = NotFound> {
    otherwise: Rc<F>,
}

impl Fallback {
    /// 405 for a marked request, 404 (actix's, with no body) otherwise.
    pub fn new() -> Fallback {
        Fallback {
            otherwise: Rc::new(NotFound),
        }
    }
}

impl Default for Fallback {
    fn default() -> Self {
        Fallback::new()
    }
}

impl<F> Fallback<F>
where
    F: ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = Error,
        InitError = (),
    >,
{
    /// 405 for a marked request, `otherwise` for any other: e.g.
    /// `web::to(not_found)`.
    pub fn or(otherwise: F) -> Fallback<F> {
        Fallback {
            otherwise: Rc::new(otherwise),
        }
    }
}

impl<F> ServiceFactory<ServiceRequest> for Fallback<F>
where
    F: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = Error,
            InitError = (),
        > + 'static,
{
    type Response = ServiceResponse;
    type Error = Error;
    type Config = ();
    type Service = FallbackService<F::Service>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Service, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        let otherwise = self.otherwise.new_service(());
        Box::pin(async move {
            Ok(FallbackService {
                otherwise: otherwise.await?,
            })
        })
    }
}

/// The service of a [`Fallback`].
pub struct FallbackService<S> {
    otherwise: S,
}

impl<S> Service<ServiceRequest> for FallbackService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = Error>,
{
    type Response = ServiceResponse;
    type Error = Error;
    type Future = Either<Ready<Result<ServiceResponse, Error>>, S::Future>;

    actix_web::dev::forward_ready!(otherwise);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let allow =
            marked(req.request()).and_then(|allow| HeaderValue::from_str(&allow.allow()).ok());
        match allow {
            Some(allow) => {
                let response = method_not_allowed(req.request(), &allow);
                Either::Left(ready(Ok(req.into_response(response))))
            }
            None => Either::Right(self.otherwise.call(req)),
        }
    }
}

/// actix's own default service: 404 with no body.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotFound;

impl ServiceFactory<ServiceRequest> for NotFound {
    type Response = ServiceResponse;
    type Error = Error;
    type Config = ();
    type Service = NotFound;
    type InitError = ();
    type Future = Ready<Result<NotFound, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        ready(Ok(NotFound))
    }
}

impl Service<ServiceRequest> for NotFound {
    type Response = ServiceResponse;
    type Error = Error;
    type Future = Ready<Result<ServiceResponse, Error>>;

    actix_web::dev::always_ready!();

    fn call(&self, req: ServiceRequest) -> Self::Future {
        ready(Ok(
            req.into_response(HttpResponse::new(StatusCode::NOT_FOUND))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::http::header::ALLOW;
    use actix_web::test::TestRequest;

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

    #[actix_web::test]
    async fn marks_add_up_and_the_fallback_answers_them() {
        let fallback = Fallback::new().new_service(()).await.unwrap();
        let req = TestRequest::post().uri("/items/search").to_srv_request();
        let res = fallback.call(req).await.unwrap();
        assert_eq!(res.status(), 404, "an unmarked request is actix's 404");
        let req = TestRequest::post().uri("/items/search").to_srv_request();
        record_wrong_method(&mut req.extensions_mut(), Methods::PUT, "/items/{id}");
        record_wrong_method(&mut req.extensions_mut(), Methods::GET, "/items/search");
        let res = fallback.call(req).await.unwrap();
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers().get(ALLOW).unwrap(), "GET, PUT");
    }
}
