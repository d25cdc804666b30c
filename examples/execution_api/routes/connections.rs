//! The router of Airflow's `routes/connections.py`, in a file of its own
//! as Airflow lays it out: the group `connections`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/connections.py`: Airflow Connections, for execution tokens
/// (the default policy).
#[routes(prefix = "/connections", included)]
pub mod connections {
    use super::*;

    /// Airflow's `ConnectionResponse`, or 404 with a `detail`.
    #[route(get, "/<connection_id>", responses(200 = ConnectionResponse, 404 = ErrorBody))]
    pub async fn get(store: web::Data<Store>, conn_id: web::Path<String>) -> Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(store.connection(&conn_id)?))
    }
}
