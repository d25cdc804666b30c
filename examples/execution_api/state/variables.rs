//! Variables, connections and connection tests. Variables are kept within
//! the variable store's caps (`caps.rs`).

use std::ops::Bound;

use scopegate::LogSafe;
use uuid::Uuid;

use super::caps::Kind;
use super::{Refusal, Store, DEMO_CONNECTION_ID};
use crate::models::{
    ConnectionResponse, ConnectionTestResult, ConnectionTestState, VariableKeys, VariablePostBody,
    VariableResponse,
};

/// A variable's value and description.
#[derive(Clone, Debug)]
pub(super) struct Variable {
    value: Option<String>,
    description: Option<String>,
}

impl Variable {
    /// What its value and description take in the store.
    fn bytes(&self) -> usize {
        self.value.as_ref().map_or(0, String::len)
            + self.description.as_ref().map_or(0, String::len)
    }
}

impl Store {
    /// A variable.
    pub fn variable(&self, key: &str) -> Result<VariableResponse<'static>, Refusal> {
        self.with_variable(key, |v| VariableResponse {
            key: v.key.into_owned().into(),
            value: v.value.map(|value| value.into_owned().into()),
        })
    }

    /// `f` of a variable, borrowed from the store (under its lock): to
    /// write it out without copying it first.
    pub fn with_variable<R>(
        &self,
        key: &str,
        f: impl FnOnce(VariableResponse<'_>) -> R,
    ) -> Result<R, Refusal> {
        match self.lock().variables.get(key) {
            Some(variable) => Ok(f(VariableResponse {
                key: key.into(),
                value: variable.value.as_deref().map(Into::into),
            })),
            None => Err(Refusal::VariableNotFound(key.to_owned())),
        }
    }

    /// Creates or replaces a variable, within the caps (413, 507).
    pub fn set_variable(&self, key: &str, body: VariablePostBody) -> Result<(), Refusal> {
        let variable = Variable {
            value: body.val,
            description: body.description,
        };
        let mut inner = self.lock();
        let value = variable.bytes();
        let old = inner.variables.get(key).map(|v| key.len() + v.bytes());
        let new = key.len() + value;
        inner.admit(Kind::Variables, value, old, new)?;
        tracing::info!(
            key = %LogSafe(key),
            description = variable.description.as_deref().map(|d| tracing::field::display(LogSafe(d))),
            bytes = new,
            "variable set"
        );
        inner.variables.insert(key.to_owned(), variable);
        inner.usage(Kind::Variables).add(old, new);
        Ok(())
    }

    /// Deletes a variable; deleting a missing one is not an error (as in
    /// Airflow).
    pub fn delete_variable(&self, key: &str) {
        let mut inner = self.lock();
        if let Some(variable) = inner.variables.remove(key) {
            inner
                .usage(Kind::Variables)
                .remove(key.len() + variable.bytes());
        }
    }

    /// `GET /variables/keys`: one page of the sorted keys starting with
    /// `prefix`, and how many there are: the keys from `prefix` on, up to
    /// the first that does not start with it.
    pub fn variable_keys(&self, prefix: Option<&str>, limit: usize, offset: usize) -> VariableKeys {
        let inner = self.lock();
        let prefix = prefix.unwrap_or("");
        let matching: Vec<&String> = inner
            .variables
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .collect();
        VariableKeys {
            total_entries: matching.len(),
            keys: matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        }
    }

    /// A connection.
    pub fn connection(&self, conn_id: &str) -> Result<ConnectionResponse, Refusal> {
        self.lock()
            .connections
            .get(conn_id)
            .cloned()
            .ok_or_else(|| Refusal::ConnectionNotFound(conn_id.to_owned()))
    }

    /// A connection test's credentials, handed out once per test as in
    /// Airflow (the test is then `running`). The example has no API to
    /// create connection tests (Airflow's UI does that), so an id it has not
    /// seen is taken as a pending test of the demo connection.
    pub fn fetch_connection_test(&self, id: Uuid) -> Result<ConnectionResponse, Refusal> {
        let mut inner = self.lock();
        let state = inner
            .connection_tests
            .entry(id)
            .or_insert(ConnectionTestState::Pending);
        if !matches!(
            state,
            ConnectionTestState::Pending | ConnectionTestState::Queued
        ) {
            return Err(Refusal::Conflict {
                reason: "conflict",
                message: format!(
                    "Connection test {id} is in state {}; credentials can only be fetched once \
                     while PENDING or QUEUED.",
                    state.as_str()
                ),
            });
        }
        *state = ConnectionTestState::Running;
        tracing::info!(connection_test = %id, "connection test running");
        inner
            .connections
            .get(DEMO_CONNECTION_ID)
            .cloned()
            .ok_or_else(|| Refusal::ConnectionNotFound(DEMO_CONNECTION_ID.to_owned()))
    }

    /// `PATCH /connection-tests/<id>`: the worker reports the result of an
    /// active test; a finished test refuses a second result.
    pub fn report_connection_test(
        &self,
        id: Uuid,
        result: &ConnectionTestResult,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let state = inner
            .connection_tests
            .entry(id)
            .or_insert(ConnectionTestState::Pending);
        if state.is_terminal() {
            return Err(Refusal::Conflict {
                reason: "conflict",
                message: format!(
                    "Connection test {id} is already in terminal state: {}",
                    state.as_str()
                ),
            });
        }
        *state = result.state;
        tracing::info!(
            connection_test = %id,
            state = result.state.as_str(),
            message = result.result_message.as_deref().map(|m| tracing::field::display(LogSafe(m))),
            "connection test finished"
        );
        Ok(())
    }
}

/// The connection every example server starts with.
pub(super) fn demo_connection() -> ConnectionResponse {
    ConnectionResponse {
        conn_id: DEMO_CONNECTION_ID.to_owned(),
        conn_type: "http".to_owned(),
        host: Some("example.com".to_owned()),
        schema: Some("https".to_owned()),
        login: None,
        password: None,
        port: Some(443),
        extra: Some(r#"{"timeout": 10}"#.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(store: &Store, key: &str, value: &str) -> Result<(), Refusal> {
        store.set_variable(
            key,
            VariablePostBody {
                val: Some(value.into()),
                description: None,
            },
        )
    }

    #[test]
    fn variables_round_trip() {
        let store = Store::new();
        assert!(store.variable("k").is_err());
        set(&store, "k", "v").unwrap();
        assert_eq!(store.variable("k").unwrap().value.as_deref(), Some("v"));
        store.delete_variable("k");
        store.delete_variable("k");
        assert!(store.variable("k").is_err());
    }

    #[test]
    fn variable_keys_are_sorted_filtered_and_paged() {
        let store = Store::new();
        for key in ["b.two", "a", "b.one", "c"] {
            set(&store, key, "x").unwrap();
        }
        let page = store.variable_keys(Some("b."), 1, 1);
        assert_eq!(
            page,
            VariableKeys {
                keys: vec!["b.two".into()],
                total_entries: 2
            }
        );
        assert_eq!(
            store.variable_keys(None, 1000, 0).keys,
            ["a", "b.one", "b.two", "c"]
        );
        assert_eq!(store.variable_keys(None, 10, 9).keys, Vec::<String>::new());
    }

    /// Issue 18, finding 7: a value over the value cap is refused, so is a
    /// write past the entries or bytes of the store; a replaced or deleted
    /// variable gives its room back.
    #[test]
    fn variables_are_kept_within_the_caps() {
        let store = Store::with_limits(crate::state::Limits {
            max_value_bytes: 8,
            max_entries: 3,
            max_bytes: 20,
        });
        assert_eq!(
            set(&store, "k", "123456789"),
            Err(Refusal::TooLarge {
                what: "variable",
                size: 9,
                limit: 8
            })
        );
        set(&store, "a", "12345678").unwrap();
        set(&store, "b", "12345678").unwrap();
        // 9 + 9 + 9 bytes would pass 20.
        assert!(matches!(
            set(&store, "c", "12345678"),
            Err(Refusal::StoreFull {
                store: "variable",
                ..
            })
        ));
        set(&store, "c", "1").unwrap();
        assert!(matches!(
            set(&store, "d", ""),
            Err(Refusal::StoreFull { cap, .. }) if cap == "3 entries (--store-max-entries)"
        ));
        // Replacing a value with a shorter one, and deleting, make room.
        set(&store, "a", "1").unwrap();
        set(&store, "c", "12345678").unwrap();
        store.delete_variable("b");
        set(&store, "d", "12345").unwrap();
        assert_eq!(store.variable_keys(None, 10, 0).keys, ["a", "c", "d"]);
    }

    #[test]
    fn connection_tests_are_fetched_once_and_finish_once() {
        let store = Store::new();
        let id = Uuid::new_v4();
        assert_eq!(
            store.fetch_connection_test(id).unwrap().conn_id,
            DEMO_CONNECTION_ID
        );
        assert!(matches!(
            store.fetch_connection_test(id),
            Err(Refusal::Conflict { reason: "conflict", message }) if message.contains("in state running")
        ));
        let success = ConnectionTestResult {
            state: ConnectionTestState::Success,
            result_message: Some("ok".into()),
        };
        store.report_connection_test(id, &success).unwrap();
        assert!(matches!(
            store.report_connection_test(id, &success),
            Err(Refusal::Conflict { message, .. }) if message.ends_with("terminal state: success")
        ));
    }
}
