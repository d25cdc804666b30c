// A `public` route in an included group, under an including group that
// declares scopes: refused as if written inline.
use actix_web::App;
use scopegate::routes;

#[path = "include/health.rs"]
mod health;

#[routes(prefix = "/execution", scopes = ["token:execution"], include = [health::health])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
