use actix_web::HttpRequest;
use scopegate::{guard, Token};

#[guard]
async fn may_read(_req: &HttpRequest, _token: &Token) -> bool {
    true
}

fn main() {}
