use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    #[route(put, "/<task_instance_id>/heartbeat")]
    async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    #[routes(prefix = "/{task_instance_id}")]
    mod by_id {
        use super::*;

        #[route(put, "/heartbeat")]
        async fn heartbeat_again() -> HttpResponse {
            HttpResponse::NoContent().finish()
        }
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
