//! A small Airflow Task Execution API, declared entirely with scopegate's
//! DSL, that Airflow's own Task SDK client can drive. State is kept in
//! memory, so it needs nothing else to start.
//!
//! ```text
//! cargo run --example execution_api -- serve --queue 1
//! cargo run --example execution_api -- serve --queue-task etl/manual__1/extract \
//!     --queue-task etl/manual__1/load
//! cargo run --example execution_api -- serve --queue-task etl/manual__1/double/0 \
//!     --queue-task etl/manual__1/double/1 --queue-task etl/manual__1/flaky \
//!     --task-retries flaky=2
//! cargo run --example execution_api -- token --sub <UUID> --type execution
//! cargo run --example execution_api -- routes
//! cargo run --example execution_api -- serve --private-key tests/keys/ed25519_private.pem
//! cargo run --example execution_api -- serve --bind 127.0.0.1:8081 \
//!     --jwks http://127.0.0.1:8080/execution/.well-known/jwks.json
//! cargo run --example execution_api -- serve --revocations redis://127.0.0.1:6379
//! echo "$TOKEN" | cargo run --example execution_api -- revoke --token - \
//!     --revocations redis://127.0.0.1:6379
//! cargo run --example execution_api -- serve --multi-team \
//!     --dag-team etl=analytics --dag-team billing=finance
//! ```
//!
//! `--multi-team` is Airflow's multi-team mode for XComs: a task reaches
//! its own team's XComs and reads (never writes) a global DAG's; Variables
//! and Connections are not team-scoped here (they are in Airflow).
//!
//! It serves all 55 operations of Airflow 3.3.2's Execution API, so that
//! Airflow's own worker (`supervise_task` of the Task SDK) runs real DAG
//! tasks against it.
//!
//! `serve` prints one JSON line per queued task instance,
//! `{"task_instance_id": "...", "workload_token": "..."}` (those of
//! `--queue N` first, then one per `--queue-task`, in order), one per
//! callback of `--queue-callback N`,
//! `{"callback_id": "...", "callback_token": "..."}`, then
//! `{"listening": "http://127.0.0.1:PORT/execution/"}`. Point
//! `airflow.sdk.api.client.Client(base_url=<listening>, token=<workload_token>)`
//! or the worker at it. Logs go to stderr: one line per response (method,
//! path, status), `RUST_LOG=debug` adds every auth decision; tokens are
//! never logged.

// The server is the library of the `execution-api-example` package
// (`execution_api/`, with its own scopegate.toml), shared with the tests
// and the bench server; this file is its command line.
use execution_api_example::{app, keys, models, routes, state, teams};

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use base64::Engine as _;
use clap::{Parser, Subcommand, ValueEnum};
use scopegate::{
    min_secret_bytes, Algorithm, JwksSource, RedisDenyList, RedisStore, Revocation, TokenType,
    CHAIN_CLAIM, DEFAULT_EXECUTION_TTL, DEFAULT_WORKLOAD_TTL, SESSION_START_CLAIM,
};
use uuid::Uuid;

use app::{AuthConfig, Services, AIRFLOW_AUDIENCE, DEFAULT_MAX_SESSION_AGE};
use execution_api_example::CALLBACK;
use keys::Keys;
use models::{QueuedCallback, QueuedWorkload};
use state::caps::{DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE_BYTES};
use state::{Limits, TaskRetries, TaskSpec};

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
    /// Revoke a token and its whole refresh chain on every replica that
    /// shares the revocation store (`serve --revocations`): stores its
    /// `jti` and chain id until they can no longer verify, and announces
    /// them. Needs no secret: whoever can write to the store can revoke
    /// anyway. Exits 0 once the store has them, non-zero when it could not
    /// store them.
    Revoke(RevokeArgs),
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
    /// hands it to an executor (its run is created, running, if new); with
    /// a fourth part, that instance of a mapped task (`map_index`, 0 on;
    /// without it -1, not mapped). Repeatable; one JSON line each, in
    /// order, after those of --queue. Run ids may hold `~ : +`
    /// (`manual__2026-01-01T00:00:00+00:00`).
    #[arg(long = "queue-task", value_name = "DAG_ID/RUN_ID/TASK_ID[/MAP_INDEX]")]
    queue_task: Vec<TaskSpec>,
    /// Give a task the `retries` its DAG file declares: its queued
    /// instances get `max_tries = N`, so the worker of a failing try with
    /// retries left reports `up_for_retry` instead of `failed`. Repeatable,
    /// one per task id (in every DAG queued).
    #[arg(long = "task-retries", value_name = "TASK_ID=N")]
    task_retries: Vec<TaskRetries>,
    /// Number of deadline callbacks to create in state `queued`, each with
    /// a single-use callback token (Airflow's main branch): one line
    /// `{"callback_id": ..., "callback_token": ...}` each, after the task
    /// instances' lines. The token is exchanged once, at
    /// PATCH /execution/callbacks/<callback_id>/run, for an execution token.
    #[arg(long = "queue-callback", value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_QUEUE))]
    queue_callback: u64,
    /// Lifetime of workload tokens (and callback tokens), in seconds.
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
    /// Share revocations with every other replica through this Redis
    /// (`redis://[:PASSWORD@]HOST[:PORT][/DB]`; the environment variable
    /// keeps a password off the command line): each token is checked
    /// against a local copy, kept current from Redis; revoke with
    /// `execution_api revoke`. Needs a --max-session-age (not 0).
    #[arg(
        long,
        value_name = "URL",
        env = "SCOPEGATE_REVOCATIONS",
        hide_env_values = true
    )]
    revocations: Option<String>,
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
    /// Airflow's multi-team mode: a task reaches the XComs of its own
    /// team's DAGs, and may read (not write) those of global DAGs
    /// (Airflow's `has_xcom_access`). Variables and Connections stay
    /// shared.
    #[arg(long)]
    multi_team: bool,
    /// The team of a DAG, in multi-team mode (repeatable); a DAG not
    /// listed is global.
    #[arg(long = "dag-team", value_name = "DAG_ID=TEAM", requires = "multi_team")]
    dag_team: Vec<teams::DagTeam>,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The token's subject: a task instance id (or, for connection-test
    /// routes, a connection test id; for a callback token, a callback id).
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

#[derive(Debug, clap::Args)]
struct RevokeArgs {
    /// The token to revoke, or `-` to read it from standard input (which
    /// keeps it out of `ps` and shell history). Its signature is not
    /// checked: only its `jti`, chain id (`sid`), `iss` and `exp` are read.
    #[arg(long)]
    token: String,
    /// The revocation store the replicas share (as `serve --revocations`).
    #[arg(
        long,
        value_name = "URL",
        env = "SCOPEGATE_REVOCATIONS",
        hide_env_values = true
    )]
    revocations: String,
    /// The replicas' --max-session-age, in seconds: the revocation is kept
    /// that long at most, from the chain's start.
    #[arg(long, default_value_t = DEFAULT_MAX_SESSION_AGE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    max_session_age: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Kind {
    Execution,
    Workload,
    Callback,
}

impl From<Kind> for TokenType {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Execution => TokenType::EXECUTION,
            Kind::Workload => TokenType::WORKLOAD,
            Kind::Callback => CALLBACK,
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
        Command::Revoke(args) => revoke(args),
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
    let queues = args.queue > 0 || !args.queue_task.is_empty() || args.queue_callback > 0;
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
    let revocations = match &args.revocations {
        None => None,
        Some(_) if args.max_session_age == 0 => {
            return Err(
                "--revocations needs a maximum session age, so that every revocation \
                        ends: leave --max-session-age at its default, or give it a number of \
                        seconds other than 0"
                    .into(),
            )
        }
        Some(url) => {
            let store = RedisStore::open(url).map_err(|e| format!("--revocations: {e}"))?;
            tracing::info!(store = %store.name(), "sharing revocations");
            Some(Arc::new(RedisDenyList::new(store)))
        }
    };
    let auth = AuthConfig {
        revocations,
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
    let queue_tasks = with_retries(args.queue_task, &args.task_retries)?;
    let queue_callbacks = usize::try_from(args.queue_callback).unwrap_or(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let teams = args
        .multi_team
        .then(|| teams::Teams::multi_team(args.dag_team));
    actix_web::rt::System::new().block_on(async move {
        let mut services = Services::load_with(&auth, limits).await?;
        if let Some(teams) = teams {
            services.teams = web::Data::new(teams);
        }
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
        for callback_id in services.store.queue_callbacks(queue_callbacks) {
            let callback_token = services
                .issuer
                .issue(callback_id, CALLBACK)
                .map_err(|e| e.to_string())?;
            let line = QueuedCallback {
                callback_id,
                callback_token,
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

/// `--queue-task`s with the `--task-retries` of their tasks. A task id
/// given twice, or one that no `--queue-task` queues (a typo), is an
/// error rather than a silent choice.
fn with_retries(
    mut specs: Vec<TaskSpec>,
    retries: &[TaskRetries],
) -> Result<Vec<TaskSpec>, String> {
    for (i, r) in retries.iter().enumerate() {
        if retries[..i].iter().any(|other| other.task_id == r.task_id) {
            return Err(format!(
                "--task-retries: {} is given twice; give each task its retries once",
                r.task_id
            ));
        }
        let mut matched = false;
        for spec in specs.iter_mut().filter(|s| s.task_id == r.task_id) {
            spec.retries = r.retries;
            matched = true;
        }
        if !matched {
            return Err(format!(
                "--task-retries: no --queue-task queues the task {}; check its spelling",
                r.task_id
            ));
        }
    }
    Ok(specs)
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

/// Revokes a token and its chain in the shared store; prints
/// `{"revoked": {"jti": .., "chain": ..}, "store": ..}` once it is stored.
fn revoke(args: RevokeArgs) -> Result<(), String> {
    let token = if args.token == "-" {
        let mut token = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut token)
            .map_err(|e| format!("--token -: reading standard input: {e}"))?;
        token.trim().to_owned()
    } else {
        args.token
    };
    let age = Duration::from_secs(args.max_session_age);
    let [token_rev, chain_rev] = revocations_of(&token, age)?;
    let store = RedisStore::open(&args.revocations)
        .map_err(|e| format!("--revocations: {e}"))?
        .max_session_age(age);
    let stored = [token_rev.clone(), chain_rev.clone()];
    actix_web::rt::System::new()
        .block_on(async { store.store(&stored).await })
        .map_err(|e| format!("not revoked: {e}"))?;
    print_lines(&[serde_json::json!({
        "revoked": { "jti": token_rev.id, "chain": chain_rev.id },
        "store": store.name(),
    })
    .to_string()])
}

/// The revocations of a token and its chain, read from its payload without
/// checking its signature: its `jti` until its `exp`; its chain (`sid`, or
/// its `jti` for a token minted without one) until the chain's start
/// (`auth_time`, else `iat`) plus `age`. The store clamps both to `age`
/// from now.
fn revocations_of(token: &str, age: Duration) -> Result<[Revocation; 2], String> {
    const NOT_A_TOKEN: &str = "--token: not a JWT (three base64url parts separated by dots)";
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(NOT_A_TOKEN.into());
    };
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| NOT_A_TOKEN)?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&payload).map_err(|_| NOT_A_TOKEN)?;
    let string = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    let number = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    let jti = string("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or("--token: the token has no `jti`, so no deny-list can revoke it (and a server with one refuses it)")?;
    let exp = number("exp").ok_or("--token: the token has no integer `exp`")?;
    let chain = string(CHAIN_CLAIM).filter(|c| !c.is_empty()).unwrap_or(jti);
    let start = number(SESSION_START_CLAIM)
        .or_else(|| number("iat"))
        .unwrap_or(exp);
    let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
    let end = start.saturating_add(age).max(exp);
    let iss = string("iss");
    Ok([
        Revocation::token(jti, exp).with_issuer(iss),
        Revocation::chain(chain, end).with_issuer(iss),
    ])
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
