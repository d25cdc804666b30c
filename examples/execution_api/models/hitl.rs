//! Human-in-the-loop details (`datamodels/hitl.py`). Airflow's models here
//! are not strict: unknown fields (such as the SDK's `type` tag) are
//! ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

/// A user a question is assigned to, or who answered it (`HITLUser`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HitlUser {
    /// The user's id.
    pub id: String,
    /// The user's name.
    pub name: String,
}

/// The question a task asks (`HITLDetailRequest`): the body of
/// `POST /hitlDetails/<id>`, and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HitlRequest {
    /// The task instance asking.
    pub ti_id: Uuid,
    /// The options offered; at least one.
    pub options: Vec<String>,
    /// The question.
    pub subject: String,
    /// More text.
    #[serde(default)]
    pub body: Option<String>,
    /// Options chosen when nobody answers.
    #[serde(default)]
    pub defaults: Option<Vec<String>>,
    /// Whether several options may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// Parameters the human may fill in.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Who may answer.
    #[serde(default)]
    pub assigned_users: Vec<HitlUser>,
}

/// The body of `PATCH /hitlDetails/<id>` (`UpdateHITLDetailPayload`): the
/// answer.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct HitlAnswer {
    /// The task instance answered.
    #[allow(dead_code)]
    pub ti_id: Uuid,
    /// The options chosen; at least one.
    pub chosen_options: Vec<String>,
    /// The parameters filled in.
    #[serde(default)]
    pub params_input: Map<String, Value>,
}

/// The answer part of a human-in-the-loop detail (`HITLDetailResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HitlResponse {
    /// Whether a human answered.
    pub response_received: bool,
    /// Who answered (always `null` through the Execution API).
    pub responded_by_user: Option<HitlUser>,
    /// When.
    #[serde(with = "time::serde::rfc3339::option")]
    pub responded_at: Option<OffsetDateTime>,
    /// What was chosen (empty before an answer).
    pub chosen_options: Vec<String>,
    /// The parameters filled in.
    pub params_input: Map<String, Value>,
}

/// pydantic's `min_length=1` on a list field, with its message.
pub fn at_least_one(field: &'static str, list: &[String]) -> Result<(), (&'static str, String)> {
    if list.is_empty() {
        return Err((
            field,
            "List should have at least 1 item after validation, not 0".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_ignore_unknown_fields_but_refuse_nulls() {
        let id = Uuid::new_v4();
        let body: HitlRequest = serde_json::from_value(json!({
            "ti_id": id, "options": ["yes", "no"], "subject": "ok?",
            "type": "CreateHITLDetailPayload"
        }))
        .unwrap();
        assert!(!body.multiple && body.params.is_empty() && body.assigned_users.is_empty());
        for bad in [
            json!({"ti_id": id, "options": ["a"], "subject": "s", "params": null}),
            json!({"ti_id": id, "options": ["a"], "subject": "s", "assigned_users": null}),
            json!({"ti_id": "nope", "options": ["a"], "subject": "s"}),
        ] {
            assert!(
                serde_json::from_value::<HitlRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert!(at_least_one("options", &[]).is_err());
    }
}
