// Included by include-macro-rules-ok.rs: a `macro_rules!` inside the group.
use scopegate::routes;

#[routes(prefix = "/m", included)]
pub mod with_macro {
    use super::*;

    macro_rules! ok {
        ($body:expr) => {
            HttpResponse::Ok().json($body)
        };
    }

    #[route(get, "/x", public)]
    pub async fn x() -> HttpResponse {
        ok!("x")
    }
}
