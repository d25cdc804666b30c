// Included by include-lint-fail.rs, under its `/<task_instance_id>` prefix.
use scopegate::routes;

#[routes(included)]
pub mod previous {
    use super::*;

    #[route(get, "/previous-successful-dagrun")]
    pub async fn previous_successful_dagrun() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}
