//! SPEC §3 with another service's words (SPEC §6): a vocabulary with two
//! types in the `role` claim, an owner compared byte for byte on a string
//! claim, a UUID owner, subjects that are not UUIDs, the generic `Token`
//! extractor, and refreshing and issuing in that vocabulary. The policies
//! are put together by hand here; `examples/ledger` declares the same
//! words in a `scopegate.toml` and runs them through the macros over HTTP.

mod common;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse};
use common::*;
use scopegate::{
    Compare, Enforce, Issuer, Owner, Reissue, RoutePolicy, SigningKey, SubjectFormat, TiToken,
    Token, TokenType, TokenTypes, VerificationKey, Verifier, Vocabulary, REFRESHED_TOKEN_HEADER,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

static LEDGER: Vocabulary = Vocabulary::new("role", &["clerk", "auditor"], 0);
const CLERK: TokenType = TokenType::new("clerk");
const AUDITOR: TokenType = TokenType::new("auditor");
const ACCOUNT: Owner = Owner::new("account:self", "account", "account")
    .with_claim("acct")
    .with_compare(Compare::Exact);
const ENTRY: Owner = Owner::new("entry:self", "entry_id", "entry ID").with_claim("entry");

/// No `token:*` scope: the vocabulary's default, clerk.
static BALANCE: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&LEDGER), &[ACCOUNT]);
static AUDIT: RoutePolicy =
    RoutePolicy::protected(TokenTypes::from_bits(&LEDGER, 0b11), &[ACCOUNT, ENTRY]);

async fn whoami(token: Token) -> HttpResponse {
    let acct: Option<String> = token.claim("acct").ok();
    HttpResponse::Ok().json(json!({
        "sub": token.sub(),
        "type": token.token_type(),
        "acct": acct,
    }))
}

fn app_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/accounts/{account}/balance")
            .wrap(Enforce::new(&BALANCE))
            .get(whoami),
    )
    .service(
        web::resource("/accounts/{account}/entries/{entry_id}")
            .wrap(Enforce::new(&AUDIT))
            .get(whoami),
    )
    .service(
        web::resource("/ti-token/{account}")
            .wrap(Enforce::new(&BALANCE))
            .get(|t: TiToken| async move { HttpResponse::Ok().json(t.id) }),
    )
    .service(web::resource("/no-policy").get(whoami));
}

fn verifier(subject: SubjectFormat) -> Verifier {
    Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .subject(subject)
        .build()
        .unwrap()
}

/// A token for `sub` with these claims on top of the registered ones.
fn token(sub: &str, extra: Value) -> String {
    let mut c = claims(Uuid::nil(), None);
    c.insert("sub".into(), sub.into());
    c.extend(extra.as_object().cloned().unwrap_or_default());
    hs512(&c)
}

async fn call(subject: SubjectFormat, uri: &str, token: &str) -> (u16, Value, Option<String>) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier(subject)))
            .configure(app_routes),
    )
    .await;
    let req = test::TestRequest::get()
        .uri(uri)
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .to_request();
    parts(test::call_service(&app, req).await).await
}

fn forbidden(detail_text: &str, scope: &str) -> (u16, Value, Option<String>) {
    (
        403,
        detail(detail_text),
        Some(format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
        )),
    )
}

#[actix_web::test]
async fn the_declared_claim_carries_the_type_and_its_absence_is_the_default() {
    let any = SubjectFormat::Any;
    let clerk = token("alice", json!({"acct": "a-1"}));
    assert_eq!(
        call(any, "/accounts/a-1/balance", &clerk).await,
        (
            200,
            json!({"sub": "alice", "type": "clerk", "acct": "a-1"}),
            None
        )
    );
    let explicit = token("alice", json!({"acct": "a-1", "role": "clerk"}));
    assert_eq!(call(any, "/accounts/a-1/balance", &explicit).await.0, 200);
    // Airflow's claim means nothing here: this is still a clerk token.
    let scope = token("alice", json!({"acct": "a-1", "scope": "auditor"}));
    assert_eq!(
        call(any, "/accounts/a-1/balance", &scope).await.1["type"],
        "clerk"
    );
}

#[actix_web::test]
async fn a_type_the_route_does_not_accept_is_403_with_the_same_message_shape() {
    let auditor = token("bob", json!({"acct": "a-1", "role": "auditor"}));
    assert_eq!(
        call(SubjectFormat::Any, "/accounts/a-1/balance", &auditor).await,
        forbidden(
            "Token type 'auditor' not allowed for this endpoint. Allowed types: clerk",
            "token:clerk"
        )
    );
}

#[actix_web::test]
async fn a_type_outside_the_vocabulary_is_an_invalid_token() {
    for role in [
        json!("admin"),
        json!("Clerk"),
        json!("execution"),
        json!(["clerk"]),
        json!(1),
    ] {
        let t = token("bob", json!({"acct": "a-1", "role": role}));
        assert_eq!(
            call(SubjectFormat::Any, "/accounts/a-1/balance", &t).await,
            invalid("unknown token type in 'role'"),
            "{role}"
        );
    }
}

#[actix_web::test]
async fn an_exact_owner_compares_bytes_and_its_label_is_in_the_403() {
    let any = SubjectFormat::Any;
    let mismatch = forbidden("Token subject does not match account", "account:self");
    for acct in [json!("A-1"), json!("a-2"), json!("a-1 "), json!(1)] {
        let t = token("alice", json!({ "acct": acct }));
        assert_eq!(
            call(any, "/accounts/a-1/balance", &t).await,
            mismatch,
            "{acct}"
        );
    }
    assert_eq!(
        call(any, "/accounts/a-1/balance", &token("alice", json!({}))).await,
        mismatch,
        "no claim, no ownership"
    );
    // The path is percent-decoded before the comparison, as the handler
    // sees it.
    let spaced = token("alice", json!({"acct": "a 1"}));
    assert_eq!(call(any, "/accounts/a%201/balance", &spaced).await.0, 200);
}

#[actix_web::test]
async fn a_uuid_owner_on_another_claim_compares_parsed_uuids() {
    let entry = Uuid::new_v4();
    let t = token(
        "bob",
        json!({"acct": "a-1", "role": "auditor", "entry": entry.to_string()}),
    );
    let upper = entry.to_string().to_uppercase();
    let uri = format!("/accounts/a-1/entries/{upper}");
    assert_eq!(call(SubjectFormat::Any, &uri, &t).await.0, 200);
    let other = format!("/accounts/a-1/entries/{}", Uuid::new_v4());
    assert_eq!(
        call(SubjectFormat::Any, &other, &t).await,
        forbidden("Token subject does not match entry ID", "entry:self")
    );
}

#[actix_web::test]
async fn subjects_are_uuids_unless_the_verifier_accepts_any() {
    let alice = token("alice", json!({"acct": "a-1"}));
    assert_eq!(
        call(SubjectFormat::Uuid, "/accounts/a-1/balance", &alice).await,
        invalid("sub must be a UUID")
    );
    let empty = token("", json!({"acct": "a-1"}));
    assert_eq!(
        call(SubjectFormat::Any, "/accounts/a-1/balance", &empty).await,
        invalid("invalid claim 'sub'")
    );
    // TiToken is Airflow's: its id is a UUID, so a name is refused...
    assert_eq!(
        call(SubjectFormat::Any, "/ti-token/a-1", &alice).await,
        invalid("sub must be a UUID")
    );
    // ...and a UUID subject is handed out.
    let id = Uuid::new_v4();
    let t = token(&id.to_string(), json!({"acct": "a-1"}));
    assert_eq!(
        call(SubjectFormat::Any, "/ti-token/a-1", &t).await.1,
        json!(id)
    );
}

#[actix_web::test]
async fn token_fails_closed_without_a_policy() {
    let t = token("alice", json!({"acct": "a-1"}));
    let (status, body, _) = call(SubjectFormat::Any, "/no-policy", &t).await;
    assert_eq!((status, body), (500, detail("Internal Server Error")));
}

#[actix_web::test]
async fn token_reads_typed_claims() {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier(SubjectFormat::Any)))
            .service(
                web::resource("/accounts/{account}/balance")
                    .wrap(Enforce::new(&BALANCE))
                    .get(|t: Token| async move {
                        let limit: Result<u32, _> = t.claim("limit");
                        let missing: Result<String, _> = t.claim("nope");
                        let wrong: Result<u32, _> = t.claim("acct");
                        HttpResponse::Ok().json(json!({
                            "limit": limit.ok(),
                            "missing": missing.unwrap_err().to_string(),
                            "wrong": wrong.is_err(),
                            "sub": t.claim::<String>("sub").ok(),
                            "exp": t.claim::<i64>("exp").ok() == Some(t.claims().exp),
                            "policy": t.policy().vocabulary().claim(),
                        }))
                    }),
            ),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/accounts/a-1/balance")
        .insert_header((
            AUTHORIZATION,
            format!(
                "Bearer {}",
                token("alice", json!({"acct": "a-1", "limit": 50}))
            ),
        ))
        .to_request();
    let (status, body, _) = parts(test::call_service(&app, req).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "limit": 50, "missing": "the token has no claim 'nope'", "wrong": true,
            "sub": "alice", "exp": true, "policy": "role",
        })
    );
}

fn issuer(vocabulary: &'static Vocabulary) -> Issuer {
    Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .vocabulary(vocabulary)
        .ttl(CLERK, std::time::Duration::from_secs(100))
        .build()
        .unwrap()
}

#[actix_web::test]
async fn an_issuer_mints_its_vocabularys_types_in_its_claim() {
    let issuer = issuer(&LEDGER);
    let mut extra = Map::new();
    extra.insert("acct".into(), json!("a-1"));
    extra.insert("role".into(), json!("admin")); // the issuer sets the type
    let t = issuer.issue_with_claims("alice", AUDITOR, &extra).unwrap();
    let c = verifier(SubjectFormat::Any).verify(&t).unwrap();
    assert_eq!(
        (c.sub.as_str(), &c.extra["role"], &c.extra["acct"]),
        ("alice", &json!("auditor"), &json!("a-1"))
    );
    assert!(!c.extra.contains_key("scope"));
    assert_eq!(
        c.exp - c.iat,
        600,
        "a type without its own lifetime gets 600 s"
    );
    let c = verifier(SubjectFormat::Any)
        .verify(&issuer.issue("alice", CLERK).unwrap())
        .unwrap();
    assert_eq!(c.exp - c.iat, 100);
    let err = issuer.issue("alice", TokenType::WORKLOAD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token type 'workload' is not in the issuer's vocabulary"
    );
}

/// `Reissue` with the ledger's issuer: `refresh_types` names the
/// short-lived types.
async fn refreshed(reissue: Reissue, extra: Value) -> Option<String> {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier(SubjectFormat::Any)))
            .wrap(reissue)
            .service(
                web::resource("/accounts/{account}/entries/{entry_id}")
                    .wrap(Enforce::new(&AUDIT))
                    .get(whoami),
            ),
    )
    .await;
    let entry = Uuid::new_v4();
    let mut c = claims(Uuid::nil(), None);
    c.insert("sub".into(), json!("alice"));
    c.insert("entry".into(), json!(entry.to_string()));
    c.insert("acct".into(), json!("a-1"));
    // 600 s lifetime, 60 s left: inside the refresh window.
    c.insert("iat".into(), json!(now() - 540));
    c.insert("exp".into(), json!(now() + 60));
    c.extend(extra.as_object().cloned().unwrap_or_default());
    let req = test::TestRequest::get()
        .uri(&format!("/accounts/a-1/entries/{entry}"))
        .insert_header((AUTHORIZATION, format!("Bearer {}", hs512(&c))))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    res.headers()
        .get(REFRESHED_TOKEN_HEADER)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[actix_web::test]
async fn reissue_refreshes_only_the_types_it_is_told() {
    let clerks = || Reissue::new(issuer(&LEDGER)).refresh_types(&[CLERK]);
    let fresh = refreshed(clerks(), json!({})).await.expect("a clerk token");
    let c = verifier(SubjectFormat::Any).verify(&fresh).unwrap();
    assert_eq!(c.sub, "alice");
    assert_eq!(c.extra["role"], "clerk", "the resolved type, written out");
    assert_eq!(c.extra["acct"], "a-1");
    assert_eq!(c.exp - c.iat, 100, "the issuer's lifetime for clerks");
    assert_eq!(refreshed(clerks(), json!({"role": "auditor"})).await, None);
    // By default only Airflow's `execution` is refreshed: nothing here.
    assert_eq!(
        refreshed(Reissue::new(issuer(&LEDGER)), json!({})).await,
        None
    );
    // An issuer of another vocabulary refreshes nothing (and logs why).
    let (_guard, logs) = capture_logs();
    let airflow = Reissue::new(issuer(&Vocabulary::AIRFLOW)).refresh_types(&[CLERK]);
    assert_eq!(refreshed(airflow, json!({})).await, None);
    assert!(
        logs.text()
            .contains("the issuer's vocabulary is not the route's"),
        "{}",
        logs.text()
    );
}
