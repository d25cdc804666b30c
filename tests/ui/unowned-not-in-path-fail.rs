use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/dags/<dag_id>/runs", unowned = ["task_instance_id"])]
async fn runs() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(runs);
}
