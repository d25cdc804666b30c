//! Deadline callbacks (Airflow's main branch, apache/airflow#71192): each
//! is queued with a single-use `callback` token, which its worker
//! exchanges once, at `PATCH /callbacks/<callback_id>/run`, for an
//! execution token. The exchange is the callback's `queued → running`
//! change, made under the store's one lock, so of two concurrent
//! exchanges exactly one succeeds.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Refusal, Store};
use crate::models::callbacks::{CallbackClaim, CallbackRun, CallbackState};

/// One callback (`Callback`).
#[derive(Clone, Debug)]
pub(super) struct CallbackRecord {
    /// Where it is.
    pub state: CallbackState,
    /// Who claimed it, when it was claimed.
    pub hostname: Option<String>,
    /// The claiming process.
    pub pid: Option<i64>,
    /// When it started, as its worker said (or when it was claimed).
    pub start_date: Option<OffsetDateTime>,
}

impl Store {
    /// `serve --queue-callback N`: N callbacks in state `queued`, as the
    /// scheduler queues a deadline's callback for a worker.
    pub fn queue_callbacks(&self, n: usize) -> Vec<Uuid> {
        let mut inner = self.lock();
        (0..n)
            .map(|_| {
                let id = Uuid::new_v4();
                inner.callbacks.insert(
                    id,
                    CallbackRecord {
                        state: CallbackState::Queued,
                        hostname: None,
                        pid: None,
                        start_date: None,
                    },
                );
                tracing::info!(callback = %id, "callback queued");
                id
            })
            .collect()
    }

    /// `PATCH /callbacks/<id>/run`: queued → running, once. 404 for an
    /// unknown callback, 409 for one that is not queued (its token was
    /// exchanged already), both before anything changes.
    pub fn claim_callback(&self, id: Uuid, claim: &CallbackClaim) -> Result<CallbackRun, Refusal> {
        let mut inner = self.lock();
        let callback = inner
            .callbacks
            .get_mut(&id)
            .ok_or_else(|| Refusal::NotFound(format!("Callback {id} not found")))?;
        if callback.state != CallbackState::Queued {
            return Err(Refusal::CallbackClaimed {
                id,
                state: callback.state,
            });
        }
        callback.state = CallbackState::Running;
        callback.hostname.clone_from(&claim.hostname);
        callback.pid = claim.pid;
        callback.start_date = Some(claim.start_date.unwrap_or_else(OffsetDateTime::now_utc));
        tracing::info!(callback = %id, "callback token exchanged; callback running");
        Ok(CallbackRun {
            id,
            state: CallbackState::Running,
        })
    }

    /// A callback's state, if it exists.
    pub fn callback_state(&self, id: Uuid) -> Option<CallbackState> {
        self.lock().callbacks.get(&id).map(|c| c.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_is_claimed_once() {
        let store = Store::new();
        let [id] = store.queue_callbacks(1)[..] else {
            panic!("one callback")
        };
        assert_eq!(store.callback_state(id), Some(CallbackState::Queued));
        let run = store.claim_callback(id, &CallbackClaim::default()).unwrap();
        assert_eq!(
            run,
            CallbackRun {
                id,
                state: CallbackState::Running
            }
        );
        assert_eq!(
            store.claim_callback(id, &CallbackClaim::default()),
            Err(Refusal::CallbackClaimed {
                id,
                state: CallbackState::Running
            })
        );
        let unknown = Uuid::new_v4();
        assert_eq!(
            store.claim_callback(unknown, &CallbackClaim::default()),
            Err(Refusal::NotFound(format!("Callback {unknown} not found")))
        );
    }

    #[test]
    fn of_many_concurrent_claims_exactly_one_wins() {
        let store = std::sync::Arc::new(Store::new());
        let [id] = store.queue_callbacks(1)[..] else {
            panic!("one callback")
        };
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = std::sync::Arc::clone(&store);
                std::thread::spawn(move || store.claim_callback(id, &CallbackClaim::default()))
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
    }
}
