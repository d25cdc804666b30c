use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(patch, "/<task_instance_id>/run", scopes = ["token:workload", "ti:self", "token:workload"])]
async fn run() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(run);
}
