use actix_web::{App, HttpRequest, HttpResponse};
use scopegate::{guard, route, Deny, Token};

#[guard(params = ["dag_id"])]
async fn same_team(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    let _ = scopegate::path_param(req, "dag_id");
    Ok(())
}

#[route(get, "/variables/<variable_key>", guard = same_team)]
async fn get_variable() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new().service(get_variable);
}
