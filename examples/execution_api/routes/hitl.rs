//! The router of Airflow's `routes/hitl.py`, in a file of its own
//! as Airflow lays it out: the group `hitl`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/hitl.py`: human-in-the-loop details of one task instance.
#[routes(prefix = "/hitlDetails", scopes = ["ti:self"], included)]
pub mod hitl {
    use super::*;

    /// Records the task's question (or returns the one recorded): 201.
    #[route(post, "/<task_instance_id>", responses(201 = HitlRequest))]
    pub async fn ask(
        token: TiToken,
        store: web::Data<Store>,
        body: web::Json<HitlRequest>,
    ) -> Result<HttpResponse> {
        at_least_one("options", &body.options)
            .map_err(|(field, msg)| Invalid::new("body", field, "too_short", msg))?;
        Ok(HttpResponse::Created().json(store.ask_hitl(token.id, body.into_inner())?))
    }

    /// Records the answer, once (409 after).
    #[route(patch, "/<task_instance_id>", responses(200 = HitlResponse, 409 = ErrorBody))]
    pub async fn answer(
        token: TiToken,
        store: web::Data<Store>,
        body: web::Json<HitlAnswer>,
    ) -> Result<HttpResponse> {
        at_least_one("chosen_options", &body.chosen_options)
            .map_err(|(field, msg)| Invalid::new("body", field, "too_short", msg))?;
        Ok(HttpResponse::Ok().json(store.answer_hitl(token.id, body.into_inner())?))
    }

    /// The answer part, or 404 before a question.
    #[route(get, "/<task_instance_id>", responses(200 = HitlResponse, 404 = ErrorBody))]
    pub async fn get(token: TiToken, store: web::Data<Store>) -> Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(store.hitl(token.id)?))
    }
}
