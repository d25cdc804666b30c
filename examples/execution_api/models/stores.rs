//! The task and asset state stores (`datamodels/task_state_store.py`,
//! `datamodels/asset_state_store.py`): small JSON values a task keeps
//! across tries, or shares through an asset.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A stored value (`TaskStateStoreResponse`, `AssetStateStoreResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredValue {
    /// The value.
    pub value: Value,
}

/// The body of `PUT /store/ti/<id>/<key>` (`TaskStateStorePutBody`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStorePut {
    /// The value: any JSON but `null` (checked by [`check_value`]).
    pub value: Value,
    /// When the key may be cleaned up; `null` never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// The body of `PUT /store/asset/by-*/value` (`AssetStateStorePutBody`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetStorePut {
    /// The value: any JSON but `null` (checked by [`check_value`]).
    pub value: Value,
}

/// Airflow's validator of both bodies: the value may not be `null`. (Its
/// NaN and infinity check cannot fail here: JSON has neither.) The error is
/// pydantic's message.
pub fn check_value(value: &Value) -> Result<(), String> {
    if value.is_null() {
        return Err("Value error, value cannot be null".into());
    }
    Ok(())
}
