//! 2025-05-20 (`versions/v2025_05_20.py`): `upstream_map_indexes` in
//! `/run`'s answer may hold lists; older clients get one index per task.

use serde_json::Value;

use super::{Change, Date, Had, Instruction, Model, Target, Version};

/// The version.
pub const VERSION: Version = Version {
    date: Date::new(2025, 5, 20),
    changes: &[Change {
        name: "DowngradeUpstreamMapIndexes",
        description: "Downgrade the upstream map indexes type for older clients.",
        instructions: &[
            Instruction::FieldHad(Model::TIRunContext, "upstream_map_indexes", Had::Narrower),
            Instruction::ConvertResponse(
                Target::Model(Model::TIRunContext),
                downgrade_upstream_map_indexes,
            ),
        ],
    }],
};

/// An integer stays; a non-empty list of integers becomes its first;
/// anything else (`null` included) becomes `null`.
fn downgrade_upstream_map_indexes(body: &mut Value) {
    let Some(Value::Object(indexes)) = body.get_mut("upstream_map_indexes") else {
        return;
    };
    for value in indexes.values_mut() {
        let downgraded = match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => continue,
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_i64) => {
                items[0].clone()
            }
            _ => Value::Null,
        };
        *value = downgraded;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn lists_become_their_first_index() {
        let mut body =
            json!({"upstream_map_indexes": {"a": 1, "b": [2, 3], "c": null, "d": [], "e": ["x"]}});
        super::downgrade_upstream_map_indexes(&mut body);
        assert_eq!(
            body,
            json!({"upstream_map_indexes": {"a": 1, "b": 2, "c": null, "d": null, "e": null}})
        );
    }
}
