use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(put, "/<task_instance_id>/heartbeat", scope = ["ti:self"])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
