//! The router of Airflow's `routes/dags.py`, in a file of its own
//! as Airflow lays it out: the group `dags`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/dags.py`.
#[routes(prefix = "/dags", included)]
pub mod dags {
    use super::*;

    /// A DAG the example knows, or 404.
    #[route(get, "/<dag_id>", responses(200 = DagResponse, 404 = ErrorBody))]
    pub async fn get(store: web::Data<Store>, dag_id: web::Path<String>) -> Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(store.dag(&dag_id)?))
    }
}
