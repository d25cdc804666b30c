// An owner compares one segment: the parameter it guards never takes the
// rest of the path.
use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/store/ti/<task_instance_id:path>", scopes = ["ti:self"])]
async fn store() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(store);
}
