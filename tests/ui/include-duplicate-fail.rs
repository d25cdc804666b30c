// Two included groups, in files of their own, declare the same method and
// path: refused as if both were written inline.
use actix_web::App;
use scopegate::routes;

#[path = "include/xcoms_get.rs"]
mod xcoms_get;
#[path = "include/xcoms_again.rs"]
mod xcoms_again;

#[routes(prefix = "/execution", include = [xcoms_get::xcoms, xcoms_again::xcoms_again])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = App::new().configure(execution::configure);
}
