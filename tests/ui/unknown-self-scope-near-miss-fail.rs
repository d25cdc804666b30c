use actix_web::{App, HttpResponse};
use scopegate::{route, TiToken};

#[route(put, "/<task_instance_id>/heartbeat", scopes = ["ti:selff"])]
async fn heartbeat(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(token.id)
}

fn main() {
    let _ = App::new().service(heartbeat);
}
