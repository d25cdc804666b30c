//! Shared test helpers: key material, token minting with arbitrary claims
//! through `jsonwebtoken` alone (for the tests that must not trust
//! scopegate's own issuer, or need claims it never writes; every other test
//! takes its tokens and verifier from the testing kit,
//! `scopegate::testing::TestAuth`), and response assertions.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::WWW_AUTHENTICATE;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// 64 bytes: an HS512 secret must be at least as long as the hash (RFC 7518
/// §3.2).
pub const SECRET: &[u8] = b"test-secret-please-change-it-64-bytes-as-rfc-7518-asks-of-hs512+";
pub const AUDIENCE: &str = "urn:airflow.apache.org:task";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Airflow's claim set for `sub`, valid for ten minutes.
pub fn claims(sub: Uuid, scope: Option<&str>) -> Map<String, Value> {
    let now = now();
    let mut c = json!({
        "jti": Uuid::new_v4().simple().to_string(),
        "aud": AUDIENCE,
        "nbf": now,
        "iat": now,
        "exp": now + 600,
        "sub": sub.to_string(),
    })
    .as_object()
    .unwrap()
    .clone();
    if let Some(scope) = scope {
        c.insert("scope".into(), scope.into());
    }
    c
}

/// Signs `claims` with the shared secret, HS512, `kid: not-used` (Airflow).
pub fn hs512(claims: &Map<String, Value>) -> String {
    sign(
        claims,
        Algorithm::HS512,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
}

pub fn sign(claims: &Map<String, Value>, alg: Algorithm, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some("not-used".into());
    encode(&header, claims, key).unwrap()
}

pub fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Status, `detail` and `WWW-Authenticate` of a response.
pub async fn parts<B: MessageBody>(res: ServiceResponse<B>) -> (u16, Value, Option<String>) {
    let status = res.status().as_u16();
    let header = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .ok()
        .unwrap();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()))
    };
    (status, body, header)
}

pub fn detail(msg: &str) -> Value {
    json!({ "detail": msg })
}

pub fn invalid(reason: &str) -> (u16, Value, Option<String>) {
    (
        401,
        detail(&format!("Invalid auth token: {reason}")),
        Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{reason}\""
        )),
    )
}

pub fn missing() -> (u16, Value, Option<String>) {
    (401, detail("Missing auth token"), Some("Bearer".into()))
}

/// Captures the `tracing` output of the current thread (plain text, every
/// level) until the guard is dropped.
///
/// One process-wide subscriber writes each event into the buffer of the
/// thread that emitted it. A thread-local subscriber per test
/// (`tracing::subscriber::set_default`) is racy when tests run in parallel:
/// a callsite first hit on another thread, or another test's guard being
/// dropped, can leave an event's cached interest at "never", and the event
/// is lost (seen as a flaky log test). With one global subscriber every
/// callsite is always enabled, and a thread with no capture writes nowhere.
pub fn capture_logs() -> (CaptureGuard, Logs) {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the tests");
    });
    let logs = Logs::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(logs.clone()));
    (CaptureGuard(()), logs)
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Stops the current thread's capture when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

/// The global subscriber's writer: the capturing thread's buffer, if any.
struct ThreadBuffer;

impl std::io::Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(logs) = c.borrow_mut().as_mut() {
                logs.write_all(buf)?;
            }
            Ok(buf.len())
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`capture_logs`] captured.
#[derive(Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The example binary, built (debug) if needed.
pub fn example_binary() -> std::path::PathBuf {
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "execution_api"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success());
    let deps = std::env::current_exe().unwrap();
    deps.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/execution_api")
}
