use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/files/<name:path>.txt")]
async fn text_file() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(text_file);
}
