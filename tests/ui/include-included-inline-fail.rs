// `included` on a group written inline inside another: it is already
// part of it.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/execution")]
mod execution {
    use super::*;

    #[routes(prefix = "/health", included)]
    pub mod health {
        use super::*;

        #[route(get, "/ping", public)]
        pub async fn health() -> HttpResponse {
            HttpResponse::Ok().finish()
        }
    }
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
