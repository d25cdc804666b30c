// Included by include-duplicate-fail.rs: the same route as xcoms_get.rs.
use scopegate::routes;

#[routes(prefix = "/xcoms", included)]
pub mod xcoms_again {
    use super::*;

    #[route(get, "/{name}")]
    pub async fn read_xcom() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
