//! The task-instance state machine's unit tests.

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
