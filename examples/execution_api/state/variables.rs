//! Variables, connections and connection tests.

use uuid::Uuid;

use super::{Refusal, Store, DEMO_CONNECTION_ID};
use crate::models::{
    ConnectionResponse, ConnectionTestResult, ConnectionTestState, VariableKeys, VariablePostBody,
    VariableResponse,
};

/// A variable's value and description.
#[derive(Clone, Debug)]
pub(super) struct Variable {
    value: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
}

impl Store {
    /// A variable.
    pub fn variable(&self, key: &str) -> Result<VariableResponse, Refusal> {
        match self.lock().variables.get(key) {
            Some(variable) => Ok(VariableResponse {
                key: key.to_owned(),
                value: variable.value.clone(),
            }),
            None => Err(Refusal::VariableNotFound(key.to_owned())),
        }
    }

    /// Creates or replaces a variable.
    pub fn set_variable(&self, key: &str, body: VariablePostBody) {
        let variable = Variable {
            value: body.val,
            description: body.description,
        };
        tracing::info!(
            key,
            description = variable.description.as_deref(),
            "variable set"
        );
        self.lock().variables.insert(key.to_owned(), variable);
    }

    /// Deletes a variable; deleting a missing one is not an error (as in
    /// Airflow).
    pub fn delete_variable(&self, key: &str) {
        self.lock().variables.remove(key);
    }

    /// `GET /variables/keys`: one page of the sorted keys starting with
    /// `prefix`, and how many there are.
    pub fn variable_keys(&self, prefix: Option<&str>, limit: usize, offset: usize) -> VariableKeys {
        let inner = self.lock();
        let matching: Vec<&String> = inner
            .variables
            .keys()
            .filter(|k| prefix.is_none_or(|p| k.starts_with(p)))
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
            message = result.result_message.as_deref(),
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

    fn set(store: &Store, key: &str, value: &str) {
        store.set_variable(
            key,
            VariablePostBody {
                val: Some(value.into()),
                description: None,
            },
        );
    }

    #[test]
    fn variables_round_trip() {
        let store = Store::new();
        assert!(store.variable("k").is_err());
        set(&store, "k", "v");
        assert_eq!(store.variable("k").unwrap().value.as_deref(), Some("v"));
        store.delete_variable("k");
        store.delete_variable("k");
        assert!(store.variable("k").is_err());
    }

    #[test]
    fn variable_keys_are_sorted_filtered_and_paged() {
        let store = Store::new();
        for key in ["b.two", "a", "b.one", "c"] {
            set(&store, key, "x");
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
