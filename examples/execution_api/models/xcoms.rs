//! XComs (`datamodels/xcom.py`). A value is any JSON document, stored as the
//! worker serialised it; the index and slice answers are bare JSON values
//! and lists (`XComSequenceIndexResponse`, `XComSequenceSliceResponse`).

use serde::Serialize;
use serde_json::Value;

/// The answer to `GET /xcoms/<dag_id>/<run_id>/<task_id>/<key>`
/// (`XComResponse`).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct XComResponse {
    /// The key.
    pub key: String,
    /// The value, as the worker serialised it.
    pub value: Value,
}
