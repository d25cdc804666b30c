// Included by include-name-clash-fail.rs, whose group has an item of the
// same name.
use scopegate::routes;

#[routes(prefix = "/health", included)]
pub mod health {
    use super::*;

    #[route(get, "/ping", public)]
    pub async fn ping() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
