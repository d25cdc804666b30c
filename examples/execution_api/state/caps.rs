//! Caps on the stores a token holder can write to (variables, XComs, the
//! task and asset state stores, triggered DAG runs, rendered fields), so
//! that the server's memory stays bounded under a flood of maximal writes:
//! a value larger than the value cap is refused with 413, a write that
//! would take a store past its entries or bytes with 507, each with a
//! message naming the cap and its flag. A replaced value gives its room
//! back; a deleted one too.

use super::Refusal;

/// Default largest value one write may store: 1 MiB of compact JSON (or of
/// a variable's text), about what a request body could hold before caps.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1 << 20;
/// Default most entries each store holds.
pub const DEFAULT_MAX_ENTRIES: usize = 50_000;
/// Default most bytes (keys and values) each store holds: 32 MiB.
pub const DEFAULT_MAX_BYTES: usize = 32 << 20;

/// The caps of every store, from `serve`'s command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest value one write may store, in bytes (`--max-value-bytes`).
    pub max_value_bytes: usize,
    /// Most entries each store holds (`--store-max-entries`).
    pub max_entries: usize,
    /// Most bytes of keys and values each store holds
    /// (`--store-max-bytes`).
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// The stores with caps, as messages name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Variables.
    Variables,
    /// XCom rows.
    XComs,
    /// The task state store.
    TaskStore,
    /// The asset state store.
    AssetStore,
    /// DAG runs (triggered ones, and their `conf`).
    DagRuns,
    /// Rendered template fields and map indexes of task instances.
    RenderedFields,
}

impl Kind {
    /// How a message names the store.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Variables => "variable",
            Kind::XComs => "XCom",
            Kind::TaskStore => "task state store",
            Kind::AssetStore => "asset state store",
            Kind::DagRuns => "DAG run",
            Kind::RenderedFields => "rendered fields",
        }
    }
}

/// What one store holds, kept up to date by every write and delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    entries: usize,
    bytes: usize,
}

impl Usage {
    /// Whether a write of an entry of `new` bytes (key and value), whose
    /// value is `value` bytes, replacing an entry of `old` bytes (`None`: a
    /// new entry), fits the caps. Changes nothing; [`add`](Self::add) does
    /// once the write is made.
    pub fn admit(
        &self,
        kind: Kind,
        limits: &Limits,
        value: usize,
        old: Option<usize>,
        new: usize,
    ) -> Result<(), Refusal> {
        if value > limits.max_value_bytes {
            return Err(Refusal::TooLarge {
                what: kind.name(),
                size: value,
                limit: limits.max_value_bytes,
            });
        }
        let entries = self.entries + usize::from(old.is_none());
        let bytes = (self.bytes - old.unwrap_or(0)).saturating_add(new);
        if entries > limits.max_entries {
            return Err(Refusal::StoreFull {
                store: kind.name(),
                cap: format!("{} entries (--store-max-entries)", limits.max_entries),
            });
        }
        // Shrinking a value is always allowed, even in a store over its cap
        // (after a restart with a lower one).
        if bytes > limits.max_bytes && new > old.unwrap_or(0) {
            return Err(Refusal::StoreFull {
                store: kind.name(),
                cap: format!("{} bytes (--store-max-bytes)", limits.max_bytes),
            });
        }
        Ok(())
    }

    /// Counts a write of `new` bytes replacing `old` (`None`: a new entry).
    pub fn add(&mut self, old: Option<usize>, new: usize) {
        if old.is_none() {
            self.entries += 1;
        }
        self.bytes = self.bytes - old.unwrap_or(0) + new;
    }

    /// Counts the removal of an entry of `bytes`.
    pub fn remove(&mut self, bytes: usize) {
        self.entries -= 1;
        self.bytes -= bytes;
    }

    /// Entries held.
    #[cfg(test)]
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A JSON value in its compact text, as stores keep it: a value takes what
/// its text takes, not a tree of nodes many times larger.
pub fn compact(value: &serde_json::Value) -> Box<str> {
    // Serialising a `Value` to a string cannot fail.
    serde_json::to_string(value).unwrap_or_default().into()
}

/// The length of a value's compact JSON text, without writing it out.
pub fn size<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Counting cannot fail, nor can serialising JSON values.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The value of a [`compact`] text.
pub fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

/// A value's [`compact`] JSON text, kept as JSON text: a read answers it
/// as it is, without parsing it and writing it out again.
pub fn compact_raw(value: &serde_json::Value) -> Box<serde_json::value::RawValue> {
    // Serialising a `Value` cannot fail.
    serde_json::value::to_raw_value(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        max_value_bytes: 10,
        max_entries: 2,
        max_bytes: 30,
    };

    #[test]
    fn values_entries_and_bytes_are_capped() {
        let mut usage = Usage::default();
        assert_eq!(
            usage.admit(Kind::Variables, &SMALL, 11, None, 12),
            Err(Refusal::TooLarge {
                what: "variable",
                size: 11,
                limit: 10
            })
        );
        usage.admit(Kind::Variables, &SMALL, 10, None, 15).unwrap();
        usage.add(None, 15);
        usage.admit(Kind::Variables, &SMALL, 10, None, 15).unwrap();
        usage.add(None, 15);
        // A third entry, however small.
        assert!(matches!(
            usage.admit(Kind::Variables, &SMALL, 1, None, 2),
            Err(Refusal::StoreFull { .. })
        ));
        // Replacing one with a larger one past the bytes.
        let full = usage.admit(Kind::XComs, &SMALL, 10, Some(15), 16);
        assert_eq!(
            full,
            Err(Refusal::StoreFull {
                store: "XCom",
                cap: "30 bytes (--store-max-bytes)".into()
            })
        );
        // Replacing with a smaller one, and deleting, give room back.
        usage.admit(Kind::XComs, &SMALL, 1, Some(15), 5).unwrap();
        usage.add(Some(15), 5);
        usage.remove(15);
        assert_eq!((usage.entries(), usage.bytes()), (1, 5));
        usage.admit(Kind::XComs, &SMALL, 10, None, 25).unwrap();
    }

    #[test]
    fn stored_json_is_compact() {
        let value = serde_json::json!({"a": [1, 2, {"b": null}]});
        let text = compact(&value);
        assert_eq!(&*text, r#"{"a":[1,2,{"b":null}]}"#);
        assert_eq!(size(&value), text.len());
        assert_eq!(parse(&text), value);
    }
}
