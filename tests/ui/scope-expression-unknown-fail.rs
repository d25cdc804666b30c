use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/task-instances/<task_instance_id>", scopes = [anyof("ti:self", "token:workload")])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
