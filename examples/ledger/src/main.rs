//! Runs the ledger on 127.0.0.1:8090 (or the address given as the first
//! argument).
//!
//! ```sh
//! ledger [BIND] [--oidc ISSUER_URL ...] [--audience AUD]
//! ```
//!
//! Without `--oidc` it signs its own tokens and prints, for account `a-1`,
//! a clerk's and an auditor's token, and an admin's (a clerk whose `scope`
//! grants `ledger:admin` and `reports:read`):
//!
//! ```sh
//! cargo run -p ledger
//! curl -H "Authorization: Bearer $CLERK" localhost:8090/ledger/accounts/a-1/balance
//! curl -H "Authorization: Bearer $ADMIN" localhost:8090/ledger/reports
//! ```
//!
//! The signing secret comes from `LEDGER_SECRET` (HS512: at least 64
//! bytes), or is random. With `--oidc ISSUER_URL` (repeatable) it trusts the
//! tokens of each identity provider instead, for the audience `--audience`
//! (default `urn:example:ledger`), and refuses to start when a provider's
//! discovery document names another issuer. Either way its last line on
//! stdout is `{"listening": "http://HOST:PORT/ledger/"}`. It logs to stderr
//! (`RUST_LOG`, default `info`).

use serde_json::{json, Map};

const USAGE: &str = "usage: ledger [BIND] [--oidc ISSUER_URL ...] [--audience AUD]";

struct Args {
    bind: String,
    oidc: Vec<String>,
    audience: String,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        bind: "127.0.0.1:8090".to_owned(),
        oidc: Vec::new(),
        audience: ledger::AUDIENCE.to_owned(),
    };
    let mut bind = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--oidc" => args.oidc.push(value("--oidc")?),
            "--audience" => args.audience = value("--audience")?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if bind.is_none() => bind = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    if let Some(bind) = bind {
        args.bind = bind;
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("ledger: {message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let secret = match std::env::var("LEDGER_SECRET") {
        Ok(secret) => secret.into_bytes(),
        Err(_) => {
            if args.oidc.is_empty() {
                eprintln!("LEDGER_SECRET is not set: using a random secret");
            }
            let random = format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
            random.into_bytes()
        }
    };
    let issuer = ledger::issuer_for(&secret, &args.audience)?;
    actix_web::rt::System::new().block_on(async move {
        let verifier = if args.oidc.is_empty() {
            let mut account = Map::new();
            account.insert("acct".into(), json!("a-1"));
            let clerk = issuer.issue_with_claims("alice", ledger::CLERK, &account)?;
            let auditor = issuer.issue_with_claims("bob", ledger::AUDITOR, &account)?;
            let mut granted = Map::new();
            granted.insert("scope".into(), json!("ledger:admin reports:read"));
            let admin = issuer.issue_with_claims("root", ledger::CLERK, &granted)?;
            println!(
                "{}",
                json!({ "clerk": clerk, "auditor": auditor, "admin": admin })
            );
            ledger::verifier_for(&secret, &args.audience)?
        } else {
            match ledger::identity_providers(&args.oidc, &args.audience).await {
                Ok(verifier) => verifier,
                Err(err) => {
                    eprintln!("ledger: {err}");
                    std::process::exit(1);
                }
            }
        };
        let (server, addr) = ledger::start(&args.bind, verifier, issuer)?;
        println!(
            "{}",
            json!({ "listening": format!("http://{addr}/ledger/") })
        );
        server.await?;
        Ok(())
    })
}
