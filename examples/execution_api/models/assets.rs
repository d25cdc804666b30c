//! Assets, asset aliases and asset events (`datamodels/asset.py`,
//! `datamodels/asset_event.py`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// An asset-like object a task names in its inlets or outlets
/// (`AssetProfile`): an `Asset` (name and URI), an `AssetNameRef`, an
/// `AssetUriRef` or an `AssetAlias`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetProfile {
    /// The name, if it has one.
    #[serde(default)]
    pub name: Option<String>,
    /// The URI, if it has one.
    #[serde(default)]
    pub uri: Option<String>,
    /// `"Asset"`, `"AssetNameRef"`, `"AssetUriRef"` or `"AssetAlias"`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// An asset (`AssetResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetResponse {
    /// Its name.
    pub name: String,
    /// Its URI.
    pub uri: String,
    /// Its group (`"asset"` unless declared otherwise).
    pub group: String,
    /// Its extra information.
    pub extra: Map<String, Value>,
}

/// One asset event (`AssetEventResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetEventResponse {
    /// Its id, increasing.
    pub id: u64,
    /// When it was emitted.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// What the task attached to it.
    pub extra: Map<String, Value>,
    /// The asset it is about.
    pub asset: AssetResponse,
    /// Runs it triggered (none: the example schedules nothing).
    pub created_dagruns: Vec<Value>,
    /// The task that emitted it.
    pub source_task_id: Option<String>,
    /// Its DAG.
    pub source_dag_id: Option<String>,
    /// Its run.
    pub source_run_id: Option<String>,
    /// Its map index.
    pub source_map_index: Option<i64>,
    /// The partition it is about.
    pub partition_key: Option<String>,
}

/// The answer to `GET /asset-events/by-*` (`AssetEventsResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetEventsResponse {
    /// The events, by time.
    pub asset_events: Vec<AssetEventResponse>,
}

/// The answer to `GET /task-instances/<id>/validate-inlets-and-outlets`
/// (`InactiveAssetsResponse`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InactiveAssets {
    /// Inlets and outlets that are not active assets.
    pub inactive_assets: Vec<AssetProfile>,
}
