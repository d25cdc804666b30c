//! The example's OpenAPI document (`routes::document()`, what
//! `/execution/openapi.json` serves and `execution_api openapi` prints),
//! walked as JSON against the route table the same declarations generate
//! (`ROUTES`): the checks `openapi-spec-validator` (tests/interop) does not
//! make.
//!
//! - the version is 3.1.x;
//! - one operation per `ROUTES` entry, and no other;
//! - each operation's security is its route's policy (SPEC §8): none when
//!   public, else one `JWTBearer` requirement per accepted token type with
//!   `token:<type>` and the owner scopes, computed here from the policy;
//! - 401 and 403 are documented on every protected operation;
//! - every path parameter is declared, required, and a uuid where an owner
//!   compares it as one;
//! - every `$ref` resolves, every security scheme named is declared, and
//!   `operationId`s are unique.
//!
//! Each check collects problems; the last tests break a copy of the
//! document and see each check report it.

use std::collections::BTreeSet;

use execution_api_example::routes;

use scopegate::{Compare, RouteInfo};
use serde_json::{json, Value};

fn document() -> Value {
    serde_json::to_value(routes::document()).expect("the document serialises")
}

/// `<p>` and `<p:path>` → `{p}`: OpenAPI has no parameter kind that takes
/// the rest of the path, so the document writes it as any other.
fn braced(path: &str) -> String {
    path.replace(":path>", ">")
        .replace('<', "{")
        .replace('>', "}")
}

/// The security a route's policy calls for, computed from the policy.
fn expected_security(route: &RouteInfo) -> Option<Value> {
    if route.policy.is_public() {
        return None;
    }
    let owners: Vec<&str> = route.policy.owners().iter().map(|o| o.scope()).collect();
    let requirements: Vec<Value> = route
        .policy
        .token_types()
        .iter()
        .map(|t| {
            let mut scopes = vec![format!("token:{t}")];
            scopes.extend(owners.iter().map(|s| (*s).to_owned()));
            json!({ "JWTBearer": scopes })
        })
        .collect();
    Some(Value::Array(requirements))
}

/// Every operation: (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            out.push((method.to_uppercase(), path.clone(), op));
        }
    }
    out
}

/// Problems with the operations against `routes`.
fn route_problems(doc: &Value, routes: &[RouteInfo]) -> Vec<String> {
    let mut problems = Vec::new();
    let declared: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.to_owned(), braced(r.path)))
        .collect();
    for (method, path, _) in operations(doc) {
        if !declared.contains(&(method.clone(), path.clone())) {
            problems.push(format!("{method} {path}: documented but not a route"));
        }
    }
    for route in routes {
        let path = braced(route.path);
        let id = format!("{} {path}", route.method);
        let op = &doc["paths"][&path][route.method.to_lowercase()];
        if !op.is_object() {
            problems.push(format!("{id}: not documented"));
            continue;
        }
        if op.get("security").cloned() != expected_security(route) {
            problems.push(format!(
                "{id}: security {:?} is not the policy's {:?}",
                op.get("security"),
                expected_security(route)
            ));
        }
        if !route.policy.is_public() {
            for status in ["401", "403"] {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"];
                if schema["$ref"] != "#/components/schemas/HTTPExceptionResponse" {
                    problems.push(format!("{id}: no {status} with the error body"));
                }
            }
        }
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split('}').next())
            .collect();
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .collect();
        let documented: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
        if documented != names {
            problems.push(format!(
                "{id}: path parameters {documented:?}, not {names:?}"
            ));
        }
        for p in &params {
            if p["required"] != true {
                problems.push(format!("{id}: {} is not required", p["name"]));
            }
            let uuid_owner = route
                .policy
                .owners()
                .iter()
                .any(|o| o.param() == p["name"] && o.compare() == Compare::Uuid);
            if uuid_owner && p["schema"] != json!({"type": "string", "format": "uuid"}) {
                problems.push(format!("{id}: {} is an owner's uuid", p["name"]));
            }
        }
    }
    problems
}

/// Every `$ref` in `value`, with where it is.
fn refs<'v>(value: &'v Value, at: String, out: &mut Vec<(String, &'v str)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push((at.clone(), r)),
                    _ => refs(v, format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Problems with references, scheme names and operation ids.
fn document_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let version = doc["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.1.") {
        problems.push(format!("openapi is {version:?}, not 3.1.x"));
    }
    let mut found = Vec::new();
    refs(doc, String::new(), &mut found);
    for (at, reference) in &found {
        let target = reference
            .strip_prefix('#')
            .map(|pointer| pointer.replace("~1", "/").replace("~0", "~"));
        if target.and_then(|t| doc.pointer(&t)).is_none() {
            problems.push(format!("{at}: $ref {reference} does not resolve"));
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(doc) {
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                if !schemes[name].is_object() {
                    problems.push(format!("{method} {path}: scheme {name} is not declared"));
                }
            }
        }
        match op["operationId"].as_str() {
            Some(id) if !ids.insert(id.to_owned()) => {
                problems.push(format!("{method} {path}: operationId {id} twice"))
            }
            Some(_) => {}
            None => problems.push(format!("{method} {path}: no operationId")),
        }
    }
    problems
}

#[test]
fn one_operation_per_route_with_the_policys_security() {
    let doc = document();
    let routes = routes::execution::ROUTES;
    assert_eq!(operations(&doc).len(), routes.len());
    assert_eq!(route_problems(&doc, routes), Vec::<String>::new());
}

#[test]
fn refs_resolve_schemes_are_declared_ids_are_unique_and_the_version_is_3_1() {
    let doc = document();
    assert_eq!(document_problems(&doc), Vec::<String>::new());
    assert_eq!(
        doc["components"]["securitySchemes"],
        json!({"JWTBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}})
    );
}

#[test]
fn run_is_documented_as_spec_section_8_says() {
    let doc = document();
    let run = &doc["paths"]["/execution/task-instances/{task_instance_id}/run"]["patch"];
    assert_eq!(
        run["security"],
        json!([
            {"JWTBearer": ["token:execution", "ti:self"]},
            {"JWTBearer": ["token:workload", "ti:self"]},
        ])
    );
    assert_eq!(
        run["summary"],
        "queued → running. The only route a workload token may call: its answer swaps the \
         workload token for an execution token, sent in `Refreshed-API-Token` (the refresh \
         middleware keeps a header the handler set)."
    );
    assert_eq!(run["operationId"], "execution_task_instances_owned_run");
    assert_eq!(run["tags"], json!(["owned"]));
    assert_eq!(
        run["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/EnterRunning"})
    );
    assert_eq!(
        run["responses"]["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/RunContext"})
    );
    let statuses: Vec<&String> = run["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["200", "401", "403", "404", "409"]);
    let health = &doc["paths"]["/execution/health"]["get"];
    assert!(health.get("security").is_none());
    assert!(health["responses"].get("401").is_none());
    // A typed parameter that is not an owner: the xcom item's offset.
    let item =
        &doc["paths"]["/execution/xcoms/{dag_id}/{run_id}/{task_id}/{key}/item/{offset}"]["get"];
    assert_eq!(
        item["parameters"][4]["schema"],
        json!({"type": "integer", "format": "int64"})
    );
}

/// A change that breaks a copy of the document.
type Breakage<'a> = dyn Fn(&mut Value) + 'a;

#[test]
fn the_checks_catch_a_broken_document() {
    let routes = routes::execution::ROUTES;
    let run_path = "/execution/task-instances/{task_instance_id}/run";
    let break_with = |f: &Breakage<'_>| {
        let mut doc = document();
        f(&mut doc);
        let mut all = route_problems(&doc, routes);
        all.extend(document_problems(&doc));
        all
    };
    let cases: [(&str, &Breakage<'_>); 8] = [
        ("lost ti:self", &|d| {
            d["paths"][run_path]["patch"]["security"] = json!([
                {"JWTBearer": ["token:execution"]}, {"JWTBearer": ["token:workload"]}
            ])
        }),
        ("made public", &|d| {
            d["paths"][run_path]["patch"]
                .as_object_mut()
                .unwrap()
                .remove("security");
        }),
        ("dropped", &|d| {
            d["paths"].as_object_mut().unwrap().remove(run_path);
        }),
        ("dangling $ref", &|d| {
            d["paths"][run_path]["patch"]["requestBody"]["content"]["application/json"]["schema"] =
                json!({"$ref": "#/components/schemas/Nope"})
        }),
        ("undeclared scheme", &|d| {
            d["components"]["securitySchemes"] = json!({});
        }),
        ("3.0", &|d| d["openapi"] = json!("3.0.3")),
        ("duplicate id", &|d| {
            d["paths"]["/execution/health"]["get"]["operationId"] =
                json!("execution_task_instances_owned_run")
        }),
        ("untyped owner", &|d| {
            d["paths"][run_path]["patch"]["parameters"][0]["schema"] = json!({"type": "string"})
        }),
    ];
    for (name, breakage) in cases {
        assert!(!break_with(breakage).is_empty(), "{name} went unnoticed");
    }
}

/// The XCom routes' guard, Airflow's `has_xcom_access`, is named in their
/// description, with its 403.
#[test]
fn the_xcom_guard_is_documented() {
    let doc = document();
    let ops = operations(&doc);
    let xcoms: Vec<_> = ops
        .iter()
        .filter(|(_, path, _)| path.contains("/xcoms/"))
        .collect();
    assert_eq!(xcoms.len(), 6);
    for (method, path, op) in xcoms {
        let description = op["description"].as_str().unwrap_or_default();
        assert!(
            description.ends_with(
                "Guarded by `has_xcom_access` (403), after the token's policy: checks of the \
                 application's state."
            ),
            "{method} {path}: {description}"
        );
        assert!(op["responses"]["403"].is_object(), "{method} {path}");
    }
}
