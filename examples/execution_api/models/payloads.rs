//! The bodies a task instance sends as it runs: `/run`'s, the heartbeat,
//! and every state change of `PATCH /task-instances/<id>/state`
//! (`airflow/api_fastapi/execution_api/datamodels/taskinstance.py`).
//! Re-exported by `models`, so their paths are `crate::models::StateUpdate`
//! and so on.

use super::*;

/// The body of `PATCH /task-instances/<id>/run` (`TIEnterRunningPayload`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum RunningLiteral {
    /// `"running"`.
    #[default]
    #[serde(rename = "running")]
    Running,
}

/// The body of `PUT /task-instances/<id>/heartbeat` (`TIHeartbeatInfo`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The worker's host name; must match the one `/run` recorded.
    pub hostname: String,
    /// The task process id; must match the one `/run` recorded.
    pub pid: i64,
}

/// The body of `PATCH /task-instances/<id>/state`: Airflow's `TIStateUpdate`
/// union, chosen by its `state` field.
///
/// Airflow routes any other intermediate state (`scheduled`, `queued`,
/// `restarting`) to a payload its handler does not expect, and the
/// resulting exception marks the task instance `failed` with a 204. The
/// example refuses such a body with 422 instead.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
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
    /// `TIDeferredStatePayload`.
    Deferred(DeferredPayload),
    /// `TIRescheduleStatePayload`.
    UpForReschedule(ReschedulePayload),
    /// `TIAwaitingInputStatePayload`.
    AwaitingInput(AwaitingInputPayload),
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
            StateUpdate::Deferred(_) => TiState::Deferred,
            StateUpdate::UpForReschedule(_) => TiState::UpForReschedule,
            StateUpdate::AwaitingInput(_) => TiState::AwaitingInput,
        }
    }

    /// When the run ended, for the payloads that end it.
    pub fn end_date(&self) -> Option<OffsetDateTime> {
        match self {
            StateUpdate::Success(p) => Some(p.end_date),
            StateUpdate::Failed(p)
            | StateUpdate::Skipped(p)
            | StateUpdate::Removed(p)
            | StateUpdate::UpstreamFailed(p) => Some(p.end_date),
            StateUpdate::UpForRetry(p) => Some(p.end_date),
            StateUpdate::UpForReschedule(p) => Some(p.end_date),
            StateUpdate::Deferred(_) | StateUpdate::AwaitingInput(_) => None,
        }
    }

    /// The rendered map index, for mapped tasks, when the payload has one.
    pub fn rendered_map_index(&self) -> Option<&str> {
        match self {
            StateUpdate::Success(p) => p.rendered_map_index.as_deref(),
            StateUpdate::Failed(p)
            | StateUpdate::Skipped(p)
            | StateUpdate::Removed(p)
            | StateUpdate::UpstreamFailed(p) => p.rendered_map_index.as_deref(),
            StateUpdate::UpForRetry(p) => p.rendered_map_index.as_deref(),
            StateUpdate::Deferred(p) => p.rendered_map_index.as_deref(),
            StateUpdate::AwaitingInput(p) => p.rendered_map_index.as_deref(),
            StateUpdate::UpForReschedule(_) => None,
        }
    }
}

/// `TISuccessStatePayload` without its `state` tag.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessPayload {
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date: OffsetDateTime,
    /// Assets the task produced (`AssetProfile`s).
    #[serde(default)]
    pub task_outlets: Vec<assets::AssetProfile>,
    /// Asset events the task emitted, as the SDK sends them
    /// (`dest_asset_key`, `extra`, `source_alias_name`, ...).
    #[serde(default)]
    pub outlet_events: Vec<Map<String, Value>>,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
}

/// `TITerminalStatePayload` without its `state` tag.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
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

/// `TIDeferredStatePayload` without its `state` tag: the trigger to wait
/// for and the method to resume with.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeferredPayload {
    /// The trigger's class path.
    pub classpath: String,
    /// The trigger's arguments: a JSON object, or a string the worker
    /// encrypted. Checked, then dropped: the example has no triggerer.
    #[serde(default = "empty_object")]
    #[allow(dead_code)]
    pub trigger_kwargs: Value,
    /// How long the trigger may wait (an ISO 8601 duration or seconds).
    /// Checked, then dropped.
    #[serde(default)]
    #[allow(dead_code)]
    pub trigger_timeout: Option<TimeDelta>,
    /// The triggerer queue. Checked, then dropped.
    #[serde(default)]
    #[allow(dead_code)]
    pub queue: Option<String>,
    /// The operator method to call when the trigger fires.
    pub next_method: String,
    /// Its arguments.
    #[serde(default)]
    pub next_kwargs: Map<String, Value>,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
}

/// `TIRescheduleStatePayload` without its `state` tag: a sensor in
/// reschedule mode asks to be run again later.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReschedulePayload {
    /// When to poke again.
    #[serde(with = "time::serde::rfc3339")]
    pub reschedule_date: OffsetDateTime,
    /// When this poke ended.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date: OffsetDateTime,
}

/// `TIAwaitingInputStatePayload` without its `state` tag: the task waits
/// for a human's answer.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwaitingInputPayload {
    /// How long to wait for the answer (an ISO 8601 duration or seconds).
    /// Checked, then dropped: nothing here times a question out.
    #[serde(default)]
    #[allow(dead_code)]
    pub timeout: Option<TimeDelta>,
    /// The operator method to call with the answer.
    pub next_method: String,
    /// Its arguments.
    #[serde(default)]
    pub next_kwargs: Map<String, Value>,
    /// The rendered map index, for mapped tasks.
    #[serde(default)]
    pub rendered_map_index: Option<String>,
}

/// A pydantic `timedelta`: an ISO 8601 duration (`"PT30S"`, what the SDK
/// sends) or a number of seconds. Only checked for its type: the example has
/// no triggerer that would wait for it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TimeDelta {
    /// Seconds.
    Seconds(f64),
    /// An ISO 8601 duration.
    Iso(String),
}
