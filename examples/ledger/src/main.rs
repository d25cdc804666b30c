//! Runs the ledger on 127.0.0.1:8090 (or the address given as the first
//! argument) and prints tokens for account `a-1`: a clerk's, an auditor's,
//! and an admin's (a clerk whose `scope` grants `ledger:admin` and
//! `reports:read`):
//!
//! ```sh
//! cargo run -p ledger
//! curl -H "Authorization: Bearer $CLERK" localhost:8090/ledger/accounts/a-1/balance
//! curl -H "Authorization: Bearer $ADMIN" localhost:8090/ledger/reports
//! ```
//!
//! The signing secret comes from `LEDGER_SECRET` (HS512: at least 64
//! bytes), or is random. The `listening` line is printed last.

use serde_json::{json, Map};

const USAGE: &str = "usage: ledger [BIND]   (default 127.0.0.1:8090; LEDGER_SECRET signs tokens)";

/// The command line, read by hand: one optional positional address, and
/// room for options (`--name VALUE`) as the ledger grows them.
#[derive(Debug, PartialEq)]
struct Args {
    bind: String,
}

impl Args {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut bind = None;
        for arg in args {
            match arg.as_str() {
                "-h" | "--help" => return Err(USAGE.to_owned()),
                option if option.starts_with('-') => {
                    return Err(format!("unknown option {option}\n{USAGE}"))
                }
                _ if bind.is_none() => bind = Some(arg),
                _ => return Err(format!("unexpected argument {arg}\n{USAGE}")),
            }
        }
        Ok(Args {
            bind: bind.unwrap_or_else(|| "127.0.0.1:8090".to_owned()),
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let secret = match std::env::var("LEDGER_SECRET") {
        Ok(secret) => secret.into_bytes(),
        Err(_) => {
            eprintln!("LEDGER_SECRET is not set: using a random secret");
            let random = format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
            random.into_bytes()
        }
    };
    let issuer = ledger::issuer(&secret)?;
    let mut account = Map::new();
    account.insert("acct".into(), json!("a-1"));
    let clerk = issuer.issue_with_claims("alice", ledger::CLERK, &account)?;
    let auditor = issuer.issue_with_claims("bob", ledger::AUDITOR, &account)?;
    let mut granted = Map::new();
    granted.insert("scope".into(), json!("ledger:admin reports:read"));
    let admin = issuer.issue_with_claims("root", ledger::CLERK, &granted)?;
    actix_web::rt::System::new().block_on(async move {
        let (server, addr) = ledger::start(&args.bind, ledger::verifier(&secret)?, issuer)?;
        println!(
            "{}",
            json!({ "clerk": clerk, "auditor": auditor, "admin": admin })
        );
        println!(
            "{}",
            json!({ "listening": format!("http://{addr}/ledger/") })
        );
        server.await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn the_address_is_optional_and_options_are_refused() {
        assert_eq!(parse(&[]).unwrap().bind, "127.0.0.1:8090");
        assert_eq!(parse(&["0.0.0.0:1"]).unwrap().bind, "0.0.0.0:1");
        assert!(parse(&["--oops"])
            .unwrap_err()
            .starts_with("unknown option --oops"));
        assert!(parse(&["a", "b"]).is_err());
        assert_eq!(parse(&["--help"]).unwrap_err(), USAGE);
    }
}
