use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/blobs/<bucket:path>")]
mod blobs {
    use super::*;

    #[route(get, "/objects/<key:path>")]
    async fn object() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(blobs::configure);
}
