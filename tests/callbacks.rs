//! The callback token of Airflow's main branch (SPEC §5, issue 22;
//! apache/airflow#71192) on the example server, over TCP: the single-use
//! `callback` token is exchanged once, at
//! `PATCH /execution/callbacks/<callback_id>/run`, for an execution token
//! in `Refreshed-API-Token`; a second exchange is 409, and of two
//! concurrent exchanges exactly one succeeds.

mod example_server;

use std::future::Future;
use std::task::Poll;

use awc::http::StatusCode;
use example_server::{claims_of, Server};
use scopegate::TokenType;
use serde_json::json;
use uuid::Uuid;

#[actix_web::test]
async fn a_callback_token_is_exchanged_once_for_an_execution_token() {
    let server = Server::start().await;
    let (id, token) = server.queue_callback();
    assert_eq!(claims_of(&token)["scope"], "callback");
    let path = format!("/callbacks/{id}/run");

    let first = server
        .call("PATCH", &path, Some(&token), Some(json!({})), None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body, json!({"id": id, "state": "running"}));
    let execution = first.refreshed.expect("an execution token");
    let claims = claims_of(&execution);
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["scope"], "execution");
    // It continues the callback token's chain.
    assert_eq!(claims["sid"], claims_of(&token)["sid"]);

    // The same token again: 409, and no second execution token.
    let second = server
        .call("PATCH", &path, Some(&token), Some(json!({})), None)
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.refreshed, None);
    assert_eq!(
        second.body,
        json!({"detail": {
            "reason": "invalid_state",
            "message": format!(
                "Callback {id} is in state running; its token can only be exchanged once while QUEUED."
            ),
            "previous_state": "running",
        }})
    );

    // The execution token it got calls what an execution token may call.
    let variable = server
        .call("GET", "/variables/missing", Some(&execution), None, None)
        .await;
    assert_eq!(variable.status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[actix_web::test]
async fn the_exchange_takes_an_empty_body_or_the_workers_details() {
    let server = Server::start().await;
    let (a, token_a) = server.queue_callback();
    let empty = server
        .call(
            "PATCH",
            &format!("/callbacks/{a}/run"),
            Some(&token_a),
            None,
            None,
        )
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);

    let (b, token_b) = server.queue_callback();
    let full = json!({"hostname": "worker-1", "pid": 7, "start_date": "2026-01-01T00:00:00Z"});
    let r = server
        .call(
            "PATCH",
            &format!("/callbacks/{b}/run"),
            Some(&token_b),
            Some(full),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // An unknown field is refused (a strict model, as `/run`'s), and the
    // callback stays claimable.
    let (c, token_c) = server.queue_callback();
    let r = server
        .call(
            "PATCH",
            &format!("/callbacks/{c}/run"),
            Some(&token_c),
            Some(json!({"hostnme": "typo"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = server
        .call(
            "PATCH",
            &format!("/callbacks/{c}/run"),
            Some(&token_c),
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    server.stop().await;
}

#[actix_web::test]
async fn two_concurrent_exchanges_give_one_200_and_one_409() {
    // Two workers: the two requests may run on two threads at once.
    let server = Server::start_workers(2).await;
    for _ in 0..20 {
        let (id, token) = server.queue_callback();
        let path = format!("/callbacks/{id}/run");
        let (a, b) = futures_join(
            server.call("PATCH", &path, Some(&token), Some(json!({})), None),
            server.call("PATCH", &path, Some(&token), Some(json!({})), None),
        )
        .await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
        assert_eq!(
            [a.refreshed.is_some(), b.refreshed.is_some()]
                .iter()
                .filter(|x| **x)
                .count(),
            1
        );
    }
    server.stop().await;
}

/// Both futures, polled together: two requests in flight at once, on two
/// connections.
async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (
        ra.expect("polled to the end"),
        rb.expect("polled to the end"),
    )
}

#[actix_web::test]
async fn only_the_callbacks_own_callback_token_may_exchange_it() {
    let server = Server::start().await;
    let (id, _) = server.queue_callback();
    let (other, other_token) = server.queue_callback();
    let path = format!("/callbacks/{id}/run");
    // Another callback's token: callback:self refuses it.
    let r = server
        .call("PATCH", &path, Some(&other_token), Some(json!({})), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"detail": "Token subject does not match callback ID"})
    );
    // An execution or workload token for the callback: token:callback only.
    for ty in [TokenType::EXECUTION, TokenType::WORKLOAD] {
        let r = server
            .call(
                "PATCH",
                &path,
                Some(&server.token(id, ty)),
                Some(json!({})),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{ty:?}");
        assert_eq!(
            r.body,
            json!({"detail": format!(
                "Token type '{}' not allowed for this endpoint. Allowed types: callback",
                ty.as_str()
            )})
        );
    }
    // A callback token on a task route: not a workload or execution token.
    let r = server
        .call(
            "PATCH",
            &format!("/task-instances/{other}/run"),
            Some(&other_token),
            Some(example_server::run_body()),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Neither refusal used the callback up.
    assert_eq!(
        server.services.store.callback_state(id).map(|s| s.as_str()),
        Some("queued")
    );
    // An unknown callback, with its own (validly signed) token: 404.
    let ghost = Uuid::new_v4();
    let r = server
        .call(
            "PATCH",
            &format!("/callbacks/{ghost}/run"),
            Some(&server.token(ghost, execution_api_example::CALLBACK)),
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        json!({"detail": {"reason": "not_found", "message": format!("Callback {ghost} not found")}})
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_exchanged_token_is_renewed_while_its_callback_runs_only() {
    // Execution tokens of 20 s: always within the refresh window (30 s).
    let server = Server::start_with_execution_ttl(std::time::Duration::from_secs(20)).await;
    let (id, token) = server.queue_callback();
    let r = server
        .call(
            "PATCH",
            &format!("/callbacks/{id}/run"),
            Some(&token),
            Some(json!({})),
            None,
        )
        .await;
    let execution = r.refreshed.expect("an execution token");
    // The callback runs: a 2xx call renews its execution token.
    let r = server
        .call(
            "PUT",
            "/variables/cb",
            Some(&execution),
            Some(json!({"val": "x"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let renewed = r.refreshed.expect("renewed while the callback runs");
    assert_eq!(claims_of(&renewed)["sub"], id.to_string());
    // A callback still queued (its token never exchanged), or unknown: the
    // veto refuses, as for a task instance that is not running.
    for sub in [server.queue_callback().0, Uuid::new_v4()] {
        let other = server.token(sub, TokenType::EXECUTION);
        let r = server
            .call(
                "PUT",
                "/variables/cb",
                Some(&other),
                Some(json!({"val": "y"})),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.refreshed, None, "{sub}");
    }
    server.stop().await;
}
