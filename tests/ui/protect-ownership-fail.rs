// Airflow's #67628 with actix's own attribute: the lint holds for
// `#[protect]` too.
use actix_web::{get, App, HttpResponse};
use scopegate::protect;

#[protect]
#[get("/task-instances/{task_instance_id}/previous-successful-dagrun")]
async fn previous_successful_dagrun() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(previous_successful_dagrun);
}
