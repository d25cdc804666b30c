//! Error responses in the shapes Airflow's Execution API (FastAPI) sends and
//! the Task SDK client reads: `{"detail": {"reason", "message", ...}}` for
//! refusals, `{"detail": [{"type", "loc", "msg"}]}` with 422 for bodies that
//! do not validate, `{"detail": "Not Found"}` for unknown paths.

use actix_web::error::{InternalError, JsonPayloadError, PathError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use crate::state::Refusal;

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.detail().get("message").and_then(Value::as_str) {
            Some(message) => f.write_str(message),
            None => f.write_str("refused"),
        }
    }
}

impl Refusal {
    /// The `detail` object, as Airflow writes it for this refusal.
    pub fn detail(&self) -> Value {
        match self {
            Refusal::TaskInstanceNotFound => {
                json!({"reason": "not_found", "message": "Task Instance not found"})
            }
            Refusal::VariableNotFound(key) => json!({
                "reason": "not_found",
                "message": format!("Variable with key '{key}' not found"),
            }),
            Refusal::ConnectionNotFound(id) => json!({
                "reason": "not_found",
                "message": format!("Connection with ID {id} not found"),
            }),
            Refusal::InvalidState { previous, message } => json!({
                "reason": "invalid_state",
                "message": message,
                "previous_state": previous,
            }),
            Refusal::NotRunning { current } => json!({
                "reason": "not_running",
                "message": "TI is no longer in the running state and task should terminate",
                "current_state": current,
            }),
            Refusal::RunningElsewhere { hostname, pid } => json!({
                "reason": "running_elsewhere",
                "message": "TI is already running elsewhere",
                "current_hostname": hostname,
                "current_pid": pid,
            }),
            Refusal::ConnectionTestAlreadyFetched(id) => json!({
                "reason": "conflict",
                "message": format!(
                    "Connection test {id} is in state running; \
                     credentials can only be fetched once while PENDING or QUEUED."
                ),
            }),
        }
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::TaskInstanceNotFound
            | Refusal::VariableNotFound(_)
            | Refusal::ConnectionNotFound(_) => StatusCode::NOT_FOUND,
            Refusal::InvalidState { .. }
            | Refusal::NotRunning { .. }
            | Refusal::RunningElsewhere { .. }
            | Refusal::ConnectionTestAlreadyFetched(_) => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({ "detail": self.detail() }))
    }
}

/// A 422 in FastAPI's validation-error shape.
fn unprocessable(kind: &str, loc: &str, msg: String) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "detail": [{"type": kind, "loc": [loc], "msg": msg}]
    }))
}

/// `web::JsonConfig` error handler: a body that is not the expected JSON is
/// a 422 (413 when too large), never actix's plain-text 400.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let response = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            HttpResponse::PayloadTooLarge().json(json!({"detail": "Request body too large"}))
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            unprocessable("value_error", "body", e.to_string())
        }
        JsonPayloadError::Deserialize(e) => unprocessable("json_invalid", "body", e.to_string()),
        other => unprocessable("json_invalid", "body", other.to_string()),
    };
    InternalError::from_response(err, response).into()
}

/// `web::PathConfig` error handler: a path parameter of the wrong type is a
/// 422, as in FastAPI.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    let response = unprocessable("value_error", "path", err.to_string());
    InternalError::from_response(err, response).into()
}

/// The answer to a path no route matches.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"detail": "Not Found"}))
}
