//! The ledger over real TCP (a server on 127.0.0.1:0, awc as the client):
//! its own vocabulary from `scopegate.toml`, enforced by routes declared
//! with the macros and by an actix handler adopted with `#[protect]`.

use std::time::Duration;

use awc::http::StatusCode;
use scopegate::{Issuer, SigningKey, TokenType, Vocabulary, REFRESHED_TOKEN_HEADER};
use serde_json::{json, Map, Value};
use uuid::Uuid;

const SECRET: &[u8] = b"ledger-test-secret-of-64-bytes-or-more-as-rfc-7518-asks-of-hs512";

struct Ledger {
    base: String,
    client: awc::Client,
    issuer: Issuer,
    server: actix_web::dev::ServerHandle,
}

struct Reply {
    status: StatusCode,
    body: Value,
    allow: Option<String>,
    refreshed: Option<String>,
}

impl Ledger {
    async fn start() -> Ledger {
        let (server, addr) = ledger::start(
            "127.0.0.1:0",
            ledger::verifier(SECRET).unwrap(),
            ledger::issuer(SECRET).unwrap(),
        )
        .unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ledger {
            base: format!("http://{addr}/ledger"),
            client: awc::Client::default(),
            issuer: ledger::issuer(SECRET).unwrap(),
            server: handle,
        }
    }

    /// A token for `sub` of type `ty` with these extra claims.
    fn token(&self, sub: &str, ty: TokenType, extra: Value) -> String {
        let extra: Map<String, Value> = extra.as_object().cloned().unwrap_or_default();
        self.issuer.issue_with_claims(sub, ty, &extra).unwrap()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut res = match body {
            Some(body) => req.send_json(&body).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (allow, refreshed) = (header("allow"), header(REFRESHED_TOKEN_HEADER.as_str()));
        let bytes = res.body().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status: res.status(),
            body,
            allow,
            refreshed,
        }
    }

    async fn stop(self) {
        self.server.stop(true).await;
    }
}

#[actix_web::test]
async fn the_ledgers_words_are_enforced_over_http() {
    let l = Ledger::start().await;
    let clerk = l.token("alice", ledger::CLERK, json!({"acct": "a-1"}));
    let auditor = l.token("bob", ledger::AUDITOR, json!({"acct": "a-1"}));

    // Public.
    let r = l.call("GET", "/health", None, None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"status": "healthy"}))
    );

    // Allowed: a clerk posts, both read; `sub` is a name, not a UUID.
    let r = l
        .call(
            "POST",
            "/accounts/a-1/entries",
            Some(&clerk),
            Some(json!({"amount": 70})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let entry: Uuid = serde_json::from_value(r.body["entry_id"].clone()).unwrap();
    for (token, sub, ty) in [(&clerk, "alice", "clerk"), (&auditor, "bob", "auditor")] {
        let r = l
            .call("GET", "/accounts/a-1/balance", Some(token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.body,
            json!({"account": "a-1", "balance": 70, "read_by": sub, "as": ty})
        );
    }

    // Wrong type: 403 with Airflow's message shape, in the ledger's words.
    let r = l
        .call(
            "POST",
            "/accounts/a-1/entries",
            Some(&auditor),
            Some(json!({"amount": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body["detail"],
        "Token type 'auditor' not allowed for this endpoint. Allowed types: clerk"
    );

    // Unknown type: a `role` that is none of the ledger's is an invalid
    // token (minted by an issuer with another vocabulary in `role`).
    static ADMINS: Vocabulary = Vocabulary::new("role", &["admin"], 0);
    let admin = Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(ledger::AUDIENCE)
        .vocabulary(&ADMINS)
        .build()
        .unwrap()
        .issue_with_claims(
            "mallory",
            TokenType::new("admin"),
            json!({"acct": "a-1"}).as_object().unwrap(),
        )
        .unwrap();
    let r = l
        .call("GET", "/accounts/a-1/balance", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body["detail"],
        "Invalid auth token: unknown token type in 'role'"
    );

    // Owner mismatch: byte for byte, with the owner's label.
    for acct in ["a-2", "A-1"] {
        let other = l.token("carol", ledger::CLERK, json!({ "acct": acct }));
        let r = l
            .call("GET", "/accounts/a-1/balance", Some(&other), None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{acct}");
        assert_eq!(r.body["detail"], "Token subject does not match account");
    }

    // The adopted actix handler: auditors only, account:self from the group.
    let r = l
        .call("GET", "/accounts/a-1/statement", Some(&auditor), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"account": "a-1", "entries": [{"amount": 70, "by": "alice"}]})
    );
    let r = l
        .call("GET", "/accounts/a-1/statement", Some(&clerk), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body["detail"],
        "Token type 'clerk' not allowed for this endpoint. Allowed types: auditor"
    );

    // The UUID owner: a receipt for one entry, in either case.
    let receipt = l.token(
        "bob",
        ledger::AUDITOR,
        json!({ "entry": entry.to_string().to_uppercase() }),
    );
    let r = l
        .call("GET", &format!("/entries/{entry}"), Some(&receipt), None)
        .await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::OK,
            json!({"account": "a-1", "amount": 70, "by": "alice"})
        )
    );
    let r = l
        .call(
            "GET",
            &format!("/entries/{}", Uuid::new_v4()),
            Some(&receipt),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["detail"], "Token subject does not match entry ID");

    // A known path with another method: 405 with Allow, before any token.
    let r = l.call("DELETE", "/accounts/a-1/balance", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body, json!({"detail": "Method Not Allowed"}));
    assert_eq!(r.allow.as_deref(), Some("GET"));
    let r = l
        .call("PUT", "/accounts/a-1/statement", Some(&clerk), None)
        .await;
    assert_eq!(
        (r.status, r.allow.as_deref()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("GET"))
    );
    l.stop().await;
}

#[actix_web::test]
async fn clerks_tokens_are_refreshed_and_auditors_are_not() {
    let l = Ledger::start().await;
    // 20 s lifetimes: inside the 30 s refresh window from the start.
    let short = Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(ledger::AUDIENCE)
        .vocabulary(&ledger::VOCABULARY)
        .ttl(ledger::CLERK, Duration::from_secs(20))
        .ttl(ledger::AUDITOR, Duration::from_secs(20))
        .build()
        .unwrap();
    let acct = json!({"acct": "a-1"});
    let clerk = short
        .issue_with_claims("alice", ledger::CLERK, acct.as_object().unwrap())
        .unwrap();
    let r = l
        .call("GET", "/accounts/a-1/balance", Some(&clerk), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let fresh = r.refreshed.expect("a clerk's token is refreshed");
    let r = l
        .call("GET", "/accounts/a-1/balance", Some(&fresh), None)
        .await;
    assert_eq!((r.status, &r.body["as"]), (StatusCode::OK, &json!("clerk")));
    assert_eq!(r.refreshed, None, "the fresh token has 300 s left");

    let auditor = short
        .issue_with_claims("bob", ledger::AUDITOR, acct.as_object().unwrap())
        .unwrap();
    let r = l
        .call("GET", "/accounts/a-1/balance", Some(&auditor), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.refreshed, None, "auditors' tokens are never refreshed");
    l.stop().await;
}

/// Issue 18, finding 2: `account:self` (`compare = "exact"`) compares the
/// token's `acct` with the account the handler gets, percent-decoded as
/// `web::Path` decodes it. A user whose account id is literally `team%2B1`
/// must not reach the account `team+1`, which `/accounts/team%2B1/...`
/// names; the owner of `team+1` reaches it by either spelling.
#[actix_web::test]
async fn an_encoded_account_is_compared_decoded() {
    let l = Ledger::start().await;
    let literal = l.token("mallory", ledger::CLERK, json!({"acct": "team%2B1"}));
    let literal_auditor = l.token("mallory", ledger::AUDITOR, json!({"acct": "team%2B1"}));
    let owner = l.token("alice", ledger::CLERK, json!({"acct": "team+1"}));
    let owner_auditor = l.token("alice", ledger::AUDITOR, json!({"acct": "team+1"}));
    let deny = json!({"detail": "Token subject does not match account"});

    let post = |token: String, path: &'static str| {
        let l = &l;
        async move {
            l.call("POST", path, Some(&token), Some(json!({"amount": 5})))
                .await
        }
    };
    let r = post(literal.clone(), "/accounts/team%2B1/entries").await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, deny.clone()));
    let r = l
        .call(
            "GET",
            "/accounts/team%2B1/statement",
            Some(&literal_auditor),
            None,
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, deny.clone()));

    // The owner of `team+1` writes by either spelling, and reads both back.
    for path in ["/accounts/team%2B1/entries", "/accounts/team+1/entries"] {
        let r = post(owner.clone(), path).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
    }
    let r = l
        .call(
            "GET",
            "/accounts/team%2B1/statement",
            Some(&owner_auditor),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["account"], "team+1");
    assert_eq!(r.body["entries"].as_array().map(Vec::len), Some(2));
    l.stop().await;
}
