//! The example server's policies as a snapshot (issue 12): what
//! `execution_api routes` prints must be the checked-in, reviewed table,
//! so a policy change shows up in review as a diff of that file.
//!
//! A plain `assert_eq!` against one file: the failure prints both tables,
//! and regenerating is one environment variable; a snapshot library would
//! add a dependency and a review tool for a single snapshot.

mod common;

use std::path::Path;
use std::process::Command;

/// The checked-in table.
const SNAPSHOT: &str = "tests/data/execution_api-routes.txt";

#[test]
fn execution_api_routes_prints_the_reviewed_route_table() {
    let out = Command::new(common::example_binary())
        .arg("routes")
        .output()
        .expect("run execution_api routes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_ROUTES").is_some() {
        std::fs::write(&file, &table).unwrap();
    }
    let reviewed = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(
        table, reviewed,
        "the example's route policies changed; if that is intended, regenerate {SNAPSHOT} \
         with `UPDATE_ROUTES=1 cargo test --test route_table`, review the diff and commit it"
    );
    // The table has every route: Airflow's 55 operations, the JWKS, the
    // OpenAPI document and its docs page with the page's files, and the
    // callback token's exchange (Airflow's main branch, an addition).
    assert_eq!(table.lines().count(), 60);
    assert!(table.contains(
        "PATCH   /execution/callbacks/<callback_id>/run                                    \
         callback            callback:self\n"
    ));
    assert!(table.contains(
        "PATCH   /execution/task-instances/<task_instance_id>/run                          \
         execution,workload  ti:self\n"
    ));
}
