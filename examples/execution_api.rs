//! A small Airflow Task Execution API, declared entirely with scopegate's
//! DSL, that Airflow's own Task SDK client can drive. State is kept in
//! memory, so it needs nothing else to start.
//!
//! ```text
//! cargo run --example execution_api -- serve --queue 1 --secret s3cret
//! cargo run --example execution_api -- token --sub <UUID> --type execution --secret s3cret
//! ```
//!
//! `serve` prints one JSON line per queued task instance,
//! `{"task_instance_id": "...", "workload_token": "..."}`, then
//! `{"listening": "http://127.0.0.1:PORT/execution/"}`. Point
//! `airflow.sdk.api.client.Client(base_url=<listening>, token=<workload_token>)`
//! at it. Logs go to stderr (`RUST_LOG=debug` shows every auth decision);
//! tokens are never logged.

// The server lives in `execution_api/`, shared with `tests/e2e.rs`, which
// includes the same files the same way, so both see them as crate-root
// siblings (`crate::state`, ...).
#[path = "execution_api/app.rs"]
mod app;
#[path = "execution_api/errors.rs"]
mod errors;
#[path = "execution_api/models.rs"]
mod models;
#[path = "execution_api/routes.rs"]
mod routes;
#[path = "execution_api/state.rs"]
mod state;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use scopegate::{TokenType, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL};
use uuid::Uuid;

use app::{AuthConfig, Services, AIRFLOW_AUDIENCE};
use models::QueuedWorkload;

/// The most task instances `--queue` creates.
const MAX_QUEUE: u64 = 10_000;

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
}

/// Key options shared by both commands.
#[derive(Debug, clap::Args)]
struct KeyArgs {
    /// HS512 shared secret. Prefer the environment variable: a command line
    /// is visible to other users.
    #[arg(long, env = "SCOPEGATE_JWT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Audience tokens are minted with and must carry.
    #[arg(long, default_value = AIRFLOW_AUDIENCE)]
    audience: String,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    #[command(flatten)]
    keys: KeyArgs,
    /// Issuer (`iss`) tokens are minted with and must carry.
    #[arg(long)]
    issuer: Option<String>,
    /// Number of task instances to create in state `queued`.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_QUEUE))]
    queue: u64,
    /// Lifetime of workload tokens, in seconds.
    #[arg(long, default_value_t = DEFAULT_WORKLOAD_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    workload_ttl: u64,
    /// Lifetime of execution tokens, in seconds.
    #[arg(long, default_value_t = DEFAULT_EXECUTION_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    execution_ttl: u64,
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
            Kind::Execution => TokenType::Execution,
            Kind::Workload => TokenType::Workload,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Token(args) => token(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    init_logging();
    let secret = match args.keys.secret {
        Some(secret) => secret,
        None => {
            eprintln!(
                "warning: no --secret and no SCOPEGATE_JWT_SECRET: using a random secret, \
                 so only the tokens printed below will be accepted"
            );
            random_secret()
        }
    };
    let auth = AuthConfig {
        secret,
        audience: args.keys.audience,
        issuer: args.issuer,
        execution_ttl: Duration::from_secs(args.execution_ttl),
        workload_ttl: Duration::from_secs(args.workload_ttl),
    };
    let services = Services::new(&auth).map_err(|e| e.to_string())?;
    let queued = services
        .store
        .queue(usize::try_from(args.queue).unwrap_or(0));
    let mut lines = Vec::with_capacity(queued.len() + 1);
    for task_instance_id in queued {
        let workload_token = services
            .issuer
            .issue(task_instance_id, TokenType::Workload)
            .map_err(|e| e.to_string())?;
        let line = QueuedWorkload {
            task_instance_id,
            workload_token,
        };
        lines.push(serde_json::to_string(&line).map_err(|e| e.to_string())?);
    }

    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    actix_web::rt::System::new().block_on(async move {
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

fn token(args: TokenArgs) -> Result<(), String> {
    let secret = args
        .keys
        .secret
        .ok_or("token needs the server's secret: pass --secret or set SCOPEGATE_JWT_SECRET")?;
    let ty = TokenType::from(args.token_type);
    let ttl = args.ttl.map(Duration::from_secs);
    let auth = AuthConfig {
        secret,
        audience: args.keys.audience,
        issuer: None,
        execution_ttl: ttl.unwrap_or(DEFAULT_EXECUTION_TTL),
        workload_ttl: ttl.unwrap_or(DEFAULT_WORKLOAD_TTL),
    };
    let issuer = auth.issuer().map_err(|e| e.to_string())?;
    let token = issuer.issue(args.sub, ty).map_err(|e| e.to_string())?;
    print_lines(&[token])
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

/// 244 bits from the OS random generator (two v4 UUIDs), hex-encoded.
fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
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
