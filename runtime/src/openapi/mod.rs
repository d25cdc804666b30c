//! OpenAPI 3.1 from the route declarations (feature `openapi`; SPEC §8).
//!
//! With the feature on, the declarations that enforce a policy also
//! document it, through [utoipa](https://docs.rs/utoipa):
//!
//! - every `#[route]` and `#[protect]` handler implements
//!   [`utoipa::Path`] (its method, its full path in `{param}` form, and its
//!   operation);
//! - every `#[routes]` group gets `pub fn openapi() -> utoipa::openapi::OpenApi`,
//!   the document of its routes and of its nested groups' routes (those
//!   whose `#[cfg]` holds), with the components below and the schemas of
//!   their bodies.
//!
//! Each operation carries:
//!
//! - its security ([`security`]): none on a public route; otherwise one
//!   requirement of the [`SECURITY_SCHEME`] per accepted token type (and,
//!   with `any(..)`, per alternative), each listing `token:<type>`, the
//!   route's owner scopes and permissions and the alternative's (OpenAPI
//!   reads the requirements as alternatives and the scopes inside one as
//!   all required). `/run` is
//!   `[{"JWTBearer": ["token:execution", "ti:self"]}, {"JWTBearer": ["token:workload", "ti:self"]}]`;
//! - its guards, named in its description, with the statuses they answer
//!   among its responses;
//! - its path parameters, required and typed: an owner's parameter
//!   compared as a UUID is `{"type": "string", "format": "uuid"}`, another
//!   takes its type from the handler's `web::Path<T>` (a scalar, or a tuple
//!   in path order), else it is a string;
//! - `summary` (the doc comment's first paragraph) and `description` (the
//!   rest), a unique `operationId` (the group modules and the handler's
//!   name, joined by `_`), and the innermost group's name as its tag;
//! - its JSON request body: `request = T` on the route, else the `T` of a
//!   `web::Json<T>` argument;
//! - its responses: `responses(201 = T, 404 = ErrorBody)` on the route,
//!   plus 200 with `T` for a handler that returns `web::Json<T>` (or a
//!   `Result` of it); 200 without a body when no 2xx is declared; and, on a
//!   protected route, 401 and 403 with Airflow's [`ERROR_SCHEMA`] body,
//!   `{"detail": ...}` ([`ErrorBody`], which a route's own error responses
//!   can name too).
//!
//! Body types implement [`utoipa::ToSchema`] (`#[derive(utoipa::ToSchema)]`);
//! a named type is referenced (`$ref`) and its schema added to the
//! document's components, a standard one (`String`, `Vec<T>`, maps,
//! `serde_json::Value`, ...) is written in place.
//!
//! Serving the document takes one route:
//!
//! ```
//! use scopegate::routes;
//!
//! #[routes(prefix = "/api")]
//! mod api {
//!     use actix_web::HttpResponse;
//!
//!     /// This API's OpenAPI document.
//!     #[route(get, "/openapi.json", public)]
//!     async fn openapi_json() -> HttpResponse {
//!         HttpResponse::Ok().json(openapi())
//!     }
//! }
//!
//! let doc = api::openapi();
//! let op = doc.paths.get_path_operation("/api/openapi.json", utoipa::openapi::HttpMethod::Get);
//! assert_eq!(op.unwrap().summary.as_deref(), Some("This API's OpenAPI document."));
//! # use scopegate::openapi::utoipa;
//! ```

mod document;

pub use document::{Body, Document, JsonBody, ParamType, RouteDoc};
pub use utoipa;

use std::borrow::Cow;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::policy::{Condition, RoutePolicy, TokenType};

/// The name of the security scheme every protected operation requires:
/// Airflow's, an HTTP bearer token in JWT format.
pub const SECURITY_SCHEME: &str = "JWTBearer";

/// The name of the schema of scopegate's error bodies, `{"detail": ...}`,
/// as Airflow's document names it.
pub const ERROR_SCHEMA: &str = "HTTPExceptionResponse";

/// The security requirements of a route with `policy`: `None` for a public
/// route; otherwise, per accepted token type, sorted by name (as a 403
/// lists them), one requirement of [`SECURITY_SCHEME`] per way to satisfy
/// the route's `any(..)`s (one alternative of each), each listing
/// `token:<type>` (in a vocabulary with types), every owner scope and
/// permission the route requires, and the alternatives' scopes. OR of
/// ANDs, exactly: an alternative that names another type (`token:service`
/// on a user token) is left out for that type, a type predicate that holds
/// adds nothing, and a requirement that asks for more than another of the
/// same type is left out (the other suffices).
///
/// ```
/// use scopegate::{openapi, Owner, RoutePolicy, TokenType, TokenTypes};
/// static RUN: RoutePolicy = RoutePolicy::protected(
///     TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
///     &[Owner::new("ti:self", "task_instance_id", "task instance ID")],
/// );
/// let security = serde_json::to_value(openapi::security(&RUN)).unwrap();
/// assert_eq!(
///     security,
///     serde_json::json!([
///         {"JWTBearer": ["token:execution", "ti:self"]},
///         {"JWTBearer": ["token:workload", "ti:self"]},
///     ])
/// );
/// assert!(openapi::security(&RoutePolicy::PUBLIC).is_none());
/// ```
///
/// *The owner, or any service token*:
///
/// ```
/// use scopegate::{openapi, Alternative, AnyOf, Condition, Owner, Requirement, RoutePolicy, TokenTypes, Vocabulary};
/// static USERS: Vocabulary = Vocabulary::new("typ", &["user", "service"], 0);
/// const OWNER: Owner = Owner::new("owner:self", "owner", "owner");
/// static NOTE: RoutePolicy = RoutePolicy::protected(TokenTypes::from_bits(&USERS, 0b11), &[])
///     .with_requirements(&[Requirement::Any(AnyOf::new(&[
///         Alternative::all(&[Condition::Owner(OWNER)]),
///         Alternative::all(&[Condition::TokenType(TokenTypes::from_bits(&USERS, 0b10))]),
///     ]))]);
/// assert_eq!(
///     serde_json::to_value(openapi::security(&NOTE)).unwrap(),
///     serde_json::json!([
///         {"JWTBearer": ["token:service"]},
///         {"JWTBearer": ["token:user", "owner:self"]},
///     ])
/// );
/// ```
pub fn security(policy: &RoutePolicy) -> Option<Vec<SecurityRequirement>> {
    if policy.is_public() {
        return None;
    }
    let typed = policy.vocabulary().is_typed();
    let mut required: Vec<String> = policy
        .owners()
        .iter()
        .map(|o| o.scope().to_owned())
        .collect();
    required.extend(policy.required_permissions().map(|p| p.name().to_owned()));
    let mut requirements = Vec::new();
    for ty in policy.token_types().iter() {
        let head = typed.then(|| format!("token:{ty}"));
        for alternative in alternatives(policy, ty) {
            let mut scopes: Vec<String> = head.iter().cloned().collect();
            for scope in required.iter().chain(&alternative) {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
            requirements.push(SecurityRequirement::new(SECURITY_SCHEME, scopes));
        }
    }
    Some(requirements)
}

/// For a token of type `ty`, the scopes each way to satisfy the route's
/// `any(..)`s adds (one alternative of each), in declaration order, without
/// the ways that need another type or ask for more than another way.
fn alternatives(policy: &RoutePolicy, ty: TokenType) -> Vec<Vec<String>> {
    let mut ways: Vec<Vec<String>> = vec![Vec::new()];
    for any in policy.alternatives() {
        let mut next = Vec::new();
        for way in &ways {
            for alternative in any.alternatives() {
                let conditions = alternative.conditions();
                let fits = conditions.iter().all(|c| match c {
                    Condition::TokenType(types) => types.contains(ty),
                    Condition::Permission(_) | Condition::Owner(_) => true,
                });
                if !fits {
                    continue;
                }
                let mut scopes = way.clone();
                for c in conditions {
                    let scope = match c {
                        Condition::Permission(p) => p.name(),
                        Condition::Owner(o) => o.scope(),
                        Condition::TokenType(_) => continue,
                    };
                    if !scopes.iter().any(|s| s == scope) {
                        scopes.push(scope.to_owned());
                    }
                }
                next.push(scopes);
            }
        }
        ways = next;
    }
    let covers = |small: &Vec<String>, big: &Vec<String>| small.iter().all(|s| big.contains(s));
    let mut kept: Vec<Vec<String>> = Vec::new();
    for (i, way) in ways.iter().enumerate() {
        let needless = ways
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && covers(other, way) && (!covers(way, other) || j < i));
        if !needless {
            kept.push(way.clone());
        }
    }
    kept
}

/// The security scheme [`SECURITY_SCHEME`] names:
/// `{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}`.
pub fn security_scheme() -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build(),
    )
}

/// The schema [`ERROR_SCHEMA`] names: an object whose required `detail` is
/// a string or an object, as Airflow's `HTTPExceptionResponse`.
pub fn error_schema() -> RefOr<Schema> {
    let schema = serde_json::json!({
        "type": "object",
        "title": ERROR_SCHEMA,
        "description": "An error: `detail` says why, as a string or an object.",
        "properties": {
            "detail": {
                "title": "Detail",
                "oneOf": [
                    {"type": "string"},
                    {"type": "object", "additionalProperties": true},
                ],
            },
        },
        "required": ["detail"],
    });
    match serde_json::from_value::<Schema>(schema) {
        Ok(schema) => RefOr::T(schema),
        // The literal above is a valid schema (a unit test checks it).
        Err(_) => RefOr::T(Schema::default()),
    }
}

/// The body of scopegate's 401 and 403 answers, `{"detail": ...}`, as a
/// type to name in a route's `responses(..)` for its own errors in the
/// same shape (`responses(404 = scopegate::openapi::ErrorBody)`): its
/// schema is [`error_schema`], named [`ERROR_SCHEMA`].
pub struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        error_schema()
    }
}

impl ToSchema for ErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(ERROR_SCHEMA)
    }
}

/// The components every scopegate document has: the [`SECURITY_SCHEME`]
/// and the [`ERROR_SCHEMA`].
pub fn components() -> Components {
    let mut components = Components::new();
    components.add_security_scheme(SECURITY_SCHEME, security_scheme());
    components
        .schemas
        .insert(ERROR_SCHEMA.to_owned(), error_schema());
    components
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_error_schema_is_airflows_shape() {
        let schema = serde_json::to_value(error_schema()).unwrap();
        assert_eq!(schema["required"], json!(["detail"]));
        assert_eq!(
            schema["properties"]["detail"]["oneOf"],
            json!([{"type": "string"}, {"type": "object", "additionalProperties": true}])
        );
    }

    #[test]
    fn the_scheme_is_a_jwt_bearer() {
        let components = serde_json::to_value(components()).unwrap();
        assert_eq!(
            components["securitySchemes"][SECURITY_SCHEME],
            json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        );
        assert!(components["schemas"][ERROR_SCHEMA].is_object());
    }
}
