//! DAGs and DAG runs (`datamodels/dagrun.py`, `datamodels/dags.py` and the
//! `DagRun` of `datamodels/taskinstance.py`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// How a DAG run came to be (`DagRunType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunType {
    /// Triggered by a person (here: queued with `serve --queue-task`).
    Manual,
    /// Triggered by a task (`TriggerDagRunOperator`, `POST /dag-runs`).
    OperatorTriggered,
}

/// A DAG run's state (`DagRunState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DagRunState {
    /// Created, not yet started by a scheduler.
    Queued,
    /// Some of its task instances are not finished.
    Running,
    /// Finished, no task failed.
    Success,
    /// Finished, a task failed.
    Failed,
}

impl DagRunState {
    /// Parses Airflow's spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<DagRunState> {
        match s {
            "queued" => Some(DagRunState::Queued),
            "running" => Some(DagRunState::Running),
            "success" => Some(DagRunState::Success),
            "failed" => Some(DagRunState::Failed),
            _ => None,
        }
    }
}

/// A DAG run (`DagRun`); every field the SDK requires is present.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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
    /// How the run came to be.
    pub run_type: RunType,
    /// Where the run is.
    pub state: DagRunState,
    /// The run's configuration.
    pub conf: Map<String, Value>,
    /// Who triggered the run (inherited from the triggering task's run).
    pub triggering_user_name: Option<String>,
    /// Asset events that triggered the run (none: the example has no
    /// asset-triggered runs).
    pub consumed_asset_events: Vec<Value>,
    /// The partition key, for partitioned runs.
    pub partition_key: Option<String>,
    /// A note on the run.
    pub note: Option<String>,
}

/// The body of `POST /dag-runs/<dag_id>/<run_id>` (`TriggerDAGRunPayload`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerDagRun {
    /// The logical date; none for a run without one.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub logical_date: Option<OffsetDateTime>,
    /// When the run may start; now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub run_after: Option<OffsetDateTime>,
    /// The run's configuration (an object; `null` is refused, as in
    /// Airflow).
    #[serde(default)]
    pub conf: Map<String, Value>,
    /// Read by the SDK client (a 409 then clears the run), not by the
    /// server.
    #[serde(default)]
    #[allow(dead_code)]
    pub reset_dag_run: bool,
    /// The partition key, for partitioned runs.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// A note on the run.
    #[serde(default)]
    pub note: Option<String>,
}

/// The answer to `GET /dag-runs/<dag_id>/<run_id>/state`
/// (`DagRunStateResponse`).
#[derive(Clone, Copy, Debug, Serialize, utoipa::ToSchema)]
pub struct DagRunStateResponse {
    /// The run's state.
    pub state: DagRunState,
}

/// The answer to `GET /dags/<dag_id>` (`DagResponse`). The example knows a
/// DAG only by the task instances and runs it was given, so what only a
/// parsed DAG file would tell is `null`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DagResponse {
    /// The DAG.
    pub dag_id: String,
    /// Whether it is paused (the example never pauses a DAG).
    pub is_paused: bool,
    /// Its bundle.
    pub bundle_name: Option<String>,
    /// Its bundle's version.
    pub bundle_version: Option<String>,
    /// Its file, relative to the bundle.
    pub relative_fileloc: Option<String>,
    /// Its owners.
    pub owners: Option<String>,
    /// Its tags, sorted.
    pub tags: Vec<String>,
    /// When its next scheduled run is due.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_dagrun: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trigger_payload_is_strict_like_airflows() {
        let body: TriggerDagRun = serde_json::from_value(json!({
            "logical_date": "2026-01-01T00:00:00+00:00", "conf": {"a": 1}, "note": "hi"
        }))
        .unwrap();
        assert_eq!(body.conf["a"], 1);
        assert!(serde_json::from_value::<TriggerDagRun>(json!({})).is_ok());
        for bad in [
            json!({"conf": null}),
            json!({"logical_date": "2026-01-01T00:00:00"}),
            json!({"x": 1}),
        ] {
            assert!(
                serde_json::from_value::<TriggerDagRun>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
