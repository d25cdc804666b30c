use actix_web::HttpRequest;
use scopegate::{guard, Deny};

#[guard]
async fn may_read(_req: &HttpRequest) -> Result<(), Deny> {
    Ok(())
}

fn main() {}
