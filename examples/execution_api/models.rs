//! The JSON bodies of Airflow's Task Execution API that the example speaks.
//!
//! Each type mirrors a pydantic model of the Task SDK
//! (`airflow/sdk/api/datamodels/_generated.py`, apache-airflow-task-sdk
//! 1.3.x), field for field. Request bodies refuse unknown fields, as the
//! SDK's models do (`extra="forbid"`); response bodies carry every field the
//! SDK requires, even when it is `null`.

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A task instance's state, spelled as Airflow spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TiState {
    /// Waiting in an executor's queue; `/run` moves it to `running`.
    Queued,
    /// Started; heartbeats are accepted.
    Running,
    /// Finished successfully.
    Success,
    /// Finished with an error.
    Failed,
    /// Skipped.
    Skipped,
    /// Removed from its DAG.
    Removed,
    /// An upstream task failed.
    UpstreamFailed,
    /// Failed, will be retried.
    UpForRetry,
}

/// The body of `PATCH /task-instances/<id>/run` (`TIEnterRunningPayload`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterRunning {
    /// Always `"running"`; may be left out. Checked, then not needed.
    #[serde(default)]
    #[allow(dead_code)]
    pub state: RunningLiteral,
    /// The worker's host name.
    pub hostname: String,
    /// The worker's user name.
    pub unixname: String,
    /// The task process id.
    pub pid: i64,
    /// When the task started (must carry an offset).
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
}

/// The literal `"running"` of [`EnterRunning::state`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum RunningLiteral {
    /// `"running"`.
    #[default]
    #[serde(rename = "running")]
    Running,
}

/// The body of `PUT /task-instances/<id>/heartbeat` (`TIHeartbeatInfo`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The worker's host name; must match the one `/run` recorded.
    pub hostname: String,
    /// The task process id; must match the one `/run` recorded.
    pub pid: i64,
}

/// The body of `PATCH /task-instances/<id>/state`: the payloads of Airflow's
/// `TIStateUpdate` union that end a run, chosen by their `state` field.
/// Deferral, rescheduling and human-in-the-loop are not supported by this
/// example and are refused with 422.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StateUpdate {
    /// `TISuccessStatePayload`.
    Success(SuccessPayload),
    /// `TITerminalStatePayload` with `failed`.
    Failed(TerminalPayload),
    /// `TITerminalStatePayload` with `skipped`.
    Skipped(TerminalPayload),
    /// `TITerminalStatePayload` with `removed`.
    Removed(TerminalPayload),
    /// `TITerminalStatePayload` with `upstream_failed`.
    UpstreamFailed(TerminalPayload),
    /// `TIRetryStatePayload`.
    UpForRetry(RetryPayload),
}

impl StateUpdate {
    /// The state this update asks for.
    pub fn state(&self) -> TiState {
        match self {
            StateUpdate::Success(_) => TiState::Success,
            StateUpdate::Failed(_) => TiState::Failed,
            StateUpdate::Skipped(_) => TiState::Skipped,
            StateUpdate::Removed(_) => TiState::Removed,
            StateUpdate::UpstreamFailed(_) => TiState::UpstreamFailed,
            StateUpdate::UpForRetry(_) => TiState::UpForRetry,
        }
    }

    /// When the run ended.
    pub fn end_date(&self) -> OffsetDateTime {
        match self {
            StateUpdate::Success(p) => p.end_date,
            StateUpdate::Failed(p)
            | StateUpdate::Skipped(p)
            | StateUpdate::Removed(p)
            | StateUpdate::UpstreamFailed(p) => p.end_date,
            StateUpdate::UpForRetry(p) => p.end_date,
        }
    }

    /// The rendered map index, for mapped tasks.
    pub fn rendered_map_index(&self) -> Option<&str> {
        match self {
            StateUpdate::Success(p) => p.rendered_map_index.as_deref(),
            StateUpdate::Failed(p)
            | StateUpdate::Skipped(p)
            | StateUpdate::Removed(p)
            | StateUpdate::UpstreamFailed(p) => p.rendered_map_index.as_deref(),
            StateUpdate::UpForRetry(p) => p.rendered_map_index.as_deref(),
        }
    }
}

/// `TISuccessStatePayload` without its `state` tag.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessPayload {
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date: OffsetDateTime,
    /// Assets the task produced. Checked to be a list, then dropped: the
    /// example keeps no assets.
    #[serde(default)]
    #[allow(dead_code)]
    pub task_outlets: Option<Vec<serde_json::Value>>,
    /// Asset events the task emitted. Checked to be a list, then dropped.
    #[serde(default)]
    #[allow(dead_code)]
    pub outlet_events: Option<Vec<serde_json::Value>>,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
}

/// `TITerminalStatePayload` without its `state` tag.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalPayload {
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date: OffsetDateTime,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
}

/// `TIRetryStatePayload` without its `state` tag.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPayload {
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date: OffsetDateTime,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
    /// How long to wait before the retry.
    #[serde(default)]
    pub retry_delay_seconds: Option<f64>,
    /// Why the task asked for a retry.
    #[serde(default)]
    pub retry_reason: Option<String>,
}

/// The answer to `/run` (`TIRunContext`).
#[derive(Clone, Debug, Serialize)]
pub struct RunContext {
    /// The DAG run the task instance belongs to.
    pub dag_run: DagRun,
    /// How many times the task was rescheduled.
    pub task_reschedule_count: u32,
    /// How many retries the task has.
    pub max_tries: u32,
    /// Variables the task will need (none here, as in Airflow 3.3).
    pub variables: Vec<VariableResponse>,
    /// Connections the task will need (none here, as in Airflow 3.3).
    pub connections: Vec<ConnectionResponse>,
    /// XCom keys the worker should clear before running.
    pub xcom_keys_to_clear: Vec<String>,
    /// Whether a failure would be retried.
    pub should_retry: bool,
}

/// A DAG run (`DagRun`); every field the SDK requires is present.
#[derive(Clone, Debug, Serialize)]
pub struct DagRun {
    /// The DAG.
    pub dag_id: String,
    /// The run.
    pub run_id: String,
    /// The run's logical date.
    #[serde(with = "time::serde::rfc3339::option")]
    pub logical_date: Option<OffsetDateTime>,
    /// Start of the data interval.
    #[serde(with = "time::serde::rfc3339::option")]
    pub data_interval_start: Option<OffsetDateTime>,
    /// End of the data interval.
    #[serde(with = "time::serde::rfc3339::option")]
    pub data_interval_end: Option<OffsetDateTime>,
    /// When the run may start.
    #[serde(with = "time::serde::rfc3339")]
    pub run_after: OffsetDateTime,
    /// When the run started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_date: Option<OffsetDateTime>,
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
    /// How often the run was cleared.
    pub clear_number: u32,
    /// `"manual"`, `"scheduled"`, ...
    pub run_type: &'static str,
    /// `"queued"`, `"running"`, ...
    pub state: &'static str,
    /// The run's configuration.
    pub conf: serde_json::Map<String, serde_json::Value>,
    /// Asset events that triggered the run.
    pub consumed_asset_events: Vec<serde_json::Value>,
    /// The partition key, for partitioned runs.
    pub partition_key: Option<String>,
}

/// A variable (`VariableResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VariableResponse {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Option<String>,
}

/// The body of `PUT /variables/<key>` (`VariablePostBody`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariablePostBody {
    /// The value; required, but may be `null`.
    #[serde(deserialize_with = "required_nullable")]
    pub val: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A connection (`ConnectionResponse`, and `ConnectionTestConnectionResponse`
/// which has the same fields). Every field is sent, `null` or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionResponse {
    /// The connection id.
    pub conn_id: String,
    /// The connection type (`"http"`, `"postgres"`, ...).
    pub conn_type: String,
    /// The host.
    pub host: Option<String>,
    /// The schema (database name, URL scheme, ...).
    pub schema: Option<String>,
    /// The login.
    pub login: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// The port.
    pub port: Option<u16>,
    /// Extra settings, a JSON document as a string.
    pub extra: Option<String>,
}

/// The queued task instance a scheduler hands an executor: the first JSON
/// lines `serve` prints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedWorkload {
    /// The task instance.
    pub task_instance_id: Uuid,
    /// Its workload token.
    pub workload_token: String,
}

/// A field that must be present but may be `null` (pydantic's
/// `Annotated[str | None, Field()]` without a default). Using
/// `deserialize_with` stops serde from treating a missing `Option` as `None`.
fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_updates_are_chosen_by_their_state_field() {
        let success: StateUpdate = serde_json::from_value(json!({
            "state": "success", "end_date": "2025-01-01T00:00:00.123456Z",
            "task_outlets": [], "outlet_events": [], "rendered_map_index": null
        }))
        .unwrap();
        assert_eq!(success.state(), TiState::Success);
        let retry: StateUpdate = serde_json::from_value(json!({
            "state": "up_for_retry", "end_date": "2025-01-01T00:00:00+02:00",
            "retry_delay_seconds": 1.5
        }))
        .unwrap();
        assert_eq!(retry.state(), TiState::UpForRetry);
        let failed: StateUpdate =
            serde_json::from_value(json!({"state": "failed", "end_date": "2025-01-01T00:00:00Z"}))
                .unwrap();
        assert_eq!(failed.state(), TiState::Failed);
    }

    #[test]
    fn bad_state_updates_are_refused() {
        for bad in [
            json!({"state": "deferred", "end_date": "2025-01-01T00:00:00Z"}),
            json!({"state": "running"}),
            json!({"end_date": "2025-01-01T00:00:00Z"}),
            json!({"state": "success"}),
            // No offset: pydantic's AwareDatetime refuses it too.
            json!({"state": "success", "end_date": "2025-01-01T00:00:00"}),
            json!({"state": "success", "end_date": "2025-01-01T00:00:00Z", "bogus": 1}),
            json!({"state": "failed", "end_date": "2025-01-01T00:00:00Z", "task_outlets": []}),
            json!(["success"]),
        ] {
            assert!(
                serde_json::from_value::<StateUpdate>(bad.clone()).is_err(),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn variable_value_is_required_but_nullable() {
        let body: VariablePostBody = serde_json::from_value(json!({"val": null})).unwrap();
        assert_eq!(body.val, None);
        assert!(serde_json::from_value::<VariablePostBody>(json!({})).is_err());
        assert!(serde_json::from_value::<VariablePostBody>(json!({"value": "x"})).is_err());
    }

    #[test]
    fn connection_response_spells_schema_and_sends_nulls() {
        let c = ConnectionResponse {
            conn_id: "c".into(),
            conn_type: "http".into(),
            host: None,
            schema: Some("https".into()),
            login: None,
            password: None,
            port: None,
            extra: None,
        };
        let v = serde_json::to_value(c).unwrap();
        assert_eq!(v["schema"], "https");
        assert!(v.as_object().unwrap().contains_key("password"));
    }
}
