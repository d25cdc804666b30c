//! 2026-04-06 (`versions/v2026_04_06.py`, task SDK 1.2's version):
//! partition keys and notes on DAG runs, the previous run moved to
//! `/dag-runs/previous`, a DAG run's and a DAG's own routes, a DAG run's
//! start date may be `null`, deferral kwargs as any JSON, `upstream_map_indexes`
//! computed by the worker, and the task instance's start date in `/run`'s
//! answer.

use serde_json::{json, Map, Value};

use super::{get, pop, pop_in, Change, Date, Had, Instruction, Model, Target, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2026, 4, 6),
    changes: &[
        Change {
            name: "AddPartitionKeyField",
            description: "Add ``partition_key`` to the Dag run, asset event, asset reference \
                          and trigger payload models.",
            instructions: &[
                Instruction::FieldAdded(Model::DagRun, "partition_key"),
                Instruction::FieldAdded(Model::AssetEventResponse, "partition_key"),
                Instruction::FieldAdded(Model::TriggerDAGRunPayload, "partition_key"),
                Instruction::FieldAdded(Model::DagRunAssetReference, "partition_key"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_partition_key_from_dag_run,
                ),
                Instruction::ConvertResponse(
                    Target::Model(Model::AssetEventsResponse),
                    remove_partition_key_from_asset_events,
                ),
            ],
        },
        Change {
            name: "MovePreviousRunEndpoint",
            description: "Add new previous-run endpoint and migrate old endpoint.",
            instructions: &[
                Instruction::EndpointAdded("GET", "/dag-runs/previous"),
                Instruction::EndpointMoved("GET", "/dag-runs/{dag_id}/previous", previous_run),
            ],
        },
        Change {
            name: "AddDagRunDetailEndpoint",
            description: "Add dag run detail endpoint.",
            instructions: &[Instruction::EndpointAdded(
                "GET",
                "/dag-runs/{dag_id}/{run_id}",
            )],
        },
        Change {
            name: "MakeDagRunStartDateNullable",
            description: "Make DagRun.start_date field nullable for runs that haven't started \
                          yet.",
            instructions: &[
                Instruction::FieldHad(Model::DagRun, "start_date", Had::NotNull),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    ensure_start_date_in_ti_run_context,
                ),
                Instruction::ConvertResponse(
                    Target::Model(Model::DagRun),
                    ensure_start_date_in_dag_run,
                ),
            ],
        },
        Change {
            name: "ModifyDeferredTaskKwargsToJsonValue",
            description: "Change the types of `trigger_kwargs` and `next_kwargs` in \
                          TIDeferredStatePayload to JsonValue.",
            instructions: &[
                Instruction::FieldHad(
                    Model::TIDeferredStatePayload,
                    "trigger_kwargs",
                    Had::ObjectOrString,
                ),
                Instruction::FieldHad(Model::TIDeferredStatePayload, "next_kwargs", Had::Object),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    convert_next_kwargs_to_base_serialization,
                ),
            ],
        },
        Change {
            name: "RemoveUpstreamMapIndexesField",
            description: "Remove upstream_map_indexes field from TIRunContext - now computed \
                          by Task SDK.",
            instructions: &[
                Instruction::FieldExistedAs(Model::TIRunContext, "upstream_map_indexes"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    add_upstream_map_indexes_field,
                ),
            ],
        },
        Change {
            name: "AddNoteField",
            description: "Add note parameter to DagRun Model.",
            instructions: &[
                Instruction::FieldAdded(Model::DagRun, "note"),
                Instruction::FieldAdded(Model::TriggerDAGRunPayload, "note"),
                Instruction::ConvertResponse(Target::Model(Model::TIRunContext), remove_note_field),
            ],
        },
        Change {
            name: "AddTaskInstanceStartDateField",
            description: "Add `start_date` field to TIRunContext.",
            instructions: &[
                Instruction::FieldAdded(Model::TIRunContext, "start_date"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_start_date_field,
                ),
            ],
        },
        Change {
            name: "AddRunAfterField",
            description: "Add run_after parameter to TriggerDAGRunPayload Model.",
            instructions: &[Instruction::FieldAdded(
                Model::TriggerDAGRunPayload,
                "run_after",
            )],
        },
        Change {
            name: "AddDagEndpoint",
            description: "Add the `/dags/{dag_id}` endpoint.",
            instructions: &[Instruction::EndpointAdded("GET", "/dags/{dag_id}")],
        },
    ],
};

fn remove_partition_key_from_dag_run(body: &mut Value) {
    pop_in(body, "dag_run", "partition_key");
}

fn remove_partition_key_from_asset_events(body: &mut Value) {
    if let Some(Value::Array(events)) = body.get_mut("asset_events") {
        for event in events {
            pop(event, "partition_key");
        }
    }
}

/// Airflow's `get_previous_dagrun_compat`: the older
/// `GET /dag-runs/{dag_id}/previous?logical_date=..&state=..` is
/// `GET /dag-runs/previous` with the DAG in the query. The query's own
/// parameters come first, so a `dag_id` in it cannot override the path's
/// (the last value of a parameter wins).
fn previous_run(params: &[&str], query: &str) -> String {
    let dag_id = params.first().copied().unwrap_or_default();
    let mut to = String::from("/dag-runs/previous?");
    if !query.is_empty() {
        to.push_str(query);
        to.push('&');
    }
    to.push_str("dag_id=");
    to.push_str(&query_escape(dag_id));
    to
}

/// A path segment (percent-encoded already) made safe as a query value:
/// every byte other than unreserved ones and existing escapes is escaped.
fn query_escape(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Older clients' DagRun has a start date: a run not yet started gets its
/// `run_after`.
fn ensure_start_date_in_ti_run_context(body: &mut Value) {
    if let Some(dag_run) = body.get_mut("dag_run") {
        ensure_start_date_in_dag_run(dag_run);
    }
}

fn ensure_start_date_in_dag_run(dag_run: &mut Value) {
    if get(dag_run, "start_date").is_null() {
        let run_after = get(dag_run, "run_after").clone();
        if let Value::Object(map) = dag_run {
            map.insert("start_date".to_owned(), run_after);
        }
    }
}

/// Older workers (task SDK before 1.2) read `next_kwargs` with Airflow's
/// `BaseSerialization`: every dict wrapped as
/// `{"__type": "dict", "__var": {...}}`. Plain JSON (objects, lists,
/// scalars) is re-encoded so; a value already in that form, and a typed
/// value of the SDK's serde (`{"__classname__": ..}`, which only Airflow's
/// Python can turn into its object), are left as they are.
fn convert_next_kwargs_to_base_serialization(body: &mut Value) {
    let Some(next_kwargs) = body.get_mut("next_kwargs") else {
        return;
    };
    if next_kwargs.is_null() || is_base_serialized(next_kwargs) {
        return;
    }
    *next_kwargs = base_serialize(next_kwargs);
}

fn is_base_serialized(value: &Value) -> bool {
    value.get("__type").is_some() && value.get("__var").is_some()
}

fn base_serialize(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("__classname__") => value.clone(),
        Value::Object(map) => {
            let inner: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), base_serialize(v)))
                .collect();
            json!({"__type": "dict", "__var": inner})
        }
        Value::Array(items) => Value::Array(items.iter().map(base_serialize).collect()),
        scalar => scalar.clone(),
    }
}

/// The field is gone; older clients get it, `null` (the worker computes
/// the indexes itself).
fn add_upstream_map_indexes_field(body: &mut Value) {
    if let Value::Object(map) = body {
        map.insert("upstream_map_indexes".to_owned(), Value::Null);
    }
}

fn remove_note_field(body: &mut Value) {
    pop_in(body, "dag_run", "note");
}

fn remove_start_date_field(body: &mut Value) {
    pop(body, "start_date");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_previous_run_moves_its_dag_to_the_query() {
        assert_eq!(
            super::previous_run(&["etl"], "logical_date=2026-01-01T00%3A00%3A00Z"),
            "/dag-runs/previous?logical_date=2026-01-01T00%3A00%3A00Z&dag_id=etl"
        );
        assert_eq!(
            super::previous_run(&["a+b&c=d"], ""),
            "/dag-runs/previous?dag_id=a%2Bb%26c%3Dd"
        );
    }

    #[test]
    fn next_kwargs_are_wrapped_as_base_serialization() {
        let mut body = json!({"next_kwargs": {"a": 1, "b": {"c": [1, {"d": 2}]}}});
        super::convert_next_kwargs_to_base_serialization(&mut body);
        assert_eq!(
            body,
            json!({"next_kwargs": {"__type": "dict", "__var": {
                "a": 1,
                "b": {"__type": "dict", "__var": {"c": [1, {"__type": "dict", "__var": {"d": 2}}]}}
            }}})
        );
        let before = body.clone();
        super::convert_next_kwargs_to_base_serialization(&mut body);
        assert_eq!(body, before, "already wrapped: left alone");
    }

    #[test]
    fn a_run_not_started_gets_its_run_after() {
        let mut body =
            json!({"dag_run": {"start_date": null, "run_after": "2026-01-01T00:00:00Z"}});
        super::ensure_start_date_in_ti_run_context(&mut body);
        assert_eq!(body["dag_run"]["start_date"], "2026-01-01T00:00:00Z");
    }
}
