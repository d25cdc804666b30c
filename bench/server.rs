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
//! bench_server [--key hs512|rs512|es256|eddsa] [--no-token-cache] [--bind ADDR]
//! ```
//!
//! Prints one JSON line, `{"listening": URL, "token": T, "sub": S}`, with `T`
//! an execution token for the task instance `S` valid for an hour (so no
//! response of a bench run carries a refreshed token), then serves until it
//! is stopped. Logs to stderr at
//! `warn` unless `RUST_LOG` says otherwise, so the example's access log,
//! which is `info`, costs nothing in a measurement.

// The example's server, from its library, as the example starts it.
use execution_api_example::{app, keys, state};

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use scopegate::{ConfigError, SigningKey, TokenType};
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
}

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
        let sub = Uuid::new_v4();
        let mut granted = Map::new();
        granted.insert(
            permissions::CLAIM.into(),
            json!(permissions::GRANTED.join(" ")),
        );
        let token = services
            .issuer
            .issue_with_claims(sub, TokenType::EXECUTION, &granted)
            .map_err(|e| e.to_string())?;
        let (server, addr) = app::start_with(services, &args.bind, 1, bench_routes)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let line = serde_json::json!({
            "listening": format!("http://{addr}/execution/"),
            "token": token,
            "sub": sub,
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
