//! Crypto backends: scopegate signs and verifies with the jsonwebtoken
//! backend its own feature selects, never with jsonwebtoken's process-wide
//! default, so another crate in the graph that turns on the other backend
//! breaks nothing (issue 9, item 6).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's target directory, from this test binary's location
/// (`<target>/<profile>/deps/backends-*`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

#[test]
fn both_jsonwebtoken_backends_on_sign_verify_and_refresh_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/mixed-backends");
    // The workspace's versions, so the build shares trybuild's dependencies.
    std::fs::copy(root.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir().join("tests/trybuild"))
        .output()
        .expect("cargo run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for alg in ["RS512", "ES256", "ES384", "EdDSA", "HS512"] {
        assert!(
            stdout.contains(&format!("{alg}: signed and verified"))
                && stdout.contains(&format!("{alg}: refreshed and verified")),
            "{alg} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("all ok"), "{stdout}");
}
