// The actix attribute expands first and hides the handler from `#[protect]`.
use actix_web::{put, App, HttpResponse};
use scopegate::protect;

#[put("/task-instances/{task_instance_id}/heartbeat")]
#[protect(scopes = ["ti:self"])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
