//! With scopegate's `openapi` feature (on for this package's tests): every
//! route implements utoipa's `Path`, a group's `openapi()` documents its
//! routes and its nested groups' with their policies and bodies, routes
//! whose `#[cfg]` is off are absent, and none of it adds a warning.
#![deny(warnings, missing_docs)]

use actix_web::{put, web, App, HttpResponse};
use scopegate::openapi::utoipa::{self, openapi::HttpMethod, Path as _};
use scopegate::openapi::ErrorBody;
use scopegate::{route, routes, TiToken};

/// A body.
#[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct Item {
    /// Its name.
    pub name: String,
}

/// Alone: a `Path`, no group document.
#[route(get, "/items/<n>", public)]
pub async fn item(n: web::Path<u32>) -> web::Json<Item> {
    web::Json(Item {
        name: n.to_string(),
    })
}

/// The API.
#[routes(prefix = "/api")]
pub mod api {
    use super::*;

    /// Adds an item.
    ///
    /// Twice is a 409.
    #[route(
        post,
        "/task-instances/<task_instance_id>/items",
        scopes = ["ti:self"],
        responses(201 = Item, 409 = ErrorBody)
    )]
    pub async fn add(_t: TiToken, body: web::Json<Item>) -> HttpResponse {
        HttpResponse::Created().json(body.into_inner())
    }

    /// Never compiled, so never documented.
    #[cfg(any())]
    #[route(get, "/hidden", public)]
    pub async fn hidden() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// Workload tokens only.
    #[routes(prefix = "/tests", scopes = ["token:workload"])]
    pub mod tests {
        use super::*;

        /// An actix handler, adopted.
        #[scopegate::protect(scopes = ["ct:self"], request = Vec<Item>)]
        #[put("/<connection_test_id>")]
        pub async fn report(_t: TiToken, _b: web::Bytes) -> HttpResponse {
            HttpResponse::NoContent().finish()
        }
    }
}

fn main() {
    let _ = App::new()
        .service(item)
        .configure(api::configure);
    assert_eq!(item::path(), "/items/{n}");
    assert!(matches!(item::methods()[..], [HttpMethod::Get]));

    let doc = serde_json::to_value(api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        ["/api/task-instances/{task_instance_id}/items", "/api/tests/{connection_test_id}"]
    );
    let add = &doc["paths"]["/api/task-instances/{task_instance_id}/items"]["post"];
    assert_eq!(add["summary"], "Adds an item.");
    assert_eq!(add["description"], "Twice is a 409.");
    assert_eq!(add["operationId"], "api_add");
    assert_eq!(
        add["security"],
        serde_json::json!([{"JWTBearer": ["token:execution", "ti:self"]}])
    );
    assert_eq!(
        add["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Item"
    );
    let statuses: Vec<&String> = add["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["201", "401", "403", "409"]);
    let report = &doc["paths"]["/api/tests/{connection_test_id}"]["put"];
    assert_eq!(
        report["security"],
        serde_json::json!([{"JWTBearer": ["token:workload", "ct:self"]}])
    );
    assert_eq!(
        report["requestBody"]["content"]["application/json"]["schema"]["items"]["type"],
        "object"
    );
    assert!(doc["components"]["schemas"]["Item"].is_object());
    assert_eq!(
        api::tests::report::operation().operation_id.as_deref(),
        Some("api_tests_report")
    );
}
