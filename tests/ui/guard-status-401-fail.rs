use actix_web::HttpRequest;
use scopegate::{guard, Deny, Token};

#[guard(statuses = [401])]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

fn main() {}
