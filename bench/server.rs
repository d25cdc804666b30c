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
//! Two more routes, registered after the twin, serve the same handler under
//! a vocabulary with permissions ([`permissions`]):
//! `GET /execution/bench/plain/<key>`, which requires none of them, and
//! `GET /execution/bench/perms/<key>`, which requires three and an
//! `any(..)` of two more; the printed token holds the three and the second
//! alternative, so every check runs.
//!
//! ```text
//! bench_server [--key hs512|rs512|es256|eddsa] [--no-token-cache] [--no-twin] [--bind ADDR]
//!              [--deny-list none|memory|redis] [--revoked N] [--revocations URL]
//! ```
//!
//! With `--deny-list`, the verifier consults a deny-list holding `--revoked`
//! revocations (10,000 by default: half token ids, half chain ids, none of
//! them the printed token's): a `MemoryDenyList`, or a `RedisDenyList` of the
//! Redis at `--revocations`, which the server fills first and whose list it
//! waits to have loaded before it prints its line.
//!
//! Queues one task instance, `bench_dag/manual__1/bench_task`, prints one
//! JSON line, `{"listening": URL, "token": T, "sub": S, "ct": C,
//! "ct_token": W}`, with `T` an execution token for that task instance `S`
//! and `W` a workload token for the connection test `C`, both valid for an
//! hour (so no response of a bench run carries a refreshed token), then
//! serves until it is stopped. Logs to stderr at
//! `warn` unless `RUST_LOG` says otherwise, so the example's access log,
//! which is `info`, costs nothing in a measurement.

// The example's server, from its library, as the example starts it.
use execution_api_example::{app, keys, state};

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use scopegate::{
    ConfigError, MemoryDenyList, RedisDenyList, RedisStore, Revocation, SigningKey, TokenType,
};
use serde_json::{json, Map};
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

/// The twin, then the permission routes, ahead of the example's routes.
fn bench_routes(cfg: &mut actix_web::web::ServiceConfig) {
    twin(cfg);
    permissions::configure(cfg);
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
    /// The deny-list the verifier consults.
    #[arg(long, value_enum, default_value = "none")]
    deny_list: DenyListKind,
    /// How many revocations the deny-list holds.
    #[arg(long, default_value_t = 10_000)]
    revoked: usize,
    /// The Redis of `--deny-list redis`.
    #[arg(long, value_name = "URL")]
    revocations: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DenyListKind {
    /// No deny-list (as `serve` without `--revocations`).
    None,
    /// A `MemoryDenyList`.
    Memory,
    /// A `RedisDenyList` (`serve --revocations`).
    Redis,
}

/// The maximum session age of both deny-lists' verifiers (the example's
/// default).
const MAX_SESSION_AGE: Duration = app::DEFAULT_MAX_SESSION_AGE;

/// `n` revocations that name no token of this server: half token ids, half
/// chain ids, kept for an hour.
fn revocations(n: usize) -> Vec<Revocation> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        + 3600;
    (0..n)
        .map(|i| {
            let id = Uuid::new_v4().simple().to_string();
            if i % 2 == 0 {
                Revocation::token(id, until)
            } else {
                Revocation::chain(id, until)
            }
        })
        .collect()
}

/// Fills the Redis at `url` with `n` revocations, then mirrors it and
/// waits for the list to load.
async fn redis_deny_list(url: &str, n: usize) -> Result<Arc<RedisDenyList>, String> {
    let store = RedisStore::open(url)
        .map_err(|e| e.to_string())?
        .max_session_age(MAX_SESSION_AGE)
        .max_revocations(n.max(1) * 2);
    for chunk in revocations(n).chunks(1000) {
        store.store(chunk).await.map_err(|e| e.to_string())?;
    }
    let list = Arc::new(RedisDenyList::new(store));
    // The verifier tells it the session age; until then it waits. Tell it
    // now, so that it loads before the server says it listens.
    scopegate::DenyList::set_max_session_age(&*list, MAX_SESSION_AGE);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !list.is_loaded() || list.len() < n {
        if Instant::now() > deadline {
            return Err(format!(
                "the Redis deny-list holds {} of {n} revocations after 30 s",
                list.len()
            ));
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(list)
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
    let mut auth = AuthConfig {
        execution_ttl: TOKEN_TTL,
        token_cache: !args.no_token_cache,
        max_session_age: Some(MAX_SESSION_AGE),
        ..AuthConfig::new(args.key.keys()?, AIRFLOW_AUDIENCE)
    };
    actix_web::rt::System::new().block_on(async move {
        match args.deny_list {
            DenyListKind::None => {}
            DenyListKind::Memory => {
                let list = MemoryDenyList::new();
                for r in revocations(args.revoked) {
                    match r.kind {
                        scopegate::RevokedKind::Token => list.revoke(&r.id, r.until),
                        _ => list.revoke_chain(&r.id, r.until),
                    }
                }
                auth.memory_deny_list = Some(Arc::new(list));
            }
            DenyListKind::Redis => {
                let url = args
                    .revocations
                    .as_deref()
                    .ok_or("--deny-list redis needs --revocations URL")?;
                auth.revocations = Some(redis_deny_list(url, args.revoked).await?);
            }
        }
        let services = Services::load(&auth).await?;
        let spec = "bench_dag/manual__1/bench_task".parse()?;
        let sub = services.store.queue_task(&spec)?;
        let mut granted = Map::new();
        granted.insert(
            permissions::CLAIM.into(),
            json!(permissions::GRANTED.join(" ")),
        );
        let token = services
            .issuer
            .issue_with_claims(sub, TokenType::EXECUTION, &granted)
            .map_err(|e| e.to_string())?;
        let ct = Uuid::new_v4();
        let ct_token = services
            .issuer
            .issue(ct, TokenType::WORKLOAD)
            .map_err(|e| e.to_string())?;
        // --no-twin: the example's routes alone (the routing table), without
        // the twin and the permission routes registered ahead of them.
        let first = if args.no_twin { nothing } else { bench_routes };
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

/// The routes of the permissions measurement: the example's variable
/// handler, under policies written as the macros write them for a crate
/// whose `scopegate.toml` declares Airflow's types and five permissions in
/// `scp`.
mod permissions {
    use actix_web::{web, HttpResponse};
    use scopegate::{
        Alternative, AnyOf, Condition, Enforce, PermissionFormat, Permissions, Requirement,
        RoutePolicy, TokenTypes, Vocabulary,
    };

    use crate::state::Store;

    /// `variables::get`'s body: the same handler as the protected route's.
    async fn get(
        store: web::Data<Store>,
        key: web::Path<String>,
    ) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().json(store.variable(&key)?))
    }

    /// The claim that carries the permissions.
    pub const CLAIM: &str = "scp";
    /// What the printed token holds: the three the route requires, and
    /// the second alternative of its `any(..)`.
    pub const GRANTED: [&str; 4] = ["bench:a", "bench:b", "bench:c", "bench:e"];

    const VOCABULARY: Vocabulary = Vocabulary::new("scope", &["execution", "workload"], 0)
        .with_permissions(Permissions::new(
            CLAIM,
            PermissionFormat::Space,
            &["bench:a", "bench:b", "bench:c", "bench:d", "bench:e"],
        ));

    /// No permission required.
    const PLAIN: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&VOCABULARY), &[]);

    /// `scopes = ["bench:a", "bench:b", "bench:c", any("bench:d", "bench:e")]`.
    const PERMS: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&VOCABULARY), &[])
        .with_requirements(&[
            Requirement::Permission(VOCABULARY.permission("bench:a")),
            Requirement::Permission(VOCABULARY.permission("bench:b")),
            Requirement::Permission(VOCABULARY.permission("bench:c")),
            Requirement::Any(AnyOf::new(&[
                Alternative::all(&[Condition::Permission(VOCABULARY.permission("bench:d"))]),
                Alternative::all(&[Condition::Permission(VOCABULARY.permission("bench:e"))]),
            ])),
        ]);

    pub fn configure(cfg: &mut web::ServiceConfig) {
        cfg.service(
            web::resource("/execution/bench/plain/{variable_key}")
                .wrap(Enforce::new(&PLAIN))
                .get(get),
        )
        .service(
            web::resource("/execution/bench/perms/{variable_key}")
                .wrap(Enforce::new(&PERMS))
                .get(get),
        );
    }
}
