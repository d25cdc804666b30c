use actix_web::{App, HttpResponse};
use scopegate::{route, TiToken};

#[route(get, "/health", public)]
async fn health(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(token.id)
}

fn main() {
    let _ = App::new().service(health);
}
