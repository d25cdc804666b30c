// A group in a file of its own cannot be mounted without the group that
// includes it: it has no `configure` (nor `ROUTES`, nor route services) of
// its own, so its routes are never served without the enclosing prefix
// and scopes. Mount the top-level group's `configure` instead.
use actix_web::{App, HttpResponse};
use scopegate::routes;

#[path = "include/health.rs"]
mod health;

#[routes(prefix = "/execution", include = [health::health])]
mod execution {
    use super::*;
}

fn main() {
    let _ = App::new().configure(execution::configure);
    let _ = App::new().configure(health::health::configure);
}
