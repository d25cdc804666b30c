//! The ledger's OpenAPI document (SPEC §8) in its own vocabulary
//! (`scopegate.toml`): token types `clerk` and `auditor`, owners
//! `account:self` (compared byte for byte) and `entry:self` (a UUID).

use serde_json::{json, Value};

fn document() -> Value {
    serde_json::to_value(ledger::api::openapi()).expect("the document serialises")
}

fn operation<'d>(doc: &'d Value, method: &str, path: &str) -> &'d Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op
}

#[test]
fn security_is_one_requirement_per_accepted_type_sorted_in_the_ledgers_words() {
    let doc = document();
    let balance = operation(&doc, "get", "/ledger/accounts/{account}/balance");
    assert_eq!(
        balance["security"],
        json!([
            {"JWTBearer": ["token:auditor", "account:self"]},
            {"JWTBearer": ["token:clerk", "account:self"]},
        ])
    );
    // No token:* scope: the vocabulary's default type, clerk.
    let post = operation(&doc, "post", "/ledger/accounts/{account}/entries");
    assert_eq!(
        post["security"],
        json!([{"JWTBearer": ["token:clerk", "account:self"]}])
    );
    let entry = operation(&doc, "get", "/ledger/entries/{entry_id}");
    assert_eq!(
        entry["security"],
        json!([{"JWTBearer": ["token:auditor", "entry:self"]}])
    );
    let health = operation(&doc, "get", "/ledger/health");
    assert!(health.get("security").is_none(), "a public route has none");
}

#[test]
fn an_actix_handler_adopted_with_protect_is_documented_too() {
    let doc = document();
    let statement = operation(&doc, "get", "/ledger/accounts/{account}/statement");
    assert_eq!(
        statement["security"],
        json!([{"JWTBearer": ["token:auditor", "account:self"]}])
    );
    assert_eq!(statement["operationId"], "api_accounts_statement");
}

#[test]
fn owner_parameters_are_typed_by_how_they_are_compared() {
    let doc = document();
    let param = |method: &str, path: &str| operation(&doc, method, path)["parameters"][0].clone();
    // `account:self` compares exactly: a string.
    assert_eq!(
        param("get", "/ledger/accounts/{account}/balance"),
        json!({"name": "account", "in": "path", "required": true, "schema": {"type": "string"}})
    );
    // `entry:self` compares UUIDs.
    assert_eq!(
        param("get", "/ledger/entries/{entry_id}")["schema"],
        json!({"type": "string", "format": "uuid"})
    );
}

#[test]
fn bodies_and_errors_are_documented() {
    let doc = document();
    let post = operation(&doc, "post", "/ledger/accounts/{account}/entries");
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/NewEntry"})
    );
    assert_eq!(
        doc["components"]["schemas"]["NewEntry"]["properties"]["amount"]["type"],
        "integer"
    );
    let statuses: Vec<&String> = post["responses"].as_object().unwrap().keys().collect();
    assert_eq!(
        statuses,
        ["201", "401", "403", "409"],
        "409: the guard `ledger_open`"
    );
    assert_eq!(
        post["responses"]["403"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/HTTPExceptionResponse"})
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["JWTBearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
}

/// Permissions and `any(..)` as OR of ANDs: one requirement per accepted
/// type and alternative, each with everything it requires.
#[test]
fn permissions_and_alternatives_are_or_of_ands() {
    let doc = document();
    assert_eq!(
        operation(&doc, "get", "/ledger/reports")["security"],
        json!([{"JWTBearer": ["token:clerk", "reports:read"]}])
    );
    assert_eq!(
        operation(&doc, "post", "/ledger/close")["security"],
        json!([{"JWTBearer": ["token:clerk", "ledger:admin", "reports:read"]}])
    );
    let summary = operation(&doc, "get", "/ledger/accounts/{account}/summary");
    assert_eq!(
        summary["security"],
        json!([
            {"JWTBearer": ["token:clerk", "account:self"]},
            {"JWTBearer": ["token:clerk", "ledger:admin"]},
        ])
    );
}

/// A guard is named in the description, and its statuses are responses.
#[test]
fn guards_are_documented() {
    let doc = document();
    let summary = operation(&doc, "get", "/ledger/accounts/{account}/summary");
    let description = summary["description"].as_str().unwrap();
    assert!(
        description.ends_with(
            "Guarded by `known_account` (404), after the token's policy: checks of the \
             application's state."
        ),
        "{description}"
    );
    let statuses: Vec<&String> = summary["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["200", "401", "403", "404"]);
    assert_eq!(
        summary["responses"]["404"]["description"],
        "Refused by the guard `known_account`"
    );
}
