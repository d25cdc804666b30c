// A group in a file of its own may hold a `macro_rules!`: its `$`s reach
// the including group unchanged.
use actix_web::App;
use scopegate::routes;

#[path = "include/dollar.rs"]
mod with_macro;

#[routes(prefix = "/execution", include = [with_macro::with_macro])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(execution::configure);
    assert_eq!(execution::ROUTES[0].path, "/execution/m/x");
}
