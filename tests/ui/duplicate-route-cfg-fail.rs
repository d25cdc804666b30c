use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/variables")]
mod variables {
    use super::*;

    #[route(get, "/<variable_key>")]
    async fn get() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    // `all()` always holds: in this build both routes exist.
    #[cfg(all())]
    #[route(get, "/{key}")]
    async fn get_when_configured() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(variables::configure);
}
