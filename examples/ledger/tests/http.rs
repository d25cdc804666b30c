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
    content_type: Option<String>,
    challenge: Option<String>,
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
        let (content_type, challenge) = (header("content-type"), header("www-authenticate"));
        let bytes = res.body().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status: res.status(),
            body,
            allow,
            refreshed,
            content_type,
            challenge,
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
    assert_eq!(r.body["detail"], "Method Not Allowed");
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

/// Status, the problem document's `detail`, and its content type.
fn problem(r: &Reply) -> (StatusCode, &Value, Option<&str>) {
    (r.status, &r.body["detail"], r.content_type.as_deref())
}

const PROBLEM: Option<&str> = Some("application/problem+json");

#[actix_web::test]
async fn permissions_open_the_reports_the_summary_and_closing_the_books() {
    let l = Ledger::start().await;
    let clerk = l.token("alice", ledger::CLERK, json!({"acct": "a-1"}));
    let admin = l.token(
        "root",
        ledger::CLERK,
        json!({"scope": "ledger:admin reports:read"}),
    );
    let reader = l.token(
        "rita",
        ledger::CLERK,
        json!({"scope": "reports:read openid"}),
    );
    let other = l.token(
        "carol",
        ledger::CLERK,
        json!({"acct": "a-2", "scope": "reports:read"}),
    );
    for (amount, account, token) in [(70, "a-1", &clerk), (5, "a-2", &other)] {
        let r = l
            .call(
                "POST",
                &format!("/accounts/{account}/entries"),
                Some(token),
                Some(json!({ "amount": amount })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    // GET /reports: reports:read (and the default type, clerk: the route
    // names no `token:*` scope).
    for token in [&admin, &reader] {
        let r = l.call("GET", "/reports", Some(token), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.body,
            json!({"reports": [{"account": "a-1", "balance": 70}, {"account": "a-2", "balance": 5}]})
        );
    }
    let r = l.call("GET", "/reports", Some(&clerk), None).await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::FORBIDDEN,
            &json!("Token lacks permission 'reports:read'"),
            PROBLEM
        )
    );
    assert_eq!(
        r.challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\", scope=\"reports:read\"")
    );
    assert_eq!(r.body["code"], "insufficient_scope");
    assert_eq!(r.body["title"], "Forbidden");
    assert_eq!(r.body["status"], 403);
    let auditor = l.token("bob", ledger::AUDITOR, json!({"scope": "reports:read"}));
    let r = l.call("GET", "/reports", Some(&auditor), None).await;
    assert_eq!(
        r.body["detail"],
        "Token type 'auditor' not allowed for this endpoint. Allowed types: clerk",
        "the type is checked first"
    );

    // A scope of the wrong shape is an invalid token.
    let malformed = l.token("mallory", ledger::CLERK, json!({"scope": ["reports:read"]}));
    let r = l.call("GET", "/reports", Some(&malformed), None).await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::UNAUTHORIZED,
            &json!("Invalid auth token: malformed scope claim"),
            PROBLEM
        )
    );
    assert_eq!(
        r.challenge.as_deref(),
        Some("Bearer error=\"invalid_token\", error_description=\"malformed scope claim\"")
    );

    // The summary: the account's own token, or an admin's.
    for token in [&clerk, &admin] {
        let r = l
            .call("GET", "/accounts/a-1/summary", Some(token), None)
            .await;
        assert_eq!(
            (r.status, r.body),
            (StatusCode::OK, json!({"account": "a-1", "balance": 70}))
        );
    }
    let r = l
        .call("GET", "/accounts/a-1/summary", Some(&other), None)
        .await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::FORBIDDEN,
            &json!("Token satisfies none of: account:self, ledger:admin"),
            PROBLEM
        )
    );
    assert_eq!(
        r.challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\", scope=\"ledger:admin\"")
    );
    // An account with no entry: the guard's 404, even for an admin.
    let r = l
        .call("GET", "/accounts/a-9/summary", Some(&admin), None)
        .await;
    assert_eq!(
        problem(&r),
        (StatusCode::NOT_FOUND, &json!("Account not found"), PROBLEM)
    );
    assert_eq!(r.body["code"], "guard");
    assert_eq!(r.challenge, None);
    // The policy decides before the guard: another account's clerk gets
    // the 403, not the 404 that would tell the account is unknown.
    let r = l
        .call("GET", "/accounts/a-9/summary", Some(&other), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Closing: ledger:admin and reports:read, both.
    let half = l.token("half", ledger::CLERK, json!({"scope": "ledger:admin"}));
    let r = l.call("POST", "/close", Some(&half), None).await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::FORBIDDEN,
            &json!("Token lacks permission 'reports:read'"),
            PROBLEM
        )
    );
    let r = l.call("POST", "/close", Some(&reader), None).await;
    assert_eq!(r.body["detail"], "Token lacks permission 'ledger:admin'");
    let r = l.call("POST", "/close", Some(&admin), None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::OK, json!({"closed": true}))
    );
    // Once closed, the guard refuses entries with 409.
    let r = l
        .call(
            "POST",
            "/accounts/a-1/entries",
            Some(&clerk),
            Some(json!({"amount": 1})),
        )
        .await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::CONFLICT,
            &json!("The ledger is closed"),
            PROBLEM
        )
    );
    // A missing token, and a wrong method: problem details too, with the
    // challenge and the Allow header.
    let r = l.call("GET", "/reports", None, None).await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::UNAUTHORIZED,
            &json!("Missing auth token"),
            PROBLEM
        )
    );
    assert_eq!(r.challenge.as_deref(), Some("Bearer"));
    let r = l.call("DELETE", "/close", None, None).await;
    assert_eq!(
        problem(&r),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            &json!("Method Not Allowed"),
            PROBLEM
        )
    );
    assert_eq!(r.allow.as_deref(), Some("POST"));
    l.stop().await;
}

/// A token without the `role` claim is a clerk (the ledger's default type),
/// so a token from an identity provider, which grants permissions and no
/// type, reaches the routes its permissions open.
#[actix_web::test]
async fn a_token_without_a_type_reaches_routes_by_its_permissions() {
    let l = Ledger::start().await;
    let auth = scopegate::testing::TestAuth::builder()
        .secret(SECRET)
        .audience(ledger::AUDIENCE)
        .vocabulary(&ledger::VOCABULARY)
        .subject(scopegate::SubjectFormat::Any)
        .build()
        .unwrap();
    let service = auth
        .mint("reporting-service")
        .without_type_claim()
        .permissions(&["reports:read"])
        .sign();
    let r = l.call("GET", "/reports", Some(&service), None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"reports": []})));
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
    // The ledger answers problem details: the message is their `detail`.
    let deny = json!("Token subject does not match account");

    let post = |token: String, path: &'static str| {
        let l = &l;
        async move {
            l.call("POST", path, Some(&token), Some(json!({"amount": 5})))
                .await
        }
    };
    let r = post(literal.clone(), "/accounts/team%2B1/entries").await;
    assert_eq!(
        (r.status, &r.body["detail"]),
        (StatusCode::FORBIDDEN, &deny)
    );
    let r = l
        .call(
            "GET",
            "/accounts/team%2B1/statement",
            Some(&literal_auditor),
            None,
        )
        .await;
    assert_eq!(
        (r.status, &r.body["detail"]),
        (StatusCode::FORBIDDEN, &deny)
    );

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
