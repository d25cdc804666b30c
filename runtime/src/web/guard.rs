//! Guards (SPEC §11): checks that need the application's state, run after
//! a route's policy allowed a request and before its handler and
//! extractors. A guard is an `async fn(&HttpRequest, &Token) -> Result<(),
//! Deny>` under `#[scopegate::guard]`; `guard = ..` on `#[route]`,
//! `#[routes]` or `#[protect]` names it.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use serde::Serialize;
use serde_json::Value;

use crate::policy::route::path_value;
use crate::policy::GuardInfo;

use super::extract::Token;

/// What a guard's check returns: a boxed future of its answer.
pub type GuardFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Deny>> + 'a>>;

/// Why a guard refused a request, and what the caller gets: a 4xx status
/// (never 401) and a detail, any JSON, rendered by the application's
/// [`Renderer`](super::render::Renderer) (`{"detail": detail}` by default).
///
/// ```
/// use scopegate::Deny;
/// use serde_json::json;
/// // Airflow's XCom guard in multi-team mode.
/// let deny = Deny::forbidden(json!({
///     "reason": "access_denied",
///     "message": "Task does not have access to this XCom in multi-team mode",
/// }));
/// assert_eq!(deny.status(), 403);
/// // Hide that a resource exists.
/// assert_eq!(Deny::not_found("Account not found").status(), 404);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Deny {
    status: StatusCode,
    detail: Value,
}

impl Deny {
    /// 403 Forbidden with `detail`.
    pub fn forbidden(detail: impl Serialize) -> Deny {
        Deny::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404 Not Found with `detail`: to hide that the resource exists.
    pub fn not_found(detail: impl Serialize) -> Deny {
        Deny::new(StatusCode::NOT_FOUND, detail)
    }

    /// Another 4xx status with `detail` (409 Conflict, 423 Locked, ...).
    ///
    /// A guard refuses an authenticated caller; it does not authenticate.
    /// So it never answers 401 (which tells a client to get another
    /// token), nor anything but a client error: such a `status` is answered
    /// as 403, and logged as an error.
    ///
    /// ```
    /// use actix_web::http::StatusCode;
    /// use scopegate::Deny;
    /// assert_eq!(Deny::with_status(StatusCode::CONFLICT, "closed").status(), 409);
    /// assert_eq!(Deny::with_status(StatusCode::UNAUTHORIZED, "no").status(), 403);
    /// assert_eq!(Deny::with_status(StatusCode::OK, "no").status(), 403);
    /// ```
    pub fn with_status(status: StatusCode, detail: impl Serialize) -> Deny {
        if !status.is_client_error() || status == StatusCode::UNAUTHORIZED {
            tracing::error!(
                target: "scopegate",
                status = status.as_u16(),
                outcome = "error",
                reason = "a guard refuses with a 4xx status other than 401; answering 403",
            );
            return Deny::new(StatusCode::FORBIDDEN, detail);
        }
        Deny::new(status, detail)
    }

    fn new(status: StatusCode, detail: impl Serialize) -> Deny {
        let detail = serde_json::to_value(detail).unwrap_or_else(|_| {
            tracing::error!(
                target: "scopegate",
                outcome = "error",
                reason = "a guard's detail could not be serialized; answering its status's reason",
            );
            Value::from(status.canonical_reason().unwrap_or("Forbidden"))
        });
        Deny { status, detail }
    }

    /// The status the caller gets.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The detail the caller gets.
    pub fn detail(&self) -> &Value {
        &self.detail
    }
}

/// A guard, as a route's enforcement runs it. `#[scopegate::guard]`
/// implements it (and [`GuardDecl`]) for the unit struct it makes of an
/// `async fn`.
pub trait Guard {
    /// Checks one request a route policy allowed, with its token. The
    /// future owns what it reads (an `HttpRequest` and a `Token` are
    /// reference-counted), so that enforcement can run a guard in place
    /// and keep it only when it has to wait: most guards answer at once,
    /// and then the route's request costs no boxed future of its own.
    fn check(&self, req: &HttpRequest, token: &Token) -> GuardFuture<'static>;
}

/// What a route declaration needs to know of a guard, at compile time: its
/// name, the statuses it refuses with, the path parameters it reads, and,
/// for each of those, the compile error of a route that lacks it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scopegate guard",
    label = "`guard = ..` names guards declared with `#[scopegate::guard]`",
    note = "declare it as `#[scopegate::guard] async fn name(req: &HttpRequest, token: &scopegate::Token) -> Result<(), scopegate::Deny> {{ .. }}`"
)]
pub trait GuardDecl: Guard + 'static {
    /// Its name and statuses.
    const INFO: GuardInfo;
    /// The path parameters it reads (`#[scopegate::guard(params = [..])]`).
    const PARAMS: &'static [&'static str];
    /// For each of [`PARAMS`](Self::PARAMS), the message of the compile
    /// error of a route that lacks it.
    const MISSING: &'static [&'static str];
}

/// One guard of a route: its information and the guard, as
/// [`Enforce::with_guards`](crate::Enforce::with_guards) takes them.
#[derive(Clone, Copy)]
pub struct GuardEntry {
    info: GuardInfo,
    guard: &'static dyn Guard,
}

impl std::fmt::Debug for GuardEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GuardEntry").field(&self.info).finish()
    }
}

/// Whether `params` holds `name`, in `const`.
const fn contains(params: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < params.len() {
        if crate::policy::permission::str_eq(params[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

impl GuardEntry {
    /// `guard`, on a route whose full path has the parameters
    /// `route_params`.
    ///
    /// # Panics
    ///
    /// When the guard reads a path parameter the route does not have: in a
    /// `const` (as the macros write it), a compile error with the guard's
    /// message for it.
    pub const fn new<G: GuardDecl>(guard: &'static G, route_params: &[&str]) -> GuardEntry {
        let mut i = 0;
        while i < G::PARAMS.len() {
            if !contains(route_params, G::PARAMS[i]) {
                panic!("{}", G::MISSING[i]);
            }
            i += 1;
        }
        GuardEntry {
            info: G::INFO,
            guard,
        }
    }

    /// The guard's name and statuses.
    pub const fn info(&self) -> GuardInfo {
        self.info
    }

    pub(crate) fn guard(&self) -> &'static dyn Guard {
        self.guard
    }
}

/// What a guard's `async fn` may return: `Result<(), Deny>`.
#[diagnostic::on_unimplemented(
    message = "a guard returns `Result<(), scopegate::Deny>`, not `{Self}`",
    label = "this guard's `async fn` returns `{Self}`",
    note = "write `async fn name(req: &HttpRequest, token: &scopegate::Token) -> Result<(), scopegate::Deny>`"
)]
pub trait GuardOutput {
    /// The guard's answer.
    fn into_answer(self) -> Result<(), Deny>;
}

impl GuardOutput for Result<(), Deny> {
    fn into_answer(self) -> Result<(), Deny> {
        self
    }
}

/// The future of a guard's `async fn`, boxed: what `#[scopegate::guard]`
/// returns from [`Guard::check`].
pub fn guard_future<'a, F>(future: F) -> GuardFuture<'a>
where
    F: Future + 'a,
    F::Output: GuardOutput,
{
    Box::pin(async move { future.await.into_answer() })
}

/// The path parameter `name` of the route that matched `req`, decoded
/// exactly as the handler's `web::Path` decodes it (every `%XX` escape,
/// `%2F` and `%2B` included, so `team%2B1` is `team+1`), the very value
/// owner scopes compare. A guard reads parameters through this, never
/// through `req.match_info()`, which keeps some escapes encoded: a guard, an
/// owner check and a handler then never disagree on a value.
///
/// `None` when the route has no such parameter, or when its decoded bytes
/// are not UTF-8 (`web::Path` would hand the handler a lossy copy, which
/// several paths share; as owners do, a guard decides on no such value).
///
/// ```
/// use actix_web::test::TestRequest;
/// let req = TestRequest::get()
///     .uri("/accounts/team%2B1%2Fx")
///     .param("account", "team%2B1%2Fx")
///     .to_http_request();
/// assert_eq!(scopegate::path_param(&req, "account").as_deref(), Some("team+1/x"));
/// assert_eq!(scopegate::path_param(&req, "other"), None);
/// ```
pub fn path_param<'a>(req: &'a HttpRequest, name: &str) -> Option<Cow<'a, str>> {
    path_value(req.match_info().get(name)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use actix_web::{web, FromRequest as _};

    #[test]
    fn deny_maps_what_a_guard_may_not_answer_to_403() {
        assert_eq!(Deny::forbidden("x").detail(), &Value::from("x"));
        assert_eq!(Deny::not_found(42).detail(), &Value::from(42));
        for status in [
            StatusCode::UNAUTHORIZED,
            StatusCode::OK,
            StatusCode::FOUND,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            assert_eq!(Deny::with_status(status, "x").status(), 403, "{status}");
        }
        for status in [400, 404, 409, 410, 422, 423, 429] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(Deny::with_status(status, "x").status(), status);
        }
    }

    #[test]
    fn decoding_is_web_paths() {
        let param = |raw: &str| {
            let req = TestRequest::get()
                .uri("/x")
                .param("p", raw.to_owned())
                .to_http_request();
            let path = futures_util::FutureExt::now_or_never(web::Path::<String>::extract(&req))
                .unwrap()
                .unwrap()
                .into_inner();
            (path_param(&req, "p").map(|p| p.into_owned()), path)
        };
        for raw in [
            "a%2Bb",
            "a%2Fb",
            "caf%C3%A9",
            "100%",
            "%zz",
            "plain",
            "a+b",
            "%2525",
        ] {
            let (ours, handlers) = param(raw);
            assert_eq!(ours.as_deref(), Some(handlers.as_str()), "{raw}");
        }
        // Not UTF-8 once decoded: the handler gets a lossy copy, a guard
        // gets nothing to decide on.
        let (ours, handlers) = param("%C3");
        assert_eq!((ours, handlers.as_str()), (None, "\u{fffd}"));
    }
}
