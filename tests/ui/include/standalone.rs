// Included by include-not-included-fail.rs, but a group of its own: it is
// not marked `included`.
use actix_web::HttpResponse;
use scopegate::routes;

#[routes(prefix = "/connections")]
pub mod connections {
    use super::*;

    #[route(get, "/<connection_id>")]
    pub async fn get_connection() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
