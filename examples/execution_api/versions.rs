//! The Execution API versions the example serves, chosen by the
//! `Airflow-API-Version` request header as Airflow's API server chooses
//! them (Cadwyn, `airflow/api_fastapi/execution_api/versions/`), so that a
//! worker of every Airflow 3 release (task SDK 1.0 to 1.3) gets the bodies
//! of its own version.
//!
//! The migrations are data: one file per version below `versions/`, each
//! listing Airflow's version changes of that date with their instructions
//! ([`Instruction`]), spelled as Airflow's `VersionChange` classes spell
//! them. Nothing in a handler asks which version a client has. This file
//! applies the data:
//!
//! - **Picking** ([`pick`]): the exact date, else the closest earlier
//!   declared version; a date later than the newest gets the newest; no
//!   header gets the newest; a value that is not a date is 422 and a date
//!   earlier than the earliest 404, as Airflow answers.
//! - **Routes** ([`layer`]): a route added after the client's version is
//!   404 for it (405 when the path has another method in its version);
//!   a route that existed then and has moved since is rewritten to where
//!   it lives now; a query parameter its version did not have is dropped
//!   (FastAPI ignores unknown query parameters).
//! - **Request bodies** ([`Body`]): a field the client's version did not
//!   have is refused as Airflow's strict models refuse it (422
//!   `extra_forbidden`), a value of a type it did not allow likewise.
//! - **Response bodies** ([`layer`]): each newer version's converters run,
//!   newest first, and the fields the client's version did not have are
//!   removed, wherever their model sits in the response.
//!
//! **Policies do not depend on the version.** The layer decides only which
//! route a request reaches, as Cadwyn's per-version routers do; the route's
//! policy, its guards and the refresh veto then run as for any client,
//! before [`Body`] migrates a request body (it is an extractor, and
//! extractors run after the policy) and before the response is migrated.
//! An older version never skips a check a newer one has.

#[path = "versions/v2025_04_11.rs"]
pub mod v2025_04_11;
#[path = "versions/v2025_04_28.rs"]
pub mod v2025_04_28;
#[path = "versions/v2025_05_20.rs"]
pub mod v2025_05_20;
#[path = "versions/v2025_08_10.rs"]
pub mod v2025_08_10;
#[path = "versions/v2025_09_23.rs"]
pub mod v2025_09_23;
#[path = "versions/v2025_10_27.rs"]
pub mod v2025_10_27;
#[path = "versions/v2025_11_05.rs"]
pub mod v2025_11_05;
#[path = "versions/v2026_04_06.rs"]
pub mod v2026_04_06;
#[path = "versions/v2026_06_30.rs"]
pub mod v2026_06_30;
#[path = "versions/v2026_10_30.rs"]
pub mod v2026_10_30;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, Uri};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::errors::{self, Invalid};

/// The request header that names the client's version, and the response
/// header that echoes it (as Cadwyn does).
pub const HEADER: HeaderName = HeaderName::from_static("airflow-api-version");

/// Every version served, newest first: Airflow 3.3.2's, from 2025-04-11 to
/// 2026-06-30, and the 2026-10-30 of Airflow's main branch that adds the
/// callback token's exchange.
pub const VERSIONS: &[Version] = &[
    v2026_10_30::VERSION,
    v2026_06_30::VERSION,
    v2026_04_06::VERSION,
    v2025_11_05::VERSION,
    v2025_10_27::VERSION,
    v2025_09_23::VERSION,
    v2025_08_10::VERSION,
    v2025_05_20::VERSION,
    v2025_04_28::VERSION,
    v2025_04_11::VERSION,
];

/// A calendar date, the name of a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// `year-month-day`; panics (a compile error in a `const`) on a
    /// month or day out of range.
    pub const fn new(year: u16, month: u8, day: u8) -> Date {
        assert!(month >= 1 && month <= 12 && day >= 1 && day <= 31);
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = &'static str;

    /// `YYYY-MM-DD`, as pydantic reads a date; also a date-time at
    /// midnight (`2026-06-30T00:00:00`, optionally `Z`), which pydantic's
    /// date accepts too. The reason is pydantic's wording.
    fn from_str(s: &str) -> Result<Date, &'static str> {
        let (date, time) = match s.split_once(['T', 't', ' ']) {
            Some((date, time)) => (date, Some(time)),
            None => (s, None),
        };
        let b = date.as_bytes();
        if b.len() < 10 {
            return Err("input is too short");
        }
        let digits = |r: std::ops::Range<usize>| {
            b[r.clone()]
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| date[r].parse::<u16>().ok())
                .flatten()
        };
        if b.len() > 10 || b[4] != b'-' || b[7] != b'-' {
            return Err("invalid character in year");
        }
        let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10))
        else {
            return Err("invalid character in year");
        };
        if !(1..=12).contains(&month) {
            return Err("month value is outside expected range of 1-12");
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=days).contains(&day) {
            return Err("day value is outside expected range");
        }
        if let Some(time) = time {
            let time = time.trim_end_matches(['Z', 'z']);
            let midnight = time
                .split(['.', ':'])
                .all(|part| !part.is_empty() && part.bytes().all(|c| c == b'0'));
            if !midnight {
                return Err("Datetimes provided to dates should have zero time");
            }
        }
        Ok(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }
}

/// One version: its date and the changes that made it from the one before.
#[derive(Debug)]
pub struct Version {
    /// Its name.
    pub date: Date,
    /// Airflow's `VersionChange`s of this date, in its order.
    pub changes: &'static [Change],
}

/// One of Airflow's `VersionChange` classes.
#[derive(Debug)]
pub struct Change {
    /// The class's name.
    pub name: &'static str,
    /// Its docstring.
    pub description: &'static str,
    /// What an older client sees differently: Cadwyn's
    /// `instructions_to_migrate_to_previous_version`, and the change's
    /// `convert_response_to_previous_version_for` functions.
    pub instructions: &'static [Instruction],
}

/// What a version change did, said the way Cadwyn says it. Paths are
/// Airflow's, under `/execution`, with `{name}` and `{name:path}`
/// parameters.
#[derive(Debug)]
pub enum Instruction {
    /// `endpoint(path, [method]).didnt_exist`: the route is 404 (405 when
    /// its path has another method) for an older client.
    EndpointAdded(&'static str, &'static str),
    /// `endpoint(path, [method]).existed`: an older client still has the
    /// route, which the server now serves at another path; the function
    /// gives that path (with query) from the route's parameters and query.
    EndpointMoved(&'static str, &'static str, fn(&[&str], &str) -> String),
    /// `schema(model).field(name).didnt_exist`: an older client neither
    /// sends nor receives the field (a query parameter it sends is
    /// ignored).
    FieldAdded(Model, &'static str),
    /// `schema(model).field(name).had(type=..)`: an older client's value
    /// had a narrower type. On a request model the value is checked; on a
    /// response model the change's converter makes it so.
    FieldHad(Model, &'static str, Had),
    /// `schema(model).field(name).existed_as(..)`: the field is gone now;
    /// on a response model the change's converter puts it back.
    FieldExistedAs(Model, &'static str),
    /// `@convert_response_to_previous_version_for(target)`: a function
    /// that turns a newer response body into the older one.
    ConvertResponse(Target, fn(&mut Value)),
}

/// The narrower types older request models had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Had {
    /// `dict[str, Any]`.
    Object,
    /// `dict[str, Any] | str`.
    ObjectOrString,
    /// Not `null` (on a response model; converters see to it).
    NotNull,
    /// A narrower JSON shape of a response field; converters see to it.
    Narrower,
}

impl Had {
    /// Whether `value` has the older type, and pydantic's message if not.
    fn check(self, value: &Value) -> Result<(), &'static str> {
        match (self, value) {
            (Had::Object, Value::Object(_))
            | (Had::ObjectOrString, Value::Object(_) | Value::String(_)) => Ok(()),
            (Had::Object, _) => Err("Input should be a valid dictionary"),
            (Had::ObjectOrString, _) => Err("Input should be a valid dictionary or a valid string"),
            (Had::NotNull | Had::Narrower, _) => Ok(()),
        }
    }
}

/// Whom a response converter is for: the routes whose response model is
/// `Model` (Cadwyn matches a schema converter to a route's response model),
/// or one route by method and path.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Every route answering this model at the top of its body.
    Model(Model),
    /// One route.
    Route(&'static str, &'static str),
}

/// The pydantic models of Airflow's Execution API that a version change
/// names, and where each appears in what the example serves
/// ([`RESPONSES`], [`QUERIES`], and the request models of [`Body`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// `/run`'s answer.
    TIRunContext,
    /// A DAG run, in `/run`'s answer and on its own.
    DagRun,
    /// An asset event that triggered a run (in `DagRun`).
    AssetEventDagRunReference,
    /// The answer of the asset-event routes.
    AssetEventsResponse,
    /// One asset event.
    AssetEventResponse,
    /// A run an asset event created (in `AssetEventResponse`).
    DagRunAssetReference,
    /// The task instance of a workload: in no route's body (a scheduler
    /// hands it to an executor), so its changes touch nothing here.
    TaskInstance,
    /// `PATCH /state`, state `failed`, `skipped`, `removed` or
    /// `upstream_failed`.
    TITerminalStatePayload,
    /// `PATCH /state`, state `success`.
    TISuccessStatePayload,
    /// `PATCH /state`, another state without a payload of its own.
    TITargetStatePayload,
    /// `PATCH /state`, state `deferred`.
    TIDeferredStatePayload,
    /// `PATCH /state`, state `up_for_reschedule`.
    TIRescheduleStatePayload,
    /// `PATCH /state`, state `awaiting_input`.
    TIAwaitingInputStatePayload,
    /// `PATCH /state`, state `up_for_retry`.
    TIRetryStatePayload,
    /// `POST /dag-runs/{dag_id}/{run_id}`.
    TriggerDAGRunPayload,
    /// The query of `GET /xcoms/.../{key}`.
    GetXcomFilterParams,
    /// The query of `GET /xcoms/.../{key}/slice`.
    GetXComSliceFilterParams,
}

/// (model, location) pairs: where models sit in one route's answer.
pub type Locations = &'static [(Model, &'static str)];

/// Where response models sit in each route's answer: the route, its
/// top-level model, and every (model, location) in its body. A location is
/// a dotted path from the top; `[]` steps into every element of a list.
pub const RESPONSES: &[(&str, &str, Locations)] = &[
    (
        "PATCH",
        "/task-instances/{task_instance_id}/run",
        &[
            (Model::TIRunContext, ""),
            (Model::DagRun, "dag_run"),
            (
                Model::AssetEventDagRunReference,
                "dag_run.consumed_asset_events[]",
            ),
        ],
    ),
    ("GET", "/dag-runs/{dag_id}/{run_id}", &[(Model::DagRun, "")]),
    // `DagRun | None`: the DagRun when there is one. Airflow's converters
    // reach it by path; the example also gives it DagRun's own converters,
    // so an older client always gets a DagRun of its version.
    ("GET", "/dag-runs/previous", &[(Model::DagRun, "")]),
    (
        "GET",
        "/asset-events/by-asset",
        &[
            (Model::AssetEventsResponse, ""),
            (Model::AssetEventResponse, "asset_events[]"),
            (
                Model::DagRunAssetReference,
                "asset_events[].created_dagruns[]",
            ),
        ],
    ),
    (
        "GET",
        "/asset-events/by-asset-alias",
        &[
            (Model::AssetEventsResponse, ""),
            (Model::AssetEventResponse, "asset_events[]"),
            (
                Model::DagRunAssetReference,
                "asset_events[].created_dagruns[]",
            ),
        ],
    ),
];

/// The routes whose query parameters a model describes.
pub const QUERIES: &[(Model, &str, &str)] = &[
    (
        Model::GetXcomFilterParams,
        "GET",
        "/xcoms/{dag_id}/{run_id}/{task_id}/{key:path}",
    ),
    (
        Model::GetXComSliceFilterParams,
        "GET",
        "/xcoms/{dag_id}/{run_id}/{task_id}/{key:path}/slice",
    ),
];

/// Where the example mounts the Execution API.
const MOUNT: &str = "/execution";

/// The newest version.
pub fn newest() -> Date {
    VERSIONS[0].date
}

/// The version a request gets, or Airflow's refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Picked {
    /// This declared version.
    Version(Date),
    /// A date earlier than the earliest version: 404 (no route exists for
    /// it, as with Cadwyn).
    TooEarly,
    /// Not a date: 422, with pydantic's reason.
    NotADate(&'static str),
}

/// Cadwyn's choice for the header's value: no header is the newest; an
/// exact date is itself; another date is the closest earlier version, the
/// newest for a date after it. Empty is [`Picked::TooEarly`] (Cadwyn then
/// has no version, so no route: 404).
pub fn pick(header: Option<&str>) -> Picked {
    let Some(value) = header else {
        return Picked::Version(newest());
    };
    if value.is_empty() {
        return Picked::TooEarly;
    }
    match value.parse::<Date>() {
        Err(reason) => Picked::NotADate(reason),
        Ok(date) => VERSIONS
            .iter()
            .find(|v| v.date <= date)
            .map_or(Picked::TooEarly, |v| Picked::Version(v.date)),
    }
}

/// The version the request was given, in its extensions (set by
/// [`layer`]; the newest when the layer did not run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientVersion(pub Date);

fn client_version(req: &HttpRequest) -> Date {
    req.extensions()
        .get::<ClientVersion>()
        .map_or_else(newest, |v| v.0)
}

/// Every instruction of the versions newer than `client`, newest first.
fn newer_than(client: Date) -> impl Iterator<Item = &'static Instruction> {
    VERSIONS
        .iter()
        .take_while(move |v| v.date > client)
        .flat_map(|v| v.changes.iter())
        .flat_map(|c| c.instructions.iter())
}

/// Whether the request path (below the mount, still percent-encoded)
/// matches an Airflow path template: `{name}` is one non-empty segment,
/// `{name:path}` one or more (the fewest that let the literal segments
/// after it match), and literal segments match themselves. The parameters'
/// values go to `params`, in order.
fn matches<'p>(template: &str, path: &'p str, params: &mut Vec<&'p str>) -> bool {
    params.clear();
    let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let body = path.strip_prefix('/').unwrap_or(path);
    let mut at = path.len() - body.len();
    let mut segments = Vec::new();
    for segment in body.split('/') {
        segments.push((at, at + segment.len()));
        at += segment.len() + 1;
    }
    match_segments(&t, &segments, path, params)
}

/// [`matches`] from one template segment and one path segment on.
fn match_segments<'p>(
    template: &[&str],
    segments: &[(usize, usize)],
    path: &'p str,
    params: &mut Vec<&'p str>,
) -> bool {
    let Some((first, rest)) = template.split_first() else {
        return segments.is_empty();
    };
    let param = first.starts_with('{') && first.ends_with('}');
    if param && first.ends_with(":path}") {
        for n in 1..=segments.len().saturating_sub(rest.len()) {
            if segments[..n].iter().any(|(s, e)| s == e) {
                return false;
            }
            let mark = params.len();
            params.push(&path[segments[0].0..segments[n - 1].1]);
            if match_segments(rest, &segments[n..], path, params) {
                return true;
            }
            params.truncate(mark);
        }
        return false;
    }
    let Some((&(s, e), more)) = segments.split_first() else {
        return false;
    };
    let segment = &path[s..e];
    if param {
        if segment.is_empty() {
            return false;
        }
        params.push(segment);
    } else if *first != segment {
        return false;
    }
    match_segments(rest, more, path, params)
}

/// What the layer decided for an older client's request, before routing.
enum Route {
    /// Serve it as it is.
    Serve,
    /// Serve it at this path and query instead (a moved route).
    Moved(String),
    /// Serve it with the older route of this [`Fallthrough`].
    Fallthrough(&'static Fallthrough),
    /// The client's version has no such route: 404, or 405 with the
    /// methods its path has.
    Gone(Vec<&'static str>),
}

/// The fate of `method path` for a client of `version`.
fn route_for(version: Date, method: &Method, path: &str, query: &str) -> Route {
    let mut params = Vec::new();
    // A moved route the client still has: where it lives now.
    for v in VERSIONS.iter().take_while(|v| v.date > version) {
        for instruction in v.changes.iter().flat_map(|c| c.instructions) {
            if let Instruction::EndpointMoved(m, template, to) = instruction {
                if *m == method.as_str()
                    && matches(template, path, &mut params)
                    && !gone_for(version, m, template)
                {
                    return Route::Moved(to(&params, query));
                }
            }
        }
    }
    for instruction in newer_than(version) {
        if let Instruction::EndpointAdded(m, template) = instruction {
            if *m == method.as_str() && matches(template, path, &mut params) {
                if let Some(f) = fallthrough(version, method, path) {
                    return Route::Fallthrough(f);
                }
                return Route::Gone(other_methods(version, m, template));
            }
        }
    }
    Route::Serve
}

/// Whether `method template` was added after `version`.
fn gone_for(version: Date, method: &str, template: &str) -> bool {
    newer_than(version)
        .any(|i| matches!(i, Instruction::EndpointAdded(m, t) if *m == method && *t == template))
}

/// The other methods the client's version has on a path whose `method`
/// route it lacks: from the example's own route table, less the routes
/// added after its version.
fn other_methods(version: Date, method: &str, template: &str) -> Vec<&'static str> {
    let shape = shape_of(template);
    let mut methods: Vec<&'static str> = crate::routes::execution::ROUTES
        .iter()
        .filter(|r| r.method != method)
        .filter(|r| shape_of(r.path.strip_prefix(MOUNT).unwrap_or(r.path)) == shape)
        .filter(|r| {
            let airflow = airflow_template(r.path.strip_prefix(MOUNT).unwrap_or(r.path));
            !newer_than(version).any(|i| {
                matches!(i, Instruction::EndpointAdded(m, t)
                    if *m == r.method && shape_of(t) == shape_of(&airflow))
            })
        })
        .map(|r| r.method)
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// A path template with every parameter written `{}`, so that Airflow's
/// `{key:path}` and the DSL's `<key>` compare equal.
fn shape_of(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if (s.starts_with('{') && s.ends_with('}')) || (s.starts_with('<') && s.ends_with('>'))
            {
                "{}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The DSL's `<name>` spelled `{name}`.
fn airflow_template(path: &str) -> String {
    path.replace('<', "{").replace('>', "}")
}

/// The older route a client of `version` has for `method path`, where a
/// newer route now answers first ([`FALLTHROUGHS`]).
fn fallthrough(version: Date, method: &Method, path: &str) -> Option<&'static Fallthrough> {
    FALLTHROUGHS
        .iter()
        .find(|f| f.method == method.as_str() && f.path == path && version < f.until)
}

/// A path that a route added in `until` now answers, and that older
/// versions served with an older route whose pattern also matches it (in
/// Cadwyn, each version has its own router, so the older router never
/// saw the newer route).
///
/// The layer sends an older client's request for it to `internal`, where
/// [`configure`] registers the older route's service after the example's
/// routes, behind [`fell_through`]: so the routes' own requests never try
/// it first (it costs them nothing), and a client cannot call `internal`
/// itself (404).
pub struct Fallthrough {
    /// Its method.
    pub method: &'static str,
    /// Its path, below the mount.
    pub path: &'static str,
    /// The version that added the route that now answers it.
    pub until: Date,
    /// Where the layer sends it, below the mount: a path no route of the
    /// example matches.
    pub internal: &'static str,
    /// Registers the older route's service at the path it is given:
    /// `internal` under the mount, guarded by [`fell_through`].
    pub register: fn(&mut web::ServiceConfig, &str),
}

/// Every [`Fallthrough`].
pub const FALLTHROUGHS: &[Fallthrough] = &[v2026_06_30::VARIABLE_NAMED_KEYS];

/// The marker of a request the layer sent to a [`Fallthrough`]'s
/// `internal` path: a request extension, which no client can set.
#[derive(Clone, Copy)]
struct FellThrough;

/// An actix guard: the layer sent this request to a [`Fallthrough`].
pub fn fell_through() -> impl actix_web::guard::Guard {
    actix_web::guard::fn_guard(|ctx| ctx.req_data().contains::<FellThrough>())
}

/// Registers the [`FALLTHROUGHS`]: call it after the example's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for f in FALLTHROUGHS {
        (f.register)(cfg, &format!("{MOUNT}{}", f.internal));
    }
}

/// The version middleware, innermost of the app's: picks the client's
/// version, routes an older client's request as its version's router
/// would, and migrates the response body to its version.
pub async fn layer(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let header = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let echoed = header.map(str::to_owned);
    let version = match pick(header) {
        Picked::Version(v) => v,
        Picked::TooEarly => {
            tracing::info!(target: "execution_api::versions", "API version earlier than the earliest: 404");
            return Ok(req.into_response(errors::not_found_response()));
        }
        Picked::NotADate(reason) => {
            tracing::info!(target: "execution_api::versions", reason, "API version is not a date: 422");
            let body = json!({"detail": [{
                "type": "date_from_datetime_parsing",
                "loc": ["header", "Airflow-API-Version"],
                "msg": format!("Input should be a valid date or datetime, {reason}"),
                "input": echoed,
                "ctx": {"error": reason},
            }]});
            return Ok(req.into_response(HttpResponse::UnprocessableEntity().json(body)));
        }
    };
    req.extensions_mut().insert(ClientVersion(version));
    let echo = HeaderValue::from_str(&echoed.unwrap_or_else(|| version.to_string()))
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    let migrate = version < newest();
    let mut route = None;
    if migrate {
        let path = req.path().strip_prefix(MOUNT).map(str::to_owned);
        if let Some(path) = path {
            let query = req.query_string().to_owned();
            // The path whose response models apply: the route's own.
            let mut served = None;
            match route_for(version, req.method(), &path, &query) {
                Route::Serve => {}
                Route::Moved(to) => rewrite(&mut req, &format!("{MOUNT}{to}")),
                Route::Fallthrough(f) => {
                    rewrite(
                        &mut req,
                        &with_query(&format!("{MOUNT}{}", f.internal), &query),
                    );
                    req.extensions_mut().insert(FellThrough);
                    served = Some(path);
                }
                Route::Gone(methods) => {
                    let response = if methods.is_empty() {
                        errors::not_found_response()
                    } else {
                        HttpResponse::MethodNotAllowed()
                            .insert_header((header::ALLOW, methods.join(", ")))
                            .json(json!({"detail": "Method Not Allowed"}))
                    };
                    let mut res = req.into_response(response);
                    res.headers_mut().insert(HEADER, echo);
                    return Ok(res);
                }
            }
            drop_new_query_params(&mut req, version);
            let path = served.unwrap_or_else(|| {
                req.path()
                    .strip_prefix(MOUNT)
                    .unwrap_or_default()
                    .to_owned()
            });
            route = RESPONSES
                .iter()
                .find(|(m, t, _)| *m == req.method().as_str() && matches(t, &path, &mut Vec::new()))
                .map(|(m, t, models)| (*m, *t, *models));
        }
    }
    let res = next.call(req).await?;
    let mut res = match route {
        Some(route) if res.status().is_success() => migrate_response(res, version, route).await?,
        _ => res.map_into_boxed_body(),
    };
    res.headers_mut().insert(HEADER, echo);
    Ok(res)
}

/// Points the request at `path_and_query`, before routing.
fn rewrite(req: &mut ServiceRequest, path_and_query: &str) {
    let Ok(uri) = path_and_query.parse::<Uri>() else {
        return;
    };
    tracing::debug!(target: "execution_api::versions", "older route: rewritten");
    req.match_info_mut().get_mut().update(&uri);
    req.head_mut().uri = uri;
}

/// Drops the query parameters the client's version did not have (FastAPI
/// ignores unknown query parameters, so its request meant the same
/// without them).
fn drop_new_query_params(req: &mut ServiceRequest, version: Date) {
    let path = req
        .path()
        .strip_prefix(MOUNT)
        .unwrap_or_default()
        .to_owned();
    let mut dropped: Vec<&str> = Vec::new();
    for instruction in newer_than(version) {
        if let Instruction::FieldAdded(model, field) = instruction {
            let applies = QUERIES.iter().any(|(m, method, t)| {
                m == model && *method == req.method().as_str() && matches(t, &path, &mut Vec::new())
            });
            if applies {
                dropped.push(field);
            }
        }
    }
    if dropped.is_empty() || req.query_string().is_empty() {
        return;
    }
    let kept: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !dropped.contains(&name)
        })
        .collect();
    let full = with_query(req.path(), &kept.join("&"));
    rewrite(req, &full);
}

/// `path`, then `?query` unless `query` is empty.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Runs the converters and removes the newer fields of a JSON response,
/// newest version first.
async fn migrate_response(
    res: ServiceResponse<impl MessageBody + 'static>,
    version: Date,
    (method, template, models): (&str, &str, &[(Model, &str)]),
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (req, res) = res.into_parts();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = to_bytes(res.into_body())
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("response body"))?;
    let Ok(mut body) = serde_json::from_slice::<Value>(&bytes) else {
        let mut out = HttpResponse::with_body(status, BoxBody::new(bytes));
        *out.headers_mut() = headers;
        return Ok(ServiceResponse::new(req, out));
    };
    migrate_body(&mut body, version, method, template, models);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = HttpResponse::with_body(status, BoxBody::new(bytes));
    *out.headers_mut() = headers;
    out.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(req, out))
}

/// The migration of a response body (parsed) to the client's `version`:
/// for every version newer than the client's, newest first, its
/// converters for this route, then the removal of the fields its response
/// models gained.
pub fn migrate_body(
    body: &mut Value,
    version: Date,
    method: &str,
    template: &str,
    models: &[(Model, &str)],
) {
    let top = models.first().map(|(m, _)| *m);
    for v in VERSIONS.iter().take_while(|v| v.date > version) {
        for instruction in v.changes.iter().flat_map(|c| c.instructions) {
            match instruction {
                Instruction::ConvertResponse(Target::Model(m), convert)
                    if Some(*m) == top && !body.is_null() =>
                {
                    convert(body)
                }
                Instruction::ConvertResponse(Target::Route(m, t), convert)
                    if *m == method && *t == template && !body.is_null() =>
                {
                    convert(body)
                }
                _ => {}
            }
        }
        for instruction in v.changes.iter().flat_map(|c| c.instructions) {
            if let Instruction::FieldAdded(model, field) = instruction {
                for (_, location) in models.iter().filter(|(m, _)| m == model) {
                    remove_at(body, location, field);
                }
            }
        }
    }
}

/// Removes `field` from every object at `location` (a dotted path, `[]`
/// for every element of a list).
fn remove_at(value: &mut Value, location: &str, field: &str) {
    fn walk(value: &mut Value, steps: &[&str], field: &str) {
        let Some((step, rest)) = steps.split_first() else {
            if let Value::Object(map) = value {
                map.remove(field);
            }
            return;
        };
        let (key, each) = match step.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (*step, false),
        };
        let Some(inner) = value.get_mut(key) else {
            return;
        };
        if each {
            if let Value::Array(items) = inner {
                for item in items {
                    walk(item, rest, field);
                }
            }
        } else {
            walk(inner, rest, field);
        }
    }
    let steps: Vec<&str> = location.split('.').filter(|s| !s.is_empty()).collect();
    walk(value, &steps, field);
}

/// A request body model whose older versions [`Body`] checks.
pub trait RequestModel: DeserializeOwned {
    /// Which of Airflow's models this body is (for a union, decided by its
    /// discriminator), and its pydantic tag for error locations.
    fn model(body: &Value) -> (Model, Option<&'static str>);
}

impl RequestModel for crate::models::StateUpdate {
    /// Airflow's `ti_state_discriminator`.
    fn model(body: &Value) -> (Model, Option<&'static str>) {
        match body.get("state").and_then(Value::as_str) {
            Some("success") => (Model::TISuccessStatePayload, Some("success")),
            Some("failed" | "skipped" | "removed" | "upstream_failed") => {
                (Model::TITerminalStatePayload, Some("_terminal_"))
            }
            Some("deferred") => (Model::TIDeferredStatePayload, Some("deferred")),
            Some("up_for_reschedule") => {
                (Model::TIRescheduleStatePayload, Some("up_for_reschedule"))
            }
            Some("awaiting_input") => (Model::TIAwaitingInputStatePayload, Some("awaiting_input")),
            Some("up_for_retry") => (Model::TIRetryStatePayload, Some("up_for_retry")),
            _ => (Model::TITargetStatePayload, Some("_other_")),
        }
    }
}

impl RequestModel for crate::models::dags::TriggerDagRun {
    fn model(_: &Value) -> (Model, Option<&'static str>) {
        (Model::TriggerDAGRunPayload, None)
    }
}

/// A JSON request body as the client's version defines it, then as the
/// server reads it (`T`). An extractor: it runs after the route's policy.
/// For the newest version it is `web::Json<T>`; for an older one, a field
/// its model did not have yet is refused with 422 `extra_forbidden` (its
/// strict model forbids unknown fields), and a value of a type it did not
/// allow yet with 422, as Airflow's versioned models refuse them. Errors
/// are those of the app's `JsonConfig`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> Body<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: RequestModel + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Body<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let value = json.await?.into_inner();
            check_request(&value, client_version(&req), T::model(&value))?;
            serde_json::from_value::<T>(value)
                .map(Body)
                .map_err(|e| errors::json_error(JsonPayloadError::Deserialize(e), &req))
        })
    }
}

/// The checks of an older client's request body.
fn check_request(
    body: &Value,
    version: Date,
    (model, tag): (Model, Option<&'static str>),
) -> Result<(), Invalid> {
    let Some(map) = body.as_object() else {
        return Ok(());
    };
    for instruction in newer_than(version) {
        match instruction {
            Instruction::FieldAdded(m, field) if *m == model && map.contains_key(*field) => {
                return Err(refused(
                    tag,
                    field,
                    "extra_forbidden",
                    "Extra inputs are not permitted",
                ));
            }
            Instruction::FieldHad(m, field, had) if *m == model => {
                if let Some(value) = map.get(*field) {
                    had.check(value)
                        .map_err(|msg| refused(tag, field, "dict_type", msg))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn refused(tag: Option<&str>, field: &str, kind: &'static str, msg: &str) -> Invalid {
    let field = match tag {
        Some(tag) => format!("{tag}.{field}"),
        None => field.to_owned(),
    };
    Invalid::new("body", &field, kind, msg)
}

/// Removes `key` from the object at `value[outer]`, if any.
pub fn pop_in(value: &mut Value, outer: &str, key: &str) {
    if let Some(Value::Object(map)) = value.get_mut(outer) {
        map.remove(key);
    }
}

/// Removes `key` from `value` when it is an object.
pub fn pop(value: &mut Value, key: &str) {
    if let Value::Object(map) = value {
        map.remove(key);
    }
}

/// `value[key]`, or `null`.
pub fn get<'v>(value: &'v Value, key: &str) -> &'v Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// An empty JSON object.
pub fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn versions_are_declared_newest_first_and_once() {
        for pair in VERSIONS.windows(2) {
            assert!(
                pair[0].date > pair[1].date,
                "{} {}",
                pair[0].date,
                pair[1].date
            );
        }
        assert_eq!(newest(), date("2026-10-30"));
        assert_eq!(VERSIONS.last().unwrap().date, date("2025-04-11"));
    }

    #[test]
    fn versions_are_picked_as_cadwyn_picks_them() {
        let v = |s: &str| Picked::Version(date(s));
        assert_eq!(pick(None), v("2026-10-30"));
        assert_eq!(pick(Some("2025-08-10")), v("2025-08-10"));
        // Between two versions: the earlier one.
        assert_eq!(pick(Some("2025-08-11")), v("2025-08-10"));
        assert_eq!(pick(Some("2026-06-29")), v("2026-04-06"));
        // Later than the newest: the newest.
        assert_eq!(pick(Some("2099-01-01")), v("2026-10-30"));
        // A date-time at midnight is its date, as pydantic reads it.
        assert_eq!(pick(Some("2026-06-30T00:00:00")), v("2026-06-30"));
        // Earlier than the earliest, or empty: no version, 404.
        assert_eq!(pick(Some("2025-04-10")), Picked::TooEarly);
        assert_eq!(pick(Some("")), Picked::TooEarly);
        for (bad, reason) in [
            ("garbage", "input is too short"),
            ("2025-4-11", "input is too short"),
            (
                "2025-13-01",
                "month value is outside expected range of 1-12",
            ),
            ("2025-02-29", "day value is outside expected range"),
            ("2025/04/11", "invalid character in year"),
            (
                "2026-06-30T12:00:00",
                "Datetimes provided to dates should have zero time",
            ),
            ("2026-06-30-extra", "invalid character in year"),
        ] {
            assert_eq!(pick(Some(bad)), Picked::NotADate(reason), "{bad}");
        }
        assert_eq!(
            pick(Some("2024-02-29")),
            Picked::TooEarly,
            "a leap day is a date"
        );
    }

    #[test]
    fn templates_match_as_airflow_routes_do() {
        let mut p = Vec::new();
        assert!(matches("/dags/{dag_id}", "/dags/etl", &mut p));
        assert_eq!(p, ["etl"]);
        assert!(!matches("/dags/{dag_id}", "/dags/", &mut p));
        assert!(!matches("/dags/{dag_id}", "/dags/etl/x", &mut p));
        assert!(matches(
            "/store/ti/{task_instance_id}/{key:path}",
            "/store/ti/abc/team/db/password",
            &mut p
        ));
        assert_eq!(p, ["abc", "team/db/password"]);
        assert!(!matches(
            "/store/ti/{task_instance_id}/{key:path}",
            "/store/ti/abc",
            &mut p
        ));
        assert!(!matches(
            "/store/ti/{task_instance_id}/{key:path}",
            "/store/ti/abc/",
            &mut p
        ));
        // Literal segments after a path parameter.
        assert!(matches(
            "/xcoms/{dag_id}/{run_id}/{task_id}/{key:path}/slice",
            "/xcoms/d/r/t/a/b/slice",
            &mut p
        ));
        assert_eq!(p, ["d", "r", "t", "a/b"]);
        assert!(!matches(
            "/xcoms/{dag_id}/{run_id}/{task_id}/{key:path}/slice",
            "/xcoms/d/r/t/slice",
            &mut p
        ));
    }

    #[test]
    fn newer_fields_are_removed_wherever_their_model_sits() {
        let (_, template, models) = RESPONSES
            .iter()
            .find(|(_, t, _)| *t == "/asset-events/by-asset")
            .unwrap();
        let mut body = json!({"asset_events": [
            {"id": 1, "partition_key": "p", "created_dagruns": [{"run_id": "r", "partition_key": "p"}]}
        ]});
        migrate_body(&mut body, date("2026-06-30"), "GET", template, models);
        assert_eq!(
            body["asset_events"][0]["partition_key"], "p",
            "2026-06-30 has it"
        );
        migrate_body(&mut body, date("2025-11-05"), "GET", template, models);
        assert_eq!(
            body,
            json!({"asset_events": [{"id": 1, "created_dagruns": [{"run_id": "r"}]}]})
        );
    }

    #[test]
    fn an_older_request_body_keeps_to_its_model() {
        use crate::models::StateUpdate;
        let body = json!({"state": "success", "end_date": "2026-01-01T00:00:00Z", "rendered_map_index": "x"});
        let model = StateUpdate::model(&body);
        assert_eq!(model, (Model::TISuccessStatePayload, Some("success")));
        assert!(check_request(&body, date("2025-04-28"), model).is_ok());
        let refused = check_request(&body, date("2025-04-11"), model).unwrap_err();
        assert_eq!(
            (refused.field.as_str(), refused.kind),
            ("success.rendered_map_index", "extra_forbidden")
        );
        let deferred = json!({"state": "deferred", "trigger_kwargs": [1], "next_kwargs": {}});
        let model = StateUpdate::model(&deferred);
        assert!(check_request(&deferred, date("2026-06-30"), model).is_ok());
        assert!(check_request(&deferred, date("2025-11-05"), model).is_err());
    }
}
