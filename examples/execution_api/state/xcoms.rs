//! XComs: values tasks push and pull, one row per DAG, run, task, key and
//! map index, as Airflow's `xcom` table. A row belongs to a DAG run that
//! must exist; values are stored as the worker serialised them, in compact
//! JSON, within the XCom store's caps (`caps.rs`). Rows are ordered by DAG,
//! task, run, key and map index, so the rows of one key of one run, of one
//! task instance's run, or of one task are each one range: no lookup scans
//! every row.

use std::borrow::Cow;

use scopegate::LogSafe;
use serde_json::value::RawValue;
use serde_json::Value;
use time::OffsetDateTime;

use super::caps::{self, Kind};
use super::{Inner, Refusal, Store, TaskInstance};
use crate::models::xcoms::XComResponse;

/// Airflow's `[core] max_map_length`: the most task instances one pushed
/// value may expand into.
pub const MAX_MAP_LENGTH: i64 = 1024;

/// Which XCom: the path of the XCom routes, borrowed from it where it
/// needs no decoding (`req.match_info().load()`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct XComKey<'a> {
    /// The DAG.
    #[serde(borrow)]
    pub dag_id: Cow<'a, str>,
    /// The run.
    #[serde(borrow)]
    pub run_id: Cow<'a, str>,
    /// The task.
    #[serde(borrow)]
    pub task_id: Cow<'a, str>,
    /// The key (`return_value` for a task's return value).
    #[serde(borrow)]
    pub key: Cow<'a, str>,
}

/// The query of `GET .../slice`: a Python slice over the values ordered by
/// map index.
#[derive(Clone, Copy, Debug, Default)]
pub struct XComSlice {
    /// First index (Python's `start`).
    pub start: Option<i64>,
    /// End index, exclusive (Python's `stop`).
    pub stop: Option<i64>,
    /// Step; 0 or none is 1, as Airflow reads it.
    pub step: Option<i64>,
    /// Include the XComs of earlier runs of the DAG.
    pub include_prior_dates: bool,
}

/// Where a row is: its place in the XCom table's order (its
/// [`RowKey::parts`], in that order).
#[derive(Clone, Debug)]
pub(super) struct RowId {
    dag_id: String,
    task_id: String,
    run_id: String,
    key: String,
    map_index: i64,
}

/// A row's place in the table's order, owned ([`RowId`]) or borrowed (a
/// tuple of its parts): the table is ordered by it, so a range is looked
/// up from borrowed text, without building an owned id per lookup.
pub(super) trait RowKey {
    /// DAG, task, run, key and map index: the order of the rows.
    fn parts(&self) -> (&str, &str, &str, &str, i64);
}

impl RowKey for RowId {
    fn parts(&self) -> (&str, &str, &str, &str, i64) {
        (
            &self.dag_id,
            &self.task_id,
            &self.run_id,
            &self.key,
            self.map_index,
        )
    }
}

impl RowKey for (&str, &str, &str, &str, i64) {
    fn parts(&self) -> (&str, &str, &str, &str, i64) {
        *self
    }
}

impl PartialEq for dyn RowKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn RowKey + '_ {}

impl PartialOrd for dyn RowKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn RowKey + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl PartialEq for RowId {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for RowId {}

impl PartialOrd for RowId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RowId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl<'a> std::borrow::Borrow<dyn RowKey + 'a> for RowId {
    fn borrow(&self) -> &(dyn RowKey + 'a) {
        self
    }
}

/// The rows of `map` from `first` on.
fn rows_from<'m, 'k>(
    map: &'m std::collections::BTreeMap<RowId, XComRow>,
    first: &'k (dyn RowKey + 'k),
) -> std::collections::btree_map::Range<'m, RowId, XComRow> {
    use std::ops::Bound::{Included, Unbounded};
    map.range::<dyn RowKey + 'k, _>((Included(first), Unbounded))
}

impl RowId {
    fn new(key: &XComKey<'_>, map_index: i64) -> Self {
        RowId {
            dag_id: key.dag_id.to_string(),
            task_id: key.task_id.to_string(),
            run_id: key.run_id.to_string(),
            key: key.key.to_string(),
            map_index,
        }
    }

    /// What the row's id takes in the store's bytes.
    fn bytes(&self) -> usize {
        self.dag_id.len() + self.task_id.len() + self.run_id.len() + self.key.len()
    }
}

/// One stored XCom.
#[derive(Clone, Debug)]
pub(super) struct XComRow {
    /// Compact JSON, kept as JSON text so that a read answers it as it is.
    value: Box<RawValue>,
    timestamp: OffsetDateTime,
    /// Orders rows written in the same instant.
    sequence: u64,
}

/// A row with its id, as lookups return them.
type Row<'a> = (&'a RowId, &'a XComRow);

impl Store {
    /// `GET .../<key>`: the value at `map_index` (the latest row), or, with
    /// an `offset`, the `offset`-th value by map index (from the end when
    /// negative): `f` of it, borrowed from the store (under its lock), to
    /// write it out without copying it first.
    pub fn get_xcom<R>(
        &self,
        key: &XComKey<'_>,
        map_index: i64,
        include_prior_dates: bool,
        offset: Option<i64>,
        f: impl FnOnce(XComResponse<'_>) -> R,
    ) -> Result<R, Refusal> {
        let inner = self.lock();
        let found = match (offset, include_prior_dates) {
            // One run's rows have one row per map index: that row, found
            // by its id.
            (None, false) => {
                let id = (
                    &*key.dag_id,
                    &*key.task_id,
                    &*key.run_id,
                    &*key.key,
                    map_index,
                );
                inner.xcoms.get(&id as &dyn RowKey)
            }
            (None, true) => inner
                .xcom_rows(key, true)
                .into_iter()
                .find(|(id, _)| id.map_index == map_index)
                .map(|(_, row)| row),
            (Some(offset), _) => {
                nth_by_map_index(inner.xcom_rows(key, include_prior_dates), offset)
                    .map(|(_, row)| row)
            }
        };
        match found {
            Some(row) => Ok(f(XComResponse {
                key: &key.key,
                value: &row.value,
            })),
            None => {
                let at = match offset {
                    None => format!("map_index={map_index}"),
                    Some(offset) => format!("offset={offset}"),
                };
                Err(xcom_not_found(key, &at))
            }
        }
    }

    /// `GET .../<key>/item/<offset>`: one value of a mapped task, by
    /// position in map-index order (from the end when negative).
    pub fn xcom_item(&self, key: &XComKey<'_>, offset: i64) -> Result<Value, Refusal> {
        let inner = self.lock();
        nth_by_map_index(inner.xcom_rows(key, false), offset)
            .map(|(_, row)| caps::parse(row.value.get()))
            .ok_or_else(|| xcom_not_found(key, &format!("offset={offset}")))
    }

    /// `GET .../<key>/slice`: the values of a mapped task, ordered by map
    /// index, sliced as Python slices a list.
    pub fn xcom_slice(&self, key: &XComKey<'_>, slice: &XComSlice) -> Vec<Value> {
        let inner = self.lock();
        let mut rows = inner.xcom_rows(key, slice.include_prior_dates);
        rows.sort_by_key(|(id, _)| id.map_index);
        let step = match slice.step {
            None | Some(0) => 1,
            Some(step) => step,
        };
        python_slice(rows.len(), slice.start, slice.stop, step)
            .into_iter()
            .map(|i| caps::parse(rows[i].1.value.get()))
            .collect()
    }

    /// `HEAD .../<key>`: how many values (one per map index) are stored.
    pub fn count_xcoms(&self, key: &XComKey<'_>) -> usize {
        self.lock().xcom_rows(key, false).len()
    }

    /// `POST .../<key>`: stores a value, replacing the row of the same map
    /// index. The run must exist. A `mapped_length` (the number of task
    /// instances a mapped downstream would expand into) is checked against
    /// Airflow's limit; with no scheduler here, nothing expands. A value
    /// past the caps is refused (413, 507).
    pub fn set_xcom(
        &self,
        key: &XComKey<'_>,
        value: Value,
        map_index: i64,
        mapped_length: Option<i64>,
    ) -> Result<(), Refusal> {
        if mapped_length.is_some_and(|n| n > MAX_MAP_LENGTH) {
            return Err(Refusal::BadRequest {
                reason: "unmappable_return_value_length",
                message: "pushed value is too large to map as a downstream's dependency".into(),
            });
        }
        let mut inner = self.lock();
        if inner.run(&key.dag_id, &key.run_id).is_none() {
            return Err(Refusal::NotFoundText(format!(
                "DAG run not found on DAG {} with ID {}",
                py_repr(&key.dag_id),
                py_repr(&key.run_id)
            )));
        }
        let value = caps::compact_raw(&value);
        let id = RowId::new(key, map_index);
        let old = inner
            .xcoms
            .get(&id)
            .map(|row| id.bytes() + row.value.get().len());
        let new = id.bytes() + value.get().len();
        inner.admit(Kind::XComs, value.get().len(), old, new)?;
        inner.xcom_sequence += 1;
        let sequence = inner.xcom_sequence;
        inner.xcoms.insert(
            id,
            XComRow {
                value,
                timestamp: OffsetDateTime::now_utc(),
                sequence,
            },
        );
        inner.usage(Kind::XComs).add(old, new);
        tracing::info!(
            dag_id = %LogSafe(&key.dag_id),
            run_id = %LogSafe(&key.run_id),
            task_id = %LogSafe(&key.task_id),
            key = %LogSafe(&key.key),
            map_index,
            bytes = new,
            "xcom set"
        );
        Ok(())
    }

    /// `DELETE .../<key>`: removes the row of `map_index`, if any.
    pub fn delete_xcom(&self, key: &XComKey<'_>, map_index: i64) {
        let mut inner = self.lock();
        let id = RowId::new(key, map_index);
        if let Some(row) = inner.xcoms.remove(&id) {
            inner
                .usage(Kind::XComs)
                .remove(id.bytes() + row.value.get().len());
        }
    }
}

impl Inner {
    /// The rows of `key` (any map index), latest run first, then latest
    /// row first, as Airflow's `XComModel.get_many` orders them. With
    /// `include_prior_dates`, the rows of the DAG's runs up to this one
    /// (by logical date, or run-after when it has none): the rows of the
    /// task, one range, filtered by key.
    fn xcom_rows(&self, key: &XComKey<'_>, include_prior_dates: bool) -> Vec<Row<'_>> {
        let (dag, task, run, name) = (&*key.dag_id, &*key.task_id, &*key.run_id, &*key.key);
        let mut rows: Vec<Row<'_>> = if include_prior_dates {
            let this_run = self.run(dag, run).map(|run| run.date());
            rows_from(&self.xcoms, &(dag, task, "", "", i64::MIN))
                .take_while(|(id, _)| id.dag_id == key.dag_id && id.task_id == key.task_id)
                .filter(|(id, _)| {
                    let date = self.run(&id.dag_id, &id.run_id).map(|r| r.date());
                    id.key == key.key && matches!((date, this_run), (Some(d), Some(t)) if d <= t)
                })
                .collect()
        } else {
            // One descent to the first row, then the key's rows in order.
            rows_from(&self.xcoms, &(dag, task, run, name, i64::MIN))
                .take_while(|(id, _)| {
                    let (d, t, r, k, _) = id.parts();
                    (d, t, r, k) == (dag, task, run, name)
                })
                .collect()
        };
        rows.sort_by_key(|(id, row)| {
            let logical_date = self
                .run(&id.dag_id, &id.run_id)
                .and_then(|run| run.logical_date);
            std::cmp::Reverse((logical_date, row.timestamp, row.sequence))
        });
        rows
    }

    /// The keys of the XComs a task instance wrote in its run, which `/run`
    /// asks the worker to clear before it runs again: the rows of the
    /// task's run, one range.
    pub(super) fn xcom_keys_for(&self, ti: &TaskInstance) -> Vec<String> {
        let first = (&*ti.dag_id, &*ti.task_id, &*ti.run_id, "", i64::MIN);
        rows_from(&self.xcoms, &first)
            .take_while(|(id, _)| {
                id.dag_id == ti.dag_id && id.task_id == ti.task_id && id.run_id == ti.run_id
            })
            .filter(|(id, _)| ti.map_index < 0 || id.map_index == ti.map_index)
            .map(|(id, _)| id.key.clone())
            .collect()
    }
}

/// The `offset`-th row by map index, counting from the end when negative
/// (`-1` is the last).
fn nth_by_map_index(mut rows: Vec<Row<'_>>, offset: i64) -> Option<Row<'_>> {
    rows.sort_by_key(|(id, _)| id.map_index);
    let index = if offset >= 0 {
        usize::try_from(offset).ok()?
    } else {
        let from_end = usize::try_from(-1 - offset).ok()?;
        rows.len().checked_sub(from_end + 1)?
    };
    rows.get(index).copied()
}

/// The indices Python's `list[start:stop:step]` picks from a list of `len`
/// items (`step` is not 0).
fn python_slice(len: usize, start: Option<i64>, stop: Option<i64>, step: i64) -> Vec<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let (lower, upper) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let clamp = |bound: i64| {
        if bound < 0 {
            (bound.saturating_add(len)).max(lower)
        } else {
            bound.min(upper)
        }
    };
    let mut i = start.map_or(if step > 0 { lower } else { upper }, clamp);
    let stop = stop.map_or(if step > 0 { upper } else { lower }, clamp);
    let mut out = Vec::new();
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if let Ok(index) = usize::try_from(i) {
            out.push(index);
        }
        i = i.saturating_add(step);
    }
    out
}

/// Airflow's "not found" for an XCom, with Python's `{key=}` and `!r`
/// spellings.
fn xcom_not_found(key: &XComKey<'_>, at: &str) -> Refusal {
    Refusal::NotFound(format!(
        "XCom with key={} {at} not found for task {} in DAG run {} of {}",
        py_repr(&key.key),
        py_repr(&key.task_id),
        py_repr(&key.run_id),
        py_repr(&key.dag_id)
    ))
}

/// Python's `repr()` of a string: single quotes unless the text holds a
/// single quote and no double quote.
pub(super) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TaskSpec;
    use serde_json::json;

    /// The value an XCom read answers, parsed.
    fn value(xcom: XComResponse<'_>) -> Value {
        serde_json::from_str(xcom.value.get()).unwrap()
    }

    fn key<'a>(run: &'a str, key: &'a str) -> XComKey<'a> {
        XComKey {
            dag_id: "etl".into(),
            run_id: run.into(),
            task_id: "extract".into(),
            key: key.into(),
        }
    }

    fn store_with_runs() -> Store {
        let store = Store::new();
        for spec in ["etl/r1/extract", "etl/r2/extract"] {
            store
                .queue_task(&spec.parse::<TaskSpec>().unwrap())
                .unwrap();
        }
        store
    }

    #[test]
    fn python_slices() {
        let all: Vec<usize> = (0..5).collect();
        let py = |start, stop, step| python_slice(5, start, stop, step);
        assert_eq!(py(None, None, 1), all);
        assert_eq!(py(Some(1), Some(3), 1), [1, 2]);
        assert_eq!(py(Some(-2), None, 1), [3, 4]);
        assert_eq!(py(None, Some(-1), 1), [0, 1, 2, 3]);
        assert_eq!(py(None, None, -1), [4, 3, 2, 1, 0]);
        assert_eq!(py(Some(3), Some(0), -2), [3, 1]);
        assert_eq!(py(None, None, 2), [0, 2, 4]);
        assert_eq!(py(Some(10), None, 1), Vec::<usize>::new());
        assert_eq!(py(Some(-10), Some(2), 1), [0, 1]);
        assert_eq!(python_slice(0, None, None, -1), Vec::<usize>::new());
    }

    #[test]
    fn values_round_trip_and_need_their_run() {
        let store = store_with_runs();
        let k = key("r1", "return_value");
        store.set_xcom(&k, json!({"rows": 3}), -1, None).unwrap();
        assert_eq!(
            store.get_xcom(&k, -1, false, None, value).unwrap(),
            json!({"rows": 3})
        );
        // A second write replaces the first.
        store.set_xcom(&k, json!(4), -1, None).unwrap();
        assert_eq!(store.count_xcoms(&k), 1);
        assert_eq!(
            store.get_xcom(&k, -1, false, None, value).unwrap(),
            json!(4)
        );
        let missing = store.get_xcom(&k, 0, false, None, value).unwrap_err();
        assert_eq!(
            missing,
            Refusal::NotFound(
                "XCom with key='return_value' map_index=0 not found for task 'extract' \
                 in DAG run 'r1' of 'etl'"
                    .into()
            )
        );
        assert_eq!(
            store.set_xcom(&key("nope", "k"), json!(1), -1, None),
            Err(Refusal::NotFoundText(
                "DAG run not found on DAG 'etl' with ID 'nope'".into()
            ))
        );
        assert!(matches!(
            store.set_xcom(&k, json!([]), -1, Some(MAX_MAP_LENGTH + 1)),
            Err(Refusal::BadRequest {
                reason: "unmappable_return_value_length",
                ..
            })
        ));
        store.delete_xcom(&k, -1);
        assert_eq!(store.count_xcoms(&k), 0);
    }

    #[test]
    fn mapped_values_by_index_and_slice() {
        let store = store_with_runs();
        let k = key("r1", "return_value");
        for i in [2, 0, 1] {
            store.set_xcom(&k, json!(i * 10), i, None).unwrap();
        }
        assert_eq!(store.count_xcoms(&k), 3);
        assert_eq!(store.xcom_item(&k, 0), Ok(json!(0)));
        assert_eq!(store.xcom_item(&k, -1), Ok(json!(20)));
        assert!(store.xcom_item(&k, 3).is_err());
        assert!(store.xcom_item(&k, -4).is_err());
        let all = store.xcom_slice(&k, &XComSlice::default());
        assert_eq!(all, [json!(0), json!(10), json!(20)]);
        let reversed = store.xcom_slice(
            &k,
            &XComSlice {
                step: Some(-1),
                ..XComSlice::default()
            },
        );
        assert_eq!(reversed, [json!(20), json!(10), json!(0)]);
        assert_eq!(
            store.get_xcom(&k, -1, false, Some(1), value).unwrap(),
            json!(10)
        );
    }

    #[test]
    fn prior_dates_reach_earlier_runs_only() {
        let store = store_with_runs();
        store
            .set_xcom(&key("r1", "k"), json!("first"), -1, None)
            .unwrap();
        store
            .set_xcom(&key("r2", "k"), json!("second"), -1, None)
            .unwrap();
        let from_r2 = store
            .get_xcom(&key("r2", "k"), -1, true, None, value)
            .unwrap();
        assert_eq!(from_r2, json!("second"));
        let slice = XComSlice {
            include_prior_dates: true,
            ..XComSlice::default()
        };
        assert_eq!(store.xcom_slice(&key("r2", "k"), &slice).len(), 2);
        assert_eq!(store.xcom_slice(&key("r1", "k"), &slice), [json!("first")]);
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr("a"), "'a'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
    }
}
