// actix's own tail syntax, `{name}*`: scopegate asks for `<name:path>`.
use actix_web::{get, App, HttpResponse};
use scopegate::protect;

#[protect]
#[get("/files/{tail}*")]
async fn file() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(file);
}
