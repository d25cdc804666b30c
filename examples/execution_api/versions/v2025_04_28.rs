//! 2025-04-28 (`versions/v2025_04_28.py`): a mapped task reports its
//! rendered map index with its final state.

use super::{Change, Date, Instruction::FieldAdded, Model, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 4, 28),
    changes: &[Change {
        name: "AddRenderedMapIndexField",
        description: "Add the `rendered_map_index` field to payload models.",
        instructions: &[
            FieldAdded(Model::TITerminalStatePayload, "rendered_map_index"),
            FieldAdded(Model::TISuccessStatePayload, "rendered_map_index"),
            FieldAdded(Model::TIDeferredStatePayload, "rendered_map_index"),
            FieldAdded(Model::TIRetryStatePayload, "rendered_map_index"),
        ],
    }],
};
