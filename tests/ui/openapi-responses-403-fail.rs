use actix_web::{App, HttpResponse};
use scopegate::{route, TiToken};

#[route(put, "/<task_instance_id>/heartbeat", scopes = ["ti:self"], responses(204, 403))]
async fn heartbeat(_token: TiToken) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

fn main() {
    let _ = App::new().service(heartbeat);
}
