//! The task state store (values a task instance keeps, scoped to its DAG,
//! run, task and map index) and the asset state store (values shared
//! through an asset). Values are kept in compact JSON, within each store's
//! caps (`caps.rs`).

use scopegate::LogSafe;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::assets::AssetRef;
use super::caps::{self, Kind};
use super::xcoms::py_repr;
use super::{Inner, Refusal, Store};

/// (DAG, run, task, map index, key).
pub(super) type TaskStoreKey = (String, String, String, i64, String);

/// A stored task value.
#[derive(Clone, Debug)]
pub(super) struct TaskStoreEntry {
    /// Compact JSON.
    value: Box<str>,
    /// When it may be cleaned up. Airflow cleans up in a separate job and
    /// still answers with an expired value until then; so does the example,
    /// which never cleans up.
    #[allow(dead_code)]
    expires_at: Option<OffsetDateTime>,
}

impl Store {
    /// `GET /store/ti/<id>/<key>`.
    pub fn task_store_get(&self, id: Uuid, key: &str) -> Result<Value, Refusal> {
        let inner = self.lock();
        let scope = inner.task_scope(id)?;
        inner
            .task_store
            .get(&with_key(scope, key))
            .map(|entry| caps::parse(&entry.value))
            .ok_or_else(|| {
                Refusal::NotFound(format!("Task state store key {} not found", py_repr(key)))
            })
    }

    /// `PUT /store/ti/<id>/<key>`: creates or replaces the value, within
    /// the caps (413, 507).
    pub fn task_store_set(
        &self,
        id: Uuid,
        key: &str,
        value: Value,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let scope = with_key(inner.task_scope(id)?, key);
        let value = caps::compact(&value);
        let old = inner
            .task_store
            .get(&scope)
            .map(|entry| task_key_bytes(&scope) + entry.value.len());
        let new = task_key_bytes(&scope) + value.len();
        inner.admit(Kind::TaskStore, value.len(), old, new)?;
        inner
            .task_store
            .insert(scope, TaskStoreEntry { value, expires_at });
        inner.usage(Kind::TaskStore).add(old, new);
        tracing::info!(ti = %id, key = %LogSafe(key), bytes = new, "task state stored");
        Ok(())
    }

    /// `DELETE /store/ti/<id>/<key>`: removes the value, if any.
    pub fn task_store_delete(&self, id: Uuid, key: &str) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let scope = with_key(inner.task_scope(id)?, key);
        if let Some(entry) = inner.task_store.remove(&scope) {
            let bytes = task_key_bytes(&scope) + entry.value.len();
            inner.usage(Kind::TaskStore).remove(bytes);
        }
        Ok(())
    }

    /// `DELETE /store/ti/<id>`: removes every value of the task instance.
    pub fn task_store_clear(&self, id: Uuid) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let (dag, run, task, map_index) = inner.task_scope(id)?;
        let first = (dag, run, task, map_index, String::new());
        let gone: Vec<TaskStoreKey> = inner
            .task_store
            .range(first.clone()..)
            .take_while(|((d, r, t, m, _), _)| {
                (d, r, t, m) == (&first.0, &first.1, &first.2, &first.3)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in gone {
            if let Some(entry) = inner.task_store.remove(&key) {
                let bytes = task_key_bytes(&key) + entry.value.len();
                inner.usage(Kind::TaskStore).remove(bytes);
            }
        }
        Ok(())
    }

    /// `GET /store/asset/by-*/value`.
    pub fn asset_store_get(&self, asset: AssetRef<'_>, key: &str) -> Result<Value, Refusal> {
        let inner = self.lock();
        let id = inner.asset_id(asset)?;
        inner
            .asset_store
            .get(&(id, key.to_owned()))
            .map(|value| caps::parse(value))
            .ok_or_else(|| {
                Refusal::NotFound(format!("Asset state store key {} not found", py_repr(key)))
            })
    }

    /// `PUT /store/asset/by-*/value`, written by the task instance holding
    /// the token, which must exist (Airflow records it as the writer), or by
    /// an asset watcher, whose token's subject is the nil UUID; within the
    /// caps (413, 507).
    pub fn asset_store_set(
        &self,
        asset: AssetRef<'_>,
        key: &str,
        value: Value,
        writer: Uuid,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        if !writer.is_nil() && !inner.task_instances.contains_key(&writer) {
            return Err(Refusal::NotFound(format!(
                "Task instance UUID('{writer}') not found"
            )));
        }
        let value = caps::compact(&value);
        let entry = (id, key.to_owned());
        let old = inner.asset_store.get(&entry).map(|v| key.len() + v.len());
        let new = key.len() + value.len();
        inner.admit(Kind::AssetStore, value.len(), old, new)?;
        match inner.task_instances.get(&writer) {
            None => {
                tracing::info!(asset = id, key = %LogSafe(key), "asset state stored by a watcher")
            }
            Some(ti) => tracing::info!(
                asset = id,
                key = %LogSafe(key),
                writer = %writer,
                task_id = %LogSafe(&ti.task_id),
                "asset state stored"
            ),
        }
        inner.asset_store.insert(entry, value);
        inner.usage(Kind::AssetStore).add(old, new);
        Ok(())
    }

    /// `DELETE /store/asset/by-*/value`.
    pub fn asset_store_delete(&self, asset: AssetRef<'_>, key: &str) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        if let Some(value) = inner.asset_store.remove(&(id, key.to_owned())) {
            inner
                .usage(Kind::AssetStore)
                .remove(key.len() + value.len());
        }
        Ok(())
    }

    /// `DELETE /store/asset/by-*/clear`: the asset's values, one range.
    pub fn asset_store_clear(&self, asset: AssetRef<'_>) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        let gone: Vec<(u64, String)> = inner
            .asset_store
            .range((id, String::new())..)
            .take_while(|((a, _), _)| *a == id)
            .map(|(entry, _)| entry.clone())
            .collect();
        for entry in gone {
            if let Some(value) = inner.asset_store.remove(&entry) {
                inner
                    .usage(Kind::AssetStore)
                    .remove(entry.1.len() + value.len());
            }
        }
        Ok(())
    }
}

impl Inner {
    /// A task instance's (DAG, run, task, map index).
    fn task_scope(&self, id: Uuid) -> Result<(String, String, String, i64), Refusal> {
        self.task_instances
            .get(&id)
            .map(|ti| {
                (
                    ti.dag_id.clone(),
                    ti.run_id.clone(),
                    ti.task_id.clone(),
                    ti.map_index,
                )
            })
            .ok_or_else(|| Refusal::NotFound(format!("Task instance {id} not found")))
    }

    fn asset_id(&self, asset: AssetRef<'_>) -> Result<u64, Refusal> {
        self.assets.find(asset).ok_or_else(|| {
            Refusal::NotFound(match asset {
                AssetRef::Name(name) => format!("Asset with name={} not found", py_repr(name)),
                AssetRef::Uri(uri) => format!("Asset with uri={} not found", py_repr(uri)),
            })
        })
    }
}

fn with_key((dag, run, task, map_index): (String, String, String, i64), key: &str) -> TaskStoreKey {
    (dag, run, task, map_index, key.to_owned())
}

/// What a task store entry's key takes in the store's bytes.
fn task_key_bytes((dag, run, task, _, key): &TaskStoreKey) -> usize {
    dag.len() + run.len() + task.len() + key.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_values_are_scoped_to_their_task_instance() {
        let store = Store::new();
        let [a, b] = store.queue(2)[..] else { panic!() };
        store
            .task_store_set(a, "job", json!({"id": 7}), None)
            .unwrap();
        assert_eq!(store.task_store_get(a, "job"), Ok(json!({"id": 7})));
        assert_eq!(
            store.task_store_get(b, "job"),
            Err(Refusal::NotFound(
                "Task state store key 'job' not found".into()
            ))
        );
        store.task_store_set(a, "other", json!(1), None).unwrap();
        store.task_store_delete(a, "job").unwrap();
        assert!(store.task_store_get(a, "job").is_err());
        store.task_store_clear(a).unwrap();
        assert!(store.task_store_get(a, "other").is_err());
        let ghost = Uuid::new_v4();
        assert_eq!(
            store.task_store_get(ghost, "job"),
            Err(Refusal::NotFound(format!(
                "Task instance {ghost} not found"
            )))
        );
    }

    #[test]
    fn asset_values_need_a_known_asset() {
        let store = Store::new();
        let [ti] = store.queue(1)[..] else { panic!() };
        assert_eq!(
            store.asset_store_get(AssetRef::Name("orders"), "k"),
            Err(Refusal::NotFound(
                "Asset with name='orders' not found".into()
            ))
        );
        let producer = store.task_instance(ti).unwrap();
        store.lock().assets.register_outlets(
            &producer,
            None,
            &[crate::models::assets::AssetProfile {
                name: Some("orders".into()),
                uri: Some("s3://b/o".into()),
                kind: "Asset".into(),
            }],
            &[],
            OffsetDateTime::now_utc(),
        );
        store
            .asset_store_set(AssetRef::Uri("s3://b/o"), "watermark", json!(5), ti)
            .unwrap();
        assert_eq!(
            store.asset_store_get(AssetRef::Name("orders"), "watermark"),
            Ok(json!(5))
        );
        let ghost = Uuid::new_v4();
        assert_eq!(
            store.asset_store_set(AssetRef::Name("orders"), "k", json!(1), ghost),
            Err(Refusal::NotFound(format!(
                "Task instance UUID('{ghost}') not found"
            )))
        );
        // A watcher writes with the nil UUID.
        store
            .asset_store_set(AssetRef::Name("orders"), "k", json!(1), Uuid::nil())
            .unwrap();
        store.asset_store_clear(AssetRef::Name("orders")).unwrap();
        assert!(store
            .asset_store_get(AssetRef::Name("orders"), "watermark")
            .is_err());
    }
}
