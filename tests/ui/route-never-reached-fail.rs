// Airflow declares `/variables/keys` before `/variables/{variable_key:path}`,
// which also matches it: the other way round, the keys route is never
// reached.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/variables")]
mod variables {
    use super::*;

    #[route(get, "/<variable_key:path>")]
    async fn get() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[route(get, "/keys")]
    async fn keys() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(variables::configure);
}
