use actix_web::{get, App, HttpResponse};
use scopegate::protect;

#[protect(public)]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(health);
}
