use actix_web::App;
use scopegate::routes;

#[routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    mod states {
        use actix_web::HttpResponse;
        use scopegate::route;

        // Would escape the group's prefix and `ti:self` if it compiled.
        #[route(patch, "/<task_instance_id>/state")]
        pub async fn set_state() -> HttpResponse {
            HttpResponse::NoContent().finish()
        }
    }
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
