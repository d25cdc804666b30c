use actix_web::{get, App, HttpResponse};
use scopegate::protect;

#[protect]
#[get("/connections/{connection_id:\\d+}")]
async fn connection() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(connection);
}
