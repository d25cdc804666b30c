// A top-level group with groups in files of their own: one `configure`,
// `ROUTES` and `openapi()` for all of them, the included groups as its
// modules, none served alone.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[path = "include/health.rs"]
mod health;
#[path = "include/xcoms_get.rs"]
mod xcoms_get;

#[routes(prefix = "/execution", include = [health::health, xcoms_get::xcoms])]
pub mod execution {
    use super::*;

    #[route(get, "/docs", public)]
    pub async fn docs() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(execution::configure);
    let paths: Vec<&str> = execution::ROUTES.iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/execution/docs", "/execution/health", "/execution/xcoms/<key>"]
    );
    let _ = execution::xcoms::get_xcom::POLICY;
}
