use actix_web::{App, HttpResponse};
use scopegate::routes;

#[routes(prefix = "/variables/")]
mod variables {
    use super::*;

    #[route(get, "/<variable_key>")]
    async fn get_variable() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(variables::configure);
}
