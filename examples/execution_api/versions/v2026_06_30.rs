//! 2026-06-30 (`versions/v2026_06_30.py`, task SDK 1.3's version, the
//! newest of Airflow 3.3.2): variable keys, connection tests, human in the
//! loop without a trigger, a task instance's queue, retry policies, teams,
//! the task and asset state stores, assets by alias, partition dates, and
//! the partition keys of the events that triggered a run.

use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::{
    fell_through, pop, pop_in, Change, Date, Fallthrough, Instruction, Model, Target, Version,
};
use crate::state::Store;

/// The version.
pub const VERSION: Version = Version {
    date: DATE,
    changes: &[
        Change {
            name: "AddVariableKeysEndpoint",
            description: "Add GET /variables/keys endpoint for listing variable keys with \
                          optional prefix filter.",
            instructions: &[Instruction::EndpointAdded("GET", "/variables/keys")],
        },
        Change {
            name: "AddConnectionTestEndpoint",
            description: "Add connection-tests endpoints for the async connection-test \
                          workflow.",
            instructions: &[
                Instruction::EndpointAdded("PATCH", "/connection-tests/{connection_test_id}"),
                Instruction::EndpointAdded(
                    "GET",
                    "/connection-tests/{connection_test_id}/connection",
                ),
            ],
        },
        Change {
            name: "AddAwaitingInputStatePayload",
            description: "Add the awaiting_input task instance state transition payload \
                          (Human-in-the-loop, no trigger).",
            instructions: &[
                Instruction::FieldAdded(Model::TIAwaitingInputStatePayload, "state"),
                Instruction::FieldAdded(Model::TIAwaitingInputStatePayload, "timeout"),
                Instruction::FieldAdded(Model::TIAwaitingInputStatePayload, "next_method"),
                Instruction::FieldAdded(Model::TIAwaitingInputStatePayload, "next_kwargs"),
                Instruction::FieldAdded(Model::TIAwaitingInputStatePayload, "rendered_map_index"),
            ],
        },
        Change {
            name: "AddTaskInstanceQueueField",
            description: "Add the `queue` field to the TaskInstance model.",
            instructions: &[Instruction::FieldAdded(Model::TaskInstance, "queue")],
        },
        Change {
            name: "AddRetryPolicyFields",
            description: "Add retry_delay_seconds and retry_reason fields to \
                          TIRetryStatePayload for pluggable retry policies.",
            instructions: &[
                Instruction::FieldAdded(Model::TIRetryStatePayload, "retry_delay_seconds"),
                Instruction::FieldAdded(Model::TIRetryStatePayload, "retry_reason"),
            ],
        },
        Change {
            name: "AddTeamNameField",
            description: "Add the ``team_name`` field to DagRun model.",
            instructions: &[
                Instruction::FieldAdded(Model::DagRun, "team_name"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_team_name_field,
                ),
                Instruction::ConvertResponse(
                    Target::Model(Model::DagRun),
                    remove_team_name_from_dag_run_response,
                ),
                Instruction::ConvertResponse(
                    Target::Route("GET", "/dag-runs/previous"),
                    remove_team_name_from_dag_run_response,
                ),
            ],
        },
        Change {
            name: "AddTaskAndAssetStateStoreEndpoints",
            description: "Add task state store and asset state store API endpoints.",
            instructions: &[
                Instruction::EndpointAdded("GET", "/store/ti/{task_instance_id}/{key:path}"),
                Instruction::EndpointAdded("PUT", "/store/ti/{task_instance_id}/{key:path}"),
                Instruction::EndpointAdded("DELETE", "/store/ti/{task_instance_id}/{key:path}"),
                Instruction::EndpointAdded("DELETE", "/store/ti/{task_instance_id}"),
                Instruction::EndpointAdded("GET", "/store/asset/by-name/value"),
                Instruction::EndpointAdded("PUT", "/store/asset/by-name/value"),
                Instruction::EndpointAdded("DELETE", "/store/asset/by-name/value"),
                Instruction::EndpointAdded("DELETE", "/store/asset/by-name/clear"),
                Instruction::EndpointAdded("GET", "/store/asset/by-uri/value"),
                Instruction::EndpointAdded("PUT", "/store/asset/by-uri/value"),
                Instruction::EndpointAdded("DELETE", "/store/asset/by-uri/value"),
                Instruction::EndpointAdded("DELETE", "/store/asset/by-uri/clear"),
            ],
        },
        Change {
            name: "AddAssetsByAliasEndpoint",
            description: "Add endpoint to resolve assets from an AssetAlias.",
            instructions: &[Instruction::EndpointAdded("GET", "/assets/by-alias")],
        },
        Change {
            name: "AddPartitionDateField",
            description: "Expose the consumer DagRun's partition datetime on the execution API \
                          so consumer tasks can template it.",
            instructions: &[
                Instruction::FieldAdded(Model::DagRun, "partition_date"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_partition_date_from_dag_run,
                ),
                Instruction::ConvertResponse(
                    Target::Model(Model::DagRun),
                    remove_partition_date_from_dag_run_response,
                ),
                Instruction::ConvertResponse(
                    Target::Route("GET", "/dag-runs/previous"),
                    remove_partition_date_from_dag_run_response,
                ),
            ],
        },
        Change {
            name: "AddConsumedAssetEventPartitionKeyField",
            description: "Expose the upstream partition key on the asset events that \
                          triggered a consumer Dag run.",
            instructions: &[
                Instruction::FieldAdded(Model::AssetEventDagRunReference, "partition_key"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_partition_key_from_consumed_asset_events,
                ),
            ],
        },
    ],
};

/// The version's date.
const DATE: Date = Date::new(2026, 6, 30);

/// Before this version, `GET /variables/keys` was the variable named
/// `keys`: the older router had no `/variables/keys` route, so
/// `/variables/{variable_key}` answered it. Served to older clients with
/// that route's policy ([`POLICY`](crate::routes::execution::variables::get::POLICY)).
pub const VARIABLE_NAMED_KEYS: Fallthrough = Fallthrough {
    method: "GET",
    path: "/variables/keys",
    until: DATE,
    internal: "/.versions/2026-06-30/variables/keys",
    register: |cfg, path| {
        cfg.service(
            web::resource(path)
                .guard(actix_web::guard::Get())
                .guard(fell_through())
                .wrap(scopegate::Enforce::new(
                    &crate::routes::execution::variables::get::POLICY,
                ))
                .to(variable_named_keys),
        );
    },
};

/// `GET /variables/{variable_key}` for the key `keys`.
async fn variable_named_keys(store: web::Data<Store>) -> actix_web::Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(store.variable("keys")?))
}

fn remove_team_name_field(body: &mut Value) {
    pop_in(body, "dag_run", "team_name");
}

fn remove_team_name_from_dag_run_response(body: &mut Value) {
    pop(body, "team_name");
}

fn remove_partition_date_from_dag_run(body: &mut Value) {
    pop_in(body, "dag_run", "partition_date");
}

fn remove_partition_date_from_dag_run_response(body: &mut Value) {
    pop(body, "partition_date");
}

fn remove_partition_key_from_consumed_asset_events(body: &mut Value) {
    if let Some(Value::Array(events)) = body
        .get_mut("dag_run")
        .and_then(|d| d.get_mut("consumed_asset_events"))
    {
        for event in events {
            pop(event, "partition_key");
        }
    }
}
