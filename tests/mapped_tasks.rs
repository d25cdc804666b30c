//! Retries and mapped tasks on the example server (SPEC §5, issue 22):
//! `serve --queue-task DAG/RUN/TASK/MAP_INDEX` queues one instance of a
//! mapped task, and `--task-retries TASK_ID=N` gives a task its retries, so
//! that `/run` tells the worker of a failing try to report `up_for_retry`.
//! Before, every instance had `max_tries` 0 (`should_retry: false`) and a
//! mapped task could not be queued.

mod common;
mod example_server;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use awc::http::StatusCode;
use example_server::Server;
use scopegate::TokenType;
use serde_json::{json, Value};
use uuid::Uuid;

#[actix_web::test]
async fn a_task_with_retries_is_told_to_retry_and_ends_up_for_retry() {
    let server = Server::start().await;
    let (id, workload) = server.queue_task("etl/r/flaky", 2);
    let r = server.run(id, &workload, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["max_tries"].clone(), r.body["should_retry"].clone()),
        (json!(2), json!(true))
    );
    let execution = r.refreshed.unwrap();
    let r = server
        .call(
            "PATCH",
            &format!("/task-instances/{id}/state"),
            Some(&execution),
            Some(json!({"state": "up_for_retry", "end_date": "2026-01-01T00:01:00Z"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let states = server
        .call(
            "GET",
            "/task-instances/states?dag_id=etl",
            Some(&execution),
            None,
            None,
        )
        .await;
    assert_eq!(states.body["task_states"]["r"]["flaky"], "up_for_retry");

    // Without retries: should_retry is false, so the worker reports failed.
    let (id, workload) = server.queue_task("etl/r/solid", 0);
    let r = server.run(id, &workload, None).await;
    assert_eq!(
        (r.body["max_tries"].clone(), r.body["should_retry"].clone()),
        (json!(0), json!(false))
    );
    server.stop().await;
}

#[actix_web::test]
async fn each_mapped_instance_has_its_own_map_index_and_xcom() {
    let server = Server::start().await;
    let token = server.token(Uuid::new_v4(), TokenType::EXECUTION);
    for index in 0..3 {
        let (id, workload) = server.queue_task(&format!("etl/r/double/{index}"), 0);
        let r = server.run(id, &workload, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let execution = r.refreshed.unwrap();
        let r = server
            .call(
                "POST",
                &format!("/xcoms/etl/r/double/return_value?map_index={index}"),
                Some(&execution),
                Some(json!(2 * (index + 1))),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    for index in 0..3 {
        let r = server
            .call(
                "GET",
                &format!("/xcoms/etl/r/double/return_value?map_index={index}"),
                Some(&token),
                None,
                None,
            )
            .await;
        assert_eq!(r.body["value"], json!(2 * (index + 1)), "map index {index}");
    }
    let states = server
        .call(
            "GET",
            "/task-instances/states?dag_id=etl",
            Some(&token),
            None,
            None,
        )
        .await;
    let run: Vec<&String> = states.body["task_states"]["r"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(run, ["double_0", "double_1", "double_2"]);
    server.stop().await;
}

#[test]
fn serve_queues_mapped_instances_with_their_retries() {
    let mut child = Command::new(common::example_binary())
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--secret",
            example_server::SECRET,
            "--queue-task",
            "etl/r/double/0",
            "--queue-task",
            "etl/r/double/1",
            "--queue-task",
            "etl/r/flaky",
            "--task-retries",
            "flaky=2",
            "--queue-callback",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run execution_api serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    let records: Vec<Value> = (0..5).map(|_| next()).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    for record in &records[..3] {
        assert!(record["task_instance_id"].is_string() && record["workload_token"].is_string());
    }
    assert!(records[3]["callback_id"].is_string() && records[3]["callback_token"].is_string());
    assert!(records[4]["listening"].is_string());
    let flaky = example_server::claims_of(records[2]["workload_token"].as_str().unwrap());
    assert_eq!(flaky["scope"], "workload");
}

#[test]
fn serve_refuses_a_bad_map_index_or_retries_for_a_task_it_does_not_queue() {
    for (args, says) in [
        (
            &["--queue-task", "etl/r/double/x"][..],
            "the map index \"x\" must be a number",
        ),
        (
            &["--queue-task", "etl/r/a", "--task-retries", "b=1"][..],
            "no --queue-task queues the task b",
        ),
        (
            &["--queue-task", "etl/r/a/0", "--queue-task", "etl/r/a/0"][..],
            "etl/r/a/0 is queued twice",
        ),
    ] {
        let out = Command::new(common::example_binary())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--secret",
                example_server::SECRET,
            ])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
