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
        match self.detail() {
            Value::String(message) => f.write_str(&message),
            detail => match detail.get("message").and_then(Value::as_str) {
                Some(message) => f.write_str(message),
                None => f.write_str("refused"),
            },
        }
    }
}

impl Refusal {
    /// The `detail`, as Airflow writes it for this refusal: an object with
    /// a `reason` and a `message`, or, for a few routes, a plain string.
    pub fn detail(&self) -> Value {
        match self {
            Refusal::TaskInstanceNotFound => {
                json!({"reason": "not_found", "message": "Task Instance not found"})
            }
            Refusal::NotFound(message) => json!({"reason": "not_found", "message": message}),
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
            Refusal::Conflict { reason, message } | Refusal::BadRequest { reason, message } => {
                json!({"reason": reason, "message": message})
            }
            Refusal::NotFoundText(message)
            | Refusal::ConflictText(message)
            | Refusal::Unprocessable(message) => json!(message),
            Refusal::CallbackClaimed { id, state } => json!({
                "reason": "invalid_state",
                "message": format!(
                    "Callback {id} is in state {}; its token can only be exchanged once while \
                     QUEUED.",
                    state.as_str()
                ),
                "previous_state": state,
            }),
            Refusal::TooLarge { what, size, limit } => json!({
                "reason": "too_large",
                "message": format!(
                    "the {what} value is {size} bytes; this server stores values of at most \
                     {limit} bytes (serve --max-value-bytes)"
                ),
            }),
            Refusal::StoreFull { store, cap } => json!({
                "reason": "store_full",
                "message": format!(
                    "the {store} store is full: it holds at most {cap}; delete entries, or \
                     restart the server with a higher cap"
                ),
            }),
        }
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::TaskInstanceNotFound
            | Refusal::NotFound(_)
            | Refusal::NotFoundText(_)
            | Refusal::VariableNotFound(_)
            | Refusal::ConnectionNotFound(_) => StatusCode::NOT_FOUND,
            Refusal::InvalidState { .. }
            | Refusal::NotRunning { .. }
            | Refusal::RunningElsewhere { .. }
            | Refusal::Conflict { .. }
            | Refusal::ConflictText(_)
            | Refusal::CallbackClaimed { .. } => StatusCode::CONFLICT,
            Refusal::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Refusal::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::StoreFull { .. } => StatusCode::INSUFFICIENT_STORAGE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({ "detail": self.detail() }))
    }
}

/// A request FastAPI would refuse while validating it, before the route
/// runs: 422 with pydantic's error list. `loc` says where (`["query",
/// "dag_id"]`, `["body", "options"]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// `"query"`, `"path"` or `"body"`.
    pub place: &'static str,
    /// The parameter or field.
    pub field: String,
    /// pydantic's error type (`"missing"`, `"int_parsing"`, ...).
    pub kind: &'static str,
    /// pydantic's message.
    pub msg: String,
}

impl Invalid {
    /// An invalid `field` in `place`.
    pub fn new(
        place: &'static str,
        field: &str,
        kind: &'static str,
        msg: impl Into<String>,
    ) -> Self {
        Invalid {
            place,
            field: field.to_owned(),
            kind,
            msg: msg.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}: {}", self.place, self.field, self.msg)
    }
}

impl ResponseError for Invalid {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::UnprocessableEntity().json(json!({
            "detail": [{"type": self.kind, "loc": [self.place, self.field], "msg": self.msg}]
        }))
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
    not_found_response()
}

/// [`not_found`]'s response, for callers that are not handlers.
pub fn not_found_response() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"detail": "Not Found"}))
}
