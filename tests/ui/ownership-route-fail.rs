// Airflow's #67628: a route on a task instance that forgot `ti:self`.
use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/task-instances/<task_instance_id>/previous-successful-dagrun")]
async fn previous_successful_dagrun() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(previous_successful_dagrun);
}
