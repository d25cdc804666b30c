use actix_web::{App, HttpRequest, HttpResponse};
use scopegate::{guard, route, Deny, Token};

#[guard]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

#[route(get, "/variables/<variable_key>", guard = [may_read, may_read])]
async fn get_variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_variable);
}
