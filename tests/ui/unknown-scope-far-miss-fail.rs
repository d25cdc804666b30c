use actix_web::{App, HttpResponse};
use scopegate::route;

#[route(delete, "/variables/<variable_key>", scopes = ["admin"])]
async fn delete_variable() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(delete_variable);
}
