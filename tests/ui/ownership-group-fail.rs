// The parameter comes from the group's prefix; the owner scope is missing
// from both the group and the route.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/task-instances/<task_instance_id>")]
mod task_instances {
    use super::*;

    #[route(get, "/previous-successful-dagrun")]
    async fn previous_successful_dagrun() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
