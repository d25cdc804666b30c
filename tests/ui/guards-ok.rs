//! Guards on `#[route]`, `#[routes]` and `#[protect]`, by name and by
//! path, with the parameters they read; `any(..)` with a type predicate.

use actix_web::{get, App, HttpRequest, HttpResponse};
use scopegate::{guard, protect, route, routes, Deny, Token};

mod guards {
    use super::*;

    /// Reads `dag_id`.
    #[guard(params = ["dag_id"], statuses = [403, 404])]
    pub async fn same_team(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
        match scopegate::path_param(req, "dag_id").as_deref() {
            Some("hidden") => Err(Deny::not_found("Not Found")),
            _ => Ok(()),
        }
    }
}

#[guard]
async fn open(_req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    Ok(())
}

#[route(get, "/dags/<dag_id>", guard = [guards::same_team, open])]
async fn dag() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[routes(prefix = "/xcoms/<dag_id>", guard = guards::same_team)]
mod xcoms {
    use super::*;

    #[route(get, "/<key>", guard = open)]
    pub async fn get() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[protect(guard = open)]
    #[get("/<key>/raw")]
    pub async fn raw() -> HttpResponse {
        HttpResponse::Ok().finish()
    }
}

#[protect(scopes = ["token:execution", "token:workload", any("ti:self", "token:workload")],
          guard = open)]
#[get("/task-instances/{task_instance_id}/peek")]
async fn peek() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn main() {
    let _ = App::new()
        .service(dag)
        .service(peek)
        .configure(xcoms::configure);
    assert_eq!(dag::POLICY.guards(), ["same_team", "open"]);
    assert_eq!(xcoms::ROUTES[1].policy.guards(), ["same_team", "open"]);
    assert_eq!(peek::GUARDS.len(), 1);
}
