//! Nested groups: prefixes and scopes combine outward-in, `configure`
//! registers everything and `ROUTES` lists everything, without a warning.
#![deny(warnings, missing_docs)]

use actix_web::{App, HttpResponse};
use scopegate::{routes, TokenType, TokenTypes};

/// The Execution API.
#[routes(prefix = "/execution")]
pub mod execution_api {
    use super::*;

    #[scopegate::route(get, "/health", public)]
    async fn health() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Task instances: every route checks `ti:self`.
    #[routes(prefix = "/task-instances/<task_instance_id>", scopes = ["ti:self"])]
    pub mod task_instances {
        use super::*;

        #[route(patch, "/run", scopes = ["token:execution", "token:workload"])]
        async fn run() -> HttpResponse {
            HttpResponse::Ok().finish()
        }

        #[route(put, "/heartbeat")]
        async fn heartbeat() -> HttpResponse {
            HttpResponse::NoContent().finish()
        }

        /// Same path as `heartbeat`, another method: not a duplicate.
        #[routes]
        pub mod state {
            use super::*;

            #[route(patch, "/heartbeat")]
            async fn patch_heartbeat() -> HttpResponse {
                HttpResponse::NoContent().finish()
            }
        }
    }

    /// An empty group is fine.
    #[routes()]
    pub mod empty {}

    fn helper() -> u8 {
        7
    }

    /// Plain items stay as written.
    pub fn seven() -> u8 {
        helper()
    }
}

const COUNT: usize = execution_api::ROUTES.len();

fn main() {
    let _app = App::new().configure(execution_api::configure);
    assert_eq!(COUNT, 4);
    assert_eq!(execution_api::seven(), 7);
    assert!(execution_api::empty::ROUTES.is_empty());
    let paths: Vec<_> = execution_api::ROUTES
        .iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET", "/execution/health"),
            ("PATCH", "/execution/task-instances/<task_instance_id>/run"),
            (
                "PUT",
                "/execution/task-instances/<task_instance_id>/heartbeat"
            ),
            (
                "PATCH",
                "/execution/task-instances/<task_instance_id>/heartbeat"
            ),
        ]
    );
    let state = execution_api::task_instances::state::ROUTES[0].policy;
    assert_eq!(state.token_types(), TokenTypes::EXECUTION_ONLY);
    assert_eq!(state.owners()[0].scope(), "ti:self");
    assert!(execution_api::ROUTES[1].accepts(TokenType::WORKLOAD));
}
