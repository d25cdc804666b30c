use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(put, "/task-instances/<id>/heartbeat", scopes = ["ti:self"])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
