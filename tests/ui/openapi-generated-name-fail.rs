use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/api")]
mod api {
    use super::*;

    #[route(get, "/openapi.json", public)]
    pub async fn openapi() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(api::configure);
}
