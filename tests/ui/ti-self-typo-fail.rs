use actix_web::{App, HttpResponse};
use scopegate::{routes, TiToken};

#[routes(prefix = "/task-instances", scopes = ["ti:slef"])]
mod task_instances {
    use super::*;

    #[route(put, "/<task_instance_id>/heartbeat")]
    pub async fn heartbeat(_token: TiToken) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
