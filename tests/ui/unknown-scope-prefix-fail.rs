use actix_web::{App, HttpResponse};
use scopegate::{route, TiToken};

#[route(get, "/connection-tests/<connection_test_id>", scopes = ["ct:self", "token:"])]
async fn connection(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(token.id)
}

fn main() {
    let _ = App::new().service(connection);
}
