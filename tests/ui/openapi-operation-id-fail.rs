use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/api")]
mod api {
    use super::*;

    #[routes(prefix = "/dags")]
    pub mod dags {
        use super::*;

        #[route(get, "/<dag_id>")]
        pub async fn get() -> HttpResponse {
            HttpResponse::Ok().finish()
        }
    }

    #[route(get, "/dags-get")]
    pub async fn dags_get() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(api::configure);
}
