//! `routes/task_instances.py`, in its own file: included by `execution`
//! in tests/include.rs, under its `/execution` prefix.

use scopegate::routes;

/// Task instances: every route checks `ti:self`, from the nested group.
#[routes(prefix = "/task-instances", included)]
pub mod task_instances {
    use super::*;

    /// Any execution token: no owner here.
    #[route(get, "/count")]
    pub async fn count(token: TiToken) -> HttpResponse {
        echo(&token, "count")
    }

    #[routes(scopes = ["ti:self"])]
    pub mod owned {
        use super::*;

        #[route(put, "/<task_instance_id>/heartbeat")]
        pub async fn heartbeat(token: TiToken) -> HttpResponse {
            echo(&token, "heartbeat")
        }

        #[route(patch, "/<task_instance_id>/run", scopes = ["token:workload"])]
        pub async fn run(token: TiToken) -> HttpResponse {
            echo(&token, "run")
        }
    }
}
