//! 2025-09-23 (`versions/v2025_09_23.py`): a workload's task instance
//! names its DAG version. No body the example serves carries that model
//! (a scheduler hands it to an executor), so nothing here changes.

use super::{Change, Date, Instruction::FieldAdded, Model, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 9, 23),
    changes: &[Change {
        name: "AddDagVersionIdField",
        description: "Add the `dag_version_id` field to the TaskInstance model.",
        instructions: &[FieldAdded(Model::TaskInstance, "dag_version_id")],
    }],
};
