//! `routes/variables.py`, in its own file.

use scopegate::routes;

#[routes(prefix = "/variables", included)]
pub mod variables {
    use super::*;

    #[route(get, "/keys")]
    pub async fn keys(token: TiToken) -> HttpResponse {
        echo(&token, "keys")
    }

    #[route(get, "/<variable_key:path>")]
    pub async fn get_variable(token: TiToken, key: web::Path<String>) -> HttpResponse {
        let _ = key;
        echo(&token, "get_variable")
    }

    #[route(put, "/<variable_key:path>")]
    pub async fn put_variable(token: TiToken) -> HttpResponse {
        echo(&token, "put_variable")
    }
}
