//! The example's Execution API versions over TCP (SPEC §5 "Every Airflow 3
//! worker", issue 22): the `Airflow-API-Version` header picks the version
//! as Airflow's API server (Cadwyn) picks it, each version gets its own
//! bodies, a route added later is 404 for an older client, and the
//! policies are the same for every version.
//!
//! Task SDK 1.1.8 (version 2025-11-05) and 1.0.6 (2025-08-10) failed on
//! `/run` before the versions existed: the answer carried `dag_run` fields
//! their models forbid (`partition_key`, `note`, `triggering_user_name`).
//! `run_context_has_the_fields_of_each_version` pins that.

mod example_server;

use awc::http::StatusCode;
use example_server::Server;
use scopegate::TokenType;
use serde_json::{json, Value};
use uuid::Uuid;

/// Every version, oldest first.
const VERSIONS: [&str; 10] = [
    "2025-04-11",
    "2025-04-28",
    "2025-05-20",
    "2025-08-10",
    "2025-09-23",
    "2025-10-27",
    "2025-11-05",
    "2026-04-06",
    "2026-06-30",
    "2026-10-30",
];

/// The keys of an object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[actix_web::test]
async fn run_context_has_the_fields_of_each_version() {
    let server = Server::start().await;
    let newest_dag_run = [
        "clear_number",
        "conf",
        "consumed_asset_events",
        "dag_id",
        "data_interval_end",
        "data_interval_start",
        "end_date",
        "logical_date",
        "note",
        "partition_key",
        "run_after",
        "run_id",
        "run_type",
        "start_date",
        "state",
        "triggering_user_name",
    ];
    for (i, version) in VERSIONS.iter().enumerate() {
        let (id, workload) = server.queue_task(&format!("etl/run_{i}/extract"), 0);
        let r = server.run(id, &workload, Some(version)).await;
        assert_eq!(r.status, StatusCode::OK, "{version}: {}", r.body);
        assert_eq!(r.version.as_deref(), Some(*version), "the header is echoed");
        let mut expected: Vec<&str> = newest_dag_run.to_vec();
        let older = |than: &str| *version < than;
        if older("2026-04-06") {
            expected.retain(|k| !["partition_key", "note"].contains(k));
        }
        if older("2025-11-05") {
            expected.retain(|k| *k != "triggering_user_name");
        }
        if older("2025-08-10") {
            expected.retain(|k| *k != "state");
        }
        assert_eq!(keys(&r.body["dag_run"]), expected, "{version}");
        // upstream_map_indexes: gone from 2026-04-06 on, `null` before.
        assert_eq!(
            r.body.get("upstream_map_indexes"),
            older("2026-04-06").then_some(&Value::Null),
            "{version}"
        );
        // conf is an object for every version.
        assert_eq!(r.body["dag_run"]["conf"], json!({}), "{version}");
    }
    // No header: the newest version, named in the answer.
    let (id, workload) = server.queue_task("etl/run_x/extract", 0);
    let r = server.run(id, &workload, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.version.as_deref(), Some("2026-10-30"));
    assert_eq!(keys(&r.body["dag_run"]), newest_dag_run);
    server.stop().await;
}

#[actix_web::test]
async fn versions_are_picked_as_airflow_picks_them() {
    let server = Server::start().await;
    let (id, workload) = server.queue_task("etl/r/extract", 0);
    // Between two versions: the earlier (2025-05-20: no dag_run.state).
    let r = server.run(id, &workload, Some("2025-06-01")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.version.as_deref(), Some("2025-06-01"));
    assert!(r.body["dag_run"].get("state").is_none());
    assert!(r.body.get("upstream_map_indexes").is_some());

    // After the newest: the newest.
    let health = |v: &'static str| {
        let server = &server;
        async move { server.call("GET", "/health", None, None, Some(v)).await }
    };
    let r = health("2099-12-31").await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"status": "healthy"}))
    );

    // Earlier than the earliest, or empty: no route, 404 (Airflow's).
    for early in ["2025-04-10", "2024-01-01", ""] {
        let r = health(early).await;
        assert_eq!(
            (r.status, r.body),
            (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
            "{early:?}"
        );
    }
    // Not a date: 422 in pydantic's shape, as Airflow answers.
    let r = health("yesterday").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["type"], "date_from_datetime_parsing");
    assert_eq!(
        r.body["detail"][0]["loc"],
        json!(["header", "Airflow-API-Version"])
    );
    assert_eq!(
        r.body["detail"][0]["msg"],
        "Input should be a valid date or datetime, input is too short"
    );
    // A refused version never reaches a route: the task is still queued.
    let r = server.run(id, &workload, Some("2025-01-01")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[actix_web::test]
async fn a_route_added_later_is_404_for_an_older_client() {
    let server = Server::start().await;
    let token = server.token(Uuid::new_v4(), TokenType::EXECUTION);
    let call = |method: &'static str, path: String, version: &'static str| {
        let (server, token) = (&server, token.clone());
        async move {
            server
                .call(method, &path, Some(&token), None, Some(version))
                .await
        }
    };
    // GET /dags/<dag_id>: 2026-04-06.
    let r = call("GET", "/dags/nope".into(), "2025-11-05").await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    let r = call("GET", "/dags/nope".into(), "2026-04-06").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"]["reason"], "not_found",
        "the route's own 404"
    );
    // The task state store: 2026-06-30, keys with slashes included.
    let ti = Uuid::new_v4();
    let own = server.token(ti, TokenType::EXECUTION);
    let r = server
        .call(
            "GET",
            &format!("/store/ti/{ti}/a"),
            Some(&own),
            None,
            Some("2026-04-06"),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    // The same path has another method in the older version: 405.
    let r = call("GET", "/dag-runs/etl/r".into(), "2025-11-05").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body, json!({"detail": "Method Not Allowed"}));
    // The callback exchange: 2026-10-30. Refused before its policy, and the
    // callback stays claimable.
    let (callback, callback_token) = server.queue_callback();
    let path = format!("/callbacks/{callback}/run");
    let r = server
        .call(
            "PATCH",
            &path,
            Some(&callback_token),
            Some(json!({})),
            Some("2026-06-30"),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    let r = server
        .call(
            "PATCH",
            &path,
            Some(&callback_token),
            Some(json!({})),
            Some("2026-10-30"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    server.stop().await;
}

#[actix_web::test]
async fn older_clients_reach_the_routes_their_version_had() {
    let server = Server::start().await;
    let token = server.token(Uuid::new_v4(), TokenType::EXECUTION);
    // `/variables/keys` lists keys from 2026-06-30 on; before, it is the
    // variable named `keys`, under that route's policy.
    let r = server
        .call(
            "PUT",
            "/variables/keys",
            Some(&token),
            Some(json!({"val": "k"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = server
        .call(
            "GET",
            "/variables/keys",
            Some(&token),
            None,
            Some("2026-04-06"),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"key": "keys", "value": "k"}))
    );
    let r = server
        .call("GET", "/variables/keys", None, None, Some("2026-04-06"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the variable route's policy"
    );
    // The path the version layer sends it to is not a route of its own.
    for version in [None, Some("2026-04-06")] {
        let r = server
            .call(
                "GET",
                "/.versions/2026-06-30/variables/keys",
                Some(&token),
                None,
                version,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{version:?}");
    }
    let r = server
        .call(
            "GET",
            "/variables/keys",
            Some(&token),
            None,
            Some("2026-06-30"),
        )
        .await;
    assert_eq!(
        (r.status, r.body["keys"].clone()),
        (StatusCode::OK, json!(["keys"]))
    );

    // The previous run: `/dag-runs/<dag_id>/previous` from 2025-08-10 to
    // 2026-04-06, `/dag-runs/previous?dag_id=` since.
    server.queue_task("etl/first/extract", 0);
    server.queue_task("etl/second/extract", 0);
    let logical = server
        .services
        .store
        .dag_run("etl", "second")
        .unwrap()
        .logical_date
        .unwrap();
    let when = logical
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .replace('+', "%2B")
        .replace(':', "%3A");
    let old = format!("/dag-runs/etl/previous?logical_date={when}");
    let r = server
        .call("GET", &old, Some(&token), None, Some("2025-11-05"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["run_id"], "first");
    assert!(r.body.get("note").is_none() && r.body.get("partition_key").is_none());
    assert!(
        r.body.get("state").is_some(),
        "2025-08-10 added DagRun.state"
    );
    // Before 2025-08-10 the route did not exist (POST on the run's path did).
    let r = server
        .call("GET", &old, Some(&token), None, Some("2025-05-20"))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // From 2026-04-06, it is the run named `previous`, which does not exist.
    let r = server
        .call("GET", &old, Some(&token), None, Some("2026-04-06"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["detail"]["reason"], "not_found");
    let new = format!("/dag-runs/previous?dag_id=etl&logical_date={when}");
    let r = server
        .call("GET", &new, Some(&token), None, Some("2026-04-06"))
        .await;
    assert_eq!(
        (r.status, r.body["run_id"].clone()),
        (StatusCode::OK, json!("first"))
    );
    server.stop().await;
}

#[actix_web::test]
async fn an_older_client_sends_the_fields_of_its_version_only() {
    let server = Server::start().await;
    let end = "2026-01-01T00:01:00Z";
    let state = |id: Uuid| format!("/task-instances/{id}/state");
    // rendered_map_index in a final state: 2025-04-28.
    let success = json!({"state": "success", "end_date": end, "rendered_map_index": "x"});
    let (id, workload) = server.queue_task("etl/r1/a", 0);
    let execution = server.run(id, &workload, None).await.refreshed.unwrap();
    let r = server
        .call(
            "PATCH",
            &state(id),
            Some(&execution),
            Some(success.clone()),
            Some("2025-04-11"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({"detail": [{
            "type": "extra_forbidden",
            "loc": ["body", "success.rendered_map_index"],
            "msg": "Extra inputs are not permitted"
        }]})
    );
    let r = server
        .call(
            "PATCH",
            &state(id),
            Some(&execution),
            Some(success),
            Some("2025-04-28"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // retry_reason: 2026-06-30.
    let (id, workload) = server.queue_task("etl/r1/b", 2);
    let execution = server.run(id, &workload, None).await.refreshed.unwrap();
    let retry = json!({"state": "up_for_retry", "end_date": end, "retry_reason": "flaky"});
    let r = server
        .call(
            "PATCH",
            &state(id),
            Some(&execution),
            Some(retry.clone()),
            Some("2026-04-06"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = server
        .call(
            "PATCH",
            &state(id),
            Some(&execution),
            Some(retry),
            Some("2026-06-30"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // A trigger's note: 2026-04-06.
    let trigger = json!({"logical_date": null, "conf": {}, "note": "hi"});
    let r = server
        .call(
            "POST",
            "/dag-runs/etl/t1",
            Some(&execution),
            Some(trigger.clone()),
            Some("2025-11-05"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = server
        .call(
            "POST",
            "/dag-runs/etl/t1",
            Some(&execution),
            Some(trigger),
            Some("2026-04-06"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    server.stop().await;
}

#[actix_web::test]
async fn policies_run_before_any_body_migration_in_every_version() {
    let server = Server::start().await;
    let (id, workload) = server.queue_task("etl/r/a", 0);
    let other = server.token(Uuid::new_v4(), TokenType::EXECUTION);
    // A body the older version refuses, from a caller the policy refuses:
    // the policy answers, in every version.
    let body =
        json!({"state": "success", "end_date": "2026-01-01T00:00:00Z", "rendered_map_index": "x"});
    for version in VERSIONS {
        let path = format!("/task-instances/{id}/state");
        let r = server
            .call("PATCH", &path, None, Some(body.clone()), Some(version))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{version}");
        let r = server
            .call(
                "PATCH",
                &path,
                Some(&other),
                Some(body.clone()),
                Some(version),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{version}");
        assert_eq!(
            r.body,
            json!({"detail": "Token subject does not match task instance ID"}),
            "{version}"
        );
        // A workload token where only execution tokens go.
        let r = server
            .call("GET", "/variables/x", Some(&workload), None, Some(version))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{version}");
    }
    server.stop().await;
}

#[actix_web::test]
async fn an_older_client_reads_xcoms_without_prior_dates() {
    let server = Server::start().await;
    let token = server.token(Uuid::new_v4(), TokenType::EXECUTION);
    server.queue_task("etl/early/t", 0);
    server.queue_task("etl/late/t", 0);
    let r = server
        .call(
            "POST",
            "/xcoms/etl/early/t/k",
            Some(&token),
            Some(json!(1)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let path = "/xcoms/etl/late/t/k?include_prior_dates=true";
    // 2025-08-10 added include_prior_dates; before, it is an unknown query
    // parameter, which FastAPI ignores.
    let r = server
        .call("GET", path, Some(&token), None, Some("2025-08-10"))
        .await;
    assert_eq!(
        (r.status, r.body["value"].clone()),
        (StatusCode::OK, json!(1))
    );
    let r = server
        .call("GET", path, Some(&token), None, Some("2025-05-20"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    server.stop().await;
}
