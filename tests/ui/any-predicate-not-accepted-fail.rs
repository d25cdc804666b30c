use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/task-instances/<task_instance_id>/peek", scopes = [any("ti:self", "token:workload")])]
async fn peek() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(peek);
}
