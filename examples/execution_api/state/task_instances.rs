//! Task instances: their state machine (`/run`, heartbeats, state updates,
//! skipping downstream tasks), what the worker records on them (rendered
//! fields, rendered map index, reschedules), and the queries other tasks
//! make about them (count, states, previous, breadcrumbs).

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

    /// `GET /task-instances/count`.
    pub fn count_task_instances(&self, dag_id: &str, filter: &TiFilter) -> Result<usize, Refusal> {
        let inner = self.lock();
        let mut tis: Vec<&TaskInstance> = inner.filter_tis(dag_id, filter, true).collect();
        if let Some(group) = &filter.task_group_id {
            let pairs: Vec<(String, i64)> = inner
                .group_tasks(dag_id, group, filter)?
                .map(|ti| (ti.task_id.clone(), ti.map_index))
                .collect();
            tis.retain(|ti| pairs.contains(&(ti.task_id.clone(), ti.map_index)));
        }
        if !filter.states.is_empty() {
            tis.retain(|ti| {
                let name = ti.state.map_or("null", TiState::as_str);
                filter.states.iter().any(|s| s == name)
            });
        }
        Ok(tis.len())
    }

    /// `GET /task-instances/states`: run id → task → state.
    pub fn task_states(&self, dag_id: &str, filter: &TiFilter) -> Result<TaskStates, Refusal> {
        let inner = self.lock();
        let mut tis: Vec<&TaskInstance> = inner.filter_tis(dag_id, filter, true).collect();
        if let Some(group) = &filter.task_group_id {
            let group_tis = inner.group_tasks(dag_id, group, filter)?;
            if filter.task_ids.is_empty() {
                tis = group_tis.collect();
            } else {
                tis.extend(group_tis);
            }
        }
        let mut states = TaskStates::default();
        for ti in tis {
            states
                .task_states
                .entry(ti.run_id.clone())
                .or_default()
                .insert(ti.state_key(), ti.state);
        }
        Ok(states)
    }

    /// `GET /task-instances/previous/<dag_id>/<task_id>`: the task's
    /// instance in the latest run (before `logical_date`, if given; in
    /// `state`, if given); `None` when there is none.
    pub fn previous_task_instance(
        &self,
        dag_id: &str,
        task_id: &str,
        logical_date: Option<OffsetDateTime>,
        map_index: i64,
        state: Option<TiState>,
    ) -> Option<PreviousTi> {
        let inner = self.lock();
        inner
            .task_instances
            .values()
            .filter(|ti| ti.dag_id == dag_id && ti.task_id == task_id && ti.map_index == map_index)
            .filter(|ti| state.is_none() || ti.state == state)
            .filter_map(|ti| inner.run(&ti.dag_id, &ti.run_id).map(|run| (ti, run)))
            .filter(|(_, run)| {
                logical_date.is_none_or(|before| run.logical_date.is_some_and(|ld| ld < before))
            })
            // The latest logical date; runs without one come last.
            .max_by_key(|(_, run)| run.logical_date)
            .map(|(ti, run)| PreviousTi {
                task_id: ti.task_id.clone(),
                dag_id: ti.dag_id.clone(),
                run_id: ti.run_id.clone(),
                logical_date: run.logical_date,
                start_date: ti.start_date,
                end_date: ti.end_date,
                state: ti.state,
                try_number: ti.try_number,
                map_index: ti.map_index,
                duration: ti.duration(),
            })
    }

    /// `GET /task-instances/breadcrumbs`: the finished task instances of a
    /// run, by task id and map index.
    pub fn breadcrumbs(&self, dag_id: &str, run_id: &str) -> Breadcrumbs {
        let inner = self.lock();
        let mut rows: Vec<&TaskInstance> = inner
            .task_instances
            .values()
            .filter(|ti| ti.dag_id == dag_id && ti.run_id == run_id)
            .filter(|ti| ti.state.is_some_and(TiState::is_terminal))
            .collect();
        rows.sort_by(|a, b| (&a.task_id, a.map_index).cmp(&(&b.task_id, b.map_index)));
        Breadcrumbs {
            breadcrumbs: rows
                .into_iter()
                .map(|ti| Breadcrumb {
                    task_id: ti.task_id.clone(),
                    map_index: ti.map_index,
                    state: ti.state,
                    operator: None,
                    duration: ti.duration(),
                })
                .collect(),
        }
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

    /// The task instances of `dag_id` matching the filter's task ids,
    /// logical dates, run ids and map index.
    fn filter_tis<'a>(
        &'a self,
        dag_id: &'a str,
        filter: &'a TiFilter,
        by_task_ids: bool,
    ) -> impl Iterator<Item = &'a TaskInstance> + 'a {
        self.task_instances.values().filter(move |ti| {
            ti.dag_id == dag_id
                && (!by_task_ids
                    || filter.task_ids.is_empty()
                    || filter.task_ids.contains(&ti.task_id))
                && filter.map_index.is_none_or(|m| ti.map_index == m)
                && (filter.run_ids.is_empty() || filter.run_ids.contains(&ti.run_id))
                && (filter.logical_dates.is_empty()
                    || self
                        .run(&ti.dag_id, &ti.run_id)
                        .and_then(|run| run.logical_date)
                        .is_some_and(|ld| filter.logical_dates.contains(&ld)))
        })
    }

    /// The task instances of a task group (see [`TiFilter::task_group_id`]),
    /// or Airflow's 404s for an unknown DAG or group.
    fn group_tasks<'a>(
        &'a self,
        dag_id: &'a str,
        group: &'a str,
        filter: &'a TiFilter,
    ) -> Result<impl Iterator<Item = &'a TaskInstance> + 'a, Refusal> {
        if !self.dags.contains_key(dag_id) {
            return Err(Refusal::NotFound(format!(
                "The Dag with ID: `{dag_id}` was not found"
            )));
        }
        let prefix = format!("{group}.");
        let known = self
            .task_instances
            .values()
            .any(|ti| ti.dag_id == dag_id && ti.task_id.starts_with(&prefix));
        if !known {
            return Err(Refusal::NotFound(format!(
                "Task group {group} not found in DAG {dag_id}"
            )));
        }
        Ok(self
            .filter_tis(dag_id, filter, false)
            .filter(move |ti| ti.task_id.starts_with(&prefix)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::models::{RunningLiteral, TerminalPayload};
    use crate::state::TaskSpec;

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

    fn terminal(state: &str) -> StateUpdate {
        serde_json::from_value(serde_json::json!({
            "state": state, "end_date": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn failed() -> StateUpdate {
        StateUpdate::Failed(TerminalPayload {
            end_date: OffsetDateTime::now_utc(),
            rendered_map_index: None,
        })
    }

    fn queue(store: &Store, spec: &str) -> Uuid {
        store
            .queue_task(&spec.parse::<TaskSpec>().unwrap())
            .unwrap()
    }

    #[test]
    fn a_try_with_retries_left_is_told_to_retry_and_ends_up_for_retry() {
        let store = Store::new();
        let mut spec = "etl/r1/flaky".parse::<TaskSpec>().unwrap();
        spec.retries = 2;
        let id = store.queue_task(&spec).unwrap();
        let context = store.start(id, &enter(1)).unwrap();
        assert_eq!((context.max_tries, context.should_retry), (2, true));
        let retry: StateUpdate = serde_json::from_value(serde_json::json!({
            "state": "up_for_retry", "end_date": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(store.update_state(id, &retry), Ok(StateChange::Updated));
        assert_eq!(
            store.task_instance(id).unwrap().state,
            Some(TiState::UpForRetry)
        );
        // Without retries the worker is told not to retry: it reports failed.
        let plain = queue(&store, "etl/r1/solid");
        let context = store.start(plain, &enter(2)).unwrap();
        assert_eq!((context.max_tries, context.should_retry), (0, false));
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
                previous: Some(TiState::Running),
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
                current: Some(TiState::Failed)
            })
        );
        assert!(matches!(
            store.start(id, &enter(1)),
            Err(Refusal::InvalidState {
                previous: Some(TiState::Failed),
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
                previous: Some(TiState::Queued),
                ..
            })
        ));
    }

    #[test]
    fn a_run_finishes_with_its_last_task_instance() {
        let store = Store::new();
        let a = queue(&store, "etl/r1/a");
        let b = queue(&store, "etl/r1/b");
        let c = queue(&store, "etl/r2/c");
        for id in [a, b, c] {
            store.start(id, &enter(1)).unwrap();
        }
        store.update_state(a, &terminal("success")).unwrap();
        assert_eq!(store.dag_run_state("etl", "r1"), Ok(DagRunState::Running));
        store.update_state(b, &terminal("skipped")).unwrap();
        assert_eq!(store.dag_run_state("etl", "r1"), Ok(DagRunState::Success));
        store.update_state(c, &terminal("failed")).unwrap();
        assert_eq!(store.dag_run_state("etl", "r2"), Ok(DagRunState::Failed));
        // The second run's tasks see the first as their previous success.
        let prev = store.previous_successful_dag_run(c);
        assert!(prev.end_date.is_some() && prev.start_date.is_some());
        assert!(store.previous_successful_dag_run(a).end_date.is_none());
        let crumbs = store.breadcrumbs("etl", "r1").breadcrumbs;
        let names: Vec<_> = crumbs
            .iter()
            .map(|c| (c.task_id.as_str(), c.state))
            .collect();
        assert_eq!(
            names,
            [("a", Some(TiState::Success)), ("b", Some(TiState::Skipped))]
        );
        // The latest instance of task c, and none before its run.
        let previous = store
            .previous_task_instance("etl", "c", None, -1, None)
            .unwrap();
        assert_eq!(
            (previous.run_id.as_str(), previous.state),
            ("r2", Some(TiState::Failed))
        );
        let r2 = store.dag_run("etl", "r2").unwrap().logical_date;
        assert!(store
            .previous_task_instance("etl", "c", r2, -1, None)
            .is_none());
    }

    #[test]
    fn skip_downstream_leaves_running_and_finished_tasks_alone() {
        let store = Store::new();
        let gate = queue(&store, "etl/r1/gate");
        let later = queue(&store, "etl/r1/later");
        let busy = queue(&store, "etl/r1/busy");
        let other_run = queue(&store, "etl/r2/later");
        store.start(gate, &enter(1)).unwrap();
        store.start(busy, &enter(2)).unwrap();
        let tasks: Vec<TaskRef> =
            serde_json::from_value(serde_json::json!(["later", "busy", ["nope", 3]])).unwrap();
        assert_eq!(store.skip_downstream(gate, &tasks), Ok(1));
        assert_eq!(
            store.task_instance(later).unwrap().state,
            Some(TiState::Skipped)
        );
        assert_eq!(
            store.task_instance(busy).unwrap().state,
            Some(TiState::Running)
        );
        assert_eq!(
            store.task_instance(other_run).unwrap().state,
            Some(TiState::Queued)
        );
        assert_eq!(
            store.skip_downstream(Uuid::new_v4(), &tasks),
            Err(Refusal::TaskInstanceNotFound)
        );
    }

    #[test]
    fn counts_and_states_filter_like_airflow() {
        let store = Store::new();
        let a = queue(&store, "etl/r1/extract");
        queue(&store, "etl/r1/group.one");
        queue(&store, "etl/r1/group.two");
        queue(&store, "etl/r2/extract");
        store.start(a, &enter(1)).unwrap();
        let all = TiFilter::default();
        assert_eq!(store.count_task_instances("etl", &all), Ok(4));
        let running = TiFilter {
            states: vec!["running".into(), "null".into()],
            ..TiFilter::default()
        };
        assert_eq!(store.count_task_instances("etl", &running), Ok(1));
        let group = TiFilter {
            task_group_id: Some("group".into()),
            ..TiFilter::default()
        };
        assert_eq!(store.count_task_instances("etl", &group), Ok(2));
        let states = store.task_states("etl", &group).unwrap().task_states;
        assert_eq!(states["r1"].len(), 2);
        assert_eq!(states["r1"]["group.one"], Some(TiState::Queued));
        let unknown = TiFilter {
            task_group_id: Some("nope".into()),
            ..TiFilter::default()
        };
        assert_eq!(
            store.count_task_instances("etl", &unknown),
            Err(Refusal::NotFound(
                "Task group nope not found in DAG etl".into()
            ))
        );
        let r1 = TiFilter {
            run_ids: vec!["r1".into()],
            task_ids: vec!["extract".into()],
            ..TiFilter::default()
        };
        let states = store.task_states("etl", &r1).unwrap().task_states;
        assert_eq!(
            states,
            BTreeMap::from([(
                "r1".to_owned(),
                BTreeMap::from([("extract".to_owned(), Some(TiState::Running))])
            )])
        );
        assert_eq!(store.count_task_instances("nope", &all), Ok(0));
    }

    #[test]
    fn reschedules_are_counted_and_dated() {
        let store = Store::new();
        let id = queue(&store, "etl/r1/sensor");
        assert_eq!(store.reschedule_start_date(id), None);
        let context = store.start(id, &enter(1)).unwrap();
        assert_eq!(context.task_reschedule_count, 0);
        let reschedule: StateUpdate = serde_json::from_value(serde_json::json!({
            "state": "up_for_reschedule", "reschedule_date": "2030-01-01T00:00:00Z",
            "end_date": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        store.update_state(id, &reschedule).unwrap();
        assert!(store.reschedule_start_date(id).is_some());
        assert_eq!(
            store.task_instance(id).unwrap().state,
            Some(TiState::UpForReschedule)
        );
        assert_eq!(store.dag_run_state("etl", "r1"), Ok(DagRunState::Running));
    }
}
