//! Bench-only server of `bench/instructions.sh`, built with
//! `cargo build --release --features bench --example bench_server`.
//!
//! It serves the example's app (`examples/execution_api/`), built by the
//! same [`app::start_with`] as `execution_api serve` (which calls it through
//! `app::start`), plus, registered ahead of the example's routes, the
//! unprotected twin of `GET /execution/variables/<variable_key:path>`:
//! `GET /execution/unguarded/<variable_key:path>`, declared here and nowhere
//! else, so nothing the example serves has it. On one worker, with a key of
//! any kind scopegate verifies: a random HS512 secret or the RS512, ES256
//! or EdDSA key pair of `tests/keys/` (the example itself signs with RSA
//! and Ed25519 keys only, as Airflow does).
//!
//! ```text
//! bench_server [--key hs512|rs512|es256|eddsa] [--no-token-cache] [--no-twin] [--bind ADDR]
//! ```
//!
//! Queues one task instance, `bench_dag/manual__1/bench_task`, prints one
//! JSON line, `{"listening": URL, "token": T, "sub": S, "ct": C,
//! "ct_token": W}`, with `T` an execution token for that task instance `S`
//! and `W` a workload token for the connection test `C`, both valid for an
//! hour (so no response of a bench run carries a refreshed token), then
//! serves until it is stopped. Logs to stderr at
//! `warn` unless `RUST_LOG` says otherwise, so the example's access log,
//! which is `info`, costs nothing in a measurement.

// The example's server modules, included as the example includes them. The
// example's CLI is not, so some of their items are unused here.
#[allow(dead_code)]
#[path = "../examples/execution_api/app.rs"]
mod app;
#[allow(dead_code)]
#[path = "../examples/execution_api/errors.rs"]
mod errors;
#[allow(dead_code)]
#[path = "../examples/execution_api/keys.rs"]
mod keys;
#[allow(dead_code)]
#[path = "../examples/execution_api/models.rs"]
mod models;
#[allow(dead_code)]
#[path = "../examples/execution_api/routes.rs"]
mod routes;
#[allow(dead_code, unused_imports)]
#[path = "../examples/execution_api/state.rs"]
mod state;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use scopegate::{ConfigError, SigningKey, TokenType};
use uuid::Uuid;

use app::{AuthConfig, Services, AIRFLOW_AUDIENCE};
use keys::Keys;

/// The twin of the example's `GET /execution/variables/<variable_key:path>`:
/// its handler, on a path of the same shape and length, with no policy.
/// What that route costs without protection. Bench-only: it exists in this
/// file alone.
#[scopegate::route(get, "/execution/unguarded/<variable_key:path>", public)]
async fn unguarded(
    store: actix_web::web::Data<state::Store>,
    key: actix_web::web::Path<String>,
) -> actix_web::Result<actix_web::HttpResponse> {
    Ok(actix_web::HttpResponse::Ok().json(store.variable(&key)?))
}

/// Registers the twin, ahead of the example's routes.
fn twin(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(unguarded);
}

/// Lifetime of the printed token: long enough that it is never refreshed
/// during a run (refreshes start with 20% of the lifetime left).
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The example's app, for benchmarks.
#[derive(Debug, Parser)]
#[command(name = "bench_server", about, long_about = None)]
struct Args {
    /// What tokens are signed and verified with.
    #[arg(long, value_enum, default_value = "hs512")]
    key: KeyKind,
    /// Check every token's signature on every request.
    #[arg(long)]
    no_token_cache: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: String,
    /// Serve the example's routes alone, without the twin in front of
    /// them: the routing table measures the example's own routing.
    #[arg(long)]
    no_twin: bool,
}

/// Registers nothing: the example's app as `execution_api serve` builds it.
fn nothing(_: &mut actix_web::web::ServiceConfig) {}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KeyKind {
    /// A random 256-bit secret, HS512.
    Hs512,
    /// `tests/keys/rsa_private.pem`, RS512.
    Rs512,
    /// `tests/keys/ec_p256_private.pem`, ES256.
    Es256,
    /// `tests/keys/ed25519_private.pem`, EdDSA.
    Eddsa,
}

impl KeyKind {
    fn keys(self) -> Result<Keys, String> {
        let pair = |file: &str, load: fn(&[u8]) -> Result<SigningKey, ConfigError>| {
            let path = format!("{}/tests/keys/{file}", env!("CARGO_MANIFEST_DIR"));
            let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
            let key = load(&pem).map_err(|e| format!("{path}: {e}"))?;
            Ok(Keys::PrivateKey(Box::new(key)))
        };
        match self {
            KeyKind::Hs512 => Ok(Keys::Secret(keys::random_secret())),
            KeyKind::Rs512 => pair("rsa_private.pem", SigningKey::rsa_pem),
            KeyKind::Es256 => pair("ec_p256_private.pem", SigningKey::ec_pem),
            KeyKind::Eddsa => pair("ed25519_private.pem", SigningKey::ed_pem),
        }
    }
}

fn main() -> ExitCode {
    init_logging();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let auth = AuthConfig {
        execution_ttl: TOKEN_TTL,
        token_cache: !args.no_token_cache,
        ..AuthConfig::new(args.key.keys()?, AIRFLOW_AUDIENCE)
    };
    actix_web::rt::System::new().block_on(async move {
        let services = Services::load(&auth).await?;
        let spec = "bench_dag/manual__1/bench_task".parse()?;
        let sub = services.store.queue_task(&spec)?;
        let token = services
            .issuer
            .issue(sub, TokenType::EXECUTION)
            .map_err(|e| e.to_string())?;
        let ct = Uuid::new_v4();
        let ct_token = services
            .issuer
            .issue(ct, TokenType::WORKLOAD)
            .map_err(|e| e.to_string())?;
        let first = if args.no_twin { nothing } else { twin };
        let (server, addr) = app::start_with(services, &args.bind, 1, first)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let line = serde_json::json!({
            "listening": format!("http://{addr}/execution/"),
            "token": token,
            "sub": sub,
            "ct": ct,
            "ct_token": ct_token,
        });
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))?;
        drop(out);
        server.await.map_err(|e| e.to_string())
    })
}

/// Logs to stderr, `warn` unless `RUST_LOG` says otherwise.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
}
