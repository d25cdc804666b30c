use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/health", public, responses(200, 600))]
async fn health() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(health);
}
