//! 2025-10-27 (`versions/v2025_10_27.py`): a DAG run's `conf` may be
//! `null`; older clients always get an object.

use serde_json::Value;

use super::{empty_object, Change, Date, Instruction, Model, Target, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 10, 27),
    changes: &[Change {
        name: "MakeDagRunConfNullable",
        description: "Make DagRun.conf field nullable to match database schema.",
        instructions: &[Instruction::ConvertResponse(
            Target::Model(Model::TIRunContext),
            ensure_conf_is_dict_in_dag_run,
        )],
    }],
};

fn ensure_conf_is_dict_in_dag_run(body: &mut Value) {
    if let Some(Value::Object(dag_run)) = body.get_mut("dag_run") {
        if dag_run.get("conf").is_none_or(Value::is_null) {
            dag_run.insert("conf".to_owned(), empty_object());
        }
    }
}
