use actix_web::{web, App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/api")]
mod api {
    use super::*;

    #[route(get, "/health", public)]
    pub async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    pub fn configure(cfg: &mut web::ServiceConfig) {
        cfg.service(health);
    }
}

fn main() {
    let _ = App::new().configure(api::configure);
}
