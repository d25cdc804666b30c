//! XComs (`datamodels/xcom.py`). A value is any JSON document, stored as the
//! worker serialised it; the index and slice answers are bare JSON values
//! and lists (`XComSequenceIndexResponse`, `XComSequenceSliceResponse`).

use serde::Serialize;
use serde_json::value::RawValue;

/// The answer to `GET /xcoms/<dag_id>/<run_id>/<task_id>/<key>`
/// (`XComResponse`).
// Borrowed from the store while it is written out.
#[derive(Clone, Copy, Debug, Serialize, utoipa::ToSchema)]
pub struct XComResponse<'a> {
    /// The key.
    pub key: &'a str,
    /// The value, as the worker serialised it.
    // The stored JSON text, written out as it is, never parsed again.
    #[schema(value_type = Value)]
    pub value: &'a RawValue,
}
