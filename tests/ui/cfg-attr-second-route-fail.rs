use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/variables/<variable_key>")]
#[cfg_attr(debug_assertions, route(delete, "/variables/<variable_key>"))]
async fn variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(variable);
}
