// An included group that includes another: `include` goes on the
// top-level group.
use actix_web::App;
use scopegate::routes;

#[path = "include/with_include.rs"]
mod dags;

#[routes(prefix = "/execution", include = [dags::dags])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
