use actix_web::HttpRequest;
use scopegate::{guard, Deny, Token};

#[guard(param = ["dag_id"])]
async fn may_read(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

fn main() {}
