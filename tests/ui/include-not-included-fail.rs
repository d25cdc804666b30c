// `include` names a group that is not marked `included`: it has a
// `configure` of its own, which would serve its routes without the
// including group's prefix and scopes.
use actix_web::App;
use scopegate::routes;

#[path = "include/standalone.rs"]
mod standalone;

#[routes(prefix = "/execution", include = [standalone::connections])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
