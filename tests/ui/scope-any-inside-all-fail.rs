use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/task-instances/<task_instance_id>", scopes = ["token:workload", any("ti:self", all("token:workload", any("ti:self", "ct:self")))])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
