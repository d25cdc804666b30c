//! The example's in-memory state: task instances and their state machine,
//! variables, connections and connection tests. Nothing here knows about
//! HTTP or tokens; the routes translate [`Refusal`]s into responses. Every
//! change of a task instance is logged here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::models::{
    ConnectionResponse, DagRun, EnterRunning, Heartbeat, RunContext, StateUpdate, TiState,
    VariablePostBody, VariableResponse,
};

/// The DAG every task instance of the example belongs to.
pub const DAG_ID: &str = "scopegate_example";

/// The connection the example serves, and the one every connection test
/// fetches.
pub const DEMO_CONNECTION_ID: &str = "example_http";

/// Why an operation was refused, in Airflow's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No task instance with that id.
    TaskInstanceNotFound,
    /// No variable with that key.
    VariableNotFound(String),
    /// No connection with that id.
    ConnectionNotFound(String),
    /// The task instance is not in a state that allows the transition.
    InvalidState {
        /// Its state.
        previous: TiState,
        /// Airflow's message for this transition.
        message: &'static str,
    },
    /// A heartbeat for a task instance that is no longer running.
    NotRunning {
        /// Its state.
        current: TiState,
    },
    /// A heartbeat from another host or process than the one that started
    /// the task instance.
    RunningElsewhere {
        /// The host that started it.
        hostname: Option<String>,
        /// The process that started it.
        pid: Option<i64>,
    },
    /// The connection test's credentials were already fetched.
    ConnectionTestAlreadyFetched(Uuid),
}

/// What a state update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateChange {
    /// The task instance moved to the requested state.
    Updated,
    /// It was already in that state (a retried request); nothing changed.
    Unchanged,
}

/// One task instance.
#[derive(Clone, Debug)]
pub struct TaskInstance {
    /// The task in the DAG.
    pub task_id: String,
    /// Where it is in its life.
    pub state: TiState,
    /// The host that started it.
    pub hostname: Option<String>,
    /// The user that started it.
    pub unixname: Option<String>,
    /// The process that started it.
    pub pid: Option<i64>,
    /// When it started.
    pub start_date: Option<OffsetDateTime>,
    /// When it ended.
    pub end_date: Option<OffsetDateTime>,
    /// When it last heartbeated.
    pub last_heartbeat: Option<OffsetDateTime>,
    /// The rendered map index its run reported, for mapped tasks.
    pub rendered_map_index: Option<String>,
    /// For `up_for_retry`: the delay asked for, in seconds.
    pub retry_delay_seconds: Option<f64>,
    /// For `up_for_retry`: why.
    pub retry_reason: Option<String>,
}

/// A variable's value and description.
#[derive(Clone, Debug)]
struct Variable {
    value: Option<String>,
    description: Option<String>,
}

/// All state of the example server, behind one lock. Every operation is a
/// short critical section with no I/O.
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    run_id: String,
    created: OffsetDateTime,
    task_instances: HashMap<Uuid, TaskInstance>,
    variables: BTreeMap<String, Variable>,
    connections: BTreeMap<String, ConnectionResponse>,
    fetched_connection_tests: HashSet<Uuid>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store with one DAG run and the demo connection.
    pub fn new() -> Self {
        let created = OffsetDateTime::now_utc();
        let mut connections = BTreeMap::new();
        connections.insert(DEMO_CONNECTION_ID.to_owned(), demo_connection());
        Store {
            inner: Mutex::new(Inner {
                run_id: format!("manual__{}", created.unix_timestamp()),
                created,
                task_instances: HashMap::new(),
                variables: BTreeMap::new(),
                connections,
                fetched_connection_tests: HashSet::new(),
            }),
        }
    }

    /// A panic elsewhere must not take the server down with it: the data
    /// behind the lock is plain values, always consistent between
    /// statements, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates `n` task instances in state `queued` and returns their ids.
    pub fn queue(&self, n: usize) -> Vec<Uuid> {
        let mut inner = self.lock();
        (0..n)
            .map(|_| {
                let id = Uuid::new_v4();
                let task_id = format!("task_{}", inner.task_instances.len() + 1);
                inner
                    .task_instances
                    .insert(id, TaskInstance::queued(task_id));
                id
            })
            .collect()
    }

    /// A copy of one task instance, if it exists (for tests).
    #[cfg(test)]
    pub fn task_instance(&self, id: Uuid) -> Option<TaskInstance> {
        self.lock().task_instances.get(&id).cloned()
    }

    /// `/run`: queued → running, and the context the worker needs. A
    /// repeated request from the same host, user and process (a retry after
    /// a lost response) gets the same answer again, as in Airflow.
    pub fn start(&self, id: Uuid, req: &EnterRunning) -> Result<RunContext, Refusal> {
        let mut inner = self.lock();
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        let duplicate = ti.state == TiState::Running
            && ti.hostname.as_deref() == Some(&req.hostname)
            && ti.unixname.as_deref() == Some(&req.unixname)
            && ti.pid == Some(req.pid);
        if !duplicate {
            if ti.state != TiState::Queued {
                return Err(Refusal::InvalidState {
                    previous: ti.state,
                    message: "TI was not in a state where it could be marked as running",
                });
            }
            ti.state = TiState::Running;
            ti.hostname = Some(req.hostname.clone());
            ti.unixname = Some(req.unixname.clone());
            ti.pid = Some(req.pid);
            ti.start_date = Some(req.start_date);
            ti.end_date = None;
            ti.last_heartbeat = Some(OffsetDateTime::now_utc());
            tracing::info!(
                ti = %id,
                task_id = %ti.task_id,
                hostname = %req.hostname,
                pid = req.pid,
                "task instance running"
            );
        }
        Ok(inner.run_context())
    }

    /// A heartbeat: accepted while the task instance runs on the host and
    /// process that started it.
    pub fn heartbeat(&self, id: Uuid, req: &Heartbeat) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        if ti.hostname.as_deref() != Some(&req.hostname) || ti.pid != Some(req.pid) {
            return Err(Refusal::RunningElsewhere {
                hostname: ti.hostname.clone(),
                pid: ti.pid,
            });
        }
        if ti.state != TiState::Running {
            return Err(Refusal::NotRunning { current: ti.state });
        }
        ti.last_heartbeat = Some(OffsetDateTime::now_utc());
        tracing::debug!(ti = %id, task_id = %ti.task_id, "heartbeat");
        Ok(())
    }

    /// Ends a run: running → the requested state. Asking for the state the
    /// task instance is already in changes nothing and is not an error.
    pub fn update_state(&self, id: Uuid, req: &StateUpdate) -> Result<StateChange, Refusal> {
        let mut inner = self.lock();
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        if ti.state == req.state() {
            return Ok(StateChange::Unchanged);
        }
        if ti.state != TiState::Running {
            return Err(Refusal::InvalidState {
                previous: ti.state,
                message: "TI was not in the running state so it cannot be updated",
            });
        }
        ti.state = req.state();
        ti.end_date = Some(req.end_date());
        ti.rendered_map_index = req.rendered_map_index().map(str::to_owned);
        if let StateUpdate::UpForRetry(retry) = req {
            ti.retry_delay_seconds = retry.retry_delay_seconds;
            ti.retry_reason = retry.retry_reason.clone();
        }
        tracing::info!(
            ti = %id,
            task_id = %ti.task_id,
            state = ?ti.state,
            retry_reason = ti.retry_reason.as_deref(),
            "task instance finished"
        );
        Ok(StateChange::Updated)
    }

    /// A variable.
    pub fn variable(&self, key: &str) -> Result<VariableResponse, Refusal> {
        match self.lock().variables.get(key) {
            Some(variable) => Ok(VariableResponse {
                key: key.to_owned(),
                value: variable.value.clone(),
            }),
            None => Err(Refusal::VariableNotFound(key.to_owned())),
        }
    }

    /// Creates or replaces a variable.
    pub fn set_variable(&self, key: &str, body: VariablePostBody) {
        let variable = Variable {
            value: body.val,
            description: body.description,
        };
        tracing::debug!(
            key,
            description = variable.description.as_deref(),
            "variable set"
        );
        self.lock().variables.insert(key.to_owned(), variable);
    }

    /// Deletes a variable; deleting a missing one is not an error (as in
    /// Airflow).
    pub fn delete_variable(&self, key: &str) {
        self.lock().variables.remove(key);
    }

    /// A connection.
    pub fn connection(&self, conn_id: &str) -> Result<ConnectionResponse, Refusal> {
        self.lock()
            .connections
            .get(conn_id)
            .cloned()
            .ok_or_else(|| Refusal::ConnectionNotFound(conn_id.to_owned()))
    }

    /// A connection test's credentials, handed out once per test as in
    /// Airflow. The example has no API to create connection tests (Airflow's
    /// UI does that), so any id not fetched before is taken as a pending test
    /// of the demo connection.
    pub fn fetch_connection_test(&self, id: Uuid) -> Result<ConnectionResponse, Refusal> {
        let mut inner = self.lock();
        if !inner.fetched_connection_tests.insert(id) {
            return Err(Refusal::ConnectionTestAlreadyFetched(id));
        }
        inner
            .connections
            .get(DEMO_CONNECTION_ID)
            .cloned()
            .ok_or_else(|| Refusal::ConnectionNotFound(DEMO_CONNECTION_ID.to_owned()))
    }
}

impl TaskInstance {
    fn queued(task_id: String) -> Self {
        TaskInstance {
            task_id,
            state: TiState::Queued,
            hostname: None,
            unixname: None,
            pid: None,
            start_date: None,
            end_date: None,
            last_heartbeat: None,
            rendered_map_index: None,
            retry_delay_seconds: None,
            retry_reason: None,
        }
    }
}

impl Inner {
    fn run_context(&self) -> RunContext {
        RunContext {
            dag_run: DagRun {
                dag_id: DAG_ID.to_owned(),
                run_id: self.run_id.clone(),
                logical_date: Some(self.created),
                data_interval_start: Some(self.created),
                data_interval_end: Some(self.created),
                run_after: self.created,
                start_date: Some(self.created),
                end_date: None,
                clear_number: 0,
                run_type: "manual",
                state: "running",
                conf: serde_json::Map::new(),
                consumed_asset_events: Vec::new(),
                partition_key: None,
            },
            task_reschedule_count: 0,
            max_tries: 0,
            variables: Vec::new(),
            connections: Vec::new(),
            xcom_keys_to_clear: Vec::new(),
            should_retry: false,
        }
    }
}

fn demo_connection() -> ConnectionResponse {
    ConnectionResponse {
        conn_id: DEMO_CONNECTION_ID.to_owned(),
        conn_type: "http".to_owned(),
        host: Some("example.com".to_owned()),
        schema: Some("https".to_owned()),
        login: None,
        password: None,
        port: Some(443),
        extra: Some(r#"{"timeout": 10}"#.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{RunningLiteral, TerminalPayload};

    fn enter(pid: i64) -> EnterRunning {
        EnterRunning {
            state: RunningLiteral::Running,
            hostname: "worker".into(),
            unixname: "airflow".into(),
            pid,
            start_date: OffsetDateTime::now_utc(),
        }
    }

    fn beat(pid: i64) -> Heartbeat {
        Heartbeat {
            hostname: "worker".into(),
            pid,
        }
    }

    fn failed() -> StateUpdate {
        StateUpdate::Failed(TerminalPayload {
            end_date: OffsetDateTime::now_utc(),
            rendered_map_index: None,
        })
    }

    #[test]
    fn a_task_instance_lives_queued_running_failed() {
        let store = Store::new();
        let [id] = store.queue(1)[..] else { panic!() };
        assert_eq!(
            store.heartbeat(id, &beat(1)),
            Err(Refusal::RunningElsewhere {
                hostname: None,
                pid: None
            })
        );
        store.start(id, &enter(1)).unwrap();
        // A retried /run from the same process is answered again.
        store.start(id, &enter(1)).unwrap();
        assert_eq!(
            store.start(id, &enter(2)).unwrap_err(),
            Refusal::InvalidState {
                previous: TiState::Running,
                message: "TI was not in a state where it could be marked as running"
            }
        );
        store.heartbeat(id, &beat(1)).unwrap();
        assert!(matches!(
            store.heartbeat(id, &beat(2)),
            Err(Refusal::RunningElsewhere { pid: Some(1), .. })
        ));
        assert_eq!(store.update_state(id, &failed()), Ok(StateChange::Updated));
        assert_eq!(
            store.update_state(id, &failed()),
            Ok(StateChange::Unchanged)
        );
        assert_eq!(
            store.heartbeat(id, &beat(1)),
            Err(Refusal::NotRunning {
                current: TiState::Failed
            })
        );
        assert!(matches!(
            store.start(id, &enter(1)),
            Err(Refusal::InvalidState {
                previous: TiState::Failed,
                ..
            })
        ));
        assert_eq!(
            store.start(Uuid::new_v4(), &enter(1)).unwrap_err(),
            Refusal::TaskInstanceNotFound
        );
    }

    #[test]
    fn a_queued_task_instance_cannot_be_finished() {
        let store = Store::new();
        let [id] = store.queue(1)[..] else { panic!() };
        assert!(matches!(
            store.update_state(id, &failed()),
            Err(Refusal::InvalidState {
                previous: TiState::Queued,
                ..
            })
        ));
    }

    #[test]
    fn connection_tests_are_fetched_once() {
        let store = Store::new();
        let id = Uuid::new_v4();
        assert_eq!(
            store.fetch_connection_test(id).unwrap().conn_id,
            DEMO_CONNECTION_ID
        );
        assert_eq!(
            store.fetch_connection_test(id),
            Err(Refusal::ConnectionTestAlreadyFetched(id))
        );
    }

    #[test]
    fn variables_round_trip() {
        let store = Store::new();
        assert!(store.variable("k").is_err());
        store.set_variable(
            "k",
            VariablePostBody {
                val: Some("v".into()),
                description: None,
            },
        );
        assert_eq!(store.variable("k").unwrap().value.as_deref(), Some("v"));
        store.delete_variable("k");
        store.delete_variable("k");
        assert!(store.variable("k").is_err());
    }
}
