//! Task instances: their state machine (`/run`, heartbeats, state updates,
//! skipping downstream tasks), what the worker records on them (rendered
//! fields, rendered map index, reschedules), and the queries other tasks
//! make about them (count, states, previous, breadcrumbs: in
//! `task_instances/queries.rs`).

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{seconds_between, Inner, Refusal, Store};
use crate::models::assets::InactiveAssets;
use crate::models::dags::DagRunState;
use crate::models::{
    Breadcrumb, Breadcrumbs, EnterRunning, Heartbeat, PrevSuccessfulDagRun, PreviousTi, RunContext,
    StateUpdate, TaskRef, TaskStates, TiState,
};

#[path = "task_instances/queries.rs"]
mod queries;

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
    /// Its DAG.
    pub dag_id: String,
    /// Its DAG run.
    pub run_id: String,
    /// The task in the DAG.
    pub task_id: String,
    /// Its map index; -1 when the task is not mapped.
    pub map_index: i64,
    /// Which try this is.
    pub try_number: u32,
    /// How many tries it has.
    pub max_tries: u32,
    /// Where it is in its life; `None` after its run was cleared.
    pub state: Option<TiState>,
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
    /// The rendered map index the worker reported, for mapped tasks.
    pub rendered_map_index: Option<String>,
    /// Its rendered template fields (RTIF), as the worker sent them.
    pub rendered_fields: Option<Map<String, Value>>,
    /// For `up_for_retry`: the delay asked for, in seconds.
    pub retry_delay_seconds: Option<f64>,
    /// For `up_for_retry`: why.
    pub retry_reason: Option<String>,
    /// For `deferred` and `awaiting_input`: the method to resume with.
    pub next_method: Option<String>,
    /// Its arguments.
    pub next_kwargs: Option<Map<String, Value>>,
    /// For `deferred`: the trigger's class path.
    pub trigger: Option<String>,
}

/// A sensor's reschedule (`TaskReschedule`). Airflow's UI shows the poke's
/// end and the next poke's date; the API reads only the start.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub(super) struct Reschedule {
    /// The task instance.
    pub ti: Uuid,
    /// When the reschedule was recorded (Airflow stores "now" here).
    pub start_date: OffsetDateTime,
    /// When the poke ended.
    pub end_date: OffsetDateTime,
    /// When to poke again.
    pub reschedule_date: OffsetDateTime,
}

/// The filters of `GET /task-instances/count` and `/states`.
#[derive(Clone, Debug, Default)]
pub struct TiFilter {
    /// Only this map index.
    pub map_index: Option<i64>,
    /// Only these tasks.
    pub task_ids: Vec<String>,
    /// Only the tasks of this task group. The example has no DAG structure:
    /// a group's tasks are the known tasks whose id starts with
    /// `<group>.`, as Airflow prefixes them by default.
    pub task_group_id: Option<String>,
    /// Only runs with one of these logical dates.
    pub logical_dates: Vec<OffsetDateTime>,
    /// Only these runs.
    pub run_ids: Vec<String>,
    /// Only these states (`"null"` for no state); for `count` only.
    pub states: Vec<String>,
}

impl TaskInstance {
    /// A fresh task instance in state `queued`: first try, no retries.
    pub(super) fn queued(dag_id: &str, run_id: &str, task_id: &str) -> Self {
        TaskInstance {
            dag_id: dag_id.to_owned(),
            run_id: run_id.to_owned(),
            task_id: task_id.to_owned(),
            map_index: -1,
            try_number: 1,
            max_tries: 0,
            state: Some(TiState::Queued),
            hostname: None,
            unixname: None,
            pid: None,
            start_date: None,
            end_date: None,
            last_heartbeat: None,
            rendered_map_index: None,
            rendered_fields: None,
            retry_delay_seconds: None,
            retry_reason: None,
            next_method: None,
            next_kwargs: None,
            trigger: None,
        }
    }

    /// How long it ran, in seconds.
    fn duration(&self) -> Option<f64> {
        seconds_between(self.start_date, self.end_date)
    }

    /// `task_id`, or `task_id_<map_index>` when mapped: its key in
    /// `TaskStatesResponse`.
    fn state_key(&self) -> String {
        if self.map_index < 0 {
            self.task_id.clone()
        } else {
            format!("{}_{}", self.task_id, self.map_index)
        }
    }
}

impl Store {
    /// A copy of one task instance, if it exists (for tests and tools).
    pub fn task_instance(&self, id: Uuid) -> Option<TaskInstance> {
        self.lock().task_instances.get(&id).cloned()
    }

    /// The DAG of one task instance, if it exists (multi-team mode's team
    /// of a task).
    pub fn dag_of(&self, id: Uuid) -> Option<String> {
        self.lock()
            .task_instances
            .get(&id)
            .map(|ti| ti.dag_id.clone())
    }

    /// `/run`: queued (or restarting) → running, and the context the worker
    /// needs. A repeated request from the same host, user and process (a
    /// retry after a lost response) gets the same answer again, as in
    /// Airflow.
    pub fn start(&self, id: Uuid, req: &EnterRunning) -> Result<RunContext, Refusal> {
        let mut inner = self.lock();
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        let previous = ti.state;
        let duplicate = previous == Some(TiState::Running)
            && ti.hostname.as_deref() == Some(&req.hostname)
            && ti.unixname.as_deref() == Some(&req.unixname)
            && ti.pid == Some(req.pid);
        if !duplicate && !matches!(previous, Some(TiState::Queued | TiState::Restarting)) {
            return Err(Refusal::InvalidState {
                previous,
                message: "TI was not in a state where it could be marked as running",
            });
        }
        ti.state = Some(TiState::Running);
        ti.hostname = Some(req.hostname.clone());
        ti.unixname = Some(req.unixname.clone());
        ti.pid = Some(req.pid);
        if ti.next_kwargs.as_ref().is_none_or(Map::is_empty) {
            // Resuming from a deferral keeps the first start date.
            ti.start_date = Some(req.start_date);
        }
        ti.end_date = None;
        ti.last_heartbeat = Some(OffsetDateTime::now_utc());
        ti.retry_delay_seconds = None;
        ti.retry_reason = None;
        if !duplicate {
            tracing::info!(
                ti = %id,
                dag_id = %ti.dag_id,
                run_id = %ti.run_id,
                task_id = %ti.task_id,
                hostname = %scopegate::LogSafe(&req.hostname),
                pid = req.pid,
                "task instance running"
            );
        }
        let ti = ti.clone();
        inner.run_context(id, &ti, previous)
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
        if ti.state != Some(TiState::Running) {
            return Err(Refusal::NotRunning { current: ti.state });
        }
        ti.last_heartbeat = Some(OffsetDateTime::now_utc());
        tracing::debug!(ti = %id, task_id = %ti.task_id, "heartbeat");
        Ok(())
    }

    /// Ends or pauses a run: running → the requested state. Asking for the
    /// state the task instance is already in changes nothing and is not an
    /// error. A success registers the asset events of its outlets; a
    /// reschedule is recorded; a run whose task instances are all finished
    /// finishes too.
    pub fn update_state(&self, id: Uuid, req: &StateUpdate) -> Result<StateChange, Refusal> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        if ti.state == Some(req.state()) {
            return Ok(StateChange::Unchanged);
        }
        if ti.state != Some(TiState::Running) {
            return Err(Refusal::InvalidState {
                previous: ti.state,
                message: "TI was not in the running state so it cannot be updated",
            });
        }
        let now = OffsetDateTime::now_utc();
        ti.state = Some(req.state());
        if let Some(end_date) = req.end_date() {
            ti.end_date = Some(end_date);
        }
        if let Some(index) = req.rendered_map_index() {
            ti.rendered_map_index = Some(index.to_owned());
        }
        match req {
            StateUpdate::UpForRetry(retry) => {
                ti.retry_delay_seconds = retry.retry_delay_seconds;
                // Airflow keeps the first 500 characters.
                ti.retry_reason = retry
                    .retry_reason
                    .as_ref()
                    .map(|r| r.chars().take(500).collect());
            }
            StateUpdate::Deferred(deferred) => {
                ti.next_method = Some(deferred.next_method.clone());
                ti.next_kwargs = Some(deferred.next_kwargs.clone());
                ti.trigger = Some(deferred.classpath.clone());
            }
            StateUpdate::AwaitingInput(awaiting) => {
                ti.next_method = Some(awaiting.next_method.clone());
                ti.next_kwargs = Some(awaiting.next_kwargs.clone());
                // A human who answered before the task parked itself: Airflow
                // resumes it at once (scheduled) instead of parking it.
                if inner
                    .hitl
                    .get(&id)
                    .is_some_and(|h| h.responded_at.is_some())
                {
                    ti.state = Some(TiState::Scheduled);
                }
            }
            StateUpdate::UpForReschedule(reschedule) => {
                tracing::info!(ti = %id, reschedule_date = %reschedule.reschedule_date, "task instance rescheduled");
                inner.reschedules.push(Reschedule {
                    ti: id,
                    start_date: now,
                    end_date: reschedule.end_date,
                    reschedule_date: reschedule.reschedule_date,
                });
            }
            StateUpdate::Success(success) => {
                ti.next_method = None;
                ti.next_kwargs = None;
                let partition_key = inner
                    .runs
                    .get(&(ti.dag_id.clone(), ti.run_id.clone()))
                    .and_then(|run| run.partition_key.clone());
                inner.assets.register_outlets(
                    ti,
                    partition_key,
                    &success.task_outlets,
                    &success.outlet_events,
                    now,
                );
            }
            StateUpdate::Failed(_)
            | StateUpdate::Skipped(_)
            | StateUpdate::Removed(_)
            | StateUpdate::UpstreamFailed(_) => {
                ti.next_method = None;
                ti.next_kwargs = None;
            }
        }
        tracing::info!(
            ti = %id,
            dag_id = %ti.dag_id,
            run_id = %ti.run_id,
            task_id = %ti.task_id,
            state = ti.state.map(TiState::as_str),
            retry_reason = ti.retry_reason.as_deref().map(|r| tracing::field::display(scopegate::LogSafe(r))),
            "task instance state changed"
        );
        let (dag_id, run_id) = (ti.dag_id.clone(), ti.run_id.clone());
        inner.refresh_run_state(&dag_id, &run_id);
        Ok(StateChange::Updated)
    }

    /// `skip-downstream`: the named tasks of the caller's run become
    /// `skipped`, unless they are running or already finished with success
    /// or failure. Tasks the example does not know are no rows, as in
    /// Airflow. Returns how many were skipped.
    pub fn skip_downstream(&self, id: Uuid, tasks: &[TaskRef]) -> Result<usize, Refusal> {
        let mut inner = self.lock();
        let (dag_id, run_id) = inner
            .task_instances
            .get(&id)
            .map(|ti| (ti.dag_id.clone(), ti.run_id.clone()))
            .ok_or(Refusal::TaskInstanceNotFound)?;
        let now = OffsetDateTime::now_utc();
        let mut skipped = 0;
        for (ti_id, ti) in inner.task_instances.iter_mut() {
            let listed = tasks
                .iter()
                .any(|t| t.key() == (ti.task_id.as_str(), ti.map_index));
            let skippable = !matches!(
                ti.state,
                Some(TiState::Running | TiState::Success | TiState::Failed)
            );
            if ti.dag_id == dag_id && ti.run_id == run_id && listed && skippable {
                ti.state = Some(TiState::Skipped);
                ti.start_date = Some(now);
                ti.end_date = Some(now);
                skipped += 1;
                tracing::info!(ti = %ti_id, task_id = %ti.task_id, by = %id, "task instance skipped");
            }
        }
        inner.refresh_run_state(&dag_id, &run_id);
        Ok(skipped)
    }

    /// `rtif`: stores the rendered template fields the worker sends, within
    /// the caps of all task instances' rendered fields (413, 507).
    pub fn set_rendered_fields(&self, id: Uuid, fields: Map<String, Value>) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let size = super::caps::size::<Map<String, Value>>;
        let ti = inner
            .task_instances
            .get(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        let old = ti.rendered_fields.as_ref().map(size);
        let new = size(&fields);
        inner.admit(super::caps::Kind::RenderedFields, new, old, new)?;
        inner.usage(super::caps::Kind::RenderedFields).add(old, new);
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or(Refusal::TaskInstanceNotFound)?;
        tracing::info!(ti = %id, task_id = %ti.task_id, fields = fields.len(), "rendered fields set");
        ti.rendered_fields = Some(fields);
        Ok(())
    }

    /// `rendered-map-index`: stores the label of a mapped task instance.
    /// Airflow's answers here carry plain-string details.
    pub fn set_rendered_map_index(&self, id: Uuid, index: String) -> Result<(), Refusal> {
        if index.is_empty() {
            return Err(Refusal::Unprocessable(
                "rendered_map_index cannot be empty".into(),
            ));
        }
        let mut inner = self.lock();
        let ti = inner
            .task_instances
            .get_mut(&id)
            .ok_or_else(|| Refusal::NotFoundText("Task Instance not found".into()))?;
        ti.rendered_map_index = Some(index);
        Ok(())
    }

    /// `previous-successful-dagrun`: the latest successful run of the same
    /// DAG before this task instance's run, for the template context; all
    /// `null` when there is none.
    pub fn previous_successful_dag_run(&self, id: Uuid) -> PrevSuccessfulDagRun {
        let inner = self.lock();
        let Some(logical_date) = inner
            .task_instances
            .get(&id)
            .and_then(|ti| inner.run(&ti.dag_id, &ti.run_id).map(|run| (ti, run)))
            .and_then(|(ti, run)| run.logical_date.map(|ld| (ti.dag_id.clone(), ld)))
        else {
            return PrevSuccessfulDagRun::default();
        };
        let (dag_id, logical_date) = logical_date;
        inner
            .runs
            .iter()
            .filter(|((d, _), run)| {
                *d == dag_id
                    && run.state == DagRunState::Success
                    && run.logical_date.is_some_and(|ld| ld < logical_date)
            })
            .max_by_key(|(_, run)| run.logical_date)
            .map(|(_, run)| PrevSuccessfulDagRun {
                data_interval_start: run.data_interval_start,
                data_interval_end: run.data_interval_end,
                start_date: run.start_date,
                end_date: run.end_date,
            })
            .unwrap_or_default()
    }

    /// `validate-inlets-and-outlets`: Airflow compares the task's inlets and
    /// outlets, read from the serialized DAG, with its active assets. The
    /// example has no serialized DAGs, which is Airflow's case of a DAG not
    /// in its DAG bag: no inlets or outlets to check, so none is inactive.
    pub fn validate_inlets_and_outlets(&self, id: Uuid) -> Result<InactiveAssets, Refusal> {
        let inner = self.lock();
        if !inner.task_instances.contains_key(&id) {
            return Err(Refusal::TaskInstanceNotFound);
        }
        Ok(InactiveAssets::default())
    }

    /// `GET /task-reschedules/<id>/start_date`: when the task instance was
    /// first rescheduled; `None` if never.
    pub fn reschedule_start_date(&self, id: Uuid) -> Option<OffsetDateTime> {
        self.lock()
            .reschedules
            .iter()
            .find(|r| r.ti == id)
            .map(|r| r.start_date)
    }
}

impl Inner {
    /// The context `/run` answers with.
    fn run_context(
        &mut self,
        id: Uuid,
        ti: &TaskInstance,
        previous: Option<TiState>,
    ) -> Result<RunContext, Refusal> {
        let key = (ti.dag_id.clone(), ti.run_id.clone());
        let Some(run) = self.runs.get_mut(&key) else {
            return Err(Refusal::NotFound(format!(
                "DagRun with dag_id={} and run_id={} not found",
                ti.dag_id, ti.run_id
            )));
        };
        // A cleared run is queued again; the scheduler starts it before it
        // queues its tasks.
        if run.state == DagRunState::Queued {
            run.state = DagRunState::Running;
            run.start_date = Some(OffsetDateTime::now_utc());
        }
        let dag_run = run.to_model(&ti.dag_id, &ti.run_id);
        let resuming = ti.next_method.is_some();
        let xcom_keys_to_clear = if resuming {
            Vec::new()
        } else {
            self.xcom_keys_for(ti)
        };
        let should_retry = previous == Some(TiState::Restarting)
            || (ti.max_tries != 0 && ti.try_number <= ti.max_tries);
        Ok(RunContext {
            dag_run,
            task_reschedule_count: self.reschedules.iter().filter(|r| r.ti == id).count(),
            max_tries: ti.max_tries,
            variables: Vec::new(),
            connections: Vec::new(),
            xcom_keys_to_clear,
            should_retry,
            next_method: ti.next_method.clone(),
            next_kwargs: ti.next_method.as_ref().and(ti.next_kwargs.clone()),
            start_date: ti.next_method.as_ref().and(ti.start_date),
        })
    }
}

#[cfg(test)]
#[path = "task_instances/tests.rs"]
mod tests;
