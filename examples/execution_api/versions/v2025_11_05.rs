//! 2025-11-05 (`versions/v2025_11_05.py`, task SDK 1.1's version): a DAG
//! run names the user who triggered it.

use serde_json::Value;

use super::{pop_in, Change, Date, Instruction, Model, Target, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 11, 5),
    changes: &[Change {
        name: "AddTriggeringUserNameField",
        description: "Add the `triggering_user_name` field to DagRun model.",
        instructions: &[
            Instruction::FieldAdded(Model::DagRun, "triggering_user_name"),
            Instruction::ConvertResponse(
                Target::Model(Model::TIRunContext),
                remove_triggering_user_name_from_dag_run,
            ),
        ],
    }],
};

fn remove_triggering_user_name_from_dag_run(body: &mut Value) {
    pop_in(body, "dag_run", "triggering_user_name");
}
