//! Permissions at run time (SPEC §10), through the runtime's own policies
//! (what the macros write, spelled out, as a crate with its own
//! `scopegate.toml` would get them): a space-separated and an array claim,
//! a malformed claim (401), a missing permission (403), `any(..)` with
//! owner-or-admin, a nested `all(..)`, the owner-or-service predicate, the
//! order of checks, `Token::permissions`, and a verifier shared by two
//! vocabularies whose names differ. The macros' side is tested through the
//! ledger (`examples/ledger/tests/http.rs`) and the permissions-only
//! fixture crate (`tests/permissions_only.rs`).

use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use scopegate::testing::TestAuth;
use scopegate::{
    Alternative, AnyOf, Compare, Condition, Enforce, Owner, PermissionFormat, Permissions,
    Requirement, RoutePolicy, SubjectFormat, Token, TokenTypes, Vocabulary,
};
use serde_json::{json, Value};

/// A ledger: clerks and auditors in `role`, permissions in OAuth 2's
/// `scope`.
static LEDGER: Vocabulary =
    Vocabulary::new("role", &["clerk", "auditor"], 0).with_permissions(Permissions::new(
        "scope",
        PermissionFormat::Space,
        &["reports:read", "entries:write", "ledger:admin"],
    ));

/// The same words, in a `roles` array, without types.
static ROLES: Vocabulary = Vocabulary::untyped(Permissions::new(
    "roles",
    PermissionFormat::Array,
    &["reports:read", "entries:write", "ledger:admin"],
));

const ACCOUNT: Owner = Owner::new("account:self", "account", "account")
    .with_claim("acct")
    .with_compare(Compare::Exact);

/// `scopes = ["reports:read", "entries:write"]`.
static WRITE: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&LEDGER), &[])
    .with_requirements(&[
        Requirement::Permission(LEDGER.permission("reports:read")),
        Requirement::Permission(LEDGER.permission("entries:write")),
    ]);

/// `scopes = [any("account:self", "ledger:admin")]`, clerks and auditors.
static SUMMARY: RoutePolicy = RoutePolicy::protected(TokenTypes::from_bits(&LEDGER, 0b11), &[])
    .with_requirements(&[Requirement::Any(AnyOf::new(&[
        Alternative::all(&[Condition::Owner(ACCOUNT)]),
        Alternative::all(&[Condition::Permission(LEDGER.permission("ledger:admin"))]),
    ]))]);

/// `scopes = ["account:self", any("ledger:admin", all("reports:read", "entries:write"))]`.
static NESTED: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&LEDGER), &[ACCOUNT])
    .with_requirements(&[
        Requirement::Owner(ACCOUNT),
        Requirement::Any(AnyOf::new(&[
            Alternative::all(&[Condition::Permission(LEDGER.permission("ledger:admin"))]),
            Alternative::all(&[
                Condition::Permission(LEDGER.permission("reports:read")),
                Condition::Permission(LEDGER.permission("entries:write")),
            ]),
        ])),
    ]);

/// `scopes = ["token:clerk", "token:auditor", any("account:self", "token:auditor")]`:
/// the owner, or any auditor.
static OWNER_OR_AUDITOR: RoutePolicy =
    RoutePolicy::protected(TokenTypes::from_bits(&LEDGER, 0b11), &[]).with_requirements(&[
        Requirement::Any(AnyOf::new(&[
            Alternative::all(&[Condition::Owner(ACCOUNT)]),
            Alternative::all(&[Condition::TokenType(TokenTypes::from_bits(&LEDGER, 0b10))]),
        ])),
    ]);

/// `scopes = ["reports:read"]` in the array vocabulary.
static READ_ROLES: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&ROLES), &[])
    .with_requirements(&[Requirement::Permission(ROLES.permission("reports:read"))]);

/// Echoes the token's permissions.
async fn echo(token: Token) -> HttpResponse {
    let held: Vec<&str> = token
        .permissions()
        .map_or(Vec::new(), |p| p.iter().collect());
    HttpResponse::Ok().json(json!({
        "permissions": held,
        "admin": token.has("ledger:admin"),
        "unknown": token.has("openid"),
        "type": token.token_type().as_str(),
    }))
}

fn resource(path: &str, policy: &'static RoutePolicy) -> impl actix_web::dev::HttpServiceFactory {
    web::resource(path)
        .wrap(Enforce::new(policy))
        .route(web::get().to(echo))
}

fn kit(vocabulary: &'static Vocabulary) -> TestAuth {
    TestAuth::builder()
        .vocabulary(vocabulary)
        .subject(SubjectFormat::Any)
        .build()
        .unwrap()
}

/// Status, body, and `WWW-Authenticate`.
async fn get<S, R, B>(app: &S, req: R) -> (u16, Value, String)
where
    S: actix_web::dev::Service<
        R,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = call_service(app, req).await;
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = actix_web::test::read_body(res).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        challenge,
    )
}

/// A GET of `uri` with `token`.
fn with(uri: &str, token: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
}

#[actix_web::test]
async fn every_listed_permission_is_required_and_the_first_missing_is_named() {
    let auth = kit(&LEDGER);
    let app = init_service(
        App::new()
            .app_data(auth.verifier())
            .service(resource("/write", &WRITE)),
    )
    .await;
    let both = auth
        .mint("alice")
        .permissions(&["entries:write", "openid", "reports:read"])
        .sign();
    let (status, body, _) = get(&app, with("/write", &both).to_request()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"permissions": ["reports:read", "entries:write"], "admin": false, "unknown": false, "type": "clerk"}),
        "names the vocabulary does not declare are ignored"
    );
    for (held, missing) in [
        (&["entries:write"][..], "reports:read"),
        (&["reports:read"][..], "entries:write"),
        (&[][..], "reports:read"),
    ] {
        let token = auth.mint("alice").permissions(held).sign();
        let (status, body, challenge) = get(&app, with("/write", &token).to_request()).await;
        assert_eq!(status, 403, "{held:?}");
        assert_eq!(
            body,
            json!({"detail": format!("Token lacks permission '{missing}'")})
        );
        assert_eq!(
            challenge,
            format!("Bearer error=\"insufficient_scope\", scope=\"{missing}\"")
        );
    }
    // No claim at all: the empty set.
    let none = auth.mint("alice").sign();
    let (status, body, _) = get(&app, with("/write", &none).to_request()).await;
    assert_eq!(
        (status, &body["detail"]),
        (403, &json!("Token lacks permission 'reports:read'"))
    );
    // The type is checked first: an auditor with every permission.
    let auditor = auth
        .mint("bob")
        .of_type("auditor")
        .permissions(&["reports:read", "entries:write"])
        .sign();
    let (status, body, _) = get(&app, with("/write", &auditor).to_request()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "Token type 'auditor' not allowed for this endpoint. Allowed types: clerk"
    );
}

#[actix_web::test]
async fn a_claim_of_the_wrong_shape_is_an_invalid_token() {
    let auth = kit(&LEDGER);
    let roles = kit(&ROLES);
    let app = init_service(
        App::new()
            .app_data(auth.verifier())
            .service(resource("/write", &WRITE)),
    )
    .await;
    for bad in [
        json!(42),
        json!(["reports:read", "entries:write"]),
        json!(null),
        json!({}),
    ] {
        let token = auth.mint("alice").claim("scope", bad.clone()).sign();
        let (status, body, challenge) = get(&app, with("/write", &token).to_request()).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(
            body,
            json!({"detail": "Invalid auth token: malformed scope claim"})
        );
        assert_eq!(
            challenge,
            "Bearer error=\"invalid_token\", error_description=\"malformed scope claim\""
        );
    }
    let app = init_service(
        App::new()
            .app_data(roles.verifier())
            .service(resource("/read", &READ_ROLES)),
    )
    .await;
    let ok = roles.mint("alice").permissions(&["reports:read"]).sign();
    let (status, body, _) = get(&app, with("/read", &ok).to_request()).await;
    assert_eq!(
        (status, &body["permissions"]),
        (200, &json!(["reports:read"]))
    );
    assert_eq!(body["type"], "", "a vocabulary without types");
    for bad in [
        json!("reports:read"),
        json!(["reports:read", 1]),
        json!(true),
    ] {
        let token = roles.mint("alice").claim("roles", bad.clone()).sign();
        let (status, body, _) = get(&app, with("/read", &token).to_request()).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(body["detail"], "Invalid auth token: malformed roles claim");
    }
    // No type claim is read in a vocabulary without types: a `role` is
    // just another claim.
    let typed = roles
        .mint("alice")
        .claim("role", "admin")
        .permissions(&["reports:read"])
        .sign();
    let (status, _, _) = get(&app, with("/read", &typed).to_request()).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn owner_or_admin_and_a_nested_all() {
    let auth = kit(&LEDGER);
    let app = init_service(
        App::new()
            .app_data(auth.verifier())
            .service(resource("/summary/{account}", &SUMMARY))
            .service(resource("/nested/{account}", &NESTED)),
    )
    .await;
    let owner = auth.mint("alice").claim("acct", "a-1").sign();
    let admin = auth.mint("root").permissions(&["ledger:admin"]).sign();
    let other = auth
        .mint("carol")
        .claim("acct", "a-2")
        .permissions(&["reports:read"])
        .sign();
    assert_eq!(
        get(&app, with("/summary/a-1", &owner).to_request()).await.0,
        200
    );
    assert_eq!(
        get(&app, with("/summary/a-1", &admin).to_request()).await.0,
        200
    );
    let (status, body, challenge) = get(&app, with("/summary/a-1", &other).to_request()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"detail": "Token satisfies none of: account:self, ledger:admin"})
    );
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", scope=\"ledger:admin\""
    );
    // The owner first, then one of: admin, or reports:read and entries:write.
    let owner_both = auth
        .mint("alice")
        .claim("acct", "a-1")
        .permissions(&["reports:read", "entries:write"])
        .sign();
    let owner_one = auth
        .mint("alice")
        .claim("acct", "a-1")
        .permissions(&["reports:read"])
        .sign();
    let owner_admin = auth
        .mint("alice")
        .claim("acct", "a-1")
        .permissions(&["ledger:admin"])
        .sign();
    assert_eq!(
        get(&app, with("/nested/a-1", &owner_both).to_request())
            .await
            .0,
        200
    );
    assert_eq!(
        get(&app, with("/nested/a-1", &owner_admin).to_request())
            .await
            .0,
        200
    );
    let (status, body, challenge) = get(&app, with("/nested/a-1", &owner_one).to_request()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "Token satisfies none of: ledger:admin, all(reports:read, entries:write)"
    );
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", scope=\"ledger:admin reports:read entries:write\""
    );
    // The owner is declared first, so it decides first.
    let (status, body, _) = get(&app, with("/nested/a-2", &owner_one).to_request()).await;
    assert_eq!(
        (status, &body["detail"]),
        (403, &json!("Token subject does not match account"))
    );
}

#[actix_web::test]
async fn the_owner_or_any_auditor() {
    let auth = kit(&LEDGER);
    let app = init_service(
        App::new()
            .app_data(auth.verifier())
            .service(resource("/books/{account}", &OWNER_OR_AUDITOR)),
    )
    .await;
    let owner = auth.mint("alice").claim("acct", "a-1").sign();
    let auditor = auth.mint("bob").of_type("auditor").sign();
    let other_clerk = auth.mint("carol").claim("acct", "a-2").sign();
    assert_eq!(
        get(&app, with("/books/a-1", &owner).to_request()).await.0,
        200
    );
    assert_eq!(
        get(&app, with("/books/a-1", &auditor).to_request()).await.0,
        200
    );
    let (status, body, challenge) = get(&app, with("/books/a-1", &other_clerk).to_request()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["detail"],
        "Token satisfies none of: account:self, token:auditor"
    );
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", scope=\"account:self token:auditor\""
    );
}

/// Two vocabularies, one verifier: the same claim, the same names in
/// another order. A token's bits, kept with its cached claims, are read
/// back only under the declaration they were parsed for.
#[actix_web::test]
async fn a_shared_verifier_never_mixes_two_vocabularies_bits() {
    static FIRST: Vocabulary = Vocabulary::untyped(Permissions::new(
        "scope",
        PermissionFormat::Space,
        &["alpha", "beta"],
    ));
    static SECOND: Vocabulary = Vocabulary::untyped(Permissions::new(
        "scope",
        PermissionFormat::Space,
        &["beta", "alpha"],
    ));
    static ALPHA: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&FIRST), &[])
        .with_requirements(&[Requirement::Permission(FIRST.permission("alpha"))]);
    static BETA: RoutePolicy = RoutePolicy::protected(TokenTypes::none(&SECOND), &[])
        .with_requirements(&[Requirement::Permission(SECOND.permission("beta"))]);
    assert_eq!(
        FIRST.permission("alpha").bit(),
        SECOND.permission("beta").bit(),
        "the same bit means different names"
    );
    let auth = kit(&FIRST);
    let app = init_service(
        App::new()
            .app_data(auth.verifier())
            .service(resource("/alpha", &ALPHA))
            .service(resource("/beta", &BETA)),
    )
    .await;
    let alpha = auth.mint("alice").permissions(&["alpha"]).sign();
    for _ in 0..3 {
        assert_eq!(get(&app, with("/alpha", &alpha).to_request()).await.0, 200);
        let (status, body, _) = get(&app, with("/beta", &alpha).to_request()).await;
        assert_eq!(
            (status, &body["detail"]),
            (403, &json!("Token lacks permission 'beta'"))
        );
    }
}
