//! `unowned` waives an owner scope's parameter on purpose: the route
//! compiles, serves any task instance to any execution token, and says so
//! in its policy (no owner scope).
#![deny(warnings)]

use actix_web::{App, HttpResponse};
use scopegate::{route, routes, TokenTypes};

/// Any execution token may read any task instance's count.
#[route(get, "/task-instances/<task_instance_id>/count", unowned = ["task_instance_id"])]
async fn count() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Anyone may see whether a connection test finished.
#[route(get, "/connection-tests/{connection_test_id}/done", public, unowned = ["connection_test_id"])]
async fn done() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[routes(prefix = "/task-instances/<task_instance_id>")]
mod task_instances {
    use super::*;

    #[route(get, "/states", unowned = ["task_instance_id"])]
    pub async fn states() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[route(put, "/heartbeat", scopes = ["ti:self"])]
    pub async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

fn main() {
    let _ = App::new()
        .service(count)
        .service(done)
        .configure(task_instances::configure);
    assert!(count::POLICY.owners().is_empty());
    assert_eq!(count::POLICY.token_types(), TokenTypes::EXECUTION_ONLY);
    assert!(done::POLICY.is_public());
    assert!(task_instances::states::POLICY.owners().is_empty());
    assert_eq!(
        task_instances::heartbeat::POLICY.owners()[0].scope(),
        "ti:self"
    );
}
