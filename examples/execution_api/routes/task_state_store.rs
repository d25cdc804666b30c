//! The router of Airflow's `routes/task_state_store.py`, in a file of its own
//! as Airflow lays it out: the group `task_state_store`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/task_state_store.py`: values one task instance keeps.
#[routes(prefix = "/store/ti", scopes = ["ti:self"], included)]
pub mod task_state_store {
    use super::*;

    type KeyPath = web::Path<(String, String)>;

    /// A stored value, or 404.
    #[route(get, "/<task_instance_id>/<key:path>", responses(200 = StoredValue, 404 = ErrorBody))]
    pub async fn get(
        token: TiToken,
        store: web::Data<Store>,
        path: KeyPath,
    ) -> Result<HttpResponse> {
        let value = store.task_store_get(token.id, &path.1)?;
        Ok(HttpResponse::Ok().json(StoredValue { value }))
    }

    /// Stores a value (not `null`): 204.
    #[route(put, "/<task_instance_id>/<key:path>", responses(204))]
    pub async fn put(
        token: TiToken,
        store: web::Data<Store>,
        path: KeyPath,
        body: web::Json<TaskStorePut>,
    ) -> Result<HttpResponse> {
        check_body("value", check_value(&body.value))?;
        let TaskStorePut { value, expires_at } = body.into_inner();
        store.task_store_set(token.id, &path.1, value, expires_at)?;
        Ok(no_content())
    }

    /// Deletes a value: 204.
    #[route(delete, "/<task_instance_id>/<key:path>", responses(204))]
    pub async fn delete(
        token: TiToken,
        store: web::Data<Store>,
        path: KeyPath,
    ) -> Result<HttpResponse> {
        store.task_store_delete(token.id, &path.1)?;
        Ok(no_content())
    }

    /// Deletes every value of the task instance: 204.
    #[route(delete, "/<task_instance_id>", responses(204))]
    pub async fn clear(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
        store.task_store_clear(token.id)?;
        Ok(no_content())
    }
}
