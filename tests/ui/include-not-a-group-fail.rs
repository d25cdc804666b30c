// `include` names a module that is not a group (no `#[routes]` on it):
// there is nothing to assemble.
use actix_web::App;
use scopegate::routes;

mod helpers {
    pub mod util {
        pub fn helper() {}
    }
}

#[routes(prefix = "/execution", include = [helpers::util])]
mod execution {
    use actix_web::HttpResponse;
}

fn main() {
    helpers::util::helper();
    let _ = App::new().configure(execution::configure);
}
