use actix_web::{App, HttpRequest, HttpResponse};
use scopegate::{guard, routes, Deny, Token};

#[guard]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

#[routes(prefix = "/variables", guard = may_read)]
mod variables {
    use super::*;

    #[route(get, "/<variable_key>", guard = may_read)]
    async fn get() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(variables::configure);
}
