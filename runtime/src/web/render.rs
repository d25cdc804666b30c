//! The answer's shape is the application's (SPEC §11): every refusal
//! scopegate makes (401, 403, a guard's 4xx, 405, and the 500 of a
//! misconfiguration) goes through one [`Renderer`], which the application
//! may replace through app data. Airflow's `{"detail": ..}` is the default.
//!
//! The renderer builds the body; the status, the `WWW-Authenticate`
//! challenge and the `Allow` and `Retry-After` headers are scopegate's: it
//! sets them again on whatever the renderer returns, so a renderer cannot
//! lose them. The
//! [`reason`]s are a closed set of constants, and the details of auth
//! refusals are built from constants and the vocabulary's names, never
//! from text taken from the token.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use actix_web::http::header::{HeaderValue, ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// The reasons a [`Refusal`] gives, one per kind of refusal: constants, so
/// a renderer may put them in a header or a URI as they are.
pub mod reason {
    /// No bearer token (401).
    pub const MISSING_TOKEN: &str = "missing_token";
    /// The token is invalid: malformed, too large, expired, forged, of an
    /// unknown type, with a malformed permissions claim, revoked... (401,
    /// RFC 6750's `invalid_token`).
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// A valid token the route's policy refuses: its type, an owner, a
    /// permission, an `any(..)` (403, RFC 6750's `insufficient_scope`).
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
    /// A guard refused the request (its status: 403, 404 or another 4xx).
    pub const GUARD: &str = "guard";
    /// A cookie token on an unsafe method from an origin the verifier does
    /// not allow (403, CSRF).
    pub const CROSS_ORIGIN: &str = "cross_origin";
    /// A known path with another method (405).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The deny-list has not loaded its revocations yet (503, with
    /// `Retry-After`): nothing is let through until it has.
    pub const UNAVAILABLE: &str = "unavailable";
    /// A misconfiguration: no verifier in app data (500). Logged.
    pub const SERVER_ERROR: &str = "server_error";
}

/// One refusal, as a [`Renderer`] sees it.
#[derive(Clone, Debug)]
pub struct Refusal<'a> {
    status: StatusCode,
    reason: &'static str,
    detail: Cow<'a, Value>,
    www_authenticate: Option<HeaderValue>,
    allow: Option<HeaderValue>,
    retry_after: Option<HeaderValue>,
}

impl<'a> Refusal<'a> {
    pub(crate) fn new(status: StatusCode, reason: &'static str, detail: Cow<'a, Value>) -> Self {
        Refusal {
            status,
            reason,
            detail,
            www_authenticate: None,
            allow: None,
            retry_after: None,
        }
    }

    pub(crate) fn with_www_authenticate(mut self, value: Option<HeaderValue>) -> Self {
        self.www_authenticate = value;
        self
    }

    pub(crate) fn with_allow(mut self, value: HeaderValue) -> Self {
        self.allow = Some(value);
        self
    }

    pub(crate) fn with_retry_after(mut self, value: HeaderValue) -> Self {
        self.retry_after = Some(value);
        self
    }

    /// The status the answer has (whatever the renderer returns).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Why, as one of the constants of [`reason`].
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// What Airflow puts in `detail`: a message (`"Token lacks permission
    /// 'entries:write'"`), or a guard's detail, any JSON.
    pub fn detail(&self) -> &Value {
        &self.detail
    }

    /// The detail when it is a message.
    pub fn message(&self) -> Option<&str> {
        self.detail.as_str()
    }

    /// The `WWW-Authenticate` challenge the answer carries, if any.
    pub fn www_authenticate(&self) -> Option<&HeaderValue> {
        self.www_authenticate.as_ref()
    }

    /// The `Allow` header of a 405.
    pub fn allow(&self) -> Option<&HeaderValue> {
        self.allow.as_ref()
    }

    /// The `Retry-After` header of a 503.
    pub fn retry_after(&self) -> Option<&HeaderValue> {
        self.retry_after.as_ref()
    }

    /// Airflow's (FastAPI's) answer: `{"detail": ...}`, `application/json`,
    /// with the status and headers.
    pub fn airflow(&self) -> HttpResponse {
        let body = serde_json::json!({ "detail": self.detail });
        self.finish(HttpResponse::build(self.status).json(body))
    }

    /// `res` with this refusal's status, `WWW-Authenticate`, `Allow` and
    /// `Retry-After`, whatever the renderer put there.
    fn finish(&self, mut res: HttpResponse) -> HttpResponse {
        *res.status_mut() = self.status;
        let headers = res.headers_mut();
        if let Some(value) = &self.www_authenticate {
            headers.insert(WWW_AUTHENTICATE, value.clone());
        }
        if let Some(value) = &self.allow {
            headers.insert(ALLOW, value.clone());
        }
        if let Some(value) = &self.retry_after {
            headers.insert(RETRY_AFTER, value.clone());
        }
        res
    }
}

type RenderFn = dyn Fn(&HttpRequest, &Refusal<'_>) -> HttpResponse + Send + Sync;

/// Builds the body of every refusal scopegate makes. Register one as app
/// data (`.app_data(renderer)`, or wrapped in `web::Data`) to replace the
/// default, Airflow's `{"detail": ..}`.
///
/// ```
/// use actix_web::{App, HttpResponse};
/// use scopegate::Renderer;
///
/// // RFC 9457 problem details.
/// let problem = Renderer::new(|_req, refusal| {
///     HttpResponse::build(refusal.status())
///         .content_type("application/problem+json")
///         .json(serde_json::json!({
///             "type": "about:blank",
///             "title": refusal.status().canonical_reason(),
///             "status": refusal.status().as_u16(),
///             "detail": refusal.detail(),
///         }))
/// });
/// let app = App::new().app_data(problem);
/// ```
///
/// Whatever the renderer returns, scopegate sets the refusal's status, its
/// `WWW-Authenticate` challenge and its `Allow` and `Retry-After` headers
/// again on it.
#[derive(Clone)]
pub struct Renderer {
    render: Arc<RenderFn>,
}

impl Renderer {
    /// A renderer that builds answers with `render`.
    pub fn new(
        render: impl Fn(&HttpRequest, &Refusal<'_>) -> HttpResponse + Send + Sync + 'static,
    ) -> Renderer {
        Renderer {
            render: Arc::new(render),
        }
    }

    /// The default: Airflow's `{"detail": ...}` ([`Refusal::airflow`]).
    pub fn airflow() -> Renderer {
        Renderer::new(|_, refusal| refusal.airflow())
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::airflow()
    }
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

/// The answer to `refusal` on `req`: the application's renderer (a
/// [`Renderer`] in app data, plain or in `web::Data`) or the default, then
/// the refusal's status and headers set again.
pub(crate) fn render(req: &HttpRequest, refusal: &Refusal<'_>) -> HttpResponse {
    let renderer = req
        .app_data::<Renderer>()
        .or_else(|| req.app_data::<web::Data<Renderer>>().map(|d| d.get_ref()));
    match renderer {
        Some(renderer) => refusal.finish((renderer.render)(req, refusal)),
        None => refusal.airflow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;

    fn refusal() -> Refusal<'static> {
        Refusal::new(
            StatusCode::FORBIDDEN,
            reason::INSUFFICIENT_SCOPE,
            Cow::Owned(Value::from("Token lacks permission 'x'")),
        )
        .with_www_authenticate(Some(HeaderValue::from_static(
            "Bearer error=\"insufficient_scope\", scope=\"x\"",
        )))
    }

    #[actix_web::test]
    async fn the_default_is_airflows_detail() {
        let req = TestRequest::get().to_http_request();
        let res = render(&req, &refusal());
        assert_eq!(res.status(), 403);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json"
        );
        assert!(res.headers().contains_key(WWW_AUTHENTICATE));
        let body = to_bytes(res.into_body()).await.unwrap();
        assert_eq!(&body[..], br#"{"detail":"Token lacks permission 'x'"}"#);
    }

    #[actix_web::test]
    async fn a_renderer_cannot_lose_the_status_or_the_headers() {
        let careless = Renderer::new(|_, r| {
            HttpResponse::Ok()
                .insert_header((WWW_AUTHENTICATE, "Basic"))
                .body(format!("{}: {}", r.reason(), r.message().unwrap_or("")))
        });
        for req in [
            TestRequest::get()
                .app_data(careless.clone())
                .to_http_request(),
            TestRequest::get()
                .app_data(web::Data::new(careless.clone()))
                .to_http_request(),
        ] {
            let res = render(&req, &refusal());
            assert_eq!(res.status(), 403);
            assert_eq!(
                res.headers().get(WWW_AUTHENTICATE).unwrap(),
                "Bearer error=\"insufficient_scope\", scope=\"x\""
            );
            let body = to_bytes(res.into_body()).await.unwrap();
            assert_eq!(&body[..], b"insufficient_scope: Token lacks permission 'x'");
        }
        let allow = refusal().with_allow(HeaderValue::from_static("GET"));
        let req = TestRequest::get().app_data(careless).to_http_request();
        assert_eq!(render(&req, &allow).headers().get(ALLOW).unwrap(), "GET");
        // The deny-list's 503 keeps its status and Retry-After too.
        let unavailable = crate::web::AuthError::RevocationsNotLoaded.refusal();
        assert_eq!(unavailable.reason(), reason::UNAVAILABLE);
        let res = render(&req, &unavailable);
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get(RETRY_AFTER).unwrap(), "1");
    }
}
