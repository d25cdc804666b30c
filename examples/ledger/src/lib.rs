//! A small ledger service with its own vocabulary (`scopegate.toml`): clerks
//! post entries to their own account, auditors read any account they are
//! given and its statement, a receipt token reads one entry, and
//! permissions (OAuth 2 scopes in `scope`, as an identity provider grants
//! them) open the reports and closing the books.
//!
//! - `GET  /ledger/health`: public.
//! - `GET  /ledger/accounts/<account>/balance`: clerks and auditors of that
//!   account (`account:self`: the token's `acct` equals `<account>`).
//! - `POST /ledger/accounts/<account>/entries`: clerks only (no `token:*`
//!   scope: the vocabulary's default type), while the ledger is open (the
//!   guard `ledger_open` answers 409 once it is closed).
//! - `GET  /ledger/accounts/{account}/statement`: an existing-style actix
//!   handler, adopted with `#[protect]`: auditors only.
//! - `GET  /ledger/entries/<entry_id>`: auditors holding a receipt for that
//!   entry (`entry:self`: the token's `entry` claim, as a UUID).
//! - `GET  /ledger/reports`: `reports:read`.
//! - `GET  /ledger/accounts/<account>/summary`: the account's own token, or
//!   `ledger:admin` (`any("account:self", "ledger:admin")`); an account
//!   with no entry is 404 (the guard `known_account`).
//! - `POST /ledger/close`: `ledger:admin` and `reports:read`.
//!
//! Every refusal is RFC 9457 `application/problem+json` ([`problem`]).
#![doc(test(attr(deny(warnings))))]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use scopegate::{
    guard, routes, Deny, Issuer, Refusal, Reissue, Renderer, SigningKey, Token, TokenType,
    TrustedIssuer, VerificationKey, Verifier, Vocabulary,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// The README's examples in the ledger's words, extracted by `build.rs`:
/// rustdoc compiles them here, with warnings as errors.
#[cfg(doctest)]
#[doc = include_str!(concat!(env!("OUT_DIR"), "/readme_ledger.md"))]
pub struct ReadmeExamples;

/// The ledger's vocabulary, from its `scopegate.toml`.
pub const VOCABULARY: Vocabulary = scopegate::vocabulary!();
/// A clerk's token: short-lived, refreshed while in use.
pub const CLERK: TokenType = TokenType::new("clerk");
/// An auditor's token: long-lived, never refreshed.
pub const AUDITOR: TokenType = TokenType::new("auditor");
/// The audience of the ledger's tokens.
pub const AUDIENCE: &str = "urn:example:ledger";

/// One posted entry.
#[derive(Clone, Debug)]
struct Entry {
    account: String,
    amount: i64,
    by: String,
}

/// The ledger, in memory.
#[derive(Default)]
pub struct Ledger {
    entries: Mutex<HashMap<Uuid, Entry>>,
    closed: AtomicBool,
}

impl Ledger {
    /// Whether `account` has an entry.
    fn knows(&self, account: &str) -> bool {
        self.entries
            .lock()
            .map(|e| e.values().any(|x| x.account == account))
            .unwrap_or(false)
    }

    /// Every account with its balance, by account.
    fn balances(&self) -> BTreeMap<String, i64> {
        let mut balances = BTreeMap::new();
        if let Ok(entries) = self.entries.lock() {
            for e in entries.values() {
                *balances.entry(e.account.clone()).or_insert(0) += e.amount;
            }
        }
        balances
    }

    fn balance(&self, account: &str) -> i64 {
        self.entries
            .lock()
            .map(|e| {
                e.values()
                    .filter(|x| x.account == account)
                    .map(|x| x.amount)
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// The body of `POST .../entries`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewEntry {
    amount: i64,
}

/// The account in the path must have an entry: otherwise 404, whoever
/// asks, so an admin's token cannot tell an unused account id from one that
/// was never opened.
#[guard(params = ["account"], statuses = [404])]
pub async fn known_account(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    let account = scopegate::path_param(req, "account").unwrap_or_default();
    let known = req
        .app_data::<web::Data<Ledger>>()
        .is_some_and(|ledger| ledger.knows(&account));
    if known {
        Ok(())
    } else {
        Err(Deny::not_found("Account not found"))
    }
}

/// No entry is posted once the books are closed: 409.
#[guard(statuses = [409])]
pub async fn ledger_open(req: &HttpRequest, _token: &Token) -> Result<(), Deny> {
    let closed = req
        .app_data::<web::Data<Ledger>>()
        .is_none_or(|ledger| ledger.closed.load(Ordering::SeqCst));
    if closed {
        Err(Deny::with_status(
            StatusCode::CONFLICT,
            "The ledger is closed",
        ))
    } else {
        Ok(())
    }
}

/// Every refusal as RFC 9457 problem details: `type`, `title`, `status`,
/// `detail`, and scopegate's reason in `code`. scopegate sets the status
/// and the `WWW-Authenticate` and `Allow` headers again on it.
pub fn problem() -> Renderer {
    Renderer::new(|_req, refusal: &Refusal<'_>| {
        let detail = match refusal.message() {
            Some(message) => serde_json::Value::from(message),
            None => serde_json::Value::from(refusal.detail().to_string()),
        };
        HttpResponse::build(refusal.status())
            .content_type("application/problem+json")
            .json(json!({
                "type": "about:blank",
                "title": refusal.status().canonical_reason().unwrap_or("Error"),
                "status": refusal.status().as_u16(),
                "detail": detail,
                "code": refusal.reason(),
            }))
    })
}

#[routes(prefix = "/ledger")]
pub mod api {
    use super::*;

    /// Every account's balance: `reports:read`.
    #[route(get, "/reports", scopes = ["reports:read"])]
    pub async fn reports(ledger: web::Data<Ledger>) -> HttpResponse {
        let reports: Vec<_> = ledger
            .balances()
            .into_iter()
            .map(|(account, balance)| json!({ "account": account, "balance": balance }))
            .collect();
        HttpResponse::Ok().json(json!({ "reports": reports }))
    }

    /// One account's balance, for its own token or an admin's; 404 for an
    /// account with no entry. Outside `accounts`, whose `account:self`
    /// would be required as well.
    #[route(get, "/accounts/<account>/summary",
            scopes = [any("account:self", "ledger:admin")], guard = known_account)]
    pub async fn summary(path: web::Path<String>, ledger: web::Data<Ledger>) -> HttpResponse {
        let account = path.into_inner();
        let balance = ledger.balance(&account);
        HttpResponse::Ok().json(json!({ "account": account, "balance": balance }))
    }

    /// Closes the books: no entry is posted afterwards.
    #[route(post, "/close", scopes = ["ledger:admin", "reports:read"])]
    pub async fn close(ledger: web::Data<Ledger>) -> HttpResponse {
        ledger.closed.store(true, Ordering::SeqCst);
        HttpResponse::Ok().json(json!({ "closed": true }))
    }

    /// Anyone may ask whether the ledger is up.
    #[route(get, "/health", public)]
    pub async fn health() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "status": "healthy" }))
    }

    /// A receipt for one entry: the token's `entry` claim must be the id
    /// in the path.
    #[route(get, "/entries/<entry_id>", scopes = ["entry:self", "token:auditor"])]
    pub async fn get_entry(ledger: web::Data<Ledger>, path: web::Path<Uuid>) -> HttpResponse {
        let found = ledger
            .entries
            .lock()
            .ok()
            .and_then(|e| e.get(&path.into_inner()).cloned());
        match found {
            Some(e) => HttpResponse::Ok().json(json!({
                "account": e.account, "amount": e.amount, "by": e.by,
            })),
            None => HttpResponse::NotFound().json(json!({ "detail": "Entry not found" })),
        }
    }

    /// Everything under an account: the token must be that account's.
    #[routes(prefix = "/accounts/<account>", scopes = ["account:self"])]
    pub mod accounts {
        use super::*;

        /// Clerks and auditors read the balance.
        #[route(get, "/balance", scopes = ["token:clerk", "token:auditor"])]
        pub async fn balance(token: Token, ledger: web::Data<Ledger>) -> HttpResponse {
            let account: String = token.claim("acct").unwrap_or_default();
            HttpResponse::Ok().json(json!({
                "account": account,
                "balance": ledger.balance(&account),
                "read_by": token.sub(),
                "as": token.token_type(),
            }))
        }

        /// Clerks post entries (the default type: no `token:*` scope),
        /// while the ledger is open.
        #[route(post, "/entries", responses(201), guard = ledger_open)]
        pub async fn post_entry(
            token: Token,
            path: web::Path<String>,
            body: web::Json<NewEntry>,
            ledger: web::Data<Ledger>,
        ) -> HttpResponse {
            let id = Uuid::new_v4();
            let entry = Entry {
                account: path.into_inner(),
                amount: body.amount,
                by: token.sub().to_owned(),
            };
            match ledger.entries.lock() {
                Ok(mut entries) => {
                    entries.insert(id, entry);
                    HttpResponse::Created().json(json!({ "entry_id": id }))
                }
                Err(_) => HttpResponse::InternalServerError().finish(),
            }
        }

        /// The statement: an actix handler as an existing service wrote
        /// it, adopted with `#[protect]`; the group's prefix and
        /// `account:self` apply to it too.
        #[scopegate::protect(scopes = ["token:auditor"])]
        #[get("/statement")]
        pub async fn statement(path: web::Path<String>, ledger: web::Data<Ledger>) -> HttpResponse {
            let account = path.into_inner();
            let mut lines: Vec<_> = ledger
                .entries
                .lock()
                .map(|e| {
                    e.values()
                        .filter(|x| x.account == account)
                        .map(|x| json!({ "amount": x.amount, "by": x.by }))
                        .collect()
                })
                .unwrap_or_default();
            lines.sort_by_key(|l| l.to_string());
            HttpResponse::Ok().json(json!({ "account": account, "entries": lines }))
        }
    }
}

/// The verifier: the ledger's subjects are user names, not UUIDs.
pub fn verifier(secret: &[u8]) -> Result<Verifier, scopegate::ConfigError> {
    verifier_for(secret, AUDIENCE)
}

/// [`verifier`] for another audience.
pub fn verifier_for(secret: &[u8], audience: &str) -> Result<Verifier, scopegate::ConfigError> {
    Verifier::builder(VerificationKey::secret(secret)?)
        .audience(audience)
        .vocabulary(&VOCABULARY) // `subject = "any"`: user names
        .build()
}

/// A verifier that trusts the tokens of each identity provider in
/// `issuers` (found by OpenID Connect discovery) for `audience`, instead of
/// the ledger's own secret: a provider's client-credentials token has no
/// `role`, so it is a clerk's, and its subject is the client id. Fails when
/// a provider's discovery document names another issuer; a provider that
/// cannot be reached yet is retried, its tokens refused until it answers.
pub async fn identity_providers(
    issuers: &[String],
    audience: &str,
) -> Result<Verifier, scopegate::ConfigError> {
    let mut trusted = issuers.iter().map(|url| TrustedIssuer::oidc(url.as_str()));
    let Some(first) = trusted.next() else {
        return Err(scopegate::ConfigError::InvalidIssuerUrl {
            issuer: String::new(),
            reason: "no identity provider given".into(),
        });
    };
    trusted
        .fold(Verifier::trusting(first), |builder, issuer| {
            builder.trust(issuer)
        })
        .audience(audience)
        .vocabulary(&VOCABULARY) // `subject = "any"`: user names
        .load()
        .await
}

/// The issuer of the ledger's tokens, in its vocabulary.
pub fn issuer(secret: &[u8]) -> Result<Issuer, scopegate::ConfigError> {
    issuer_for(secret, AUDIENCE)
}

/// [`issuer`] for another audience.
pub fn issuer_for(secret: &[u8], audience: &str) -> Result<Issuer, scopegate::ConfigError> {
    Issuer::builder(SigningKey::secret(secret)?)
        .audience(audience)
        .vocabulary(&VOCABULARY)
        .ttl(CLERK, std::time::Duration::from_secs(300))
        .ttl(AUDITOR, std::time::Duration::from_secs(8 * 3600))
        .build()
}

/// Starts the ledger on `bind` (port 0 picks one): the server (to spawn or
/// await) and the address it listens on.
pub fn start(
    bind: &str,
    verifier: Verifier,
    issuer: Issuer,
) -> std::io::Result<(actix_web::dev::Server, std::net::SocketAddr)> {
    let verifier = web::Data::new(verifier);
    let ledger = web::Data::new(Ledger::default());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(verifier.clone())
            .app_data(ledger.clone())
            // Every refusal as problem details.
            .app_data(problem())
            // Clerks' tokens are refreshed while in use; auditors' never.
            .wrap(Reissue::new(issuer.clone()).refresh_types(&[CLERK]))
            .configure(api::configure)
    })
    .workers(1)
    .bind(bind)?;
    let addr = server.addrs()[0];
    Ok((server.run(), addr))
}
