use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/files/<dir:path>/<name:path>")]
async fn file() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(file);
}
