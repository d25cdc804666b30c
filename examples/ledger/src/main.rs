//! Runs the ledger on 127.0.0.1:8090 (or the address given as the first
//! argument) and prints a clerk's and an auditor's token for account `a-1`:
//!
//! ```sh
//! cargo run -p ledger
//! curl -H "Authorization: Bearer $CLERK" localhost:8090/ledger/accounts/a-1/balance
//! ```
//!
//! The signing secret comes from `LEDGER_SECRET` (HS512: at least 64
//! bytes), or is random.

use serde_json::{json, Map};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
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
    actix_web::rt::System::new().block_on(async move {
        let (server, addr) = ledger::start(&bind, ledger::verifier(&secret)?, issuer)?;
        println!("{}", json!({ "clerk": clerk, "auditor": auditor }));
        println!(
            "{}",
            json!({ "listening": format!("http://{addr}/ledger/") })
        );
        server.await?;
        Ok(())
    })
}
