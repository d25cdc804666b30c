use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    #[cfg_attr(debug_assertions, route(put, "/<task_instance_id>/heartbeat"))]
    async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
