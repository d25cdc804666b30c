use actix_web::{web, App, HttpResponse};
use scopegate::route;

#[route(post, "/xcoms/<key>", request)]
async fn set_xcom(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Created().finish()
}

fn main() {
    let _ = App::new().service(set_xcom);
}
