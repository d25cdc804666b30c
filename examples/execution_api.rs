//! A small Airflow Task Execution API, declared entirely with scopegate's
//! DSL, that Airflow's own Task SDK client can drive. State is kept in
//! memory, so it needs nothing else to start.
//!
//! ```text
//! cargo run --example execution_api -- serve --queue 1
//! cargo run --example execution_api -- serve --queue-task etl/manual__1/extract \
//!     --queue-task etl/manual__1/load
//! cargo run --example execution_api -- token --sub <UUID> --type execution
//! cargo run --example execution_api -- routes
//! cargo run --example execution_api -- serve --private-key tests/keys/ed25519_private.pem
//! cargo run --example execution_api -- serve --bind 127.0.0.1:8081 \
//!     --jwks http://127.0.0.1:8080/execution/.well-known/jwks.json
//! ```
//!
//! It serves all 55 operations of Airflow 3.3.2's Execution API, so that
//! Airflow's own worker (`supervise_task` of the Task SDK) runs real DAG
//! tasks against it.
//!
//! `serve` prints one JSON line per queued task instance,
//! `{"task_instance_id": "...", "workload_token": "..."}` (those of
//! `--queue N` first, then one per `--queue-task`, in order), then
//! `{"listening": "http://127.0.0.1:PORT/execution/"}`. Point
//! `airflow.sdk.api.client.Client(base_url=<listening>, token=<workload_token>)`
//! or the worker at it. Logs go to stderr: one line per response (method,
//! path, status), `RUST_LOG=debug` adds every auth decision; tokens are
//! never logged.

// The server lives in `execution_api/`, shared with `tests/e2e.rs`, which
// includes the same files the same way, so both see them as crate-root
// siblings (`crate::state`, ...).
#[path = "execution_api/app.rs"]
mod app;
#[path = "execution_api/errors.rs"]
mod errors;
#[path = "execution_api/keys.rs"]
mod keys;
#[path = "execution_api/models.rs"]
mod models;
#[path = "execution_api/routes.rs"]
mod routes;
#[path = "execution_api/state.rs"]
mod state;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use scopegate::{
    min_secret_bytes, Algorithm, JwksSource, TokenType, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL,
};
use uuid::Uuid;

use app::{AuthConfig, Services, AIRFLOW_AUDIENCE, DEFAULT_MAX_SESSION_AGE};
use keys::Keys;
use models::QueuedWorkload;
use state::caps::{DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE_BYTES};
use state::{Limits, TaskSpec};

/// The most task instances `--queue` creates.
const MAX_QUEUE: u64 = 10_000;

/// The shortest secret `--secret` takes without `--allow-short-secret`:
/// HS512's hash, counted in the UTF-8 bytes of the string, as Airflow uses
/// it.
const SECRET_BYTES: usize = match min_secret_bytes(Algorithm::HS512) {
    Some(bytes) => bytes,
    None => 64,
};

/// An Airflow-style Task Execution API guarded by scopegate.
#[derive(Debug, Parser)]
#[command(name = "execution_api", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server, optionally with queued task instances and their
    /// workload tokens.
    Serve(ServeArgs),
    /// Print one token on stdout, for curl and scripts.
    Token(TokenArgs),
    /// Print the OpenAPI 3.1 document of every route on stdout (the one
    /// served at /execution/openapi.json).
    Openapi,
    /// Print the route table: one line per route with its method, full
    /// path, accepted token types (or `(public)`) and owner scopes.
    Routes,
}

/// Key options shared by both commands.
#[derive(Debug, clap::Args)]
struct KeyArgs {
    /// HS512 shared secret. Prefer the environment variable: a command line
    /// is visible to other users.
    #[arg(long, env = "SCOPEGATE_JWT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Private key (PEM: RSA, PKCS#1 or PKCS#8, or Ed25519, PKCS#8) to sign
    /// with instead of a secret: RS512 or EdDSA, verified with its public
    /// half, published at /execution/.well-known/jwks.json.
    #[arg(long, value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// Audience tokens are minted with and must carry.
    #[arg(long, default_value = AIRFLOW_AUDIENCE)]
    audience: String,
    /// Accept a secret shorter than 64 bytes (HS512's hash; RFC 7518 §3.2
    /// asks for a key at least that long), for an existing deployment
    /// whose secret cannot change yet. Prefer a random one of 64 bytes or
    /// more (`openssl rand -hex 32` prints 64 characters).
    #[arg(long)]
    allow_short_secret: bool,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    #[command(flatten)]
    keys: KeyArgs,
    /// Verify tokens with the keys of this JWKS (a file, or an http(s) URL
    /// such as another server's /execution/.well-known/jwks.json) instead
    /// of the signing key; the token's `kid` picks the key. Refreshed hourly.
    #[arg(long, value_name = "FILE|URL")]
    jwks: Option<String>,
    /// Check every token's signature on every request: switch off the cache
    /// of verified tokens (for benchmarks).
    #[arg(long)]
    no_token_cache: bool,
    /// Issuer (`iss`) tokens are minted with and must carry.
    #[arg(long)]
    issuer: Option<String>,
    /// Number of task instances to create in state `queued`: tasks
    /// `task_1`.. of the DAG `scopegate_example`, in one manual run.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_QUEUE))]
    queue: u64,
    /// Queue a task instance of this DAG, run and task, as a scheduler
    /// hands it to an executor (its run is created, running, if new).
    /// Repeatable; one JSON line each, in order, after those of --queue.
    /// Run ids may hold `~ : +` (`manual__2026-01-01T00:00:00+00:00`).
    #[arg(long = "queue-task", value_name = "DAG_ID/RUN_ID/TASK_ID")]
    queue_task: Vec<TaskSpec>,
    /// Lifetime of workload tokens, in seconds.
    #[arg(long, default_value_t = DEFAULT_WORKLOAD_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    workload_ttl: u64,
    /// Lifetime of execution tokens, in seconds.
    #[arg(long, default_value_t = DEFAULT_EXECUTION_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    execution_ttl: u64,
    /// The longest a task's chain of tokens lives, in seconds, from its
    /// workload token on: older tokens are refused and not refreshed. At
    /// least --workload-ttl; 0 switches it off (as Airflow).
    #[arg(long, default_value_t = DEFAULT_MAX_SESSION_AGE.as_secs())]
    max_session_age: u64,
    /// Largest value a write may store, in bytes (a Variable, an XCom, a
    /// state store value, a triggered run's conf, rendered fields); larger
    /// is refused with 413.
    #[arg(long, default_value_t = DEFAULT_MAX_VALUE_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=(1 << 30)))]
    max_value_bytes: usize,
    /// Most entries each in-memory store holds (Variables, XComs, task and
    /// asset state stores, triggered DAG runs, rendered fields); a write
    /// past it is refused with 507.
    #[arg(long, default_value_t = DEFAULT_MAX_ENTRIES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    store_max_entries: usize,
    /// Most bytes of keys and values each in-memory store holds; a write
    /// past it is refused with 507.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    store_max_bytes: usize,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The token's subject: a task instance id (or, for connection-test
    /// routes, a connection test id).
    #[arg(long)]
    sub: Uuid,
    /// The token's type.
    #[arg(long = "type", value_name = "TYPE", value_enum)]
    token_type: Kind,
    #[command(flatten)]
    keys: KeyArgs,
    /// Lifetime in seconds [default: 600 for execution, 86400 for workload].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    ttl: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    Execution,
    Workload,
}

impl From<Kind> for TokenType {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Execution => TokenType::EXECUTION,
            Kind::Workload => TokenType::WORKLOAD,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Token(args) => token(args),
        Command::Openapi => openapi(),
        Command::Routes => print_routes(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

impl KeyArgs {
    /// The signing key: `--private-key`, else the secret. `None` when neither
    /// is given; both at once is an error rather than a silent choice.
    fn keys(&self) -> Result<Option<Keys>, String> {
        match (&self.private_key, &self.secret) {
            (Some(_), Some(_)) => Err("--private-key and --secret (or SCOPEGATE_JWT_SECRET) \
                 are mutually exclusive: sign with one or the other"
                .into()),
            (Some(path), None) => {
                keys::read_private_key(path).map(|k| Some(Keys::PrivateKey(Box::new(k))))
            }
            (None, Some(secret)) if secret.len() < SECRET_BYTES && !self.allow_short_secret => {
                Err(format!(
                    "the secret (--secret or SCOPEGATE_JWT_SECRET) is {} bytes; HS512 needs at \
                     least {SECRET_BYTES} bytes (RFC 7518 §3.2: a key at least as long as the \
                     hash). Use a random secret of {SECRET_BYTES} bytes or more (`openssl rand \
                     -hex 32` prints {SECRET_BYTES} characters), or pass --allow-short-secret to \
                     keep an existing shorter one",
                    secret.len()
                ))
            }
            (None, Some(secret)) => Ok(Some(Keys::Secret(secret.clone()))),
            (None, None) => Ok(None),
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    init_logging();
    let given = args.keys.keys()?;
    // A --jwks server without a key of its own is warned about below; check
    // its own tokens against the JWKS when it was given a key or must print
    // workload tokens.
    let queues = args.queue > 0 || !args.queue_task.is_empty();
    let check_own = args.jwks.is_some() && (given.is_some() || queues);
    let keys = match given {
        Some(keys) => keys,
        None if args.jwks.is_some() => {
            eprintln!(
                "warning: --jwks without --private-key: this server verifies tokens but signs \
                 its own (refreshes, /run swaps) with a random secret no JWKS holds"
            );
            Keys::Secret(keys::random_secret())
        }
        None => {
            eprintln!(
                "warning: no --secret, --private-key or SCOPEGATE_JWT_SECRET: using a random \
                 secret, so only the tokens printed below will be accepted"
            );
            Keys::Secret(keys::random_secret())
        }
    };
    if args.max_session_age != 0 && args.max_session_age < args.workload_ttl {
        return Err(format!(
            "--max-session-age ({} s) is shorter than --workload-ttl ({} s): a queued task's \
             workload token would outlive its session; raise --max-session-age, or pass 0 to \
             switch it off",
            args.max_session_age, args.workload_ttl
        ));
    }
    let auth = AuthConfig {
        jwks: args.jwks.as_deref().map(JwksSource::parse),
        issuer: args.issuer,
        execution_ttl: Duration::from_secs(args.execution_ttl),
        workload_ttl: Duration::from_secs(args.workload_ttl),
        token_cache: !args.no_token_cache,
        allow_short_secret: args.keys.allow_short_secret,
        max_session_age: (args.max_session_age != 0)
            .then(|| Duration::from_secs(args.max_session_age)),
        ..AuthConfig::new(keys, args.keys.audience)
    };
    let limits = Limits {
        max_value_bytes: args.max_value_bytes,
        max_entries: args.store_max_entries,
        max_bytes: args.store_max_bytes,
    };
    let queue = usize::try_from(args.queue).unwrap_or(0);
    let queue_tasks = args.queue_task;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    actix_web::rt::System::new().block_on(async move {
        let services = Services::load_with(&auth, limits).await?;
        if check_own {
            check_own_tokens(&services, queues)?;
        }
        let mut ids = services.store.queue(queue);
        for spec in &queue_tasks {
            ids.push(
                services
                    .store
                    .queue_task(spec)
                    .map_err(|e| format!("--queue-task {e}"))?,
            );
        }
        let mut lines = Vec::with_capacity(ids.len() + 1);
        for task_instance_id in ids {
            let workload_token = services
                .issuer
                .issue(task_instance_id, TokenType::WORKLOAD)
                .map_err(|e| e.to_string())?;
            let line = QueuedWorkload {
                task_instance_id,
                workload_token,
            };
            lines.push(serde_json::to_string(&line).map_err(|e| e.to_string())?);
        }
        let (server, addr) = app::start(services, &args.bind, workers)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        lines.push(
            serde_json::json!({ "listening": format!("http://{addr}/execution/") }).to_string(),
        );
        print_lines(&lines)?;
        tracing::info!(%addr, "listening");
        server.await.map_err(|e| e.to_string())
    })
}

/// With `--jwks`, the tokens this server mints (queued workload tokens,
/// `/run` swaps, refreshes) verify here only if its signing key is in the
/// JWKS. Says so at start-up: an error when `--queue` or `--queue-task`
/// would print tokens that cannot be used, a warning otherwise.
fn check_own_tokens(services: &Services, queues: bool) -> Result<(), String> {
    let probe = services
        .issuer
        .issue(uuid::Uuid::new_v4(), TokenType::EXECUTION)
        .map_err(|e| e.to_string())?;
    let Err(reason) = services.verifier.verify(&probe) else {
        return Ok(());
    };
    let why = format!(
        "tokens signed by this server do not verify against --jwks ({reason}): \
         pass the --private-key whose public key the JWKS holds"
    );
    if queues {
        return Err(format!("--queue: {why}"));
    }
    eprintln!("warning: {why}; /run swaps and token refreshes will be refused");
    Ok(())
}

fn token(args: TokenArgs) -> Result<(), String> {
    let keys = args.keys.keys()?.ok_or(
        "token needs the server's key: pass --private-key FILE, --secret S or set \
         SCOPEGATE_JWT_SECRET",
    )?;
    let ty = TokenType::from(args.token_type);
    let ttl = args.ttl.map(Duration::from_secs);
    let auth = AuthConfig {
        execution_ttl: ttl.unwrap_or(DEFAULT_EXECUTION_TTL),
        workload_ttl: ttl.unwrap_or(DEFAULT_WORKLOAD_TTL),
        allow_short_secret: args.keys.allow_short_secret,
        ..AuthConfig::new(keys, args.keys.audience)
    };
    let issuer = auth.issuer()?;
    let token = issuer.issue(args.sub, ty).map_err(|e| e.to_string())?;
    print_lines(&[token])
}

/// Prints the OpenAPI document.
fn openapi() -> Result<(), String> {
    let json = routes::document()
        .to_pretty_json()
        .map_err(|e| e.to_string())?;
    print_lines(&[json])
}

/// The policies of every route, as `tests/data/execution_api-routes.txt`
/// pins them.
fn print_routes() -> Result<(), String> {
    let table = scopegate::route_table(routes::execution::ROUTES);
    print_lines(&table.lines().map(str::to_owned).collect::<Vec<_>>())
}

/// Writes lines to stdout and flushes, so a parent reading the pipe sees
/// them at once. A closed stdout is an error, not a panic.
fn print_lines(lines: &[String]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").map_err(|e| format!("stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("stdout: {e}"))
}

/// Logs to stderr, `info` unless `RUST_LOG` says otherwise, in colour only
/// on a terminal.
fn init_logging() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
}
