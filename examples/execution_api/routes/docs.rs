//! The docs page at `/execution/docs`, which works without the internet
//! (SPEC §5, "The docs page works offline"): Swagger UI, its script and
//! styles served by the example itself from the files that the registry
//! crate `utoipa-swagger-ui-vendored` carries (Swagger UI 5.32.6, pinned by
//! `Cargo.lock`), never from a CDN.
//!
//! - The page is the example's own HTML: no inline script or style, so
//!   its Content-Security-Policy ([`CSP`]) allows only the page's own
//!   origin, and every request the page makes (its files, the document,
//!   "Try it out") goes there.
//! - Swagger UI's configuration is fixed here, in `config()`: the document
//!   is `openapi.json` next to the page; nothing comes from the query
//!   string (`?url=`, `?configUrl=`); no online validator; a token given
//!   to "Authorize" lives in the page's memory and is never persisted.
//! - Only the files the page loads are served ([`ASSETS`]).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};
use utoipa_swagger_ui::Config;

/// The page's Content-Security-Policy: scripts, styles, images (Swagger
/// UI's icons are `data:` SVGs in its stylesheet), fonts and requests from
/// the page's own origin only; no plugin, no `<base>`, no form target, no
/// framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The files of Swagger UI the page loads, under `/execution/docs/`.
pub const ASSETS: [&str; 7] = [
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

/// The page. Its links are relative to `/execution/docs`, so
/// `docs/swagger-ui.css` is `/execution/docs/swagger-ui.css`, and the page
/// works under any prefix a proxy adds.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Airflow Task Execution API (scopegate example)</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="stylesheet" href="docs/index.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/swagger-ui-standalone-preset.js"></script>
    <script src="docs/swagger-initializer.js"></script>
  </body>
</html>
"#;

/// Swagger UI's configuration, written into `swagger-initializer.js`.
fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        Arc::new(
            // Relative to the page: /execution/openapi.json.
            Config::new(["openapi.json"])
                // No top bar, whose box would fetch any URL typed in it.
                .use_base_layout()
                .query_config_enabled(false)
                // Swagger UI's default sends the document's URL to
                // validator.swagger.io for a badge.
                .validator_url("none")
                .persist_authorization(false),
        )
    }))
}

/// The headers every response of the docs page carries.
fn secured(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    response
}

/// `GET /execution/docs`.
pub fn page() -> HttpResponse {
    secured(HttpResponse::Ok())
        .content_type(header::ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE)
}

/// `GET /execution/docs/<file>`: one of [`ASSETS`], or `None` (a 404).
pub fn asset(file: &str) -> Option<HttpResponse> {
    if !ASSETS.contains(&file) {
        return None;
    }
    let found = utoipa_swagger_ui::serve(file, config()).ok().flatten()?;
    let body = match found.bytes {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Some(
        secured(HttpResponse::Ok())
            .content_type(found.content_type)
            .body(body),
    )
}

/// The docs page and its files, in a group of their own (SPEC §2 "Groups
/// across files") that `execution` includes last: public, no prefix of
/// their own.
#[scopegate::routes(included)]
pub mod ui {
    use super::*;
    use crate::routes::docs::{asset, page};

    /// A browsable page of the OpenAPI document (Swagger UI), which works
    /// offline: its files are served by the route below, under a
    /// Content-Security-Policy of this origin only. Not one of Airflow's
    /// routes. Declared last: actix tries routes in order, so the API's
    /// own requests do not try these first.
    #[route(get, "/docs", public, responses(200))]
    pub async fn docs() -> HttpResponse {
        page()
    }

    /// The docs page's script, styles and icons, from Swagger UI's files
    /// built into the example; 404 for any other name. Not one of
    /// Airflow's routes.
    #[route(get, "/docs/<file>", public, responses(200, 404))]
    pub async fn docs_asset(file: web::Path<String>) -> HttpResponse {
        asset(&file)
            .unwrap_or_else(|| HttpResponse::NotFound().json(json!({"detail": "Not Found"})))
    }
}
