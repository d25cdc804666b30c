use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/dags/<dag_id>/runs/{dag_id}")]
async fn get_dag_run() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_dag_run);
}
