use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/execution", scopes = ["token:execution"])]
mod execution_api {
    use super::*;

    #[route(get, "/health", public)]
    async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(execution_api::configure);
}
