//! scopegate's macros by path, next to actix-web's own `route` in the same
//! module (SPEC §7), at the top level and inside groups.
#![deny(warnings)]

use actix_web::{route, App, HttpResponse};

#[scopegate::route(get, "/health", public)]
async fn health() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// actix-web's own `#[route]`: not scopegate's business.
#[route("/version", method = "GET")]
async fn version() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[scopegate::routes(prefix = "/task-instances", scopes = ["ti:self"])]
mod task_instances {
    use super::*;

    #[scopegate::route(put, "/<task_instance_id>/heartbeat")]
    pub async fn heartbeat() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    /// In a group, a bare `#[route(METHOD, ..)]` is scopegate's, even
    /// where actix's `route` is in scope.
    #[route(patch, "/<task_instance_id>/state")]
    pub async fn state() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    #[::scopegate::routes(prefix = "/<task_instance_id>/xcoms")]
    pub mod xcoms {
        use super::*;

        #[scopegate::route(get, "/<key>")]
        pub async fn get_xcom() -> HttpResponse {
            HttpResponse::Ok().finish()
        }
    }
}

fn main() {
    let _ = App::new()
        .service(health)
        .service(version)
        .configure(task_instances::configure);
    let paths: Vec<_> = task_instances::ROUTES.iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/task-instances/<task_instance_id>/heartbeat",
            "/task-instances/<task_instance_id>/state",
            "/task-instances/<task_instance_id>/xcoms/<key>",
        ]
    );
    assert!(task_instances::ROUTES
        .iter()
        .all(|r| r.policy.owners()[0].scope() == "ti:self"));
}
