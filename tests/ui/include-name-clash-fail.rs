// An included group named like an item of the including group.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[path = "include/clash.rs"]
mod clash;

#[routes(prefix = "/execution", include = [clash::health])]
mod execution {
    use super::*;

    #[route(get, "/health", public)]
    pub async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
