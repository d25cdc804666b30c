use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/variables/<variable_key:paths>")]
async fn get_variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_variable);
}
