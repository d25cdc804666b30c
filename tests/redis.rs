//! RedisDenyList against a real `redis-server` (SPEC §13, issue 23): each
//! test starts its own instance on a free port, with a password and its
//! data (an append-only file, fsynced on every write) in a temporary
//! directory, and stops it by PID. `tests/redis/install.sh` installs
//! Debian's redis-server when it is missing (as root, without starting
//! the system service). Without it, and outside CI, the tests are skipped
//! with a message; under CI (`CI` set) they fail.
//!
//! Replicas here are deny-lists and verifiers in one process, each with a
//! connection of its own, as separate processes would have; the example's
//! processes, its `revoke` command and `/health/ping` are exercised by
//! `tests/interop/test_revocation.py`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scopegate::{
    Claims, InvalidReason, Issuer, RedisDenyList, RedisStore, Revocation, SigningKey, TokenType,
    VerificationKey, Verifier,
};
use uuid::Uuid;

const SECRET: &str = "a-random-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512!!";
const AUDIENCE: &str = "urn:airflow.apache.org:task";
const PASSWORD: &str = "redis-test-password-7f3a";
const DAY: Duration = Duration::from_secs(86_400);

/// A redis-server of this test's own.
struct Redis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Redis {
    /// Starts one on a free port, or `None` (after saying why) when
    /// redis-server cannot be had outside CI.
    fn start() -> Option<Redis> {
        if !installed() {
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("scopegate-redis-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Redis {
            port,
            dir,
            child: None,
        };
        redis.restart();
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/0", self.port)
    }

    fn store(&self) -> RedisStore {
        RedisStore::open(&self.url()).unwrap()
    }

    /// Starts (again) on the same port and data directory, and waits until
    /// it answers.
    fn restart(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--requirepass", PASSWORD, "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it (SIGKILL: a crash; every write was fsynced).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends it `signal` (`STOP`, `CONT`) by PID.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Deletes its data: it comes back empty at the next restart.
    fn wipe(&self) {
        std::fs::remove_dir_all(&self.dir).unwrap();
        std::fs::create_dir_all(&self.dir).unwrap();
    }

    /// `redis-cli` against it: its trimmed output, `None` on failure.
    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args([
                "-p",
                &self.port.to_string(),
                "--no-auth-warning",
                "-a",
                PASSWORD,
            ])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A stopped (SIGSTOP) server must be continued to die cleanly.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether redis-server is there (installing it if need be); panics under
/// CI when it cannot be.
fn installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/redis/install.sh");
        let ok = Command::new("bash")
            .arg(script)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is missing and could not be installed (tests/redis/install.sh)"
            );
            eprintln!(
                "SKIPPED: redis-server is missing and could not be installed: \
                 run `apt-get install -y redis-server` as root to run tests/redis.rs"
            );
        }
        ok
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A replica: its deny-list and the verifier that consults it.
struct Replica {
    list: Arc<RedisDenyList>,
    verifier: Verifier,
}

impl Replica {
    fn new(store: RedisStore) -> Replica {
        let list = Arc::new(RedisDenyList::new(store));
        let verifier = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
            .audience(AUDIENCE)
            .deny_list(Arc::clone(&list))
            .max_session_age(DAY)
            .build()
            .unwrap();
        Replica { list, verifier }
    }

    fn verify(&self, token: &str) -> Result<Arc<Claims>, InvalidReason> {
        self.verifier.verify(token)
    }
}

fn issuer() -> Issuer {
    Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// Waits until `check` holds, at most `limit`; returns how long it took.
async fn within(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {} ms",
            limit.as_millis()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn revoked(result: Result<Arc<Claims>, InvalidReason>) -> bool {
    result.err() == Some(InvalidReason::Revoked)
}

/// Revoked through the library on one replica: refused there at once, and
/// on the other within a second, with the token's whole refresh chain
/// (successors minted before and after); other tokens still pass; a
/// replica started afterwards loads it.
#[tokio::test]
async fn revoked_on_one_replica_refused_on_every_replica_with_its_chain() {
    let Some(redis) = Redis::start() else { return };
    let (a, b) = (Replica::new(redis.store()), Replica::new(redis.store()));
    within(Duration::from_secs(5), "both loaded", || {
        a.list.is_loaded() && b.list.is_loaded()
    })
    .await;
    let issuer = issuer();
    let leaked = issuer.issue(Uuid::new_v4(), TokenType::WORKLOAD).unwrap();
    let other = issuer.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let claims = a.verify(&leaked).unwrap();
    // Its successor: the /run swap to an execution token, refreshed once.
    let swapped = issuer.reissue(&claims, TokenType::EXECUTION).unwrap();
    let refreshed = issuer
        .reissue(&b.verify(&swapped).unwrap(), TokenType::EXECUTION)
        .unwrap();
    for token in [&leaked, &swapped, &refreshed, &other] {
        assert!(a.verify(token).is_ok() && b.verify(token).is_ok());
    }

    a.list.revoke_claims(&claims).await.unwrap();
    // Here at once, cache hits included.
    assert!(revoked(a.verify(&leaked)) && revoked(a.verify(&refreshed)));
    within(Duration::from_secs(1), "the other replica refuses", || {
        revoked(b.verify(&leaked)) && revoked(b.verify(&swapped)) && revoked(b.verify(&refreshed))
    })
    .await;
    assert!(a.verify(&other).is_ok() && b.verify(&other).is_ok());

    // A replica started after the revocation loads it.
    let c = Replica::new(redis.store());
    within(Duration::from_secs(5), "a new replica loads", || {
        c.list.is_loaded()
    })
    .await;
    assert!(revoked(c.verify(&refreshed)));
    assert!(c.verify(&other).is_ok());
    // What the store holds: the jti and the chain, scored by their end.
    assert_eq!(
        redis.cli(&["ZCARD", "scopegate:revocations"]).as_deref(),
        Some("2")
    );
}

/// A replica that has never loaded the list refuses every token as not
/// loaded (a 503 for a request), until the store is up; and a revocation
/// stored by another process (the `revoke` command's path) reaches it.
#[tokio::test]
async fn a_replica_that_never_loaded_refuses_everything_until_it_has() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    redis.stop();
    let replica = Replica::new(redis.store());
    let token = issuer()
        .issue(Uuid::new_v4(), TokenType::EXECUTION)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        replica.verify(&token).unwrap_err(),
        InvalidReason::RevocationsNotLoaded
    );
    let health = replica.list.health().unwrap_err();
    assert!(
        health.contains(&format!("redis://127.0.0.1:{}/0", redis.port))
            && health.contains("never loaded")
            && !health.contains(PASSWORD),
        "{health}"
    );
    redis.restart();
    within(
        Duration::from_secs(1),
        "loaded once the store is up",
        || replica.verify(&token).is_ok(),
    )
    .await;
    assert_eq!(replica.list.health(), Ok(()));

    // Stored by another process, with RedisStore alone, as `revoke` does.
    let claims = replica.verify(&token).unwrap();
    let store = redis.store().max_session_age(DAY);
    store
        .store(&Revocation::of_claims(&claims, DAY).unwrap())
        .await
        .unwrap();
    within(
        Duration::from_secs(1),
        "the stored revocation arrives",
        || revoked(replica.verify(&token)),
    )
    .await;
}

/// The outage: revocations seen stay refused, other tokens are served,
/// health names the store (never its password); a store that comes back
/// EMPTY un-revokes nothing; once it is back, health is Ok within a second
/// and new revocations reach every replica within a second.
#[tokio::test]
async fn an_outage_keeps_revocations_serves_the_rest_and_catches_up() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let (a, b) = (Replica::new(redis.store()), Replica::new(redis.store()));
    within(Duration::from_secs(5), "both loaded", || {
        a.list.is_loaded() && b.list.is_loaded()
    })
    .await;
    let issuer = issuer();
    let mint = || issuer.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let (before, fine, after) = (mint(), mint(), mint());
    a.list
        .revoke_claims(&a.verify(&before).unwrap())
        .await
        .unwrap();
    within(Duration::from_secs(1), "revoked before the outage", || {
        revoked(b.verify(&before))
    })
    .await;

    redis.stop();
    within(Duration::from_secs(3), "health reports the outage", || {
        a.list.health().is_err() && b.list.health().is_err()
    })
    .await;
    let health = b.list.health().unwrap_err();
    assert!(
        health.contains(&format!("redis://127.0.0.1:{}/0", redis.port))
            && health.contains("unreachable")
            && !health.contains(PASSWORD),
        "{health}"
    );
    assert!(revoked(a.verify(&before)) && revoked(b.verify(&before)));
    assert!(a.verify(&fine).is_ok() && b.verify(&fine).is_ok());
    // A revocation during the outage: refused where it was made, and the
    // caller is told it was not stored.
    let err = a
        .list
        .revoke_claims(&a.verify(&after).unwrap())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(PASSWORD), "{err}");
    assert!(revoked(a.verify(&after)));

    // The store comes back with nothing in it.
    redis.wipe();
    redis.restart();
    let caught_up = within(
        Duration::from_secs(1),
        "health Ok after the restart",
        || a.list.health().is_ok() && b.list.health().is_ok(),
    )
    .await;
    eprintln!("caught up {} ms after the restart", caught_up.as_millis());
    assert!(revoked(a.verify(&before)) && revoked(b.verify(&before)));
    assert!(revoked(a.verify(&after)));
    assert!(a.verify(&fine).is_ok() && b.verify(&fine).is_ok());

    // After the reconnect, a revocation reaches both within a second.
    b.list
        .revoke_claims(&b.verify(&fine).unwrap())
        .await
        .unwrap();
    within(
        Duration::from_secs(1),
        "revoked after the reconnect",
        || revoked(a.verify(&fine)) && revoked(b.verify(&fine)),
    )
    .await;
}

/// A hung store (SIGSTOP) never blocks a check; the replica notices it
/// within a ping and a command timeout, a revocation gives up within its
/// timeouts, and everything resumes when it does.
#[tokio::test]
async fn a_hung_store_never_blocks_a_check() {
    let Some(redis) = Redis::start() else { return };
    let timeout = Duration::from_millis(300);
    let replica = Replica::new(
        redis
            .store()
            .connect_timeout(timeout)
            .command_timeout(timeout),
    );
    within(Duration::from_secs(5), "loaded", || {
        replica.list.is_loaded()
    })
    .await;
    let issuer = issuer();
    let token = issuer.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let claims = replica.verify(&token).unwrap();

    redis.signal("STOP");
    let started = Instant::now();
    for _ in 0..1000 {
        assert!(replica.verify(&token).is_ok());
    }
    // Generous: a thousand cache hits take well under a millisecond each.
    assert!(started.elapsed() < Duration::from_secs(1));
    within(Duration::from_secs(3), "health reports the hang", || {
        replica.list.health().is_err()
    })
    .await;
    let revoking = Instant::now();
    assert!(replica.list.revoke_claims(&claims).await.is_err());
    assert!(
        revoking.elapsed() < Duration::from_secs(2),
        "a revocation waited {} ms on a hung store",
        revoking.elapsed().as_millis()
    );
    assert!(revoked(replica.verify(&token)), "refused here all the same");

    redis.signal("CONT");
    within(Duration::from_secs(2), "health Ok once it resumes", || {
        replica.list.health().is_ok()
    })
    .await;
}

/// Whoever can publish cannot exhaust a replica: malformed messages are
/// ignored, oversized ids refused, the local copy capped (and health says
/// so), far-future times clamped to the maximum session age.
#[tokio::test]
async fn what_is_published_is_validated_and_bounded() {
    let Some(redis) = Redis::start() else { return };
    let replica = Replica::new(redis.store().max_revocations(5));
    within(Duration::from_secs(5), "loaded", || {
        replica.list.is_loaded()
    })
    .await;
    let channel = "scopegate:revocations";
    let long_id = "x".repeat(scopegate::MAX_REVOKED_ID_BYTES + 1);
    let oversized = format!(r#"{{"kind":"token","iss":null,"id":"{long_id}","until":4000000000}}"#);
    for junk in [
        "not json",
        r#"{"kind":"everything","iss":null,"id":"x","until":4000000000}"#,
        r#"{"kind":"token","iss":null,"id":"","until":4000000000}"#,
        oversized.as_str(),
    ] {
        assert!(redis.cli(&["PUBLISH", channel, junk]).is_some());
    }
    // Seven valid ones, far in the future: five kept, two dropped.
    for i in 0..7 {
        let message = format!(r#"{{"kind":"token","iss":null,"id":"id-{i}","until":9000000000}}"#);
        redis.cli(&["PUBLISH", channel, &message]).unwrap();
    }
    within(Duration::from_secs(2), "the cap is reached", || {
        replica.list.len() == 5
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(replica.list.len(), 5);
    let health = replica.list.health().unwrap_err();
    assert!(
        health.contains("full") && health.contains("2 dropped"),
        "{health}"
    );
    // The store's own copy of a revocation is clamped too: `revoke` of a
    // token whose exp is far away keeps it for the maximum session age.
    let store = redis.store().max_session_age(DAY);
    store
        .store(&[Revocation::token("far", i64::MAX / 2)])
        .await
        .unwrap();
    let score: f64 = redis
        .cli(&[
            "ZSCORE",
            channel,
            r#"{"id":"far","iss":null,"kind":"token"}"#,
        ])
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as f64;
    assert!(
        score <= now + DAY.as_secs_f64() + 301.0,
        "kept until {score}"
    );
}
