use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    #[route(put, "/<task_instance_id>/heartbeat")]
    async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    #[route(get, "/previous-successful-dagrun")]
    async fn previous() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
    let _ = task_instances::ROUTES.len();
}
