use actix_web::{route, App, HttpResponse};
use scopegate::protect;

#[protect]
#[route("/variables/{variable_key}", method = "GET", method = "HEAD")]
async fn get_variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_variable);
}
