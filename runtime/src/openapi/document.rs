//! One route's operation ([`RouteDoc`]) and a document of routes
//! ([`Document`]): what the macros' expansions build, with utoipa's types.

use std::borrow::Cow;
use std::collections::BTreeMap;

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{
    Content, Info, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, Response, ResponseBuilder,
    Responses, Schema,
};
use utoipa::{PartialSchema, ToSchema};

use super::{components, security, ERROR_SCHEMA};
use crate::policy::{GuardInfo, RouteInfo};

/// Schemas a body refers to, by name, as utoipa's `ToSchema::schemas`
/// collects them.
type Schemas = Vec<(String, RefOr<Schema>)>;

/// A type that can be documented as a JSON body: any [`ToSchema`] type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a JSON body of a documented route, so it needs a schema",
    label = "`{Self}` does not implement `utoipa::ToSchema`",
    note = "add `#[derive(utoipa::ToSchema)]` to `{Self}`, or document another type with \
            `request = T` or `responses(200 = T)` on the route"
)]
pub trait JsonBody: ToSchema {}

impl<T: ToSchema + ?Sized> JsonBody for T {}

/// The schema of a JSON body, and the schemas it refers to.
#[derive(Clone, Copy)]
pub struct Body {
    schema: fn() -> RefOr<Schema>,
    /// The component name of a named body, referenced with `$ref`.
    name: Option<fn() -> Cow<'static, str>>,
    schemas: fn(&mut Schemas),
}

impl Body {
    /// A body of a named type (one that derives `ToSchema`): referenced as
    /// `#/components/schemas/<name>`, its schema in the components.
    pub fn named<T: JsonBody + ?Sized>() -> Body {
        Body {
            schema: T::schema,
            name: Some(T::name),
            schemas: T::schemas,
        }
    }

    /// A body of a standard type (`String`, `Vec<T>`, a map,
    /// `serde_json::Value`, ...): its schema written in place, the schemas
    /// it refers to in the components.
    pub fn inline<T: JsonBody + ?Sized>() -> Body {
        Body {
            schema: T::schema,
            name: None,
            schemas: T::schemas,
        }
    }

    /// The schema to write where the body appears.
    fn reference(&self) -> RefOr<Schema> {
        match self.name {
            Some(name) => RefOr::Ref(Ref::from_schema_name(name())),
            None => (self.schema)(),
        }
    }

    /// The schemas the document's components need for this body.
    fn collect(&self, out: &mut Schemas) {
        if let Some(name) = self.name {
            out.push((name().into_owned(), (self.schema)()));
        }
        (self.schemas)(out);
    }

    fn content(&self) -> Content {
        Content::new(Some(self.reference()))
    }
}

/// The type of a path parameter, as the macro read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A string: `String`, `&str`, or a type the macro cannot see into.
    String,
    /// A UUID: an owner's parameter compared as a UUID, or `Uuid`.
    Uuid,
    /// `i8`, `i16`, `i32`.
    Int32,
    /// `i64`, `isize`.
    Int64,
    /// `u8`, `u16`, `u32`.
    UInt32,
    /// `u64`, `usize`.
    UInt64,
    /// `f32`.
    Float,
    /// `f64`.
    Double,
    /// `bool`.
    Boolean,
}

impl ParamType {
    /// The parameter's schema: utoipa's for the Rust type.
    pub fn schema(self) -> RefOr<Schema> {
        match self {
            ParamType::String => String::schema(),
            ParamType::Uuid => ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("uuid".to_owned())))
                .into(),
            ParamType::Int32 => i32::schema(),
            ParamType::Int64 => i64::schema(),
            ParamType::UInt32 => u32::schema(),
            ParamType::UInt64 => u64::schema(),
            ParamType::Float => f32::schema(),
            ParamType::Double => f64::schema(),
            ParamType::Boolean => bool::schema(),
        }
    }
}

/// Everything a route's declaration documents: what `#[route]` and
/// `#[protect]` generate (as a hidden function of the route's struct) for
/// its [`utoipa::Path`] implementation and its group's `openapi()`.
pub struct RouteDoc {
    /// Method, full path and policy.
    pub info: RouteInfo,
    /// The full path, parameters spelled `{name}`.
    pub path: &'static str,
    /// Unique within the document.
    pub operation_id: &'static str,
    /// The innermost group's name, if any.
    pub tag: Option<&'static str>,
    /// The doc comment's first paragraph.
    pub summary: Option<&'static str>,
    /// The doc comment after its first paragraph.
    pub description: Option<&'static str>,
    /// Every path parameter, in path order.
    pub params: &'static [(&'static str, ParamType)],
    /// The JSON request body, if any.
    pub request: Option<Body>,
    /// Declared responses: status and JSON body, in declaration order.
    pub responses: Vec<(u16, Option<Body>)>,
    /// The route's guards, in the order they run, with the statuses each
    /// may answer.
    pub guards: &'static [GuardInfo],
}

impl RouteDoc {
    /// The route's method.
    pub fn method(&self) -> HttpMethod {
        match self.info.method {
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            "HEAD" => HttpMethod::Head,
            "OPTIONS" => HttpMethod::Options,
            "TRACE" => HttpMethod::Trace,
            _ => HttpMethod::Get,
        }
    }

    /// The route's operation.
    pub fn operation(&self) -> Operation {
        let mut op = OperationBuilder::new()
            .operation_id(Some(self.operation_id))
            .summary(self.summary)
            .description(self.description())
            .tags(self.tag.map(|t| [t]));
        for (name, ty) in self.params {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ty.schema())),
            );
        }
        if let Some(body) = &self.request {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", body.content())
                    .build(),
            ));
        }
        if let Some(security) = security(&self.info.policy) {
            op = op.securities(Some(security));
        }
        op.responses(self.responses()).build()
    }

    /// The doc comment after its first paragraph, then a paragraph that
    /// names the route's guards, in the order they run, with the statuses
    /// they may answer.
    fn description(&self) -> Option<String> {
        let guards = self.guards;
        if guards.is_empty() {
            return self.description.map(str::to_owned);
        }
        let names: Vec<String> = guards
            .iter()
            .map(|g| {
                let statuses: Vec<String> = g.statuses().iter().map(u16::to_string).collect();
                format!("`{}` ({})", g.name(), statuses.join(", "))
            })
            .collect();
        let line = format!(
            "Guarded by {}, after the token's policy: checks of the application's state.",
            names.join(", then ")
        );
        Some(match self.description {
            Some(text) => format!("{text}\n\n{line}"),
            None => line,
        })
    }

    /// Declared responses; 200 when no 2xx is; 401 and 403 on a protected
    /// route, and each status a guard may answer.
    fn responses(&self) -> Responses {
        let json = |content: Content| ("application/json", content);
        let mut responses: BTreeMap<u16, Response> = BTreeMap::new();
        for (status, body) in &self.responses {
            let mut response = ResponseBuilder::new().description(reason(*status));
            if let Some(body) = body {
                let (kind, content) = json(body.content());
                response = response.content(kind, content);
            }
            responses.insert(*status, response.build());
        }
        if !responses.keys().any(|s| (200..300).contains(s)) {
            responses.insert(200, Response::new(reason(200)));
        }
        if !self.info.policy.is_public() {
            let error = |description: &str| {
                let (kind, content) = json(Content::new(Some(Ref::from_schema_name(ERROR_SCHEMA))));
                ResponseBuilder::new()
                    .description(description)
                    .content(kind, content)
                    .build()
            };
            responses.insert(
                401,
                error("Unauthorized: the bearer token is missing, malformed, expired or invalid"),
            );
            responses.insert(
                403,
                error(
                    "Forbidden: the token's type is not accepted here, it does not own the \
                     resource in the path, or it lacks a permission",
                ),
            );
            for guard in self.guards {
                for status in guard.statuses() {
                    responses.entry(*status).or_insert_with(|| {
                        error(&format!("Refused by the guard `{}`", guard.name()))
                    });
                }
            }
        }
        let mut out = Responses::new();
        for (status, response) in responses {
            out.responses.insert(status.to_string(), RefOr::T(response));
        }
        out
    }

    /// The schemas the route's bodies need in the document's components.
    pub fn schemas(&self, out: &mut Vec<(String, RefOr<Schema>)>) {
        let bodies = self
            .request
            .iter()
            .chain(self.responses.iter().flat_map(|(_, b)| b));
        for body in bodies {
            body.collect(out);
        }
    }
}

/// The description of a response with `status`: its reason phrase.
fn reason(status: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
}

/// An OpenAPI document being assembled from routes: what a group's
/// `openapi()` builds.
///
/// ```
/// use scopegate::openapi::Document;
/// let doc = Document::new("my service", "1.0").finish();
/// assert!(doc.components.unwrap().security_schemes.contains_key("JWTBearer"));
/// ```
pub struct Document {
    info: Info,
    paths: Paths,
    schemas: Schemas,
}

impl Document {
    /// An empty document with this title and version, and the
    /// [components](super::components) every scopegate document has.
    pub fn new(title: &str, version: &str) -> Document {
        Document {
            info: Info::new(title, version),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }

    /// Adds a route's operation, and the schemas of its bodies.
    pub fn add(&mut self, route: RouteDoc) {
        self.paths
            .add_path_operation(route.path, vec![route.method()], route.operation());
        route.schemas(&mut self.schemas);
    }

    /// The OpenAPI 3.1 document.
    pub fn finish(self) -> OpenApi {
        let mut components = components();
        for (name, schema) in self.schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        OpenApiBuilder::new()
            .info(self.info)
            .paths(self.paths)
            .components(Some(components))
            .build()
    }
}
