//! 2025-08-10 (`versions/v2025_08_10.py`, task SDK 1.0's version): a DAG
//! run has a state, a task can ask for the previous run, and XCom reads
//! may include prior dates.

use serde_json::Value;

use super::{pop_in, Change, Date, Instruction, Model, Target, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 8, 10),
    changes: &[
        Change {
            name: "AddDagRunStateFieldAndPreviousEndpoint",
            description: "Add the `state` field to DagRun model and \
                          `/dag-runs/{dag_id}/previous` endpoint.",
            instructions: &[
                Instruction::FieldAdded(Model::DagRun, "state"),
                Instruction::EndpointAdded("GET", "/dag-runs/{dag_id}/previous"),
                Instruction::ConvertResponse(
                    Target::Model(Model::TIRunContext),
                    remove_state_from_dag_run,
                ),
            ],
        },
        Change {
            name: "AddIncludePriorDatesToGetXComSlice",
            description: "Add the `include_prior_dates` field to GetXComSliceFilterParams \
                          and GetXcomFilterParams.",
            instructions: &[
                Instruction::FieldAdded(Model::GetXComSliceFilterParams, "include_prior_dates"),
                Instruction::FieldAdded(Model::GetXcomFilterParams, "include_prior_dates"),
            ],
        },
    ],
};

fn remove_state_from_dag_run(body: &mut Value) {
    pop_in(body, "dag_run", "state");
}
