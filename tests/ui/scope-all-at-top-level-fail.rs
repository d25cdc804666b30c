use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(get, "/variables/<variable_key>", scopes = [all("token:execution", "token:workload")])]
async fn heartbeat() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
