// Included by include-nested-include-fail.rs; includes another group
// itself, which only the top-level group may do.
use scopegate::routes;

#[routes(prefix = "/dags", included, include = [super::other::other])]
pub mod dags {
    use super::*;

    #[route(get, "/<dag_id>")]
    pub async fn get_dag() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
