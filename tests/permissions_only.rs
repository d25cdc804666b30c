//! A crate whose `scopegate.toml` declares permissions only, no `[token]`
//! (SPEC §10): `tests/fixtures/permissions-only`, built here with cargo in
//! trybuild's target directory (so it shares the dependencies trybuild has
//! compiled), run as a process on a free port, and called over HTTP.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use awc::http::StatusCode;
use scopegate::testing::TestAuth;
use scopegate::{PermissionFormat, Permissions, SubjectFormat, Vocabulary};
use serde_json::{json, Value};

/// The fixture's words, written again: the test mints its tokens with them,
/// and checks that they are the fixture's (the same key).
static NOTES: Vocabulary = Vocabulary::untyped(Permissions::new(
    "scp",
    PermissionFormat::Array,
    &["notes:read", "notes:write", "notes:admin"],
))
.with_subject(SubjectFormat::Any);

const SECRET: &str = "permissions-only-fixture-secret-of-sixty-four-bytes-or-more-0123456789";

/// The workspace's target directory, from this test binary's location
/// (`<target>/<profile>/deps/permissions_only-*`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Builds the fixture and returns its binary.
fn build() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/permissions-only");
    // The workspace's versions, so the build shares trybuild's dependencies.
    std::fs::copy(root.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
    let target = target_dir().join("tests/trybuild");
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("debug/permissions-only")
}

/// The running fixture, stopped (by its PID) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(binary: &Path) -> Server {
    let mut child = Command::new(binary)
        .arg("serve")
        .env("FIXTURE_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the fixture");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: Value = serde_json::from_str(&line).expect("the listening line");
    Server {
        child,
        base: listening["listening"].as_str().unwrap().to_owned(),
    }
}

fn run(binary: &Path, command: &str) -> String {
    let out = Command::new(binary).arg(command).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[actix_web::test]
async fn a_crate_with_permissions_only_builds_serves_and_enforces_them() {
    let binary = build();
    assert_eq!(
        run(&binary, "key").trim(),
        NOTES.permissions().unwrap().key().to_string(),
        "the test's vocabulary is the fixture's"
    );
    assert_eq!(
        run(&binary, "routes"),
        "\
DELETE  /notes/<owner>          (any)     notes:admin,notes:write,guard(not_frozen)
GET     /notes/<owner>/private  (any)     any(owner:self, notes:admin)
GET     /notes/all              (any)     notes:read
GET     /notes/health           (public)  -
"
    );
    let server = serve(&binary);
    let auth = TestAuth::builder()
        .secret(SECRET)
        .audience("urn:example:notes")
        .vocabulary(&NOTES)
        .build()
        .unwrap();
    let client = awc::Client::default();
    let call = |method: &str, path: &str, token: Option<String>| {
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", server.base));
        if let Some(token) = token {
            req = req.insert_header(("Authorization", format!("Bearer {token}")));
        }
        async move {
            let mut res = req.send().await.unwrap();
            let body = res.body().await.unwrap();
            let challenge = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                res.status(),
                serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
                challenge,
            )
        }
    };
    let token = |sub: &str, permissions: &[&str]| auth.mint(sub).permissions(permissions).sign();

    let (status, body, _) = call("GET", "/health", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": "healthy"}))
    );
    let (status, _, challenge) = call("GET", "/all", None).await;
    assert_eq!(
        (status, challenge.as_deref()),
        (StatusCode::UNAUTHORIZED, Some("Bearer"))
    );

    // An array claim: names the crate does not declare are ignored.
    let reader = token("alice", &["notes:read", "openid"]);
    let (status, body, _) = call("GET", "/all", Some(reader.clone())).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"by": "alice", "permissions": ["notes:read"]})
        )
    );
    let (status, body, challenge) = call("GET", "/all", Some(token("bob", &[]))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Token lacks permission 'notes:read'"})
        )
    );
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\", scope=\"notes:read\"")
    );
    // A string where an array is declared.
    let malformed = auth.mint("mallory").claim("scp", "notes:read").sign();
    let (status, body, _) = call("GET", "/all", Some(malformed)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Invalid auth token: malformed scp claim"})
        )
    );

    // The owner, or an admin.
    let admin = token("root", &["notes:admin", "notes:write"]);
    for (who, expected) in [(&reader, false), (&admin, true)] {
        let (status, body, _) = call("GET", "/alice/private", Some(who.clone())).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({"owner": "alice", "admin": expected}))
        );
    }
    let (status, body, _) = call("GET", "/bob/private", Some(reader.clone())).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Token satisfies none of: owner:self, notes:admin"})
        )
    );

    // Both permissions, then the guard.
    let (status, body, _) = call("DELETE", "/bob", Some(admin.clone())).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"deleted": "bob"})));
    let (status, body, _) = call("DELETE", "/frozen", Some(admin)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::LOCKED,
            json!({"detail": "These notes are frozen"})
        )
    );
    let writer = token("carol", &["notes:write"]);
    let (status, body, _) = call("DELETE", "/frozen", Some(writer)).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("Token lacks permission 'notes:admin'")
        ),
        "the policy decides before the guard"
    );
    drop(server);
}
