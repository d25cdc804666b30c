use actix_web::{get, App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    // Not scopegate's: the group would neither prefix, protect nor list it.
    #[get("/{task_instance_id}/peek")]
    async fn peek() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
