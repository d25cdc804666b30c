//! Assets, asset aliases and asset events.
//!
//! In Airflow an asset is active once the DAG processor has parsed a DAG
//! that names it. The example parses no DAG files: it learns an asset when
//! a task that names it as an outlet succeeds, which is also when Airflow
//! records the asset's event. An alias learns its assets from the events
//! emitted through it, as in Airflow.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use scopegate::LogSafe;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{Refusal, Store, TaskInstance};
use crate::models::assets::{AssetEventResponse, AssetEventsResponse, AssetProfile, AssetResponse};

/// The group of assets declared without one.
const DEFAULT_GROUP: &str = "asset";

/// The asset tables.
#[derive(Debug, Default)]
pub(super) struct Assets {
    /// Known assets, by id (ids start at 1).
    assets: BTreeMap<u64, Asset>,
    /// (name, URI) → id, so that finding an asset scans nothing.
    by_pair: HashMap<(String, String), u64>,
    /// Name → the first asset of that name.
    by_name: HashMap<String, u64>,
    /// URI → the first asset of that URI.
    by_uri: HashMap<String, u64>,
    /// Alias name → the assets it resolved to.
    aliases: BTreeMap<String, BTreeSet<u64>>,
    /// Events, oldest first; their ids increase.
    events: Vec<Event>,
}

#[derive(Clone, Debug)]
struct Asset {
    name: String,
    uri: String,
    group: String,
    extra: Map<String, Value>,
}

#[derive(Clone, Debug)]
struct Event {
    id: u64,
    asset: u64,
    timestamp: OffsetDateTime,
    extra: Map<String, Value>,
    source: (String, String, String, i64),
    partition_key: Option<String>,
    aliases: Vec<String>,
}

/// An outlet event's extra and partition key.
type Payload = (Map<String, Value>, Option<String>);

/// How the asset routes name an asset.
#[derive(Clone, Copy, Debug)]
pub enum AssetRef<'a> {
    /// By name.
    Name(&'a str),
    /// By URI.
    Uri(&'a str),
}

/// The filters of `GET /asset-events/by-*`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventFilter {
    /// Only events at or after this instant.
    pub after: Option<OffsetDateTime>,
    /// Only events at or before this instant.
    pub before: Option<OffsetDateTime>,
    /// Oldest first (the default) or newest first.
    pub descending: bool,
    /// At most this many.
    pub limit: Option<usize>,
}

impl Assets {
    /// An asset's id by name and URI, created if new.
    fn ensure(&mut self, name: &str, uri: &str, extra: Map<String, Value>) -> u64 {
        if let Some(id) = self.by_pair.get(&(name.to_owned(), uri.to_owned())) {
            return *id;
        }
        let id = self.assets.len() as u64 + 1;
        self.by_pair.insert((name.to_owned(), uri.to_owned()), id);
        self.by_name.entry(name.to_owned()).or_insert(id);
        self.by_uri.entry(uri.to_owned()).or_insert(id);
        self.assets.insert(
            id,
            Asset {
                name: name.to_owned(),
                uri: uri.to_owned(),
                group: DEFAULT_GROUP.to_owned(),
                extra,
            },
        );
        tracing::info!(name = %LogSafe(name), uri = %LogSafe(uri), "asset registered");
        id
    }

    /// An asset's id, by name or URI (the first asset of that name or
    /// URI): a hash lookup.
    pub(super) fn find(&self, by: AssetRef<'_>) -> Option<u64> {
        match by {
            AssetRef::Name(name) => self.by_name.get(name),
            AssetRef::Uri(uri) => self.by_uri.get(uri),
        }
        .copied()
    }

    fn record(
        &mut self,
        asset: u64,
        ti: &TaskInstance,
        extra: Map<String, Value>,
        partition_key: Option<String>,
        aliases: Vec<String>,
        now: OffsetDateTime,
    ) {
        let id = self.events.len() as u64 + 1;
        for alias in &aliases {
            self.aliases.entry(alias.clone()).or_default().insert(asset);
        }
        self.events.push(Event {
            id,
            asset,
            timestamp: now,
            extra,
            source: (
                ti.dag_id.clone(),
                ti.run_id.clone(),
                ti.task_id.clone(),
                ti.map_index,
            ),
            partition_key,
            aliases,
        });
        tracing::info!(event = id, asset, task_id = %LogSafe(&ti.task_id), "asset event recorded");
    }

    /// What a successful task's outlets mean, as Airflow's
    /// `register_asset_changes_in_db`: one event per outlet asset (one per
    /// outlet event the task emitted for it, or one with no extra), name
    /// and URI references resolved against known assets, and events
    /// emitted through an outlet alias, whose assets are created if new.
    pub(super) fn register_outlets(
        &mut self,
        ti: &TaskInstance,
        run_partition_key: Option<String>,
        outlets: &[AssetProfile],
        outlet_events: &[Map<String, Value>],
        now: OffsetDateTime,
    ) {
        // Events for an asset (not through an alias), by (name, uri).
        let mut payloads: BTreeMap<(String, String), Vec<Payload>> = BTreeMap::new();
        for event in outlet_events {
            if event.contains_key("source_alias_name") {
                continue;
            }
            if let Some(key) = asset_key(event.get("dest_asset_key")) {
                let extra = object(event.get("extra"));
                let partition_key = event
                    .get("partition_key")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                payloads
                    .entry(key)
                    .or_default()
                    .push((extra, partition_key));
            }
        }
        let mut targets: BTreeSet<u64> = BTreeSet::new();
        for outlet in outlets {
            let target = match (outlet.kind.as_str(), &outlet.name, &outlet.uri) {
                ("Asset", Some(name), Some(uri)) => Some(self.ensure(name, uri, Map::new())),
                ("AssetNameRef", Some(name), _) => self.find(AssetRef::Name(name)),
                ("AssetUriRef", _, Some(uri)) => self.find(AssetRef::Uri(uri)),
                _ => None,
            };
            match target {
                Some(id) => {
                    targets.insert(id);
                }
                None if outlet.kind != "AssetAlias" => tracing::warn!(
                    name = outlet.name.as_deref().map(|n| tracing::field::display(LogSafe(n))),
                    uri = outlet.uri.as_deref().map(|u| tracing::field::display(LogSafe(u))),
                    kind = %LogSafe(&outlet.kind),
                    "outlet names no known asset; no event recorded"
                ),
                None => {}
            }
        }
        for id in targets {
            let asset = &self.assets[&id];
            let key = (asset.name.clone(), asset.uri.clone());
            match payloads.remove(&key) {
                None => self.record(
                    id,
                    ti,
                    Map::new(),
                    run_partition_key.clone(),
                    Vec::new(),
                    now,
                ),
                Some(list) => {
                    for (extra, partition_key) in list {
                        let pk = partition_key.or_else(|| run_partition_key.clone());
                        self.record(id, ti, extra, pk, Vec::new(), now);
                    }
                }
            }
        }
        // Events through aliases the task declared as outlets: one per
        // (asset, asset extra, event extra), naming every alias it came
        // through.
        let alias_names: BTreeSet<&str> = outlets
            .iter()
            .filter(|o| o.kind == "AssetAlias")
            .filter_map(|o| o.name.as_deref())
            .collect();
        let mut through_aliases: BTreeMap<(String, String, String, String), BTreeSet<String>> =
            BTreeMap::new();
        for event in outlet_events {
            let Some(alias) = event.get("source_alias_name").and_then(Value::as_str) else {
                continue;
            };
            let Some((name, uri)) = asset_key(event.get("dest_asset_key")) else {
                continue;
            };
            if !alias_names.contains(alias) {
                continue;
            }
            let asset_extra = Value::Object(object(event.get("dest_asset_extra"))).to_string();
            let event_extra = Value::Object(object(event.get("extra"))).to_string();
            through_aliases
                .entry((name, uri, asset_extra, event_extra))
                .or_default()
                .insert(alias.to_owned());
        }
        for ((name, uri, asset_extra, event_extra), aliases) in through_aliases {
            let asset_extra = serde_json::from_str(&asset_extra).unwrap_or_default();
            let event_extra = serde_json::from_str(&event_extra).unwrap_or_default();
            let id = self.ensure(&name, &uri, asset_extra);
            let pk = run_partition_key.clone();
            self.record(id, ti, event_extra, pk, aliases.into_iter().collect(), now);
        }
    }

    fn response(&self, id: u64) -> Option<AssetResponse> {
        self.assets.get(&id).map(|a| AssetResponse {
            name: a.name.clone(),
            uri: a.uri.clone(),
            group: a.group.clone(),
            extra: a.extra.clone(),
        })
    }

    fn events_where(
        &self,
        keep: impl Fn(&Event) -> bool,
        filter: &EventFilter,
    ) -> AssetEventsResponse {
        let mut events: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| keep(e))
            .filter(|e| filter.after.is_none_or(|after| e.timestamp >= after))
            .filter(|e| filter.before.is_none_or(|before| e.timestamp <= before))
            .collect();
        if filter.descending {
            events.reverse();
        }
        if let Some(limit) = filter.limit {
            events.truncate(limit);
        }
        AssetEventsResponse {
            asset_events: events
                .into_iter()
                .filter_map(|e| {
                    let asset = self.response(e.asset)?;
                    let (dag_id, run_id, task_id, map_index) = e.source.clone();
                    Some(AssetEventResponse {
                        id: e.id,
                        timestamp: e.timestamp,
                        extra: e.extra.clone(),
                        asset,
                        created_dagruns: Vec::new(),
                        source_task_id: Some(task_id),
                        source_dag_id: Some(dag_id),
                        source_run_id: Some(run_id),
                        source_map_index: Some(map_index),
                        partition_key: e.partition_key.clone(),
                    })
                })
                .collect(),
        }
    }
}

impl Store {
    /// `GET /assets/by-name` and `/assets/by-uri`.
    pub fn asset(&self, by: AssetRef<'_>) -> Result<AssetResponse, Refusal> {
        let inner = self.lock();
        inner
            .assets
            .find(by)
            .and_then(|id| inner.assets.response(id))
            .ok_or_else(|| {
                Refusal::NotFound(match by {
                    AssetRef::Name(name) => format!("Asset with name {name} not found"),
                    AssetRef::Uri(uri) => format!("Asset with URI {uri} not found"),
                })
            })
    }

    /// `GET /assets/by-alias`: the assets an alias resolved to; an unknown
    /// alias resolves to none.
    pub fn assets_by_alias(&self, alias: &str) -> Vec<AssetResponse> {
        let inner = self.lock();
        inner
            .assets
            .aliases
            .get(alias)
            .into_iter()
            .flatten()
            .filter_map(|id| inner.assets.response(*id))
            .collect()
    }

    /// `GET /asset-events/by-asset`: events of the asset with this name
    /// and/or URI. Neither is Airflow's 400.
    pub fn asset_events(
        &self,
        name: Option<&str>,
        uri: Option<&str>,
        filter: &EventFilter,
    ) -> Result<AssetEventsResponse, Refusal> {
        if name.is_none_or(str::is_empty) && uri.is_none_or(str::is_empty) {
            return Err(Refusal::BadRequest {
                reason: "Missing parameter",
                message: "name and uri cannot both be None".into(),
            });
        }
        let inner = self.lock();
        let assets = &inner.assets;
        let matches = |e: &Event| {
            assets.assets.get(&e.asset).is_some_and(|a| {
                name.is_none_or(|n| n.is_empty() || a.name == n)
                    && uri.is_none_or(|u| u.is_empty() || a.uri == u)
            })
        };
        Ok(assets.events_where(matches, filter))
    }

    /// `GET /asset-events/by-asset-alias`: events emitted through an alias.
    pub fn alias_events(&self, alias: &str, filter: &EventFilter) -> AssetEventsResponse {
        let inner = self.lock();
        inner
            .assets
            .events_where(|e| e.aliases.iter().any(|a| a == alias), filter)
    }
}

/// `{"name": .., "uri": ..}` of an outlet event.
fn asset_key(value: Option<&Value>) -> Option<(String, String)> {
    let key = value?.as_object()?;
    Some((
        key.get("name")?.as_str()?.to_owned(),
        key.get("uri")?.as_str()?.to_owned(),
    ))
}

/// A JSON object, or an empty one.
fn object(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::StateUpdate;
    use crate::models::{EnterRunning, RunningLiteral};
    use crate::state::TaskSpec;
    use serde_json::json;

    fn succeed(store: &Store, spec: &str, outlets: Value, events: Value) {
        let id = store
            .queue_task(&spec.parse::<TaskSpec>().unwrap())
            .unwrap();
        store
            .start(
                id,
                &EnterRunning {
                    state: RunningLiteral::Running,
                    hostname: "h".into(),
                    unixname: "u".into(),
                    pid: 1,
                    start_date: OffsetDateTime::now_utc(),
                },
            )
            .unwrap();
        let update: StateUpdate = serde_json::from_value(json!({
            "state": "success", "end_date": "2026-01-01T00:00:00Z",
            "task_outlets": outlets, "outlet_events": events
        }))
        .unwrap();
        store.update_state(id, &update).unwrap();
    }

    #[test]
    fn outlets_register_assets_and_events() {
        let store = Store::new();
        assert!(store.asset(AssetRef::Name("orders")).is_err());
        succeed(
            &store,
            "etl/r1/produce",
            json!([{"name": "orders", "uri": "s3://b/orders", "type": "Asset"}]),
            json!([{"dest_asset_key": {"name": "orders", "uri": "s3://b/orders"},
                    "extra": {"rows": 3}}]),
        );
        let asset = store.asset(AssetRef::Uri("s3://b/orders")).unwrap();
        assert_eq!(
            (asset.name.as_str(), asset.group.as_str()),
            ("orders", "asset")
        );
        // A name reference resolves to the known asset: a second event.
        succeed(
            &store,
            "etl/r2/produce",
            json!([{"name": "orders", "uri": null, "type": "AssetNameRef"},
                   {"name": "unknown", "uri": null, "type": "AssetNameRef"}]),
            json!([]),
        );
        let events = store
            .asset_events(Some("orders"), None, &EventFilter::default())
            .unwrap()
            .asset_events;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].extra["rows"], 3);
        assert_eq!(events[0].source_run_id.as_deref(), Some("r1"));
        assert!(events[1].extra.is_empty());
        let newest = EventFilter {
            descending: true,
            limit: Some(1),
            ..EventFilter::default()
        };
        let events = store
            .asset_events(None, Some("s3://b/orders"), &newest)
            .unwrap();
        assert_eq!(events.asset_events[0].source_run_id.as_deref(), Some("r2"));
        assert!(matches!(
            store.asset_events(None, None, &EventFilter::default()),
            Err(Refusal::BadRequest {
                reason: "Missing parameter",
                ..
            })
        ));
    }

    #[test]
    fn alias_events_create_their_assets() {
        let store = Store::new();
        succeed(
            &store,
            "etl/r1/produce",
            json!([{"name": "daily", "uri": null, "type": "AssetAlias"}]),
            json!([{"source_alias_name": "daily",
                    "dest_asset_key": {"name": "d1", "uri": "file:///d1"},
                    "dest_asset_extra": {"owner": "me"}, "extra": {"n": 1}},
                   {"source_alias_name": "not-an-outlet",
                    "dest_asset_key": {"name": "d2", "uri": "file:///d2"}, "extra": {}}]),
        );
        let assets = store.assets_by_alias("daily");
        assert_eq!(assets.len(), 1);
        assert_eq!(assets[0].extra["owner"], "me");
        assert!(store.assets_by_alias("not-an-outlet").is_empty());
        assert!(store.asset(AssetRef::Name("d2")).is_err());
        let events = store
            .alias_events("daily", &EventFilter::default())
            .asset_events;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].extra["n"], 1);
    }
}
