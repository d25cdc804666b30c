use actix_web::{App, HttpResponse};
use scopegate::protect;

#[protect(scopes = ["ti:self"])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
