use actix_web::{App, HttpRequest, HttpResponse};
use scopegate::{guard, route, Deny, Token};

#[guard]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

#[route(get, "/health", public, guard = may_read)]
async fn health() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(health);
}
