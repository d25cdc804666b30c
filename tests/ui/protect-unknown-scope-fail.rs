use actix_web::{put, App, HttpResponse};
use scopegate::protect;

#[protect(scopes = ["ti:selff"])]
#[put("/task-instances/{task_instance_id}/heartbeat")]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
