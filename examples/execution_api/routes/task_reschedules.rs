//! The router of Airflow's `routes/task_reschedules.py`, in a file of its own
//! as Airflow lays it out: the group `task_reschedules`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/task_reschedules.py`.
#[routes(prefix = "/task-reschedules", scopes = ["ti:self"], included)]
pub mod task_reschedules {
    use super::*;

    /// When the task instance was first rescheduled, or `null`.
    #[route(get, "/<task_instance_id>/start_date", responses(200 = Instant))]
    pub async fn start_date(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
        let start = store.reschedule_start_date(token.id);
        Ok(HttpResponse::Ok().json(Instant(start)))
    }
}
