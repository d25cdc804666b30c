//! 2026-10-30 (Airflow's main branch, `versions/v2026_10_30.py`): of that
//! version's changes, the one the example serves, the callback token's
//! exchange (apache/airflow#71192). Its other changes (stopped-task
//! reports, retired attempts, argument bindings, DAG-run notes from tasks,
//! a terminal retry reason, `multi_team` in `/run`'s answer, several XCom
//! keys at once) are not in Airflow 3.3.2's operations, which the example
//! follows, so it neither serves nor migrates them.

use super::{Change, Date, Instruction, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2026, 10, 30),
    changes: &[Change {
        name: "AddCallbackRunEndpoint",
        description: "Add the callbacks/{callback_id}/run endpoint a worker uses to exchange \
                      its single-use callback token.",
        instructions: &[Instruction::EndpointAdded(
            "PATCH",
            "/callbacks/{callback_id}/run",
        )],
    }],
};
