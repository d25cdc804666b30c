use actix_web::{put, App, HttpResponse};
use scopegate::protect;

#[protect(scopes = ["ti:self"])]
#[put("/heartbeat")]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
