use actix_web::{App, HttpRequest, HttpResponse};
use scopegate::{guard, routes, Deny, Token};

#[guard]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

#[routes(prefix = "/execution", guard = may_read)]
mod api {
    use super::*;

    #[route(get, "/health", public)]
    async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(api::configure);
}
