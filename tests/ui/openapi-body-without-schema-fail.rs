use actix_web::{web, App, HttpResponse};
use scopegate::route;

/// Deserialises, but has no schema.
#[derive(serde::Deserialize)]
pub struct Heartbeat {
    pub pid: i64,
}

#[route(put, "/workers/<worker>/heartbeat")]
async fn heartbeat(body: web::Json<Heartbeat>) -> HttpResponse {
    let _ = body.pid;
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
