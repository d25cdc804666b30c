use actix_web::{App, HttpResponse};
use scopegate::{protect, route};

#[protect(scopes = ["token:workload"])]
#[route(get, "/variables/<variable_key>")]
async fn get_variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_variable);
}
