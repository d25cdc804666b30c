//! The JSON bodies of Airflow's Task Execution API that the example speaks.
//!
//! Each type mirrors a pydantic model of Airflow's Execution API
//! (`airflow/api_fastapi/execution_api/datamodels/`, apache-airflow-core
//! 3.3.2) and of the Task SDK client that reads it
//! (`airflow/sdk/api/datamodels/_generated.py`, task SDK 1.3.2), field for
//! field. Request bodies refuse unknown fields where Airflow's model does
//! (`StrictBaseModel`, `extra="forbid"`); response bodies carry every field
//! the SDK requires, even when it is `null`.
//!
//! This file holds the task-instance answers, variables and connections;
//! the bodies a running task sends are in `models/payloads.rs`, the other
//! areas have their own files below `models/`.

#[path = "models/assets.rs"]
pub mod assets;
#[path = "models/callbacks.rs"]
pub mod callbacks;
#[path = "models/dags.rs"]
pub mod dags;
#[path = "models/hitl.rs"]
pub mod hitl;
#[path = "models/payloads.rs"]
mod payloads;
#[path = "models/stores.rs"]
pub mod stores;
#[path = "models/xcoms.rs"]
pub mod xcoms;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

pub use dags::DagRun;
pub use payloads::*;

/// A task instance's state, spelled as Airflow spells it
/// (`TaskInstanceState`). A task instance may also have no state at all
/// (`null`, after its run was cleared): that is `Option<TiState>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TiState {
    /// Removed from its DAG.
    Removed,
    /// Dependencies met, waiting for an executor slot.
    Scheduled,
    /// Waiting in an executor's queue; `/run` moves it to `running`.
    Queued,
    /// Started; heartbeats are accepted.
    Running,
    /// Finished successfully.
    Success,
    /// Cleared while running: `/run` may start it again.
    Restarting,
    /// Finished with an error.
    Failed,
    /// Failed, will be retried.
    UpForRetry,
    /// A sensor in reschedule mode, waiting for its next poke.
    UpForReschedule,
    /// An upstream task failed.
    UpstreamFailed,
    /// Skipped.
    Skipped,
    /// Waiting for a trigger to fire.
    Deferred,
    /// Waiting for a human's answer (human-in-the-loop).
    AwaitingInput,
}

impl TiState {
    /// Airflow's `TerminalTIState`: the states a task instance ends in.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TiState::Success
                | TiState::Failed
                | TiState::Skipped
                | TiState::UpstreamFailed
                | TiState::Removed
        )
    }

    /// The state's name as Airflow spells it (`"up_for_retry"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TiState::Removed => "removed",
            TiState::Scheduled => "scheduled",
            TiState::Queued => "queued",
            TiState::Running => "running",
            TiState::Success => "success",
            TiState::Restarting => "restarting",
            TiState::Failed => "failed",
            TiState::UpForRetry => "up_for_retry",
            TiState::UpForReschedule => "up_for_reschedule",
            TiState::UpstreamFailed => "upstream_failed",
            TiState::Skipped => "skipped",
            TiState::Deferred => "deferred",
            TiState::AwaitingInput => "awaiting_input",
        }
    }

    /// Parses Airflow's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<TiState> {
        [
            TiState::Removed,
            TiState::Scheduled,
            TiState::Queued,
            TiState::Running,
            TiState::Success,
            TiState::Restarting,
            TiState::Failed,
            TiState::UpForRetry,
            TiState::UpForReschedule,
            TiState::UpstreamFailed,
            TiState::Skipped,
            TiState::Deferred,
            TiState::AwaitingInput,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// The body of `PATCH /task-instances/<id>/skip-downstream`
/// (`TISkippedDownstreamTasksStatePayload`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipDownstream {
    /// The tasks to skip: a task id, or `[task_id, map_index]`.
    pub tasks: Vec<TaskRef>,
}

/// A task in [`SkipDownstream::tasks`].
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TaskRef {
    /// An unmapped task (map index -1).
    Task(String),
    /// One mapped task instance.
    Mapped(String, i64),
}

impl TaskRef {
    /// `(task_id, map_index)`.
    pub fn key(&self) -> (&str, i64) {
        match self {
            TaskRef::Task(task_id) => (task_id, -1),
            TaskRef::Mapped(task_id, map_index) => (task_id, *map_index),
        }
    }
}

/// The answer to `/run` (`TIRunContext`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunContext {
    /// The DAG run the task instance belongs to.
    pub dag_run: DagRun,
    /// How many times the task was rescheduled.
    pub task_reschedule_count: usize,
    /// How many retries the task has.
    pub max_tries: u32,
    /// Variables the task will need (none here, as in Airflow 3.3).
    pub variables: Vec<VariableResponse<'static>>,
    /// Connections the task will need (none here, as in Airflow 3.3).
    pub connections: Vec<ConnectionResponse>,
    /// XCom keys the worker should clear before running.
    pub xcom_keys_to_clear: Vec<String>,
    /// Whether a failure would be retried.
    pub should_retry: bool,
    /// When resuming from a deferral: the method to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_method: Option<String>,
    /// When resuming from a deferral: its arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_kwargs: Option<Map<String, Value>>,
    /// When resuming from a deferral: the original start date.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub start_date: Option<OffsetDateTime>,
}

/// The answer to `GET /task-instances/<id>/previous-successful-dagrun`
/// (`PrevSuccessfulDagRunResponse`): all `null` when there is none.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PrevSuccessfulDagRun {
    /// Start of its data interval.
    #[serde(with = "time::serde::rfc3339::option")]
    pub data_interval_start: Option<OffsetDateTime>,
    /// End of its data interval.
    #[serde(with = "time::serde::rfc3339::option")]
    pub data_interval_end: Option<OffsetDateTime>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_date: Option<OffsetDateTime>,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
}

/// The answer to `GET /task-instances/previous/<dag_id>/<task_id>`
/// (`PreviousTIResponse`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PreviousTi {
    /// The task.
    pub task_id: String,
    /// The DAG.
    pub dag_id: String,
    /// The run.
    pub run_id: String,
    /// The run's logical date.
    #[serde(with = "time::serde::rfc3339::option")]
    pub logical_date: Option<OffsetDateTime>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_date: Option<OffsetDateTime>,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
    /// Its state.
    pub state: Option<TiState>,
    /// Its try.
    pub try_number: u32,
    /// Its map index (-1 when not mapped).
    pub map_index: i64,
    /// How long it ran, in seconds.
    pub duration: Option<f64>,
}

/// The answer to `GET /task-instances/states` (`TaskStatesResponse`):
/// run id → task id (`task_id_<map_index>` when mapped) → state.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct TaskStates {
    /// The states. (Documented as an object: utoipa 6 cannot derive a map
    /// of maps of optional enums.)
    #[schema(value_type = Object)]
    pub task_states:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, Option<TiState>>>,
}

/// One row of `GET /task-instances/breadcrumbs` (`TaskBreadcrumbsResponse`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Breadcrumb {
    /// The task.
    pub task_id: String,
    /// Its map index.
    pub map_index: i64,
    /// Its (terminal) state.
    pub state: Option<TiState>,
    /// The operator class; the example does not know it, so `null`.
    pub operator: Option<String>,
    /// How long it ran, in seconds.
    pub duration: Option<f64>,
}

/// The answer to `GET /task-instances/breadcrumbs`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Breadcrumbs {
    /// Finished task instances of the run, by task id and map index.
    pub breadcrumbs: Vec<Breadcrumb>,
}

/// A variable (`VariableResponse`).
// Borrowed from the store while it is written out, or owned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VariableResponse<'a> {
    /// The key.
    #[schema(value_type = String)]
    pub key: std::borrow::Cow<'a, str>,
    /// The value.
    #[schema(value_type = Option<String>)]
    pub value: Option<std::borrow::Cow<'a, str>>,
}

/// The body of `PUT /variables/<key>` (`VariablePostBody`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariablePostBody {
    /// The value; required, but may be `null`. Airflow's field is `value`
    /// with the alias `val` (what the SDK sends); its models populate by
    /// name too, so both spellings are accepted.
    #[serde(alias = "value", deserialize_with = "required_nullable")]
    pub val: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// The answer to `GET /variables/keys` (`VariableKeysResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VariableKeys {
    /// One page of keys, sorted.
    pub keys: Vec<String>,
    /// How many keys match, over all pages.
    pub total_entries: usize,
}

/// A connection (`ConnectionResponse`, and `ConnectionTestConnectionResponse`
/// which has the same fields). Every field is sent, `null` or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

/// A connection test's life (`ConnectionTestState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionTestState {
    /// Created, not yet picked up.
    Pending,
    /// Handed to an executor.
    Queued,
    /// A worker fetched the credentials.
    Running,
    /// The connection works.
    Success,
    /// The connection does not work.
    Failed,
}

impl ConnectionTestState {
    /// The state's name as Airflow spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionTestState::Pending => "pending",
            ConnectionTestState::Queued => "queued",
            ConnectionTestState::Running => "running",
            ConnectionTestState::Success => "success",
            ConnectionTestState::Failed => "failed",
        }
    }

    /// `success` or `failed`.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ConnectionTestState::Success | ConnectionTestState::Failed
        )
    }
}

/// The body of `PATCH /connection-tests/<id>` (`ConnectionTestResultBody`):
/// the result a worker reports.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionTestResult {
    /// `success` or `failed` (others are refused with 422).
    pub state: ConnectionTestState,
    /// What the test found, at most 2000 characters.
    #[serde(default)]
    pub result_message: Option<String>,
}

impl ConnectionTestResult {
    /// Airflow's validators: only terminal states, a message of at most
    /// 2000 characters. The error is pydantic's message.
    pub fn validate(&self) -> Result<(), String> {
        if !self.state.is_terminal() {
            return Err(format!(
                "Value error, Workers may only report terminal states (success/failed); got '{}'",
                self.state.as_str()
            ));
        }
        if self
            .result_message
            .as_ref()
            .is_some_and(|m| m.chars().count() > 2000)
        {
            return Err("String should have at most 2000 characters".into());
        }
        Ok(())
    }
}

/// The answer of the routes that report a success in words:
/// `{"message": "Variable successfully set"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Message {
    /// What was done.
    pub message: String,
}

impl Message {
    /// `{"message": message}`.
    pub fn new(message: impl Into<String>) -> Message {
        Message {
            message: message.into(),
        }
    }
}

/// The body of `PUT /task-instances/<id>/rtif`: each rendered template
/// field's name and value (any JSON).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RenderedFields(pub Map<String, Value>);

/// The answer to `GET /health/ping`: which of the server's services answer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Pings {
    /// Services that answered.
    pub ok: Vec<&'static str>,
    /// Services that did not, with why.
    pub failing: std::collections::BTreeMap<&'static str, String>,
}

/// The queued task instance a scheduler hands an executor: the first JSON
/// lines `serve` prints.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueuedWorkload {
    /// The task instance.
    pub task_instance_id: Uuid,
    /// Its workload token.
    pub workload_token: String,
}

/// One line `serve --queue-callback` prints: a queued callback and its
/// single-use callback token.
#[derive(Debug, Serialize)]
pub struct QueuedCallback {
    /// The callback.
    pub callback_id: Uuid,
    /// The token its worker exchanges, once, at
    /// `PATCH /execution/callbacks/<callback_id>/run`.
    pub callback_token: String,
}

/// A field that must be present but may be `null` (pydantic's
/// `Annotated[str | None, Field()]` without a default). Using
/// `deserialize_with` stops serde from treating a missing `Option` as `None`.
fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// `{}`, for fields whose default is an empty JSON object.
fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_updates_are_chosen_by_their_state_field() {
        let success: StateUpdate = serde_json::from_value(json!({
            "state": "success", "end_date": "2025-01-01T00:00:00.123456Z",
            "task_outlets": [{"name": "a", "uri": "s3://a", "type": "Asset"}],
            "outlet_events": [], "rendered_map_index": null
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
        let deferred: StateUpdate = serde_json::from_value(json!({
            "state": "deferred", "classpath": "airflow.triggers.Wait",
            "trigger_kwargs": "encrypted", "trigger_timeout": "PT30S",
            "next_method": "execute_complete"
        }))
        .unwrap();
        assert_eq!(deferred.state(), TiState::Deferred);
        assert_eq!(deferred.end_date(), None);
        let reschedule: StateUpdate = serde_json::from_value(json!({
            "state": "up_for_reschedule", "reschedule_date": "2025-01-01T00:05:00Z",
            "end_date": "2025-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(reschedule.state(), TiState::UpForReschedule);
        let awaiting: StateUpdate = serde_json::from_value(json!({
            "state": "awaiting_input", "timeout": 60, "next_method": "execute_complete",
            "next_kwargs": {"a": 1}
        }))
        .unwrap();
        assert_eq!(awaiting.state(), TiState::AwaitingInput);
    }

    #[test]
    fn bad_state_updates_are_refused() {
        for bad in [
            json!({"state": "deferred", "end_date": "2025-01-01T00:00:00Z"}),
            json!({"state": "running"}),
            json!({"state": "scheduled"}),
            json!({"end_date": "2025-01-01T00:00:00Z"}),
            json!({"state": "success"}),
            // No offset: pydantic's AwareDatetime refuses it too.
            json!({"state": "success", "end_date": "2025-01-01T00:00:00"}),
            json!({"state": "success", "end_date": "2025-01-01T00:00:00Z", "bogus": 1}),
            json!({"state": "success", "end_date": "2025-01-01T00:00:00Z",
                   "task_outlets": [{"name": "a", "kind": "Asset"}]}),
            json!({"state": "failed", "end_date": "2025-01-01T00:00:00Z", "task_outlets": []}),
            json!({"state": "up_for_reschedule", "end_date": "2025-01-01T00:00:00Z"}),
            json!(["success"]),
        ] {
            assert!(
                serde_json::from_value::<StateUpdate>(bad.clone()).is_err(),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn variable_value_is_required_but_nullable_under_either_name() {
        let body: VariablePostBody = serde_json::from_value(json!({"val": null})).unwrap();
        assert_eq!(body.val, None);
        let body: VariablePostBody = serde_json::from_value(json!({"value": "x"})).unwrap();
        assert_eq!(body.val.as_deref(), Some("x"));
        assert!(serde_json::from_value::<VariablePostBody>(json!({})).is_err());
        assert!(serde_json::from_value::<VariablePostBody>(json!({"v": "x"})).is_err());
    }

    #[test]
    fn skip_downstream_takes_ids_and_mapped_pairs() {
        let body: SkipDownstream =
            serde_json::from_value(json!({"tasks": ["a", ["b", 2]]})).unwrap();
        let keys: Vec<_> = body.tasks.iter().map(TaskRef::key).collect();
        assert_eq!(keys, [("a", -1), ("b", 2)]);
        assert!(serde_json::from_value::<SkipDownstream>(json!({"tasks": [["b"]]})).is_err());
    }

    #[test]
    fn connection_test_results_must_be_terminal() {
        let ok: ConnectionTestResult =
            serde_json::from_value(json!({"state": "success", "result_message": "fine"})).unwrap();
        assert_eq!(ok.validate(), Ok(()));
        let running: ConnectionTestResult =
            serde_json::from_value(json!({"state": "running"})).unwrap();
        assert!(running.validate().unwrap_err().contains("terminal states"));
        let long: ConnectionTestResult =
            serde_json::from_value(json!({"state": "failed", "result_message": "x".repeat(2001)}))
                .unwrap();
        assert!(long.validate().is_err());
    }

    #[test]
    fn ti_states_round_trip_their_names() {
        for name in [
            "up_for_retry",
            "awaiting_input",
            "upstream_failed",
            "queued",
        ] {
            let state = TiState::parse(name).unwrap();
            assert_eq!(state.as_str(), name);
            assert_eq!(serde_json::to_value(state).unwrap(), json!(name));
        }
        assert_eq!(TiState::parse("none"), None);
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
