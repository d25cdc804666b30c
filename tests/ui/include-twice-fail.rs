// The same group included twice.
use actix_web::App;
use scopegate::routes;

#[path = "include/health.rs"]
mod health;

#[routes(prefix = "/execution", include = [health::health, health::health])]
mod execution {
    use actix_web::HttpResponse;

    #[route(get, "/docs", public)]
    async fn docs() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
