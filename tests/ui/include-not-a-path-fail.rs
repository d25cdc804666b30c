// `include` takes the paths of groups, not strings.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/execution", include = ["routes/xcoms.rs"])]
mod execution {
    use super::*;

    #[route(get, "/health", public)]
    async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
