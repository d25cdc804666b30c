//! The example's in-memory state: what Airflow keeps in its metadata
//! database, kept in one [`Store`] behind one lock.
//!
//! Nothing here knows about HTTP or tokens; the routes translate
//! [`Refusal`]s into responses. Each area of Airflow's Execution API has its
//! own file below `state/`, adding its operations to [`Store`]:
//!
//! | file | what |
//! |---|---|
//! | `dag_runs.rs` | DAGs known to the example, DAG runs, queueing work |
//! | `task_specs.rs` | `--queue-task` and `--task-retries`, checked as Airflow checks ids |
//! | `task_instances.rs` | the task-instance state machine and its queries |
//! | `xcoms.rs` | XCom rows |
//! | `assets.rs` | assets, aliases and asset events |
//! | `hitl.rs` | human-in-the-loop details |
//! | `callbacks.rs` | deadline callbacks and the exchange of their tokens |
//! | `stores.rs` | the task and asset state stores |
//! | `variables.rs` | variables, connections and connection tests |
//! | `caps.rs` | caps on entries and bytes of the stores tokens write to |
//!
//! The example has no DAG files and no scheduler: it knows a DAG by the task
//! instances queued for it and the runs triggered for it, and what a
//! scheduler would decide on its own (start a triggered run, retry a task)
//! does not happen here. Every change of a task instance or run is logged.

#[path = "state/assets.rs"]
mod assets;
#[path = "state/callbacks.rs"]
mod callbacks;
#[path = "state/caps.rs"]
pub mod caps;
#[path = "state/dag_runs.rs"]
mod dag_runs;
#[path = "state/hitl.rs"]
mod hitl;
#[path = "state/stores.rs"]
mod stores;
#[path = "state/task_instances.rs"]
mod task_instances;
#[path = "state/task_specs.rs"]
mod task_specs;
#[path = "state/variables.rs"]
mod variables;
#[path = "state/xcoms.rs"]
mod xcoms;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::models::{ConnectionResponse, ConnectionTestState, TiState};

pub use assets::{AssetRef, EventFilter};
pub use caps::Limits;
pub use dag_runs::{DagRunFilter, RunRecord};
pub use task_instances::{StateChange, TaskInstance, TiFilter};
pub use task_specs::{TaskRetries, TaskSpec, MAX_MAP_INDEX, MAX_RETRIES};
pub use xcoms::{XComKey, XComSlice};

/// The DAG every task instance of `serve --queue N` belongs to.
pub const DAG_ID: &str = "scopegate_example";

/// The connection the example serves, and the one every connection test
/// fetches.
pub const DEMO_CONNECTION_ID: &str = "example_http";

/// Why an operation was refused, in Airflow's terms: which answer Airflow
/// gives, and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No task instance with that id (`{"reason": "not_found", "message":
    /// "Task Instance not found"}`).
    TaskInstanceNotFound,
    /// Something else is missing; Airflow's message.
    NotFound(String),
    /// Something is missing, and Airflow's `detail` is this plain string
    /// rather than an object.
    NotFoundText(String),
    /// No variable with that key.
    VariableNotFound(String),
    /// No connection with that id.
    ConnectionNotFound(String),
    /// The task instance is not in a state that allows the transition.
    InvalidState {
        /// Its state.
        previous: Option<TiState>,
        /// Airflow's message for this transition.
        message: &'static str,
    },
    /// A heartbeat for a task instance that is no longer running.
    NotRunning {
        /// Its state.
        current: Option<TiState>,
    },
    /// A heartbeat from another host or process than the one that started
    /// the task instance.
    RunningElsewhere {
        /// The host that started it.
        hostname: Option<String>,
        /// The process that started it.
        pid: Option<i64>,
    },
    /// The request conflicts with the current state (`{"reason",
    /// "message"}`).
    Conflict {
        /// Airflow's reason code.
        reason: &'static str,
        /// Airflow's message.
        message: String,
    },
    /// A conflict whose `detail` is a plain string.
    ConflictText(String),
    /// A request Airflow refuses as bad (`{"reason", "message"}`).
    BadRequest {
        /// Airflow's reason code.
        reason: &'static str,
        /// Airflow's message.
        message: String,
    },
    /// A value Airflow refuses with 422 and a plain-string `detail`.
    Unprocessable(String),
    /// A callback whose token was exchanged already (it is no longer
    /// queued): 409.
    CallbackClaimed {
        /// The callback.
        id: Uuid,
        /// Its state.
        state: crate::models::callbacks::CallbackState,
    },
    /// A value larger than the server stores (413).
    TooLarge {
        /// What it is a value of (`"XCom"`, `"variable"`, ...).
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A write that would take a store past its cap (507).
    StoreFull {
        /// Which store (`"XCom"`, `"variable"`, ...).
        store: &'static str,
        /// The cap it would pass, with its flag.
        cap: String,
    },
}

/// All state of the example server, behind one lock. Every operation is a
/// short critical section with no I/O.
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
}

/// The tables. Each area's file owns its fields' meaning.
#[derive(Debug)]
struct Inner {
    /// `caps.rs`: the caps of the stores below that tokens write to.
    limits: Limits,
    /// `caps.rs`: what each of those stores holds, by [`caps::Kind`].
    usage: [caps::Usage; 6],
    /// `dag_runs.rs`: DAG id → when the example first heard of it.
    dags: BTreeMap<String, OffsetDateTime>,
    /// `dag_runs.rs`: (DAG id, run id) → run.
    runs: BTreeMap<(String, String), RunRecord>,
    /// `dag_runs.rs`: the last logical date handed out, so that runs
    /// created in the same microsecond still have an order.
    last_logical_date: OffsetDateTime,
    /// `task_instances.rs`.
    task_instances: HashMap<Uuid, TaskInstance>,
    /// `task_instances.rs`: reschedules of sensors, in order.
    reschedules: Vec<task_instances::Reschedule>,
    /// `xcoms.rs`: rows by (DAG, task, run, key, map index).
    xcoms: BTreeMap<xcoms::RowId, xcoms::XComRow>,
    /// `xcoms.rs`: a counter that orders rows written in the same instant.
    xcom_sequence: u64,
    /// `assets.rs`.
    assets: assets::Assets,
    /// `hitl.rs`: task instance → its question and answer.
    hitl: HashMap<Uuid, hitl::HitlDetail>,
    /// `callbacks.rs`: callback id → callback.
    callbacks: HashMap<Uuid, callbacks::CallbackRecord>,
    /// `stores.rs`.
    task_store: BTreeMap<stores::TaskStoreKey, stores::TaskStoreEntry>,
    /// `stores.rs`: (asset id, key) → JSON value, compact.
    asset_store: BTreeMap<(u64, String), Box<str>>,
    /// `variables.rs`.
    variables: BTreeMap<String, variables::Variable>,
    /// `variables.rs`.
    connections: BTreeMap<String, ConnectionResponse>,
    /// `variables.rs`: connection tests seen so far, and their state.
    connection_tests: HashMap<Uuid, ConnectionTestState>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store with the demo connection and the default caps.
    pub fn new() -> Self {
        Store::with_limits(Limits::default())
    }

    /// An empty store with the demo connection and these caps.
    pub fn with_limits(limits: Limits) -> Self {
        let mut connections = BTreeMap::new();
        connections.insert(DEMO_CONNECTION_ID.to_owned(), variables::demo_connection());
        Store {
            inner: Mutex::new(Inner {
                limits,
                usage: Default::default(),
                dags: BTreeMap::new(),
                runs: BTreeMap::new(),
                last_logical_date: OffsetDateTime::UNIX_EPOCH,
                task_instances: HashMap::new(),
                reschedules: Vec::new(),
                xcoms: BTreeMap::new(),
                xcom_sequence: 0,
                assets: assets::Assets::default(),
                hitl: HashMap::new(),
                callbacks: HashMap::new(),
                task_store: BTreeMap::new(),
                asset_store: BTreeMap::new(),
                variables: BTreeMap::new(),
                connections,
                connection_tests: HashMap::new(),
            }),
        }
    }

    /// The caps of the stores.
    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Whether the token of task instance `id` may still be renewed: only
    /// while it is `running` (Reissue's veto, Airflow #73303), or, for the
    /// execution token a callback token was exchanged for, while callback
    /// `id` is running. A task instance or callback in any other state, or
    /// a subject the server does not know, gets no fresh token, so its
    /// token dies at its `exp`.
    pub fn may_renew(&self, id: Uuid) -> bool {
        let inner = self.lock();
        inner
            .task_instances
            .get(&id)
            .is_some_and(|ti| ti.state == Some(TiState::Running))
            || inner
                .callbacks
                .get(&id)
                .is_some_and(|c| c.state == crate::models::callbacks::CallbackState::Running)
    }

    /// A panic elsewhere must not take the server down with it: the data
    /// behind the lock is plain values, always consistent between
    /// statements, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// What store `kind` holds.
    fn usage(&mut self, kind: caps::Kind) -> &mut caps::Usage {
        &mut self.usage[kind as usize]
    }

    /// Whether a write to store `kind` fits its caps (see
    /// [`caps::Usage::admit`]).
    fn admit(
        &self,
        kind: caps::Kind,
        value: usize,
        old: Option<usize>,
        new: usize,
    ) -> Result<(), Refusal> {
        self.usage[kind as usize].admit(kind, &self.limits, value, old, new)
    }
}

/// Seconds between two instants, as Airflow's `duration` column.
fn seconds_between(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Option<f64> {
    Some((end? - start?).as_seconds_f64())
}
