//! The bodies of `PATCH /callbacks/<callback_id>/run`, the exchange of a
//! single-use callback token (Airflow's main branch, Execution API version
//! 2026-10-30, apache/airflow#71192).
//!
//! Airflow's route takes no body and answers 204; SPEC §5 gives the
//! example's a body like `/run`'s (`hostname`, `pid`, `start_date`, each
//! optional, `{}` accepted) and a 200 with the callback's id and state, so
//! that a worker learns what it claimed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a callback is (`CallbackState`): queued until its token is
/// exchanged, then running, then done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackState {
    /// Waiting for a worker: its token has not been exchanged.
    Queued,
    /// Claimed: its token was exchanged, once.
    Running,
    /// Finished.
    Success,
    /// Failed.
    Failed,
}

impl CallbackState {
    /// Airflow's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackState::Queued => "queued",
            CallbackState::Running => "running",
            CallbackState::Success => "success",
            CallbackState::Failed => "failed",
        }
    }
}

/// The body of the exchange: who claims the callback, each field optional,
/// as `/run`'s `TIEnterRunningPayload` names them. An empty body is `{}`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackClaim {
    /// The worker's host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The callback process id.
    #[serde(default)]
    pub pid: Option<i64>,
    /// When the callback started (must carry an offset).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_date: Option<OffsetDateTime>,
}

/// The answer to the exchange: the callback and its new state, `running`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CallbackRun {
    /// The callback.
    pub id: Uuid,
    /// Its state after the exchange: `running`.
    pub state: CallbackState,
}
