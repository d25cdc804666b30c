//! Parity of the example server (`examples/execution_api.rs`) with Airflow's
//! own Execution API document (`tests/data/`, generated from
//! apache-airflow-core 3.3.2), operation by operation, from the `ROUTES`
//! table the `#[routes]` declarations generate:
//!
//! - every declared route is one of Airflow's operations (same method and
//!   path, `<p>` and `<p:path>` read as `{p}`, under `/execution`), or on
//!   the commented allow-list below;
//! - its policy is Airflow's: public exactly where Airflow's operation has
//!   no `security`; otherwise the same token types (Airflow's default,
//!   execution only, when its list names no `token:*` scope: the one
//!   difference allowed is that explicit `token:execution`) and the same
//!   owner scopes (`ti:self`, `ct:self`);
//! - its path parameters are the ones Airflow's operation declares;
//! - all of Airflow's operations are declared.
//!
//! And the same three checks of the OpenAPI document generated from those
//! declarations (`routes::document()`, SPEC §8) against Airflow's: the same
//! operations, the union of each operation's security scopes equal to
//! Airflow's list (the one difference allowed: an explicit
//! `token:execution`), and the same path parameters, of the same types.

use std::collections::{BTreeMap, BTreeSet};

// The example's route table, from its library.
use execution_api_example::routes;

use serde_json::Value;

/// Airflow's document.
const AIRFLOW: &str = include_str!("data/airflow-3.3.2-execution-api-openapi.json");

/// Where Airflow mounts the Execution API, and the example too.
const PREFIX: &str = "/execution";

/// How many operations Airflow 3.3.2's Execution API has.
const AIRFLOW_OPERATIONS: usize = 55;

/// Routes of the example that are not Airflow's Execution API operations.
const NOT_AIRFLOWS: &[(&str, &str)] = &[
    // The example's public keys as a JWKS, so a second server can verify
    // its tokens (`serve --jwks <url>`). Airflow publishes its JWKS from the
    // API server, outside the Execution API.
    ("GET", "/execution/.well-known/jwks.json"),
    // The example's OpenAPI document and its docs page (SPEC §5 "Added
    // later"). Airflow serves its document from the API server.
    ("GET", "/execution/openapi.json"),
    ("GET", "/execution/docs"),
    // Airflow's next token type, from its main branch (Execution API
    // version 2026-10-30, apache/airflow#71192; SPEC §5 "Added in the
    // second round"): the single-use callback token's exchange. An addition
    // to Airflow 3.3.2's operations; `tests/callbacks.rs` pins it.
    ("PATCH", "/execution/callbacks/{callback_id}/run"),
    // The docs page's own files (Swagger UI's script and styles), served
    // by the example so the page works offline (issue 22).
    ("GET", "/execution/docs/{file}"),
    // Bench-only (`--features bench`): the unprotected twin of
    // `GET /variables/{variable_key}` that bench/instructions.sh measures.
    #[cfg(feature = "bench")]
    ("GET", "/execution/unguarded/{variable_key}"),
];

/// One operation: who may call it and with which path parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Operation {
    /// `None` for a public operation; else the scopes, token types spelled
    /// `token:<type>`.
    scopes: Option<BTreeSet<String>>,
    /// The path parameters, in path order.
    params: Vec<String>,
    /// Each path parameter's declared type and whether it is a uuid, from
    /// a document (empty from `ROUTES`, which has no types).
    types: BTreeMap<String, (String, bool)>,
}

/// The type of each path parameter an operation of a document declares:
/// `name → (type, format is uuid)`.
fn param_types(op: &Value) -> BTreeMap<String, (String, bool)> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "path")
        .map(|p| {
            let name = p["name"].as_str().expect("parameter name").to_owned();
            let schema = &p["schema"];
            let ty = schema["type"].as_str().unwrap_or_default().to_owned();
            (name, (ty, schema["format"] == "uuid"))
        })
        .collect()
}

/// `(METHOD, path)` → operation, from Airflow's document. Paths get the
/// `/execution` prefix; a list of scopes without a `token:*` one gets
/// Airflow's default, `token:execution`.
fn airflow() -> BTreeMap<(String, String), Operation> {
    let doc: Value = serde_json::from_str(AIRFLOW).expect("the vendored document is JSON");
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            let scopes = op.get("security").map(|security| {
                let requirements = security.as_array().expect("security is a list");
                assert_eq!(
                    requirements.len(),
                    1,
                    "{method} {path}: one security requirement expected"
                );
                let mut scopes: BTreeSet<String> = requirements[0]["JWTBearer"]
                    .as_array()
                    .expect("JWTBearer scopes")
                    .iter()
                    .map(|s| s.as_str().expect("scope").to_owned())
                    .collect();
                if !scopes.iter().any(|s| s.starts_with("token:")) {
                    scopes.insert("token:execution".to_owned());
                }
                scopes
            });
            let declared: Vec<String> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("parameter name").to_owned())
                .collect();
            let params = braced_params(path);
            assert_eq!(
                sorted(&declared),
                sorted(&params),
                "{method} {path}: Airflow's path and its parameters disagree"
            );
            let key = (method.to_uppercase(), format!("{PREFIX}{path}"));
            let types = param_types(op);
            let op = Operation {
                scopes,
                params,
                types,
            };
            assert!(
                ops.insert(key, op).is_none(),
                "{method} {path} twice in Airflow's document"
            );
        }
    }
    ops
}

/// `(METHOD, path)` → operation, from the example's `ROUTES`, paths spelled
/// `{p}`.
fn ours() -> BTreeMap<(String, String), Operation> {
    let mut ops = BTreeMap::new();
    for route in routes::execution::ROUTES {
        // `<key:path>` takes the rest of the path; Airflow's document, as
        // OpenAPI has no such kind, writes its `{key:path}` as `{key}`.
        let path = route
            .path
            .replace(":path>", ">")
            .replace('<', "{")
            .replace('>', "}");
        let scopes = (!route.policy.is_public()).then(|| {
            route
                .policy
                .token_types()
                .iter()
                .map(|t| format!("token:{t}"))
                .chain(route.policy.owners().iter().map(|s| s.scope().to_owned()))
                .collect()
        });
        let params = braced_params(&path);
        let key = (route.method.to_owned(), path);
        let op = Operation {
            scopes,
            params,
            types: BTreeMap::new(),
        };
        assert!(
            ops.insert(key.clone(), op).is_none(),
            "{key:?} declared twice"
        );
    }
    ops
}

/// `(METHOD, path)` → operation, from the OpenAPI document generated from
/// the example's declarations: the scopes are the union of the operation's
/// security requirements (one per accepted token type), the parameters
/// those it declares in the path, in order.
fn generated() -> BTreeMap<(String, String), Operation> {
    let doc = serde_json::to_value(routes::document()).expect("the document serialises");
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let scopes = op.get("security").map(|security| {
                let requirements = security.as_array().expect("security is a list");
                assert!(!requirements.is_empty(), "{method} {path}: empty security");
                requirements
                    .iter()
                    .flat_map(|r| r["JWTBearer"].as_array().expect("JWTBearer scopes"))
                    .map(|s| s.as_str().expect("scope").to_owned())
                    .collect()
            });
            let types = param_types(op);
            let params: Vec<String> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("parameter name").to_owned())
                .collect();
            let key = (method.to_uppercase(), path.clone());
            let op = Operation {
                scopes,
                params,
                types,
            };
            assert!(ops.insert(key.clone(), op).is_none(), "{key:?} twice");
        }
    }
    ops
}

/// The `{name}` parameters of a path, in order.
fn braced_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .map(|rest| rest.split('}').next().unwrap_or_default().to_owned())
        .collect()
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut names = names.to_vec();
    names.sort();
    names
}

/// The operations [`NOT_AIRFLOWS`] allows beside Airflow's.
fn not_airflows() -> BTreeSet<(String, String)> {
    NOT_AIRFLOWS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

/// Asserts that `ours` has Airflow's scopes and path parameters, and with
/// `types` their types too; `what` prefixes the messages ("documented ").
fn assert_agrees(
    what: &str,
    key: &(String, String),
    ours: &Operation,
    theirs: &Operation,
    types: bool,
) {
    let (method, path) = key;
    assert_eq!(
        ours.scopes, theirs.scopes,
        "{method} {path}: {what}scopes (None = public) differ from Airflow's"
    );
    assert_eq!(
        ours.params, theirs.params,
        "{method} {path}: {what}path parameters differ from Airflow's"
    );
    if types {
        assert_eq!(
            ours.types, theirs.types,
            "{method} {path}: {what}parameter types differ from Airflow's"
        );
    }
}

#[test]
fn the_reference_document_has_airflows_55_operations() {
    assert_eq!(airflow().len(), AIRFLOW_OPERATIONS);
}

#[test]
fn every_declared_route_is_an_airflow_operation_or_allowed() {
    let airflow = airflow();
    let ours = ours();
    let allowed = not_airflows();
    for key in ours.keys() {
        assert!(
            airflow.contains_key(key) || allowed.contains(key),
            "{} {} is not in Airflow's Execution API: fix the route, or add it to \
             NOT_AIRFLOWS with why",
            key.0,
            key.1
        );
        assert!(
            key.1.starts_with(&format!("{PREFIX}/")),
            "{} {} is outside {PREFIX}",
            key.0,
            key.1
        );
    }
    for key in &allowed {
        assert!(
            ours.contains_key(key),
            "{key:?} is allowed but not declared: remove it"
        );
        assert!(
            !airflow.contains_key(key),
            "{key:?} is Airflow's: remove it from NOT_AIRFLOWS"
        );
    }
}

#[test]
fn every_declared_route_has_airflows_policy_and_parameters() {
    let airflow = airflow();
    let mut checked = 0;
    for (key, ours) in ours() {
        let Some(theirs) = airflow.get(&key) else {
            continue;
        };
        assert_agrees("", &key, &ours, theirs, false);
        checked += 1;
    }
    assert_eq!(checked, AIRFLOW_OPERATIONS);
}

#[test]
fn all_of_airflows_operations_are_declared() {
    let ours = ours();
    let airflow = airflow();
    let missing: Vec<String> = airflow
        .keys()
        .filter(|key| !ours.contains_key(*key))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let covered = airflow.len() - missing.len();
    println!(
        "parity: the example declares {covered} of Airflow's {} Execution API operations",
        airflow.len()
    );
    assert!(missing.is_empty(), "not declared: {missing:#?}");
    assert_eq!(covered, AIRFLOW_OPERATIONS);
}

/// The check itself refuses what it should: a route that lost `ti:self`,
/// one that accepts workload tokens where Airflow does not, and one that
/// became public.
#[test]
fn the_policy_check_catches_drift() {
    let airflow = airflow();
    let heartbeat = &airflow[&(
        "PUT".to_owned(),
        "/execution/task-instances/{task_instance_id}/heartbeat".to_owned(),
    )];
    let scopes = |list: &[&str]| Some(list.iter().map(|s| (*s).to_owned()).collect());
    assert_eq!(heartbeat.scopes, scopes(&["ti:self", "token:execution"]));
    for drifted in [
        scopes(&["token:execution"]),
        scopes(&["ti:self", "token:execution", "token:workload"]),
        None,
    ] {
        assert_ne!(heartbeat.scopes, drifted);
    }
    let run = &airflow[&(
        "PATCH".to_owned(),
        "/execution/task-instances/{task_instance_id}/run".to_owned(),
    )];
    assert_eq!(
        run.scopes,
        scopes(&["ti:self", "token:execution", "token:workload"])
    );
    let ct = &airflow[&(
        "GET".to_owned(),
        "/execution/connection-tests/{connection_test_id}/connection".to_owned(),
    )];
    // Workload only: no implicit token:execution when a token scope is named.
    assert_eq!(ct.scopes, scopes(&["ct:self", "token:workload"]));
}

/// The generated OpenAPI document against Airflow's: the same operations,
/// each with the union of its scopes equal to Airflow's list (an explicit
/// `token:execution` being the one difference allowed), the same path
/// parameters in the same order, and the same parameter types (a uuid
/// where Airflow's is one).
#[test]
fn the_generated_document_has_airflows_operations_scopes_and_parameters() {
    let airflow = airflow();
    let generated = generated();
    let allowed = not_airflows();
    for key in generated.keys() {
        assert!(
            airflow.contains_key(key) || allowed.contains(key),
            "{} {} is documented but is not one of Airflow's operations",
            key.0,
            key.1
        );
    }
    let mut checked = 0;
    let mut missing = Vec::new();
    for (key, theirs) in &airflow {
        let Some(ours) = generated.get(key) else {
            missing.push(format!("{} {}", key.0, key.1));
            continue;
        };
        assert_agrees("documented ", key, ours, theirs, true);
        checked += 1;
    }
    println!(
        "parity: the generated OpenAPI document matches {checked} of Airflow's {} Execution API \
         operations (scopes, path parameters and their types)",
        airflow.len()
    );
    assert!(missing.is_empty(), "not documented: {missing:#?}");
    assert_eq!(checked, AIRFLOW_OPERATIONS);
}
