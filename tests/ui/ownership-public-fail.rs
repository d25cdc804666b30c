use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/connection-tests/<connection_test_id>/status", public)]
async fn status() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(status);
}
