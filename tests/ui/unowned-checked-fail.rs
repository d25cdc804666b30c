use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    #[route(put, "/<task_instance_id>/heartbeat", unowned = ["task_instance_id"])]
    async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
