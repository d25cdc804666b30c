//! End-to-end tests of the example server (`examples/execution_api.rs`) over
//! real TCP: the server is started in-process on 127.0.0.1:0 exactly as the
//! binary starts it, and called with a real HTTP client (awc).

mod common;

// The example's server, from its library (examples/execution_api/), as the
// binary starts it.
use execution_api_example::{app, keys, models, routes, state, teams};

use actix_web::http::header::{CONTENT_RANGE, WWW_AUTHENTICATE};
use awc::http::StatusCode;
use common::{claims, key_file, now, sign, AUDIENCE};
use jsonwebtoken::{decode, Algorithm, DecodingKey, EncodingKey, Validation};
use scopegate::{TokenType, REFRESHED_TOKEN_HEADER};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use app::{AuthConfig, Services};
use keys::Keys;
use models::TiState;

/// The server's shared secret: 64 bytes, as RFC 7518 asks of an HS512 key
/// (scopegate refuses secrets shorter than 32 bytes).
const SECRET: &[u8] = b"e2e-shared-secret-0123456789abcdef-0123456789abcdef-0123456789ab";

/// Signs `claims` with [`SECRET`], HS512, as Airflow signs its tokens.
fn hs512(claims: &Map<String, Value>) -> String {
    sign(
        claims,
        Algorithm::HS512,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
}

/// A running server and a client for it.
struct Harness {
    base: String,
    services: Services,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
}

/// What a call returned.
struct Reply {
    status: StatusCode,
    refreshed: Option<String>,
    www_authenticate: Option<String>,
    content_range: Option<String>,
    body: Value,
}

impl Harness {
    /// A server signing and verifying with the shared test secret.
    async fn start() -> Harness {
        let secret = String::from_utf8(SECRET.to_vec()).unwrap();
        Harness::start_with(&AuthConfig::new(Keys::Secret(secret), AUDIENCE)).await
    }

    async fn start_with(auth: &AuthConfig) -> Harness {
        Harness::start_with_limits(auth, state::Limits::default()).await
    }

    async fn start_with_limits(auth: &AuthConfig, limits: state::Limits) -> Harness {
        Harness::start_full(auth, limits, None).await
    }

    /// A server in multi-team mode (`serve --multi-team --dag-team ..`)
    /// when `teams` is given.
    async fn start_with_teams(auth: &AuthConfig, teams: Option<teams::Teams>) -> Harness {
        Harness::start_full(auth, state::Limits::default(), teams).await
    }

    async fn start_full(
        auth: &AuthConfig,
        limits: state::Limits,
        teams: Option<teams::Teams>,
    ) -> Harness {
        let mut services = Services::load_with(auth, limits).await.unwrap();
        if let Some(teams) = teams {
            services.teams = actix_web::web::Data::new(teams);
        }
        let (server, addr) = app::start(services.clone(), "127.0.0.1:0", 1).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Harness {
            base: format!("http://{addr}/execution"),
            services,
            client: awc::Client::default(),
            server: handle,
        }
    }

    /// A queued task instance and its workload token, as `serve --queue`
    /// prints them.
    fn queue(&self) -> (Uuid, String) {
        let [id] = self.services.store.queue(1)[..] else {
            unreachable!("queue(1) returns one id")
        };
        let token = self.services.issuer.issue(id, TokenType::WORKLOAD).unwrap();
        (id, token)
    }

    /// A queued task instance of `DAG_ID/RUN_ID/TASK_ID` and its workload
    /// token, as `serve --queue-task` prints them.
    fn queue_task(&self, spec: &str) -> (Uuid, String) {
        let id = self
            .services
            .store
            .queue_task(&spec.parse().unwrap())
            .unwrap();
        let token = self.services.issuer.issue(id, TokenType::WORKLOAD).unwrap();
        (id, token)
    }

    /// Queues and starts a task instance; returns its id and the execution
    /// token `/run` swapped its workload token for.
    async fn running(&self, spec: &str) -> (Uuid, String) {
        let (id, workload) = self.queue_task(spec);
        let r = self
            .call(
                "PATCH",
                &format!("/task-instances/{id}/run"),
                Some(&workload),
                Some(run_body(1)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (id, r.refreshed.expect("an execution token"))
    }

    fn state(&self, id: Uuid) -> Option<TiState> {
        self.services.store.task_instance(id).unwrap().state
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let mut res = match body {
            Some(body) => req.send_json(&body).await,
            None => req.send().await,
        }
        .expect("request failed");
        let header = |name| {
            res.headers()
                .get(name)
                .map(|v: &awc::http::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let refreshed = header(REFRESHED_TOKEN_HEADER);
        let www_authenticate = header(WWW_AUTHENTICATE);
        let content_range = header(CONTENT_RANGE);
        let bytes = res.body().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status: res.status(),
            refreshed,
            www_authenticate,
            content_range,
            body,
        }
    }

    async fn stop(self) {
        self.server.stop(true).await;
    }
}

fn run_body(pid: i64) -> Value {
    json!({
        "state": "running",
        "hostname": "worker-1",
        "unixname": "airflow",
        "pid": pid,
        "start_date": "2026-01-01T00:00:00.000001Z",
    })
}

fn beat(pid: i64) -> Value {
    json!({"hostname": "worker-1", "pid": pid})
}

fn success() -> Value {
    json!({"state": "success", "end_date": "2026-01-01T00:01:00Z", "task_outlets": [], "outlet_events": []})
}

/// Verifies a token the server minted and returns its claims.
fn verified(token: &str) -> Map<String, Value> {
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[AUDIENCE]);
    decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(SECRET).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

/// An execution token for `sub` (no `scope` claim, as Airflow reads it)
/// with a given lifetime and age, plus `extra` claims.
fn execution_token(sub: Uuid, lifetime: i64, age: i64, extra: Value) -> String {
    let mut c = claims(sub, None);
    let iat = now() - age;
    c.insert("iat".into(), iat.into());
    c.insert("nbf".into(), iat.into());
    c.insert("exp".into(), (iat + lifetime).into());
    c.extend(extra.as_object().cloned().unwrap_or_default());
    hs512(&c)
}

#[actix_web::test]
async fn full_lifecycle_over_tcp() {
    let h = Harness::start().await;
    let (id, workload) = h.queue();
    let ti = format!("/task-instances/{id}");

    // The workload token starts the task and is swapped for an execution token.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/run"),
            Some(&workload),
            Some(run_body(7)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["dag_run"]["dag_id"], "scopegate_example");
    assert_eq!(r.body["dag_run"]["consumed_asset_events"], json!([]));
    assert_eq!(r.body["max_tries"], 0);
    let execution = r.refreshed.expect("/run with a workload token swaps it");
    let c = verified(&execution);
    assert_eq!(c["scope"], "execution");
    assert_eq!(c["sub"], id.to_string());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    // The swap continues the workload token's chain (issue 18): its id, and
    // its start, from which the maximum session age counts.
    let w = verified(&workload);
    assert_eq!(c[scopegate::CHAIN_CLAIM], w[scopegate::CHAIN_CLAIM]);
    assert_eq!(c[scopegate::SESSION_START_CLAIM], w["iat"]);
    assert_ne!(c["jti"], w["jti"]);
    assert_eq!(h.state(id), Some(TiState::Running));

    // Heartbeats with the execution token; a fresh token is not refreshed.
    let r = h
        .call(
            "PUT",
            &format!("{ti}/heartbeat"),
            Some(&execution),
            Some(beat(7)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.refreshed, None);

    let r = h
        .call(
            "PATCH",
            &format!("{ti}/state"),
            Some(&execution),
            Some(success()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(h.state(id), Some(TiState::Success));
    // A retried update is idempotent, as in Airflow.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/state"),
            Some(&execution),
            Some(success()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // After success the worker is told to stop.
    let r = h
        .call(
            "PUT",
            &format!("{ti}/heartbeat"),
            Some(&execution),
            Some(beat(7)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["detail"]["reason"], "not_running");
    assert_eq!(r.body["detail"]["current_state"], "success");

    // And it cannot be started again.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/run"),
            Some(&workload),
            Some(run_body(7)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.body["detail"],
        json!({
            "reason": "invalid_state",
            "message": "TI was not in a state where it could be marked as running",
            "previous_state": "success",
        })
    );
    assert_eq!(r.refreshed, None, "a refused /run hands out no token");
    h.stop().await;
}

#[actix_web::test]
async fn run_with_an_execution_token_gets_no_swap() {
    let h = Harness::start().await;
    let (id, _) = h.queue();
    let token = execution_token(id, 600, 0, json!({}));
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{id}/run"),
            Some(&token),
            Some(run_body(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.refreshed, None);
    h.stop().await;
}

#[actix_web::test]
async fn near_expiry_execution_token_is_refreshed_with_its_extra_claims() {
    let h = Harness::start().await;
    // A running task instance's token (the server renews no other).
    let (sub, _) = h.running("etl/r1/extract").await;
    // 600 s lifetime, 20 s left: inside the max(20%, 30 s) window.
    let old = execution_token(sub, 600, 580, json!({"team": "blue", "ti_try": 3}));
    let r = h
        .call(
            "PUT",
            "/variables/greeting",
            Some(&old),
            Some(json!({"val": "hi"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let fresh = r.refreshed.expect("near-expiry token is refreshed");
    let c = verified(&fresh);
    assert_eq!(c["sub"], sub.to_string());
    assert_eq!(c["scope"], "execution");
    assert_eq!(c["team"], "blue");
    assert_eq!(c["ti_try"], 3);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    assert!(c["exp"].as_i64().unwrap() >= now() + 590);

    // The refreshed token works and is not refreshed again.
    let r = h
        .call("GET", "/variables/greeting", Some(&fresh), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"key": "greeting", "value": "hi"}));
    assert_eq!(r.refreshed, None);
    h.stop().await;
}

#[actix_web::test]
async fn long_lived_tokens_are_not_refreshed() {
    let h = Harness::start().await;
    // An hour-long execution token with 50 minutes left.
    let token = execution_token(Uuid::new_v4(), 3600, 600, json!({}));
    let r = h
        .call("GET", "/connections/example_http", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["conn_type"], "http");
    assert_eq!(r.refreshed, None);

    // A workload token is never refreshed, even with seconds left.
    let ct = Uuid::new_v4();
    let mut c = claims(ct, Some("workload"));
    c.insert("iat".into(), (now() - 590).into());
    c.insert("exp".into(), (now() + 10).into());
    let r = h
        .call(
            "GET",
            &format!("/connection-tests/{ct}/connection"),
            Some(&hs512(&c)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.refreshed, None);
    h.stop().await;
}

#[actix_web::test]
async fn workload_token_is_refused_on_heartbeat() {
    let h = Harness::start().await;
    let (id, workload) = h.queue();
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{id}/run"),
            Some(&workload),
            Some(run_body(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .call(
            "PUT",
            &format!("/task-instances/{id}/heartbeat"),
            Some(&workload),
            Some(beat(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"detail": "Token type 'workload' not allowed for this endpoint. Allowed types: execution"})
    );
    assert_eq!(
        r.www_authenticate.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="token:execution""#)
    );
    // Nor may it end the task, or read variables.
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{id}/state"),
            Some(&workload),
            Some(success()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(h.state(id), Some(TiState::Running));
    let r = h.call("GET", "/variables/x", Some(&workload), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    h.stop().await;
}

#[actix_web::test]
async fn one_tasks_token_is_refused_on_another_tasks_routes() {
    let h = Harness::start().await;
    let (mine, my_workload) = h.queue();
    let (other, _) = h.queue();
    let mine_exec = execution_token(mine, 600, 0, json!({}));
    let cases = [
        ("PATCH", "run", &my_workload, run_body(1)),
        ("PATCH", "run", &mine_exec, run_body(1)),
        ("PUT", "heartbeat", &mine_exec, beat(1)),
        ("PATCH", "state", &mine_exec, success()),
    ];
    for (method, action, token, body) in cases {
        let r = h
            .call(
                method,
                &format!("/task-instances/{other}/{action}"),
                Some(token),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {action}");
        assert_eq!(
            r.body,
            json!({"detail": "Token subject does not match task instance ID"})
        );
        assert_eq!(r.refreshed, None);
    }
    assert_eq!(h.state(other), Some(TiState::Queued));
    // The comparison is on parsed UUIDs: an upper-case path is the same task.
    let upper = mine.to_string().to_uppercase();
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{upper}/run"),
            Some(&my_workload),
            Some(run_body(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    h.stop().await;
}

#[actix_web::test]
async fn workload_only_route_refuses_an_execution_token() {
    let h = Harness::start().await;
    let ct = Uuid::new_v4();
    let path = format!("/connection-tests/{ct}/connection");
    let r = h
        .call(
            "GET",
            &path,
            Some(&execution_token(ct, 600, 0, json!({}))),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"detail": "Token type 'execution' not allowed for this endpoint. Allowed types: workload"})
    );
    assert_eq!(
        r.www_authenticate.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="token:workload""#)
    );
    // Another test's workload token is refused too (ct:self).
    let r = h
        .call(
            "GET",
            &path,
            Some(&hs512(&claims(Uuid::new_v4(), Some("workload")))),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"detail": "Token subject does not match connection test ID"})
    );
    // Its own workload token gets the credentials, once.
    let own = hs512(&claims(ct, Some("workload")));
    let r = h.call("GET", &path, Some(&own), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["conn_id"], "example_http");
    let r = h.call("GET", &path, Some(&own), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["detail"]["reason"], "conflict");
    h.stop().await;
}

#[actix_web::test]
async fn public_and_unknown_routes() {
    let h = Harness::start().await;
    let r = h.call("GET", "/health", None, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"status": "healthy"}))
    );
    let r = h.call("GET", "/no-such-route", None, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    let r = h.call("GET", "/variables/x", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"detail": "Missing auth token"}));
    assert_eq!(r.www_authenticate.as_deref(), Some("Bearer"));
    h.stop().await;
}

#[actix_web::test]
async fn wrong_method_on_a_known_path_is_405_with_allow() {
    // The example's groups are separate top-level groups in one
    // `web::scope("/execution")`: each answers 405 for its own paths.
    let h = Harness::start().await;
    for (method, path, allow) in [
        ("POST", "/variables/x", "DELETE, GET, PUT"),
        (
            "GET",
            "/task-instances/00000000-0000-0000-0000-000000000000/heartbeat",
            "PUT",
        ),
    ] {
        let mut res = h
            .client
            .request(
                awc::http::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", h.base),
            )
            .send()
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
        assert_eq!(
            (
                res.status(),
                res.headers().get("allow").map(|v| v.to_str().unwrap()),
                body
            ),
            (
                StatusCode::METHOD_NOT_ALLOWED,
                Some(allow),
                json!({"detail": "Method Not Allowed"})
            ),
            "{method} {path}"
        );
    }
    h.stop().await;
}

#[actix_web::test]
async fn bad_input_is_4xx_never_5xx() {
    let h = Harness::start().await;
    let (id, workload) = h.queue();
    let ti = format!("/task-instances/{id}");
    let exec = execution_token(id, 600, 0, json!({}));

    // Unknown task instance (its own token, so auth passes): 404.
    let ghost = Uuid::new_v4();
    let ghost_token = execution_token(ghost, 600, 0, json!({}));
    for (method, action, body) in [
        ("PATCH", "run", run_body(1)),
        ("PUT", "heartbeat", beat(1)),
        ("PATCH", "state", success()),
    ] {
        let r = h
            .call(
                method,
                &format!("/task-instances/{ghost}/{action}"),
                Some(&ghost_token),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
        assert_eq!(
            r.body["detail"],
            json!({"reason": "not_found", "message": "Task Instance not found"})
        );
    }

    // Bodies that do not validate: 422 in FastAPI's shape.
    let bad_bodies = [
        (
            "PATCH",
            "run",
            json!({"hostname": "h", "unixname": "u", "pid": 1}),
        ),
        (
            "PATCH",
            "run",
            json!({"hostname": "h", "unixname": "u", "pid": "one", "start_date": "2026-01-01T00:00:00Z"}),
        ),
        (
            "PATCH",
            "run",
            json!({"state": "queued", "hostname": "h", "unixname": "u", "pid": 1, "start_date": "2026-01-01T00:00:00Z"}),
        ),
        (
            "PATCH",
            "run",
            json!({"hostname": "h", "unixname": "u", "pid": 1, "start_date": "2026-01-01T00:00:00"}),
        ),
        (
            "PUT",
            "heartbeat",
            json!({"hostname": "h", "pid": 1, "extra": true}),
        ),
        ("PUT", "heartbeat", json!([1, 2])),
        (
            "PATCH",
            "state",
            json!({"state": "deferred", "end_date": "2026-01-01T00:00:00Z"}),
        ),
        (
            "PATCH",
            "state",
            json!({"state": "success", "end_date": "not a date"}),
        ),
        (
            "PATCH",
            "state",
            json!({"end_date": "2026-01-01T00:00:00Z"}),
        ),
    ];
    for (method, action, body) in bad_bodies {
        let token = if action == "run" { &workload } else { &exec };
        let r = h
            .call(
                method,
                &format!("{ti}/{action}"),
                Some(token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{action} {body}"
        );
        assert_eq!(
            r.body["detail"][0]["loc"],
            json!(["body"]),
            "{action} {body}"
        );
        assert_eq!(r.refreshed, None, "no token for a refused /run");
    }
    // Not JSON at all.
    let r = h
        .client
        .put(format!("{}{ti}/heartbeat", h.base))
        .bearer_auth(&exec)
        .content_type("application/json")
        .send_body("{not json")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call("PUT", "/variables/k", Some(&exec), Some(json!({"v": "v"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.call("GET", "/variables/missing", Some(&exec), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"],
        json!({"reason": "not_found", "message": "Variable with key 'missing' not found"})
    );
    let r = h
        .call("GET", "/connections/missing", Some(&exec), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A state change before the run started is a conflict.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/state"),
            Some(&exec),
            Some(success()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["detail"]["previous_state"], "queued");
    // After all that, the task instance is untouched.
    assert_eq!(h.state(id), Some(TiState::Queued));
    h.stop().await;
}

#[actix_web::test]
async fn one_signature_check_per_request() {
    let h = Harness::start().await;
    let (id, workload) = h.queue();
    let before = h.services.verifier.verifications();
    // Enforcement, the TiToken extractor and the refresh middleware all read
    // the token of this request.
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{id}/run"),
            Some(&workload),
            Some(run_body(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.services.verifier.verifications() - before, 1);
    h.stop().await;
}

/// A key pair signer from `tests/keys/`.
fn private_key(name: &str) -> Keys {
    Keys::PrivateKey(Box::new(
        keys::private_key_from_pem(&key_file(name)).unwrap(),
    ))
}

/// The raw Ed25519 public key of a SubjectPublicKeyInfo PEM (its last 32
/// bytes), base64url as in a JWK: computed independently of the server.
fn ed25519_x(public_pem: &[u8]) -> String {
    use base64::Engine as _;
    let text = std::str::from_utf8(public_pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der[der.len() - 32..])
}

#[actix_web::test]
async fn ed25519_server_publishes_its_public_key_and_verifies_with_it() {
    let h = Harness::start_with(&AuthConfig::new(
        private_key("ed25519_private.pem"),
        AUDIENCE,
    ))
    .await;

    // Its JWKS: the public half of the key, nothing private, kid = thumbprint.
    let r = h.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let keys = r.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{}", r.body);
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["x"], ed25519_x(&key_file("ed25519_public.pem")));
    assert!(jwk.get("d").is_none(), "private key published: {jwk}");
    assert_eq!(jwk["kid"], h.services.issuer.kid());

    // The tokens it mints are EdDSA, verify with the public key on file, and
    // drive the task through the server.
    let (id, workload) = h.queue();
    let header = jsonwebtoken::decode_header(&workload).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(h.services.issuer.kid()));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    let public = DecodingKey::from_ed_pem(&key_file("ed25519_public.pem")).unwrap();
    decode::<Value>(&workload, &public, &validation).unwrap();

    let ti = format!("/task-instances/{id}");
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/run"),
            Some(&workload),
            Some(run_body(3)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let execution = r.refreshed.expect("the workload token is swapped");
    let r = h
        .call(
            "PUT",
            &format!("{ti}/heartbeat"),
            Some(&execution),
            Some(beat(3)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // An HS512 token made with some secret is refused: no algorithm confusion.
    let r = h
        .call("GET", "/variables/x", Some(&hs512(&claims(id, None))), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    h.stop().await;
}

#[actix_web::test]
async fn a_shared_secret_is_never_published() {
    let h = Harness::start().await;
    let r = h.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"keys": []})));
    h.stop().await;
}

#[actix_web::test]
async fn jwks_url_server_accepts_the_other_servers_tokens() {
    // A signs with an RSA key pair and publishes its JWKS.
    let a = Harness::start_with(&AuthConfig::new(private_key("rsa_private.pem"), AUDIENCE)).await;
    // B verifies with A's JWKS, fetched over HTTP, and holds no key of A's.
    let b = Harness::start_with(&AuthConfig {
        jwks: Some(scopegate::JwksSource::parse(&format!(
            "{}/.well-known/jwks.json",
            a.base
        ))),
        ..AuthConfig::new(
            Keys::Secret("b's own secret, of 64 bytes or more, as RFC 7518 asks of HS512!!".into()),
            AUDIENCE,
        )
    })
    .await;

    let sub = Uuid::new_v4();
    let token = a.services.issuer.issue(sub, TokenType::EXECUTION).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().alg,
        Algorithm::RS512
    );
    let body = json!({"val": "from-a", "description": null});
    let r = b
        .call("PUT", "/variables/k", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = b.call("GET", "/variables/k", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["value"], "from-a");

    // A key the JWKS does not hold, and B's own secret, are refused.
    let other = AuthConfig::new(private_key("ed25519_b_private.pem"), AUDIENCE);
    let foreign = other
        .issuer()
        .unwrap()
        .issue(sub, TokenType::EXECUTION)
        .unwrap();
    let own = b.services.issuer.issue(sub, TokenType::EXECUTION).unwrap();
    for refused in [foreign, own] {
        let r = b.call("GET", "/variables/k", Some(&refused), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert!(r.www_authenticate.unwrap().contains("invalid_token"));
    }
    b.stop().await;
    a.stop().await;
}

#[test]
fn private_keys_are_recognised_by_their_pem() {
    for (file, alg) in [
        ("rsa_private.pem", Algorithm::RS512),
        ("ed25519_private.pem", Algorithm::EdDSA),
        ("ed25519_b_private.pem", Algorithm::EdDSA),
    ] {
        let key = keys::private_key_from_pem(&key_file(file)).unwrap();
        assert_eq!(key.algorithm(), alg, "{file}");
        // The derived public key verifies what the private key signs.
        let issuer = AuthConfig::new(Keys::PrivateKey(Box::new(key.clone())), AUDIENCE)
            .issuer()
            .unwrap();
        let token = issuer.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
        let verifier = scopegate::Verifier::builder(keys::public_key(&key).unwrap())
            .audience(AUDIENCE)
            .build()
            .unwrap();
        verifier.verify(&token).unwrap();
    }
    for (file, why) in [
        ("ec_p256_private.pem", "EC private key"),
        ("rsa_public.pem", "not an RSA or Ed25519 private key"),
        ("ed25519_public.pem", "not an RSA or Ed25519 private key"),
    ] {
        let err = keys::private_key_from_pem(&key_file(file)).unwrap_err();
        assert!(err.contains(why), "{file}: {err}");
    }
    let err = keys::private_key_from_pem(b"").unwrap_err();
    assert!(err.contains("PEM"), "{err}");
}

/// An execution token for any task, as reads of variables, XComs and runs
/// need.
fn reader() -> String {
    execution_token(Uuid::new_v4(), 600, 0, json!({}))
}

#[actix_web::test]
async fn xcom_routes_answer_like_airflow() {
    let h = Harness::start().await;
    h.queue_task("etl/r1/extract");
    let t = reader();
    let x = "/xcoms/etl/r1/extract/return_value";

    // A value needs its run: Airflow's 404 with a plain-string detail.
    let r = h
        .call(
            "POST",
            "/xcoms/etl/nope/extract/k",
            Some(&t),
            Some(json!(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"],
        "DAG run not found on DAG 'etl' with ID 'nope'"
    );

    for i in 0..3 {
        let r = h
            .call(
                "POST",
                &format!("{x}?map_index={i}"),
                Some(&t),
                Some(json!({"i": i})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body, json!({"message": "XCom successfully set"}));
    }
    let r = h.call("HEAD", x, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_range.as_deref(), Some("map_indexes 3"));
    let r = h
        .call("HEAD", &format!("{x}?map_index=1"), Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = h.call("GET", &format!("{x}/item/-1"), Some(&t), None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"i": 2})));
    let r = h.call("GET", &format!("{x}/item/7"), Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["detail"]["reason"], "not_found");
    let r = h
        .call("GET", &format!("{x}/item/one"), Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call("GET", &format!("{x}/slice?start=-2"), Some(&t), None)
        .await;
    assert_eq!(r.body, json!([{"i": 1}, {"i": 2}]));
    let r = h
        .call("GET", &format!("{x}/slice?step=two"), Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "step"]));

    let r = h
        .call("GET", &format!("{x}?map_index=1"), Some(&t), None)
        .await;
    assert_eq!(r.body, json!({"key": "return_value", "value": {"i": 1}}));
    let r = h.call("GET", x, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no unmapped value");
    let r = h
        .call("DELETE", &format!("{x}?map_index=0"), Some(&t), None)
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::OK,
            json!({"message": "XCom with key: return_value successfully deleted."})
        )
    );
    let r = h.call("HEAD", x, Some(&t), None).await;
    assert_eq!(r.content_range.as_deref(), Some("map_indexes 2"));

    let r = h
        .call(
            "POST",
            &format!("{x}?mapped_length=5000"),
            Some(&t),
            Some(json!([])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["detail"]["reason"], "unmappable_return_value_length");
    let bad = h
        .client
        .post(format!("{}{x}", h.base))
        .bearer_auth(&t)
        .content_type("application/json")
        .send_body("{not json")
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    h.stop().await;
}

#[actix_web::test]
async fn dag_and_dag_run_routes_answer_like_airflow() {
    let h = Harness::start().await;
    let (id, _) = h.queue_task("etl/r1/extract");
    let t = reader();

    let r = h.call("GET", "/dags/etl", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (&r.body["dag_id"], &r.body["tags"]),
        (&json!("etl"), &json!([]))
    );
    let r = h.call("GET", "/dags/nope", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = h.call("GET", "/dag-runs/etl/r1", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["state"], &r.body["run_type"]),
        (&json!("running"), &json!("manual"))
    );
    let r = h
        .call("GET", "/dag-runs/etl/r1/state", Some(&t), None)
        .await;
    assert_eq!(r.body, json!({"state": "running"}));
    let r = h.call("GET", "/dag-runs/etl/nope", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"]["message"],
        "Dag run with dag_id 'etl' and run_id 'nope' was not found"
    );

    // Triggering: a known DAG, a new run id, an object conf.
    let trigger = |dag: &'static str, body: Value| {
        let path = format!("/dag-runs/{dag}/t1");
        let token = execution_token(id, 600, 0, json!({}));
        let h = &h;
        async move { h.call("POST", &path, Some(&token), Some(body)).await }
    };
    assert_eq!(
        trigger("etl", json!({"conf": {"a": 1}})).await.status,
        StatusCode::NO_CONTENT
    );
    let again = trigger("etl", json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["detail"]["reason"], "already_exists");
    assert_eq!(
        trigger("nope", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        trigger("etl", json!({"conf": null})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = h.call("GET", "/dag-runs/etl/t1", Some(&t), None).await;
    assert_eq!(
        (&r.body["state"], &r.body["run_type"], &r.body["conf"]),
        (
            &json!("queued"),
            &json!("operator_triggered"),
            &json!({"a": 1})
        )
    );

    let r = h
        .call(
            "GET",
            "/dag-runs/count?dag_id=etl&states=queued",
            Some(&t),
            None,
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!(1)));
    let r = h.call("GET", "/dag-runs/count", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["query", "dag_id"]));
    let r = h
        .call(
            "GET",
            "/dag-runs/previous?dag_id=etl&logical_date=2999-01-01T00:00:00Z",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.body["run_id"], "r1", "t1 has no logical date");
    let r = h
        .call("GET", "/dag-runs/previous?dag_id=etl", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "GET",
            "/dag-runs/previous?dag_id=etl&logical_date=2000-01-01T00:00:00Z",
            Some(&t),
            None,
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, Value::Null));

    // Clearing: the run is queued again, its task instances lose their state.
    let r = h
        .call("POST", "/dag-runs/etl/r1/clear", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h.call("GET", "/dag-runs/etl/r1", Some(&t), None).await;
    assert_eq!(
        (&r.body["state"], &r.body["clear_number"]),
        (&json!("queued"), &json!(1))
    );
    assert_eq!(h.state(id), None);
    let r = h
        .call("POST", "/dag-runs/etl/nope/clear", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    h.stop().await;
}

#[actix_web::test]
async fn task_instance_routes_answer_like_airflow() {
    let h = Harness::start().await;
    let (id, exec) = h.running("etl/r1/extract").await;
    let (other, _) = h.queue_task("etl/r1/load");
    let ti = format!("/task-instances/{id}");

    let r = h
        .call(
            "PUT",
            &format!("{ti}/rtif"),
            Some(&exec),
            Some(json!({"cmd": "echo hi"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.body["message"],
        "Rendered task instance fields successfully set"
    );
    let r = h
        .call(
            "PUT",
            &format!("{ti}/rtif"),
            Some(&exec),
            Some(json!(["not", "a", "dict"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/rendered-map-index"),
            Some(&exec),
            Some(json!("label")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/rendered-map-index"),
            Some(&exec),
            Some(json!("")),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": "rendered_map_index cannot be empty"})
        )
    );
    let r = h
        .call(
            "GET",
            &format!("{ti}/previous-successful-dagrun"),
            Some(&exec),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data_interval_start": null, "data_interval_end": null, "start_date": null, "end_date": null})
    );
    let r = h
        .call(
            "GET",
            &format!("{ti}/validate-inlets-and-outlets"),
            Some(&exec),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"inactive_assets": []}));
    let r = h
        .call(
            "GET",
            &format!("/task-reschedules/{id}/start_date"),
            Some(&exec),
            None,
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, Value::Null));

    // Queries about the DAG's task instances, for any execution token.
    let t = reader();
    let r = h
        .call(
            "GET",
            "/task-instances/count?dag_id=etl&states=running",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.body, json!(1));
    let r = h
        .call(
            "GET",
            "/task-instances/states?dag_id=etl&task_ids=load",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"task_states": {"r1": {"load": "queued"}}}));
    let r = h
        .call(
            "GET",
            "/task-instances/breadcrumbs?dag_id=etl",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "GET",
            "/task-instances/previous/etl/extract?state=bogus",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "GET",
            "/task-instances/previous/etl/extract",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        (&r.body["run_id"], &r.body["state"]),
        (&json!("r1"), &json!("running"))
    );

    // The short circuit: the downstream task is skipped.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/skip-downstream"),
            Some(&exec),
            Some(json!({"tasks": ["load"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.state(other), Some(TiState::Skipped));

    // Deferral parks the task; the worker's heartbeat is then told to stop.
    let r = h
        .call(
            "PATCH",
            &format!("{ti}/state"),
            Some(&exec),
            Some(json!({"state": "deferred", "classpath": "a.Trigger", "next_method": "resume"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = h
        .call(
            "PUT",
            &format!("{ti}/heartbeat"),
            Some(&exec),
            Some(beat(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["detail"]["current_state"], "deferred");

    // Every one of these routes belongs to its task instance only.
    let foreign = execution_token(other, 600, 0, json!({}));
    for (method, path) in [
        ("PUT", format!("{ti}/rtif")),
        ("GET", format!("/task-reschedules/{id}/start_date")),
        ("GET", format!("/hitlDetails/{id}")),
        ("GET", format!("/store/ti/{id}/k")),
        ("DELETE", format!("/store/ti/{id}")),
    ] {
        let body = (method == "PUT").then(|| json!({}));
        let r = h.call(method, &path, Some(&foreign), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    h.stop().await;
}

#[actix_web::test]
async fn hitl_and_state_store_routes_answer_like_airflow() {
    let h = Harness::start().await;
    let (id, exec) = h.running("etl/r1/approve").await;
    let hitl = format!("/hitlDetails/{id}");

    let r = h.call("GET", &hitl, Some(&exec), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let ask = |options: Value| json!({"ti_id": id, "options": options, "subject": "Ship it?", "type": "CreateHITLDetailPayload"});
    let r = h
        .call("POST", &hitl, Some(&exec), Some(ask(json!([]))))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "options"]));
    let r = h
        .call("POST", &hitl, Some(&exec), Some(ask(json!(["yes", "no"]))))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (&r.body["subject"], &r.body["multiple"]),
        (&json!("Ship it?"), &json!(false))
    );
    let answer = json!({"ti_id": id, "chosen_options": ["yes"], "params_input": {"why": "tested"}});
    let r = h
        .call("PATCH", &hitl, Some(&exec), Some(answer.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["response_received"], &r.body["chosen_options"]),
        (&json!(true), &json!(["yes"]))
    );
    let r = h.call("PATCH", &hitl, Some(&exec), Some(answer)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"].is_string(), "{}", r.body);
    let r = h.call("GET", &hitl, Some(&exec), None).await;
    assert_eq!(r.body["params_input"], json!({"why": "tested"}));

    let store = format!("/store/ti/{id}");
    let r = h
        .call("GET", &format!("{store}/job"), Some(&exec), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .call(
            "PUT",
            &format!("{store}/job"),
            Some(&exec),
            Some(json!({"value": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "PUT",
            &format!("{store}/job"),
            Some(&exec),
            Some(json!({"value": {"id": 7}, "expires_at": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // A key with a slash, percent-encoded as the SDK sends it.
    let r = h
        .call(
            "PUT",
            &format!("{store}/a%2Fb"),
            Some(&exec),
            Some(json!({"value": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = h
        .call("GET", &format!("{store}/job"), Some(&exec), None)
        .await;
    assert_eq!(r.body, json!({"value": {"id": 7}}));
    let r = h
        .call("DELETE", &format!("{store}/job"), Some(&exec), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h.call("DELETE", &store, Some(&exec), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h
        .call("GET", &format!("{store}/a%2Fb"), Some(&exec), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Assets are learnt from outlets; none yet.
    let t = reader();
    let r = h
        .call(
            "GET",
            "/store/asset/by-name/value?name=orders&key=k",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["detail"]["message"],
        "Asset with name='orders' not found"
    );
    let r = h
        .call(
            "GET",
            "/store/asset/by-uri/value?uri=s3%3A%2F%2Fb",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "key is required"
    );
    let r = h
        .call("GET", "/assets/by-name?name=orders", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .call("GET", "/assets/by-alias?alias_name=x", Some(&t), None)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!([])));
    let r = h
        .call("GET", "/asset-events/by-asset?name=&uri=", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h
        .call("GET", "/asset-events/by-asset-alias?name=x", Some(&t), None)
        .await;
    assert_eq!(r.body, json!({"asset_events": []}));

    // A success with an outlet makes the asset known, with its event.
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{id}/state"),
            Some(&exec),
            Some(json!({
                "state": "success", "end_date": "2026-01-01T00:00:00Z",
                "task_outlets": [{"name": "orders", "uri": "s3://b/orders", "type": "Asset"}],
                "outlet_events": []
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = h
        .call("GET", "/assets/by-name?name=orders", Some(&t), None)
        .await;
    assert_eq!(
        r.body,
        json!({"name": "orders", "uri": "s3://b/orders", "group": "asset", "extra": {}})
    );
    let r = h
        .call(
            "PUT",
            "/store/asset/by-name/value?name=orders&key=k",
            Some(&exec),
            Some(json!({"value": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = h
        .call(
            "DELETE",
            "/store/asset/by-uri/clear?uri=s3%3A%2F%2Fb%2Forders",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    h.stop().await;
}

#[actix_web::test]
async fn connection_tests_report_their_result_once() {
    let h = Harness::start().await;
    let ct = Uuid::new_v4();
    let own = hs512(&claims(ct, Some("workload")));
    let path = format!("/connection-tests/{ct}");
    let r = h
        .call(
            "PATCH",
            &path,
            Some(&own),
            Some(json!({"state": "running"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h
        .call(
            "PATCH",
            &path,
            Some(&own),
            Some(json!({"state": "success", "result_message": "ok"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = h
        .call("PATCH", &path, Some(&own), Some(json!({"state": "failed"})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = h
        .call("GET", &format!("{path}/connection"), Some(&own), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"]["message"]
        .as_str()
        .unwrap()
        .contains("is in state success"));
    // Execution tokens are refused here.
    let r = h
        .call(
            "PATCH",
            &path,
            Some(&execution_token(ct, 600, 0, json!({}))),
            Some(json!({"state": "failed"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    h.stop().await;
}

#[actix_web::test]
async fn health_ping_and_variable_keys() {
    let h = Harness::start().await;
    let r = h.call("GET", "/health/ping", None, None).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::OK,
            json!({"ok": ["scopegate.Verifier"], "failing": {}})
        )
    );
    let t = reader();
    for key in ["b.two", "a", "b.one"] {
        let r = h
            .call(
                "PUT",
                &format!("/variables/{key}"),
                Some(&t),
                Some(json!({"value": key})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = h
        .call(
            "GET",
            "/variables/keys?prefix=b.&limit=1&offset=1",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"keys": ["b.two"], "total_entries": 2}));
    let r = h.call("GET", "/variables/keys", Some(&t), None).await;
    assert_eq!(r.body["keys"], json!(["a", "b.one", "b.two"]));
    let r = h
        .call("GET", "/variables/keys?limit=0", Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A variable named `keys` is still a variable for the other methods.
    let r = h
        .call(
            "PUT",
            "/variables/keys",
            Some(&t),
            Some(json!({"val": "k"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h.call("GET", "/variables/a", Some(&t), None).await;
    assert_eq!(r.body, json!({"key": "a", "value": "a"}));
    h.stop().await;
}

/// Issue 22, item 3: the 12 operations Airflow declares with `{key:path}`
/// take keys with `/` (SPEC §2, §5 "Keys with slashes"), raw as the task
/// SDK sends variable and XCom keys, or percent-encoded as it sends
/// task-state keys; both reach the handler as the same key. Literal routes
/// declared first still win (`GET /variables/keys`, `.../item/<offset>`,
/// `.../slice`), as in Airflow, and an encoded `%2F` keeps a key that
/// ends in `/item/3` whole.
#[actix_web::test]
async fn keys_with_slashes_reach_their_routes_over_tcp() {
    let h = Harness::start().await;
    let t = reader();

    // Variables: GET, PUT, DELETE.
    let v = "/variables/team/db/password";
    let r = h
        .call("PUT", v, Some(&t), Some(json!({"val": "s3cret"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let want = json!({"key": "team/db/password", "value": "s3cret"});
    let r = h.call("GET", v, Some(&t), None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, want.clone()));
    let r = h
        .call("GET", "/variables/team%2Fdb%2Fpassword", Some(&t), None)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, want));
    let r = h.call("GET", "/variables/team/db", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // `/variables/keys` is still the keys route, declared first; PUT on it
    // is the variable route (a variable named `keys`), not a 405.
    let r = h.call("GET", "/variables/keys", Some(&t), None).await;
    assert_eq!(r.body["keys"], json!(["team/db/password"]));
    let r = h
        .call(
            "PUT",
            "/variables/keys",
            Some(&t),
            Some(json!({"val": "k"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h.call("GET", "/variables/keys", Some(&t), None).await;
    assert_eq!(r.body["keys"], json!(["keys", "team/db/password"]));
    // A key is never empty; a method no route has is 405 with its Allow.
    let r = h.call("GET", "/variables/", Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.call("PATCH", v, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = h.call("DELETE", v, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h.call("GET", v, Some(&t), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // No token, no key: the policy still runs first.
    let r = h.call("GET", v, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // XComs: HEAD, GET, POST, DELETE, item, slice.
    h.queue_task("etl/r1/extract");
    let x = "/xcoms/etl/r1/extract";
    for i in 0..2 {
        let r = h
            .call(
                "POST",
                &format!("{x}/parts/a?map_index={i}"),
                Some(&t),
                Some(json!({"i": i})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = h
        .call("HEAD", &format!("{x}/parts/a"), Some(&t), None)
        .await;
    assert_eq!(r.content_range.as_deref(), Some("map_indexes 2"));
    let r = h
        .call("GET", &format!("{x}/parts/a?map_index=1"), Some(&t), None)
        .await;
    assert_eq!(r.body, json!({"key": "parts/a", "value": {"i": 1}}));
    let r = h
        .call("GET", &format!("{x}/parts/a/item/1"), Some(&t), None)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"i": 1})));
    let r = h
        .call("GET", &format!("{x}/parts/a/slice"), Some(&t), None)
        .await;
    assert_eq!(r.body, json!([{"i": 0}, {"i": 1}]));
    let r = h
        .call(
            "DELETE",
            &format!("{x}/parts/a?map_index=0"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"message": "XCom with key: parts/a successfully deleted."})
    );
    let r = h
        .call("HEAD", &format!("{x}/parts/a"), Some(&t), None)
        .await;
    assert_eq!(r.content_range.as_deref(), Some("map_indexes 1"));

    // A key ending in `/item/3`: POST reaches the XCom route (the item
    // route is GET only); a GET of the raw path is the item route, first
    // declared, for the key `k` (Airflow's order); the encoded key is the
    // XCom itself.
    let r = h
        .call("POST", &format!("{x}/k/item/3"), Some(&t), Some(json!("x")))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .call(
            "POST",
            &format!("{x}/k?map_index=3"),
            Some(&t),
            Some(json!("k3")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .call("GET", &format!("{x}/k/item/0"), Some(&t), None)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!("k3")));
    let r = h
        .call("GET", &format!("{x}/k/item/3"), Some(&t), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "offset 3 of the key `k`");
    let r = h
        .call("GET", &format!("{x}/k%2Fitem%2F3"), Some(&t), None)
        .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"key": "k/item/3", "value": "x"}))
    );
    let r = h
        .call("GET", &format!("{x}/k/item/3/item/0"), Some(&t), None)
        .await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!("x")));
    // Likewise a key ending in `/slice`.
    let r = h
        .call("POST", &format!("{x}/s/slice"), Some(&t), Some(json!("y")))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = h.call("GET", &format!("{x}/s/slice"), Some(&t), None).await;
    assert_eq!(r.body, json!([]), "the slice of the key `s`");
    let r = h
        .call("GET", &format!("{x}/s%2Fslice"), Some(&t), None)
        .await;
    assert_eq!(r.body, json!({"key": "s/slice", "value": "y"}));
    let r = h.call("PUT", &format!("{x}/s/slice"), Some(&t), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);

    // The task state store: GET, PUT, DELETE, under `ti:self`.
    let (id, exec) = h.running("etl/r1/load").await;
    let store = format!("/store/ti/{id}");
    let r = h
        .call(
            "PUT",
            &format!("{store}/team/cursor"),
            Some(&exec),
            Some(json!({"value": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    for path in ["team/cursor", "team%2Fcursor"] {
        let r = h
            .call("GET", &format!("{store}/{path}"), Some(&exec), None)
            .await;
        assert_eq!((r.status, r.body), (StatusCode::OK, json!({"value": 5})));
    }
    let other = execution_token(Uuid::new_v4(), 600, 0, json!({}));
    let r = h
        .call("GET", &format!("{store}/team/cursor"), Some(&other), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"detail": "Token subject does not match task instance ID"})
    );
    let r = h
        .call(
            "DELETE",
            &format!("{store}/team%2Fcursor"),
            Some(&exec),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h
        .call("GET", &format!("{store}/team/cursor"), Some(&exec), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    h.stop().await;
}

/// Issue 22, item 5: the docs page is served with its viewer's files by the
/// example itself (Swagger UI, pinned), under a Content-Security-Policy of
/// its own origin, configured so that nothing comes from the query string
/// and no token is persisted; only the files the page loads are served.
/// (tests/interop/test_docs_page.py opens it in a browser.)
#[actix_web::test]
async fn the_docs_page_serves_its_own_files_under_its_own_origin() {
    let h = Harness::start().await;
    let get = |path: &str| {
        let url = format!("{}{path}", h.base);
        let client = h.client.clone();
        async move {
            let mut res = client.get(url).send().await.expect("request");
            let body = res.body().limit(4 << 20).await.expect("body");
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            (
                res.status(),
                header("content-type"),
                header("content-security-policy"),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
    };
    let (status, ty, csp, page) = get("/docs").await;
    assert_eq!(
        (status, ty.as_str()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    assert!(
        !page.contains("http"),
        "the page names no other origin: {page}"
    );
    let scripts: Vec<&str> = page
        .match_indices("<script")
        .map(|(i, _)| &page[i..])
        .collect();
    assert_eq!(scripts.len(), 3);
    assert!(scripts.iter().all(|s| s.starts_with("<script src=\"docs/")));
    for link in [
        "docs/swagger-ui.css",
        "docs/swagger-ui-bundle.js",
        "docs/swagger-initializer.js",
    ] {
        assert!(page.contains(link), "{link}");
    }

    let (status, ty, csp_js, bundle) = get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ty.contains("javascript"), "{ty}");
    assert_eq!(csp_js, csp);
    // The pinned version: Swagger UI 5.32.6, from utoipa-swagger-ui-vendored.
    assert!(bundle.contains("PACKAGE_VERSION:\"5.32.6\""));
    let (_, ty, _, _) = get("/docs/swagger-ui.css").await;
    assert_eq!(ty, "text/css");

    let (status, _, _, init) = get("/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    for setting in [
        r#""url": "openapi.json""#,
        r#""queryConfigEnabled": false"#,
        r#""validatorUrl": "none""#,
        r#""persistAuthorization": false"#,
        r#""layout": "BaseLayout""#,
    ] {
        assert!(init.contains(setting), "{setting} in {init}");
    }
    assert!(
        !init.contains("configUrl") && !init.contains("http"),
        "{init}"
    );

    // Swagger UI's other files, and anything else, are not served.
    for other in [
        "oauth2-redirect.html",
        "index.html",
        "swagger-ui.js",
        "..%2Fopenapi.json",
        "nope.js",
    ] {
        let (status, ..) = get(&format!("/docs/{other}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
    let (status, ..) = get("/docs/a/b").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

/// Issue 9, item 7: the secret `serve` makes up when given none has 256
/// random bits: 64 hex digits, none of them fixed (two v4 UUIDs had 244,
/// with a version digit that is always `4` and a variant digit that is one
/// of four values). Over 200 secrets, every position takes more than four
/// values; a truly random digit fails that with probability below 1e-90.
#[test]
fn the_random_secret_has_256_random_bits() {
    let secrets: Vec<String> = (0..200).map(|_| keys::random_secret()).collect();
    for s in &secrets {
        assert_eq!(s.len(), 64, "{s}");
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()), "{s}");
    }
    for i in 0..64 {
        let values: std::collections::HashSet<u8> =
            secrets.iter().map(|s| s.as_bytes()[i]).collect();
        assert!(values.len() > 4, "hex digit {i} takes only {values:?}");
    }
}

/// Issue 9, item 7, and issue 18, finding 4: `serve --secret` shorter than
/// HS512's hash (64 bytes, RFC 7518 §3.2) exits non-zero and says so, and
/// how to opt in; with the opt-in it starts, and so it does with 64 bytes.
#[test]
fn serve_refuses_a_short_secret_and_says_how_to_opt_in() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    // Whether the server printed its `listening` line, whether it exited
    // successfully, and its stderr.
    let binary = common::example_binary();
    let run = |extra: &[&str]| {
        let mut child = Command::new(&binary)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .env_remove("SCOPEGATE_JWT_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // A refused start exits at once (end of stdout, an empty line).
        let first = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        (
            first.contains("listening"),
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // 40 bytes: more than HS256 needs, less than HS512's 64 (RFC 7518
    // §3.2), the example's algorithm, as Airflow's.
    let forty = "0123456789abcdef0123456789abcdef01234567";
    let sixty_four = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_eq!((forty.len(), sixty_four.len()), (40, 64));
    let (listening, success, stderr) = run(&["--secret", forty]);
    assert!(!listening && !success, "the server started: {stderr}");
    assert!(
        stderr.contains("40 bytes")
            && stderr.contains("HS512 needs at least 64 bytes")
            && stderr.contains("RFC 7518")
            && stderr.contains("--allow-short-secret"),
        "{stderr}"
    );
    // An existing deployment opts in explicitly.
    let (listening, _, stderr) = run(&["--secret", forty, "--allow-short-secret"]);
    assert!(
        listening,
        "with --allow-short-secret it must serve: {stderr}"
    );
    // 64 bytes is enough.
    let (listening, _, stderr) = run(&["--secret", sixty_four]);
    assert!(listening, "a 64-byte secret must serve: {stderr}");
}

/// Issue 18, finding 1: a task instance that reported a terminal state
/// gets no fresh token from any route, however close its token is to
/// expiry (Airflow #73303); a running task still does. The veto runs after
/// the handler, so the state that counts is the one the request left.
#[actix_web::test]
async fn a_finished_tasks_token_is_never_refreshed() {
    let h = Harness::start().await;
    let (done, _) = h.running("etl/r1/finished").await;
    let (running, _) = h.running("etl/r1/running").await;
    let near_expiry = |sub| execution_token(sub, 600, 580, json!({}));
    let r = h
        .call(
            "PATCH",
            &format!("/task-instances/{done}/state"),
            Some(&near_expiry(done)),
            Some(success()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.refreshed, None, "the request that finished the task");
    assert_eq!(h.state(done), Some(TiState::Success));
    // A 2xx route any execution token may call, again and again.
    for _ in 0..3 {
        let r = h
            .call("GET", "/variables/keys", Some(&near_expiry(done)), None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.refreshed, None, "a finished task's token was refreshed");
    }
    let r = h
        .call("GET", "/variables/keys", Some(&near_expiry(running)), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let fresh = r.refreshed.expect("a running task's token is refreshed");
    assert_eq!(verified(&fresh)["sub"], running.to_string());
    // A subject the server does not know is vetoed too.
    let r = h
        .call(
            "GET",
            "/variables/keys",
            Some(&near_expiry(Uuid::new_v4())),
            None,
        )
        .await;
    assert_eq!((r.status, r.refreshed), (StatusCode::OK, None));
    // Every other state ends the renewals as well.
    for state in ["failed", "skipped", "up_for_retry", "removed"] {
        let (id, _) = h.running(&format!("etl/r1/{state}")).await;
        let r = h
            .call(
                "PATCH",
                &format!("/task-instances/{id}/state"),
                Some(&near_expiry(id)),
                Some(json!({"state": state, "end_date": "2026-01-01T00:01:00Z"})),
            )
            .await;
        assert!(r.status.is_success(), "{state}: {} {}", r.status, r.body);
        let r = h
            .call("GET", "/variables/keys", Some(&near_expiry(id)), None)
            .await;
        assert_eq!((r.status, r.refreshed), (StatusCode::OK, None), "{state}");
    }
    h.stop().await;
}

/// Issue 18, finding 8: `/health/ping` does not sign a token per request.
/// Its probe is a token signed at most once per few seconds: a hundred
/// pings cost at most one signature check (the first verification of the
/// probe); the verified-token cache answers the others.
#[actix_web::test]
async fn health_ping_does_not_sign_a_token_per_request() {
    let h = Harness::start().await;
    let before = h.services.verifier.verifications();
    for _ in 0..100 {
        let r = h.call("GET", "/health/ping", None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let checks = h.services.verifier.verifications() - before;
    assert!(checks <= 2, "{checks} probes were signed and checked");
    h.stop().await;
}

/// Issue 18, finding 9: the bench server's unprotected twin of
/// `GET /variables/<variable_key>` lives in `bench/server.rs` only. Whatever
/// features this test is built with (run it with `--features bench` too),
/// the example's routes have no public route outside the known ones, and
/// the twin's path is unknown (404); no file of the example mentions the
/// `bench` feature.
#[actix_web::test]
async fn the_example_never_serves_the_bench_twin() {
    let public: Vec<&str> = routes::execution::ROUTES
        .iter()
        .filter(|r| r.policy.is_public())
        .map(|r| r.path)
        .collect();
    assert_eq!(
        public,
        [
            "/execution/.well-known/jwks.json",
            "/execution/openapi.json",
            "/execution/health",
            "/execution/health/ping",
            // The docs page and its own files (issue 22), declared last.
            "/execution/docs",
            "/execution/docs/<file>",
        ]
    );
    let h = Harness::start().await;
    let t = reader();
    let r = h
        .call(
            "PUT",
            "/variables/secret",
            Some(&t),
            Some(json!({"val": "s3cr3t"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for token in [None, Some(t.as_str())] {
        let r = h.call("GET", "/unguarded/secret", token, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    h.stop().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("examples/execution_api.rs")];
    let mut dirs = vec![root.join("examples/execution_api")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("feature = \"bench\""),
            "{} has code for the bench feature",
            file.display()
        );
    }
}

/// Issue 18, finding 3: values from the request that the example logs (a
/// hostname from `/run`'s body, XCom task ids and keys, variable and state
/// store keys, all percent-decoded from the path) cannot start a log line
/// of their own. The app runs on this thread, so its log is captured.
#[actix_web::test]
async fn request_values_cannot_forge_the_examples_log_lines() {
    use actix_web::test as atest;
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    let services = Services::load(&AuthConfig::new(Keys::Secret(secret), AUDIENCE))
        .await
        .unwrap();
    let app = atest::init_service(app::app(&services)).await;
    let id = services
        .store
        .queue_task(&"etl/r1/extract".parse().unwrap())
        .unwrap();
    let workload = services.issuer.issue(id, TokenType::WORKLOAD).unwrap();
    let (_guard, logs) = common::capture_logs();
    let forged = "1999-01-01T00:00:00.000000Z  INFO execution_api::access: response method=GET path=/execution/admin status=200";
    let evil = format!("w\n{forged}\r\u{85}\u{2028}\u{202e}\u{1b}[2K");
    let encoded: String = format!("k\n{forged}")
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let send = |method: &str, path: String, token: &str, body: Value| {
        atest::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&format!("/execution{path}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(body)
            .to_request()
    };
    let mut run = run_body(1);
    run["hostname"] = json!(evil);
    let res = atest::call_service(
        &app,
        send("PATCH", format!("/task-instances/{id}/run"), &workload, run),
    )
    .await;
    assert_eq!(res.status(), 200);
    let execution = res
        .headers()
        .get(REFRESHED_TOKEN_HEADER)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for (method, path, status) in [
        ("POST", format!("/xcoms/etl/r1/{encoded}/{encoded}"), 201),
        ("POST", format!("/xcoms/etl/r1/extract/{encoded}"), 201),
        ("PUT", format!("/variables/{encoded}"), 201),
        ("PUT", format!("/store/ti/{id}/{encoded}"), 204),
    ] {
        let body = if method == "PUT" && path.starts_with("/variables") {
            json!({"val": "v"})
        } else {
            json!({"value": "v"})
        };
        let res = atest::call_service(&app, send(method, path.clone(), &execution, body)).await;
        assert_eq!(res.status(), status, "{method} {path}");
    }
    let log = logs.text();
    assert!(
        log.contains("xcom set") && log.contains("variable set"),
        "{log}"
    );
    for line in log.lines() {
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()) && !line.starts_with("1999-"),
            "a line that is not an event of its own: {line:?}\n{log}"
        );
    }
    for c in ['\r', '\u{85}', '\u{2028}', '\u{202e}', '\u{1b}'] {
        assert!(!log.contains(c), "{c:?} reached the log: {log:?}");
    }
}

/// Issue 18, finding 7: every store a token writes to has caps on its
/// entries and bytes, and on the size of one value. A value over the value
/// cap is 413, a write to a full store 507, each with a message naming the
/// cap and its flag; a deleted value gives its room back.
#[actix_web::test]
async fn the_stores_are_bounded() {
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    let limits = state::Limits {
        max_value_bytes: 1000,
        max_entries: 3,
        max_bytes: 2500,
    };
    let h =
        Harness::start_with_limits(&AuthConfig::new(Keys::Secret(secret), AUDIENCE), limits).await;
    let (id, t) = h.running("etl/r1/extract").await;
    let big = "x".repeat(1001);
    let fits = "x".repeat(900);

    // One value too large, in each store: 413.
    for (method, path, body) in [
        ("PUT", "/variables/big".to_owned(), json!({"val": big})),
        ("POST", "/xcoms/etl/r1/extract/big".to_owned(), json!(big)),
        ("PUT", format!("/store/ti/{id}/big"), json!({"value": big})),
        (
            "PUT",
            format!("/task-instances/{id}/rtif"),
            json!({"f": big}),
        ),
    ] {
        let r = h.call(method, &path, Some(&t), Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.body
        );
        assert_eq!(r.body["detail"]["reason"], "too_large");
        let message = r.body["detail"]["message"].as_str().unwrap();
        assert!(
            message.contains("at most 1000 bytes") && message.contains("--max-value-bytes"),
            "{message}"
        );
    }

    // XComs: two values of ~900 bytes fit, a third passes 2500 bytes.
    let xcom = |i: usize| format!("/xcoms/etl/r1/extract/k{i}");
    for i in 0..2 {
        let r = h.call("POST", &xcom(i), Some(&t), Some(json!(fits))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = h.call("POST", &xcom(2), Some(&t), Some(json!(fits))).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    assert_eq!(r.body["detail"]["reason"], "store_full");
    let message = r.body["detail"]["message"].as_str().unwrap();
    assert!(
        message.contains("XCom store is full")
            && message.contains("2500 bytes (--store-max-bytes)"),
        "{message}"
    );
    // Replacing a value in place, and a small new one, still fit.
    let r = h.call("POST", &xcom(0), Some(&t), Some(json!(fits))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h.call("POST", &xcom(2), Some(&t), Some(json!(1))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A fourth entry passes the entries.
    let r = h.call("POST", &xcom(3), Some(&t), Some(json!(1))).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    assert!(r.body["detail"]["message"]
        .as_str()
        .unwrap()
        .contains("3 entries (--store-max-entries)"));
    // A deleted value gives its room back.
    let r = h.call("DELETE", &xcom(1), Some(&t), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h.call("POST", &xcom(3), Some(&t), Some(json!(fits))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Stored compact: the value reads back as it was sent.
    let r = h.call("GET", &xcom(3), Some(&t), None).await;
    assert_eq!(r.body["value"], json!(fits));

    // Variables have caps of their own.
    for i in 0..3 {
        let r = h
            .call(
                "PUT",
                &format!("/variables/v{i}"),
                Some(&t),
                Some(json!({"val": "v"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = h
        .call("PUT", "/variables/v3", Some(&t), Some(json!({"val": "v"})))
        .await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    h.stop().await;
}

/// The checked-in answers of every route (see
/// `every_route_answers_as_it_did`).
const WALK: &str = "tests/data/execution_api-walk.txt";

/// A value for each path parameter of the example's routes.
fn walk_value(param: &str, ti: Uuid, ct: Uuid) -> String {
    match param.split(':').next().unwrap_or(param) {
        "task_instance_id" => ti.to_string(),
        "connection_test_id" => ct.to_string(),
        "dag_id" => "walk_dag".into(),
        "run_id" => "manual__1".into(),
        "task_id" => "walk_task".into(),
        "offset" => "0".into(),
        other => format!("walk_{other}"),
    }
}

/// `path` (canonical, `<name>` parameters, under `/execution`) with every
/// parameter filled in, without the `/execution` prefix the harness adds.
fn walk_path(path: &str, ti: Uuid, ct: Uuid) -> String {
    let mut out = String::new();
    let mut rest = path.strip_prefix("/execution").unwrap();
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').unwrap() + open;
        out.push_str(&rest[..open]);
        out.push_str(&walk_value(&rest[open + 1..close], ti, ct));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// One call of the walk: the status as the walk records it (a 404 is
/// marked when it is the app's own answer to a path no route serves), and
/// the `Allow` header.
async fn walk_call(
    h: &Harness,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (String, String) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = h.client.request(method, format!("{}{path}", h.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let mut res = match body {
        Some(body) => req.send_json(&body).await,
        None => req.send().await,
    }
    .expect("request failed");
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = res.body().limit(1 << 22).await.unwrap();
    let unrouted = res.status() == StatusCode::NOT_FOUND
        && serde_json::from_slice::<Value>(&bytes).ok() == Some(json!({"detail": "Not Found"}));
    let status = format!(
        "{}{}",
        res.status().as_u16(),
        if unrouted { " (no route)" } else { "" }
    );
    (status, allow)
}

/// Every route of `ROUTES`, on a fresh server with one queued task
/// instance: its status with an invalid token, with a valid token of a type
/// it accepts (whose subject owns the path), and, for a method its path
/// does not declare, the 405 and its `Allow`. The table is checked in, so
/// any change to how the example's routes answer (routing included) shows
/// up as a diff of that file.
#[actix_web::test]
async fn every_route_answers_as_it_did() {
    let routes = routes::execution::ROUTES;
    let ct = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let mut lines = Vec::new();
    for info in routes {
        let h = Harness::start().await;
        let (ti, _) = h.queue_task("walk_dag/manual__1/walk_task");
        let path = walk_path(info.path, ti, ct);
        let body = matches!(info.method, "POST" | "PUT" | "PATCH").then(|| json!({}));
        let (invalid, _) = walk_call(&h, info.method, &path, Some("not.a.jwt"), body.clone()).await;
        let policy = info.policy;
        let token = (!policy.is_public()).then(|| {
            let ty = if policy.token_types().contains(TokenType::EXECUTION) {
                TokenType::EXECUTION
            } else {
                TokenType::WORKLOAD
            };
            let sub = if policy
                .owners()
                .iter()
                .any(|o| o.param() == "connection_test_id")
            {
                ct
            } else {
                ti
            };
            h.services.issuer.issue(sub, ty).unwrap()
        });
        let (valid, _) = walk_call(&h, info.method, &path, token.as_deref(), body).await;
        let declared: Vec<&str> = routes
            .iter()
            .filter(|r| r.path == info.path)
            .map(|r| r.method)
            .collect();
        let other = ["PATCH", "PUT", "POST", "DELETE", "GET"]
            .into_iter()
            .find(|m| !declared.contains(m))
            .unwrap();
        let (wrong, allow) = walk_call(&h, other, &path, None, None).await;
        lines.push(format!(
            "{:7} {:74} invalid {invalid:17} valid {valid:17} {other} {wrong} Allow: {allow}",
            info.method, info.path,
        ));
        h.stop().await;
    }
    let table = lines.join("\n") + "\n";
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(WALK);
    if std::env::var_os("UPDATE_WALK").is_some() {
        std::fs::write(&file, &table).unwrap();
    }
    let reviewed = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(
        table, reviewed,
        "the example's routes answer differently; if that is intended, regenerate {WALK} with \
         `UPDATE_WALK=1 cargo test --test e2e every_route`, review the diff and commit it"
    );
    assert_eq!(lines.len(), routes.len());
}

/// Airflow's multi-team mode: `has_xcom_access` on the XCom routes, with
/// its exact rule, and nothing changed without `--multi-team`.
#[actix_web::test]
async fn multi_team_xcoms_follow_airflows_rule() {
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    let auth = AuthConfig::new(Keys::Secret(secret), AUDIENCE);
    let teams = ["etl=analytics", "billing=finance"].map(|d| d.parse::<teams::DagTeam>().unwrap());
    let h = Harness::start_with_teams(&auth, Some(teams::Teams::multi_team(teams))).await;
    let (_, analytics) = h.running("etl/r1/extract").await;
    let (_, finance) = h.running("billing/r1/charge").await;
    let (_, global) = h.running("shared/r1/load").await;
    let denied = json!({"detail": {
        "reason": "access_denied",
        "message": "Task does not have access to this XCom in multi-team mode",
    }});
    let set = |dag: &str, run: &str| format!("/xcoms/{dag}/{run}/t/k");

    // Own team: write and read.
    let r = h
        .call("POST", &set("etl", "r1"), Some(&analytics), Some(json!(1)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = h
        .call("GET", &set("etl", "r1"), Some(&analytics), None)
        .await;
    assert_eq!((r.status, &r.body["value"]), (StatusCode::OK, &json!(1)));
    // A teamless task on a global DAG: the same team, `None == None`.
    let r = h
        .call("POST", &set("shared", "r1"), Some(&global), Some(json!(2)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A global DAG: a team's task may read it (GET and HEAD)...
    let r = h
        .call("GET", &set("shared", "r1"), Some(&analytics), None)
        .await;
    assert_eq!((r.status, &r.body["value"]), (StatusCode::OK, &json!(2)));
    let r = h
        .call("HEAD", &set("shared", "r1"), Some(&analytics), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // ...and not write it.
    for method in ["POST", "DELETE"] {
        let r = h
            .call(
                method,
                &set("shared", "r1"),
                Some(&analytics),
                Some(json!(3)),
            )
            .await;
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::FORBIDDEN, &denied),
            "{method}"
        );
    }
    // Another team: neither read nor write; nor a global task on a team's.
    for (token, dag) in [(&analytics, "billing"), (&finance, "etl"), (&global, "etl")] {
        for method in ["GET", "POST"] {
            let r = h
                .call(method, &set(dag, "r1"), Some(token), Some(json!(4)))
                .await;
            assert_eq!(
                (r.status, &r.body),
                (StatusCode::FORBIDDEN, &denied),
                "{method} {dag}"
            );
        }
    }
    // The guard runs after the policy: a workload token is refused by its
    // type, before any team is looked up.
    let (_, workload) = h.queue_task("etl/r1/other");
    let r = h
        .call("GET", &set("etl", "r1"), Some(&workload), None)
        .await;
    assert_eq!(
        r.body["detail"],
        "Token type 'workload' not allowed for this endpoint. Allowed types: execution"
    );
    // The global value is unchanged, the shared DELETE was refused.
    let r = h
        .call("GET", &set("shared", "r1"), Some(&global), None)
        .await;
    assert_eq!(r.body["value"], 2);
    h.stop().await;

    // Without --multi-team, the same calls are all allowed.
    let h = Harness::start_with(&auth).await;
    let (_, analytics) = h.running("etl/r1/extract").await;
    h.queue_task("billing/r1/charge");
    h.queue_task("shared/r1/load");
    for dag in ["billing", "shared", "etl"] {
        let r = h
            .call("POST", &set(dag, "r1"), Some(&analytics), Some(json!(5)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{dag}: {}", r.body);
        let r = h.call("GET", &set(dag, "r1"), Some(&analytics), None).await;
        assert_eq!(r.status, StatusCode::OK, "{dag}");
        let r = h
            .call("DELETE", &set(dag, "r1"), Some(&analytics), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{dag}");
    }
    h.stop().await;
}

#[test]
fn dag_teams_need_multi_team_mode() {
    let out = std::process::Command::new(common::example_binary())
        .args(["serve", "--dag-team", "etl=analytics"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--multi-team"), "{stderr}");
    let out = std::process::Command::new(common::example_binary())
        .args(["serve", "--multi-team", "--dag-team", "etl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not DAG_ID=TEAM"), "{stderr}");
}

/// A key is read back exactly as it was written, whatever its escapes: a
/// read borrows the path's parameters where nothing needs decoding, and
/// decodes (or, for bytes that are not UTF-8, copies lossily) exactly as
/// the write's `web::Path` did.
#[actix_web::test]
async fn encoded_keys_are_read_back_as_they_were_written() {
    let h = Harness::start().await;
    h.queue_task("etl/r1/extract");
    let t = reader();
    for (encoded, decoded) in [
        ("plain", "plain"),
        ("team%2Fdb%2Fpass", "team/db/pass"),
        ("caf%C3%A9+x", "café+x"),
        ("a%2Bb", "a+b"),
        ("%FFbad", "\u{fffd}bad"),
    ] {
        let xcom = format!("/xcoms/etl/r1/extract/{encoded}");
        let r = h
            .call("POST", &xcom, Some(&t), Some(json!({"k": encoded})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{encoded}: {}", r.body);
        let r = h.call("GET", &xcom, Some(&t), None).await;
        assert_eq!(
            (r.status, r.body),
            (
                StatusCode::OK,
                json!({"key": decoded, "value": {"k": encoded}})
            ),
            "{encoded}"
        );
        let r = h
            .call("GET", &format!("{xcom}/item/0"), Some(&t), None)
            .await;
        assert_eq!(
            (r.status, r.body),
            (StatusCode::OK, json!({"k": encoded})),
            "{encoded}"
        );
        let variable = format!("/variables/{encoded}");
        let r = h
            .call("PUT", &variable, Some(&t), Some(json!({"val": encoded})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{encoded}");
        let r = h.call("GET", &variable, Some(&t), None).await;
        assert_eq!(
            (r.status, r.body),
            (StatusCode::OK, json!({"key": decoded, "value": encoded})),
            "{encoded}"
        );
    }
}
