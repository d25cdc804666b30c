//! Human-in-the-loop details: the question a task asks and the answer it
//! gets, one per task instance.

use serde_json::Map;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Refusal, Store};
use crate::models::hitl::{HitlAnswer, HitlRequest, HitlResponse};

/// A question and its answer (`HITLDetail`).
#[derive(Clone, Debug)]
pub(super) struct HitlDetail {
    request: HitlRequest,
    /// When a human answered; `None` before.
    pub responded_at: Option<OffsetDateTime>,
    chosen_options: Vec<String>,
    params_input: Map<String, serde_json::Value>,
}

impl HitlDetail {
    fn response(&self) -> HitlResponse {
        HitlResponse {
            response_received: self.responded_at.is_some(),
            responded_by_user: None,
            responded_at: self.responded_at,
            chosen_options: self.chosen_options.clone(),
            params_input: self.params_input.clone(),
        }
    }
}

impl Store {
    /// `POST /hitlDetails/<id>`: records the task's question, once. Asked
    /// again (the task was cleared and runs again), the stored question is
    /// returned and a previous answer forgotten. Airflow's table has a
    /// foreign key to the task instance, so an unknown one is refused (with
    /// 404 here, where Airflow's database error would be a 500).
    pub fn ask_hitl(&self, id: Uuid, request: HitlRequest) -> Result<HitlRequest, Refusal> {
        let mut inner = self.lock();
        if !inner.task_instances.contains_key(&id) {
            return Err(Refusal::TaskInstanceNotFound);
        }
        let detail = inner.hitl.entry(id).or_insert_with(|| {
            tracing::info!(ti = %id, options = request.options.len(), "human-in-the-loop question asked");
            HitlDetail {
                request: HitlRequest { ti_id: id, ..request },
                responded_at: None,
                chosen_options: Vec::new(),
                params_input: Map::new(),
            }
        });
        detail.responded_at = None;
        detail.chosen_options.clear();
        detail.params_input.clear();
        Ok(detail.request.clone())
    }

    /// `PATCH /hitlDetails/<id>`: records the answer, once.
    pub fn answer_hitl(&self, id: Uuid, answer: HitlAnswer) -> Result<HitlResponse, Refusal> {
        let mut inner = self.lock();
        let detail = inner.hitl.get_mut(&id).ok_or_else(hitl_not_found)?;
        if detail.responded_at.is_some() {
            return Err(Refusal::ConflictText(format!(
                "Human-in-the-loop detail for Task Instance with id {id} already exists."
            )));
        }
        detail.responded_at = Some(OffsetDateTime::now_utc());
        detail.chosen_options = answer.chosen_options;
        detail.params_input = answer.params_input;
        tracing::info!(ti = %id, "human-in-the-loop question answered");
        Ok(detail.response())
    }

    /// `GET /hitlDetails/<id>`: the answer part.
    pub fn hitl(&self, id: Uuid) -> Result<HitlResponse, Refusal> {
        let inner = self.lock();
        inner
            .hitl
            .get(&id)
            .map(HitlDetail::response)
            .ok_or_else(hitl_not_found)
    }
}

fn hitl_not_found() -> Refusal {
    Refusal::NotFound(
        "HITLDetail not found. This happens most likely due to clearing task instance before \
         receiving response."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_question_is_asked_answered_once_and_asked_again() {
        let store = Store::new();
        let [id] = store.queue(1)[..] else { panic!() };
        assert!(matches!(store.hitl(id), Err(Refusal::NotFound(_))));
        let request: HitlRequest = serde_json::from_value(json!({
            "ti_id": Uuid::nil(), "options": ["yes", "no"], "subject": "ship it?"
        }))
        .unwrap();
        let stored = store.ask_hitl(id, request.clone()).unwrap();
        assert_eq!(stored.ti_id, id, "the path's task instance, not the body's");
        assert!(!store.hitl(id).unwrap().response_received);
        let answer = || HitlAnswer {
            ti_id: id,
            chosen_options: vec!["yes".into()],
            params_input: Map::new(),
        };
        let response = store.answer_hitl(id, answer()).unwrap();
        assert!(response.response_received && response.responded_at.is_some());
        assert!(matches!(
            store.answer_hitl(id, answer()),
            Err(Refusal::ConflictText(_))
        ));
        // Asked again after a clear: the answer is forgotten.
        store.ask_hitl(id, request.clone()).unwrap();
        assert!(!store.hitl(id).unwrap().response_received);
        assert_eq!(
            store.ask_hitl(Uuid::new_v4(), request),
            Err(Refusal::TaskInstanceNotFound)
        );
    }
}
