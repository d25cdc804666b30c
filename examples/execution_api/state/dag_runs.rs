//! DAGs and DAG runs, and how work enters the example: a task instance
//! queued for a DAG, run and task, its run created as Airflow's scheduler
//! would.
//!
//! The example has no DAG files, so it knows a DAG only by the task
//! instances queued for it. Runs triggered through the API stay `queued`:
//! there is no scheduler to start them. A run whose task instances are all
//! finished becomes `success`, or `failed` when one of them failed, as the
//! scheduler decides it from the task instances it knows.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Inner, Refusal, Store, TaskInstance, TaskSpec, DAG_ID};
use crate::models::dags::{DagResponse, DagRunState, RunType, TriggerDagRun};
use crate::models::{DagRun, TiState};

/// One DAG run.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Its logical date; runs triggered without one have none.
    pub logical_date: Option<OffsetDateTime>,
    /// Start of its data interval.
    pub data_interval_start: Option<OffsetDateTime>,
    /// End of its data interval.
    pub data_interval_end: Option<OffsetDateTime>,
    /// When it may start.
    pub run_after: OffsetDateTime,
    /// When it started.
    pub start_date: Option<OffsetDateTime>,
    /// When it ended.
    pub end_date: Option<OffsetDateTime>,
    /// How often it was cleared.
    pub clear_number: u32,
    /// How it came to be.
    pub run_type: RunType,
    /// Where it is.
    pub state: DagRunState,
    /// Its configuration.
    pub conf: Map<String, Value>,
    /// Who triggered it.
    pub triggering_user_name: Option<String>,
    /// Its partition key.
    pub partition_key: Option<String>,
    /// A note.
    pub note: Option<String>,
}

impl RunRecord {
    /// The run as the API shows it.
    pub fn to_model(&self, dag_id: &str, run_id: &str) -> DagRun {
        DagRun {
            dag_id: dag_id.to_owned(),
            run_id: run_id.to_owned(),
            logical_date: self.logical_date,
            data_interval_start: self.data_interval_start,
            data_interval_end: self.data_interval_end,
            run_after: self.run_after,
            start_date: self.start_date,
            end_date: self.end_date,
            clear_number: self.clear_number,
            run_type: self.run_type,
            state: self.state,
            conf: self.conf.clone(),
            triggering_user_name: self.triggering_user_name.clone(),
            consumed_asset_events: Vec::new(),
            partition_key: self.partition_key.clone(),
            note: self.note.clone(),
        }
    }

    /// `coalesce(logical_date, run_after)`: where the run sits in time for
    /// XCom's `include_prior_dates`.
    pub fn date(&self) -> OffsetDateTime {
        self.logical_date.unwrap_or(self.run_after)
    }
}

/// The filters of `GET /dag-runs/count`.
#[derive(Clone, Debug, Default)]
pub struct DagRunFilter {
    /// Only runs with one of these logical dates.
    pub logical_dates: Vec<OffsetDateTime>,
    /// Only these runs.
    pub run_ids: Vec<String>,
    /// Only runs in one of these states (Airflow compares the names).
    pub states: Vec<String>,
}

impl Store {
    /// `serve --queue N`: queues `n` task instances `task_<k>` of
    /// [`DAG_ID`], all in one manual run, and returns their ids.
    pub fn queue(&self, n: usize) -> Vec<Uuid> {
        let mut inner = self.lock();
        let run_id = inner.default_run_id();
        let mut ids = Vec::with_capacity(n);
        let mut k = 0;
        while ids.len() < n {
            k += 1;
            let spec = TaskSpec {
                dag_id: DAG_ID.to_owned(),
                run_id: run_id.clone(),
                task_id: format!("task_{k}"),
                map_index: -1,
                retries: 0,
            };
            // A task id already queued (by an earlier call, or by
            // --queue-task) is skipped: the next number is free.
            if let Ok(id) = inner.queue_task(&spec) {
                ids.push(id);
            }
        }
        ids
    }

    /// `serve --queue-task`: a task instance of `spec` in state `queued`, as
    /// a scheduler hands it to an executor, with its map index and its
    /// task's retries. Its DAG run is created (running) if it is new. The
    /// same task (and map index) twice in one run is an error.
    pub fn queue_task(&self, spec: &TaskSpec) -> Result<Uuid, String> {
        self.lock().queue_task(spec)
    }

    /// `GET /dags/<dag_id>`.
    pub fn dag(&self, dag_id: &str) -> Result<DagResponse, Refusal> {
        let inner = self.lock();
        if !inner.dags.contains_key(dag_id) {
            return Err(Refusal::NotFound(format!(
                "The Dag with dag_id: `{dag_id}` was not found"
            )));
        }
        Ok(DagResponse {
            dag_id: dag_id.to_owned(),
            is_paused: false,
            bundle_name: None,
            bundle_version: None,
            relative_fileloc: None,
            owners: None,
            tags: Vec::new(),
            next_dagrun: None,
        })
    }

    /// `GET /dag-runs/<dag_id>/<run_id>`.
    pub fn dag_run(&self, dag_id: &str, run_id: &str) -> Result<DagRun, Refusal> {
        let inner = self.lock();
        inner
            .run(dag_id, run_id)
            .map(|run| run.to_model(dag_id, run_id))
            .ok_or_else(|| run_not_found(dag_id, run_id))
    }

    /// `GET /dag-runs/<dag_id>/<run_id>/state`.
    pub fn dag_run_state(&self, dag_id: &str, run_id: &str) -> Result<DagRunState, Refusal> {
        let inner = self.lock();
        inner
            .run(dag_id, run_id)
            .map(|run| run.state)
            .ok_or_else(|| run_not_found(dag_id, run_id))
    }

    /// `POST /dag-runs/<dag_id>/<run_id>`: a task triggers a run of a known
    /// DAG. The run is created `queued`, as Airflow's `trigger_dag` does;
    /// with no scheduler here, it stays so. Its triggering user is that of
    /// the calling task's run.
    pub fn trigger_dag_run(
        &self,
        caller: Uuid,
        dag_id: &str,
        run_id: &str,
        body: TriggerDagRun,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        if !inner.dags.contains_key(dag_id) {
            return Err(dag_not_found(dag_id));
        }
        if inner.run(dag_id, run_id).is_some() {
            return Err(Refusal::Conflict {
                reason: "already_exists",
                message: format!("A run already exists for Dag '{dag_id}' with run_id '{run_id}'"),
            });
        }
        // Triggered runs are never deleted: they count against the DAG run
        // store's caps, with their `conf` and note.
        let value = super::caps::size(&body.conf) + body.note.as_ref().map_or(0, String::len);
        let bytes = dag_id.len() + run_id.len() + value;
        inner.admit(super::caps::Kind::DagRuns, value, None, bytes)?;
        let triggering_user_name = inner
            .task_instances
            .get(&caller)
            .and_then(|ti| inner.run(&ti.dag_id, &ti.run_id))
            .and_then(|run| run.triggering_user_name.clone());
        let run_after = body.run_after.unwrap_or_else(OffsetDateTime::now_utc);
        // A DAG without a schedule infers the manual data interval [run_after,
        // run_after], and only when the run has a logical date.
        let interval = body.logical_date.map(|_| run_after);
        let run = RunRecord {
            logical_date: body.logical_date,
            data_interval_start: interval,
            data_interval_end: interval,
            run_after,
            start_date: None,
            end_date: None,
            clear_number: 0,
            run_type: RunType::OperatorTriggered,
            state: DagRunState::Queued,
            conf: body.conf,
            triggering_user_name,
            partition_key: body.partition_key,
            note: body.note,
        };
        inner
            .runs
            .insert((dag_id.to_owned(), run_id.to_owned()), run);
        inner.usage(super::caps::Kind::DagRuns).add(None, bytes);
        tracing::info!(
            dag_id = %scopegate::LogSafe(dag_id),
            run_id = %scopegate::LogSafe(run_id),
            %caller,
            "dag run triggered"
        );
        Ok(())
    }

    /// `POST /dag-runs/<dag_id>/<run_id>/clear`: the run goes back to
    /// `queued` and its task instances are cleared: a running one becomes
    /// `restarting` (its `/run` may start it again), the others lose their
    /// state, as Airflow's `clear_task_instances` does.
    pub fn clear_dag_run(&self, dag_id: &str, run_id: &str) -> Result<(), Refusal> {
        let mut inner = self.lock();
        if !inner.dags.contains_key(dag_id) {
            return Err(dag_not_found(dag_id));
        }
        let Some(run) = inner.runs.get_mut(&(dag_id.to_owned(), run_id.to_owned())) else {
            return Err(Refusal::NotFound(format!(
                "Dag run with run_id: '{run_id}' not found"
            )));
        };
        run.state = DagRunState::Queued;
        run.clear_number += 1;
        run.start_date = None;
        run.end_date = None;
        let mut cleared = 0;
        for ti in inner
            .task_instances
            .values_mut()
            .filter(|ti| ti.dag_id == dag_id && ti.run_id == run_id)
        {
            ti.state = match ti.state {
                Some(TiState::Running) => Some(TiState::Restarting),
                _ => None,
            };
            ti.end_date = None;
            ti.next_method = None;
            ti.next_kwargs = None;
            cleared += 1;
        }
        tracing::info!(
            dag_id = %scopegate::LogSafe(dag_id),
            run_id = %scopegate::LogSafe(run_id),
            cleared,
            "dag run cleared"
        );
        Ok(())
    }

    /// `GET /dag-runs/count`.
    pub fn count_dag_runs(&self, dag_id: &str, filter: &DagRunFilter) -> usize {
        let inner = self.lock();
        inner
            .runs
            .iter()
            .filter(|((d, r), run)| {
                d == dag_id
                    && (filter.logical_dates.is_empty()
                        || run
                            .logical_date
                            .is_some_and(|ld| filter.logical_dates.contains(&ld)))
                    && (filter.run_ids.is_empty() || filter.run_ids.contains(r))
                    && (filter.states.is_empty()
                        || filter.states.iter().any(|s| s == run_state_name(run.state)))
            })
            .count()
    }

    /// `GET /dag-runs/previous`: the latest run before `logical_date`,
    /// optionally in `state`; `None` when there is none.
    pub fn previous_dag_run(
        &self,
        dag_id: &str,
        logical_date: OffsetDateTime,
        state: Option<DagRunState>,
    ) -> Option<DagRun> {
        let inner = self.lock();
        inner
            .runs
            .iter()
            .filter(|((d, _), run)| {
                d == dag_id
                    && run.logical_date.is_some_and(|ld| ld < logical_date)
                    && state.is_none_or(|s| run.state == s)
            })
            .max_by_key(|(_, run)| run.logical_date)
            .map(|((d, r), run)| run.to_model(d, r))
    }
}

impl Inner {
    /// A run, by its DAG and id.
    pub(super) fn run(&self, dag_id: &str, run_id: &str) -> Option<&RunRecord> {
        self.runs.get(&(dag_id.to_owned(), run_id.to_owned()))
    }

    /// The run `serve --queue N` puts its task instances in, named as
    /// Airflow names manual runs: `manual__<when>`. The first one of
    /// [`DAG_ID`] is reused.
    fn default_run_id(&self) -> String {
        if let Some((_, run_id)) = self.runs.keys().find(|(d, _)| d == DAG_ID) {
            return run_id.clone();
        }
        let now = OffsetDateTime::now_utc();
        format!(
            "manual__{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        )
    }

    /// Now, or just after the last logical date handed out, so that runs
    /// always have distinct, increasing logical dates.
    fn next_logical_date(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let next = if now > self.last_logical_date {
            now
        } else {
            self.last_logical_date + time::Duration::MICROSECOND
        };
        self.last_logical_date = next;
        next
    }

    fn queue_task(&mut self, spec: &TaskSpec) -> Result<Uuid, String> {
        let duplicate = self.task_instances.values().any(|ti| {
            ti.dag_id == spec.dag_id
                && ti.run_id == spec.run_id
                && ti.task_id == spec.task_id
                && ti.map_index == spec.map_index
        });
        if duplicate {
            let index = match spec.map_index {
                -1 => String::new(),
                i => format!("/{i}"),
            };
            return Err(format!(
                "{}/{}/{}{index} is queued twice: a task has one instance per run (and map \
                 index)",
                spec.dag_id, spec.run_id, spec.task_id
            ));
        }
        let now = OffsetDateTime::now_utc();
        self.dags.entry(spec.dag_id.clone()).or_insert(now);
        let key = (spec.dag_id.clone(), spec.run_id.clone());
        if !self.runs.contains_key(&key) {
            let logical_date = self.next_logical_date();
            self.runs.insert(
                key.clone(),
                RunRecord {
                    logical_date: Some(logical_date),
                    data_interval_start: Some(logical_date),
                    data_interval_end: Some(logical_date),
                    run_after: logical_date,
                    start_date: Some(now),
                    end_date: None,
                    clear_number: 0,
                    run_type: RunType::Manual,
                    state: DagRunState::Running,
                    conf: Map::new(),
                    triggering_user_name: None,
                    partition_key: None,
                    note: None,
                },
            );
            tracing::info!(dag_id = %spec.dag_id, run_id = %spec.run_id, "dag run created");
        }
        if let Some(run) = self.runs.get_mut(&key) {
            // The scheduler starts a run before it queues its tasks.
            if run.state != DagRunState::Running {
                run.state = DagRunState::Running;
                run.start_date = Some(now);
                run.end_date = None;
            }
        }
        let id = Uuid::new_v4();
        let mut ti = TaskInstance::queued(&spec.dag_id, &spec.run_id, &spec.task_id);
        ti.map_index = spec.map_index;
        // Airflow's scheduler sets `max_tries` to the task's `retries` when
        // it creates the instance.
        ti.max_tries = spec.retries;
        self.task_instances.insert(id, ti);
        tracing::info!(
            ti = %id,
            dag_id = %spec.dag_id,
            run_id = %spec.run_id,
            task_id = %spec.task_id,
            map_index = spec.map_index,
            max_tries = spec.retries,
            "task instance queued"
        );
        Ok(id)
    }

    /// After a task instance changed: a run whose task instances are all
    /// finished is finished too, `failed` if one of them failed or could
    /// not run because an upstream failed, `success` otherwise.
    pub(super) fn refresh_run_state(&mut self, dag_id: &str, run_id: &str) {
        let mut any = false;
        let mut failed = false;
        for ti in self
            .task_instances
            .values()
            .filter(|ti| ti.dag_id == dag_id && ti.run_id == run_id)
        {
            any = true;
            match ti.state {
                Some(TiState::Failed | TiState::UpstreamFailed) => failed = true,
                Some(state) if state.is_terminal() => {}
                _ => return,
            }
        }
        let Some(run) = self.runs.get_mut(&(dag_id.to_owned(), run_id.to_owned())) else {
            return;
        };
        if !any || matches!(run.state, DagRunState::Success | DagRunState::Failed) {
            return;
        }
        run.state = if failed {
            DagRunState::Failed
        } else {
            DagRunState::Success
        };
        run.end_date = Some(OffsetDateTime::now_utc());
        tracing::info!(dag_id, run_id, state = ?run.state, "dag run finished");
    }
}

/// Airflow's spelling of a run state, as `states=` filters compare it.
fn run_state_name(state: DagRunState) -> &'static str {
    match state {
        DagRunState::Queued => "queued",
        DagRunState::Running => "running",
        DagRunState::Success => "success",
        DagRunState::Failed => "failed",
    }
}

fn run_not_found(dag_id: &str, run_id: &str) -> Refusal {
    Refusal::NotFound(format!(
        "Dag run with dag_id '{dag_id}' and run_id '{run_id}' was not found"
    ))
}

fn dag_not_found(dag_id: &str) -> Refusal {
    Refusal::NotFound(format!("Dag with dag_id: '{dag_id}' not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> TaskSpec {
        s.parse().unwrap()
    }

    #[test]
    fn each_map_index_is_its_own_task_instance() {
        let store = Store::new();
        let a = store.queue_task(&spec("etl/r1/double/0")).unwrap();
        let b = store.queue_task(&spec("etl/r1/double/1")).unwrap();
        assert_ne!(a, b);
        assert_eq!(store.task_instance(a).unwrap().map_index, 0);
        assert_eq!(store.task_instance(b).unwrap().map_index, 1);
        let err = store.queue_task(&spec("etl/r1/double/1")).unwrap_err();
        assert!(err.contains("etl/r1/double/1 is queued twice"), "{err}");
        // The unmapped instance is another one.
        store.queue_task(&spec("etl/r1/double")).unwrap();
    }

    #[test]
    fn retries_become_the_instances_max_tries() {
        let store = Store::new();
        let plain = store.queue_task(&spec("etl/r1/flaky")).unwrap();
        let retried = store
            .queue_task(&TaskSpec {
                retries: 2,
                ..spec("etl/r2/flaky")
            })
            .unwrap();
        assert_eq!(store.task_instance(plain).unwrap().max_tries, 0);
        assert_eq!(store.task_instance(retried).unwrap().max_tries, 2);
    }

    #[test]
    fn queueing_creates_the_dag_and_a_running_run_once() {
        let store = Store::new();
        let a = store.queue_task(&spec("etl/r1/extract")).unwrap();
        let b = store.queue_task(&spec("etl/r1/load")).unwrap();
        assert_ne!(a, b);
        let err = store.queue_task(&spec("etl/r1/load")).unwrap_err();
        assert!(err.contains("queued twice"), "{err}");
        assert_eq!(store.dag("etl").unwrap().dag_id, "etl");
        assert!(matches!(store.dag("nope"), Err(Refusal::NotFound(_))));
        let run = store.dag_run("etl", "r1").unwrap();
        assert_eq!(
            (run.state, run.run_type),
            (DagRunState::Running, RunType::Manual)
        );
        assert!(run.logical_date.is_some());
        // A second run has a later logical date, even in the same microsecond.
        store.queue_task(&spec("etl/r2/extract")).unwrap();
        let r2 = store.dag_run("etl", "r2").unwrap();
        assert!(r2.logical_date > run.logical_date);
        let filter = DagRunFilter {
            states: vec!["running".into()],
            ..DagRunFilter::default()
        };
        assert_eq!(store.count_dag_runs("etl", &filter), 2);
        let previous = store
            .previous_dag_run("etl", r2.logical_date.unwrap(), None)
            .unwrap();
        assert_eq!(previous.run_id, "r1");
        assert!(store
            .previous_dag_run("etl", run.logical_date.unwrap(), None)
            .is_none());
    }

    #[test]
    fn triggered_runs_need_a_known_dag_and_a_new_run_id() {
        let store = Store::new();
        let caller = store.queue_task(&spec("etl/r1/extract")).unwrap();
        let body = || TriggerDagRun {
            logical_date: None,
            run_after: None,
            conf: Map::new(),
            reset_dag_run: false,
            partition_key: None,
            note: Some("from a task".into()),
        };
        assert!(matches!(
            store.trigger_dag_run(caller, "other", "t1", body()),
            Err(Refusal::NotFound(m)) if m == "Dag with dag_id: 'other' not found"
        ));
        store.trigger_dag_run(caller, "etl", "t1", body()).unwrap();
        assert!(matches!(
            store.trigger_dag_run(caller, "etl", "t1", body()),
            Err(Refusal::Conflict {
                reason: "already_exists",
                ..
            })
        ));
        let run = store.dag_run("etl", "t1").unwrap();
        assert_eq!(run.state, DagRunState::Queued);
        assert_eq!(run.run_type, RunType::OperatorTriggered);
        assert_eq!(run.logical_date, None);
        assert_eq!(run.note.as_deref(), Some("from a task"));
    }
}
