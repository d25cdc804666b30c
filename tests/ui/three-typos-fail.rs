//! Every mistake is reported in one build, not one per build.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:selff"])]
mod task_instances {
    use super::*;

    #[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workloads"])]
    async fn run() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[route(put, "/<task_instance_id>/heartbeat", scopes = ["tokn:execution"])]
    async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
    let _ = task_instances::ROUTES;
}
