//! The example server (`execution_api_example`) started in-process on
//! 127.0.0.1:0, as `execution_api serve` starts it, and a real HTTP client
//! for it: the harness of the tests of the second round of issue 22
//! (`tests/callbacks.rs`, `tests/api_versions.rs`, `tests/mapped_tasks.rs`).
#![allow(dead_code)]

use actix_web::http::header::HeaderName;
use awc::http::StatusCode;
use execution_api_example::app::{self, AuthConfig, Services};
use execution_api_example::keys::Keys;
use execution_api_example::CALLBACK;
use scopegate::{TokenType, REFRESHED_TOKEN_HEADER};
use serde_json::{json, Value};
use uuid::Uuid;

/// The server's shared secret: 64 bytes, as RFC 7518 asks of an HS512 key.
pub const SECRET: &str = "example-server-secret-0123456789abcdef-0123456789abcdef-01234567";

/// Airflow's audience.
pub const AUDIENCE: &str = "urn:airflow.apache.org:task";

/// The header that picks the Execution API version.
pub const VERSION_HEADER: &str = "airflow-api-version";

/// A running server and a client for it.
pub struct Server {
    /// `http://127.0.0.1:PORT/execution`.
    pub base: String,
    /// Its keys and state.
    pub services: Services,
    client: awc::Client,
    handle: actix_web::dev::ServerHandle,
}

/// A response: status, the headers the tests read, and the JSON body
/// (`null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub refreshed: Option<String>,
    pub version: Option<String>,
    pub body: Value,
}

impl Server {
    /// A server signing and verifying with [`SECRET`], on one worker.
    pub async fn start() -> Server {
        Server::start_workers(1).await
    }

    /// [`start`](Self::start) on `workers` threads.
    pub async fn start_workers(workers: usize) -> Server {
        Server::start_with(
            workers,
            AuthConfig::new(Keys::Secret(SECRET.to_owned()), AUDIENCE),
        )
        .await
    }

    /// [`start`](Self::start) with execution tokens that live `ttl` (less
    /// than 30 s: always within the refresh window).
    pub async fn start_with_execution_ttl(ttl: std::time::Duration) -> Server {
        let auth = AuthConfig {
            execution_ttl: ttl,
            ..AuthConfig::new(Keys::Secret(SECRET.to_owned()), AUDIENCE)
        };
        Server::start_with(1, auth).await
    }

    async fn start_with(workers: usize, auth: AuthConfig) -> Server {
        let services = Services::load(&auth).await.unwrap();
        let (server, addr) = app::start(services.clone(), "127.0.0.1:0", workers).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Server {
            base: format!("http://{addr}/execution"),
            services,
            client: awc::Client::default(),
            handle,
        }
    }

    /// A queued task instance of `DAG/RUN/TASK[/MAP_INDEX]` with `retries`,
    /// and its workload token, as `serve --queue-task` prints them.
    pub fn queue_task(&self, spec: &str, retries: u32) -> (Uuid, String) {
        let mut spec: execution_api_example::state::TaskSpec = spec.parse().unwrap();
        spec.retries = retries;
        let id = self.services.store.queue_task(&spec).unwrap();
        let token = self.services.issuer.issue(id, TokenType::WORKLOAD).unwrap();
        (id, token)
    }

    /// A queued callback and its callback token, as
    /// `serve --queue-callback` prints them.
    pub fn queue_callback(&self) -> (Uuid, String) {
        let [id] = self.services.store.queue_callbacks(1)[..] else {
            unreachable!("one callback")
        };
        (id, self.services.issuer.issue(id, CALLBACK).unwrap())
    }

    /// A token of `ty` for `sub`, minted by the server's issuer.
    pub fn token(&self, sub: Uuid, ty: TokenType) -> String {
        self.services.issuer.issue(sub, ty).unwrap()
    }

    /// `method path` with an optional token, JSON body and
    /// `Airflow-API-Version`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        version: Option<&str>,
    ) -> Reply {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(version) = version {
            req = req.insert_header((HeaderName::from_static(VERSION_HEADER), version));
        }
        let mut res = match body {
            Some(body) => req.send_json(&body).await,
            None => req.send().await,
        }
        .expect("request failed");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let refreshed = header(REFRESHED_TOKEN_HEADER.as_str());
        let version = header(VERSION_HEADER);
        let bytes = res.body().limit(1 << 20).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status: res.status(),
            refreshed,
            version,
            body,
        }
    }

    /// Starts a queued task instance with its workload token at `version`
    /// (the newest without one); returns the response.
    pub async fn run(&self, id: Uuid, workload: &str, version: Option<&str>) -> Reply {
        self.call(
            "PATCH",
            &format!("/task-instances/{id}/run"),
            Some(workload),
            Some(run_body()),
            version,
        )
        .await
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// `/run`'s body.
pub fn run_body() -> Value {
    json!({
        "state": "running",
        "hostname": "worker-1",
        "unixname": "airflow",
        "pid": 42,
        "start_date": "2026-01-01T00:00:00.000001Z",
    })
}

/// The claims of a token the server minted (its signature checked).
pub fn claims_of(token: &str) -> serde_json::Map<String, Value> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS512);
    validation.set_audience(&[AUDIENCE]);
    jsonwebtoken::decode::<serde_json::Map<String, Value>>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}
