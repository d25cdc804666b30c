// The ownership lint on the full path, across files: the parameter comes
// from the including group's prefix, the route from a file of its own, and
// neither checks `ti:self`. The error points at the route, in its file.
use actix_web::App;
use scopegate::routes;

#[path = "include/previous_dagrun.rs"]
mod previous;

#[routes(prefix = "/task-instances/<task_instance_id>", include = [previous::previous])]
mod task_instances {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(task_instances::configure);
}
