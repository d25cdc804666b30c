use actix_web::{App, HttpResponse};
use scopegate::{route, TiToken};

#[route(patch, "/<task_instance_id>/run", scopes = ["token:execution", "token:workloads"])]
async fn run(token: TiToken) -> HttpResponse {
    HttpResponse::Ok().json(token.id)
}

fn main() {
    let _ = App::new().service(run);
}
