// Included by include-duplicate-fail.rs.
use scopegate::routes;

#[routes(prefix = "/xcoms", included)]
pub mod xcoms {
    use super::*;

    #[route(get, "/<key>")]
    pub async fn get_xcom() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
