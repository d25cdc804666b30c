//! The task state store (values a task instance keeps, scoped to its DAG,
//! run, task and map index) and the asset state store (values shared
//! through an asset).

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::assets::AssetRef;
use super::xcoms::py_repr;
use super::{Inner, Refusal, Store};

/// (DAG, run, task, map index, key).
pub(super) type TaskStoreKey = (String, String, String, i64, String);

/// A stored task value.
#[derive(Clone, Debug)]
pub(super) struct TaskStoreEntry {
    value: Value,
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
            .map(|entry| entry.value.clone())
            .ok_or_else(|| {
                Refusal::NotFound(format!("Task state store key {} not found", py_repr(key)))
            })
    }

    /// `PUT /store/ti/<id>/<key>`: creates or replaces the value.
    pub fn task_store_set(
        &self,
        id: Uuid,
        key: &str,
        value: Value,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let scope = inner.task_scope(id)?;
        inner
            .task_store
            .insert(with_key(scope, key), TaskStoreEntry { value, expires_at });
        tracing::info!(ti = %id, key, "task state stored");
        Ok(())
    }

    /// `DELETE /store/ti/<id>/<key>`: removes the value, if any.
    pub fn task_store_delete(&self, id: Uuid, key: &str) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let scope = inner.task_scope(id)?;
        inner.task_store.remove(&with_key(scope, key));
        Ok(())
    }

    /// `DELETE /store/ti/<id>`: removes every value of the task instance.
    pub fn task_store_clear(&self, id: Uuid) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let (dag, run, task, map_index) = inner.task_scope(id)?;
        inner.task_store.retain(|(d, r, t, m, _), _| {
            !(*d == dag && *r == run && *t == task && *m == map_index)
        });
        Ok(())
    }

    /// `GET /store/asset/by-*/value`.
    pub fn asset_store_get(&self, asset: AssetRef<'_>, key: &str) -> Result<Value, Refusal> {
        let inner = self.lock();
        let id = inner.asset_id(asset)?;
        inner
            .asset_store
            .get(&(id, key.to_owned()))
            .cloned()
            .ok_or_else(|| {
                Refusal::NotFound(format!("Asset state store key {} not found", py_repr(key)))
            })
    }

    /// `PUT /store/asset/by-*/value`, written by the task instance holding
    /// the token, which must exist (Airflow records it as the writer), or by
    /// an asset watcher, whose token's subject is the nil UUID.
    pub fn asset_store_set(
        &self,
        asset: AssetRef<'_>,
        key: &str,
        value: Value,
        writer: Uuid,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        if writer.is_nil() {
            tracing::info!(asset = id, key, "asset state stored by a watcher");
        } else {
            let Some(ti) = inner.task_instances.get(&writer) else {
                return Err(Refusal::NotFound(format!(
                    "Task instance UUID('{writer}') not found"
                )));
            };
            tracing::info!(asset = id, key, writer = %writer, task_id = %ti.task_id, "asset state stored");
        }
        inner.asset_store.insert((id, key.to_owned()), value);
        Ok(())
    }

    /// `DELETE /store/asset/by-*/value`.
    pub fn asset_store_delete(&self, asset: AssetRef<'_>, key: &str) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        inner.asset_store.remove(&(id, key.to_owned()));
        Ok(())
    }

    /// `DELETE /store/asset/by-*/clear`.
    pub fn asset_store_clear(&self, asset: AssetRef<'_>) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let id = inner.asset_id(asset)?;
        inner.asset_store.retain(|(a, _), _| *a != id);
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
