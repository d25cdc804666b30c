// Included by include-ok.rs, include-mounted-alone-fail.rs and
// include-public-under-scopes-fail.rs (whose group declares scopes).
use scopegate::routes;

#[routes(included)]
pub mod health {
    use super::*;

    #[route(get, "/health", public)]
    pub async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
