//! Key pairs, JWKS loading and rotation, against a real local HTTP server.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use scopegate::{
    Enforce, Issuer, JwksSource, RoutePolicy, SigningKey, TiToken, TokenType, TokenTypes,
    VerificationKey, Verifier,
};
use sha2::Digest as _;
use uuid::Uuid;

static ANY: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[],
);

fn issuer(private_pem: &str) -> Issuer {
    Issuer::builder(SigningKey::ed_pem(&key_file(private_pem)).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

fn jwks_of(issuers: &[&Issuer]) -> String {
    let keys: Vec<_> = issuers.iter().flat_map(|i| i.jwks().keys).collect();
    serde_json::to_string(&scopegate::jwk::JwkSet { keys }).unwrap()
}

/// A JWKS server on 127.0.0.1:0 whose document the test can change, and
/// which counts fetches.
struct Upstream {
    document: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    url: String,
    handle: ServerHandle,
}

impl Upstream {
    fn start(document: String) -> Upstream {
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (document.clone(), fetches.clone());
        let server = HttpServer::new(move || {
            let (doc, count) = (doc.clone(), count.clone());
            App::new().route(
                "/jwks.json",
                web::get().to(move || {
                    count.fetch_add(1, Ordering::SeqCst);
                    let body = doc.lock().unwrap().clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body)
                    }
                }),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let url = format!("http://{}/jwks.json", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Upstream {
            document,
            fetches,
            url,
            handle,
        }
    }

    fn publish(&self, document: String) {
        *self.document.lock().unwrap() = document;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks_verifier(url: &str, min_retry: Duration) -> Arc<Verifier> {
    Arc::new(
        Verifier::builder(JwksSource::parse(url))
            .audience(AUDIENCE)
            .jwks_min_retry(min_retry)
            .load()
            .await
            .unwrap(),
    )
}

/// Status and body detail of one request with `token` through `Enforce`.
async fn call(verifier: &Arc<Verifier>, token: &str) -> (u16, String) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::from(verifier.clone()))
            .service(
                web::resource("/x")
                    .wrap(Enforce::new(&ANY))
                    .to(|t: TiToken| async move { HttpResponse::Ok().body(t.id.to_string()) }),
            ),
    )
    .await;
    let req = test::TestRequest::get()
        .uri("/x")
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .to_request();
    let (status, body, _) = parts(test::call_service(&app, req).await).await;
    (
        status,
        body["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

fn unknown_kid() -> (u16, String) {
    (401, "Invalid auth token: unknown key id".into())
}

#[actix_web::test]
async fn rotation_while_requests_keep_flowing() {
    let (a, b) = (
        issuer("ed25519_private.pem"),
        issuer("ed25519_b_private.pem"),
    );
    let upstream = Upstream::start(jwks_of(&[&a]));
    let verifier = jwks_verifier(&upstream.url, Duration::from_millis(1500)).await;
    let token_a = a.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let token_b = b.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    assert_eq!(call(&verifier, &token_a).await.0, 200);

    // The new key is published next to the old one. Within the minimum
    // retry gap after the last fetch, its tokens are refused without a fetch.
    upstream.publish(jwks_of(&[&a, &b]));
    assert_eq!(call(&verifier, &token_b).await, unknown_kid());
    assert_eq!(upstream.fetches(), 1);
    // After the gap, the first token signed with it triggers one early
    // refresh and passes; from then on both keys verify.
    std::thread::sleep(Duration::from_millis(1600));
    for i in 0..50 {
        let token = if i % 2 == 0 { &token_b } else { &token_a };
        assert_eq!(call(&verifier, token).await.0, 200, "request {i}");
    }
    assert_eq!(upstream.fetches(), 2);

    // The old key is retired upstream: after the next refresh its tokens are
    // refused, even though they sit in the verified-token cache.
    upstream.publish(jwks_of(&[&b]));
    assert!(verifier.cached_tokens() >= 2);
    assert!(verifier.refresh_keys().await.unwrap(), "keys changed");
    assert_eq!(call(&verifier, &token_a).await, unknown_kid());
    assert_eq!(call(&verifier, &token_b).await.0, 200);
    upstream.handle.stop(false).await;
}

#[actix_web::test]
async fn server_down_keeps_the_last_good_keys() {
    let a = issuer("ed25519_private.pem");
    let upstream = Upstream::start(jwks_of(&[&a]));
    let verifier = jwks_verifier(&upstream.url, Duration::ZERO).await;
    upstream.handle.stop(true).await;
    assert!(verifier.refresh_keys().await.is_err());
    let token = a.issue(Uuid::new_v4(), TokenType::WORKLOAD).unwrap();
    assert_eq!(call(&verifier, &token).await.0, 200);
    // An unknown kid still triggers an early refresh, which fails: refused.
    let b = issuer("ed25519_b_private.pem");
    let token_b = b.issue(Uuid::new_v4(), TokenType::WORKLOAD).unwrap();
    assert_eq!(call(&verifier, &token_b).await, unknown_kid());
}

#[actix_web::test]
async fn unknown_kid_triggers_at_most_one_early_refresh_per_gap() {
    let a = issuer("ed25519_private.pem");
    let upstream = Upstream::start(jwks_of(&[&a]));
    let verifier = jwks_verifier(&upstream.url, Duration::from_secs(3600)).await;
    assert_eq!(upstream.fetches(), 1);
    // Nothing new upstream: a flood of tokens with an unknown kid causes at
    // most one fetch (none here: the load itself was the last fetch).
    let stranger = issuer("ed25519_b_private.pem");
    for _ in 0..5 {
        let token = stranger
            .issue(Uuid::new_v4(), TokenType::EXECUTION)
            .unwrap();
        assert_eq!(call(&verifier, &token).await, unknown_kid());
    }
    assert_eq!(
        upstream.fetches(),
        1,
        "rate-limited by the minimum retry gap"
    );

    let verifier = jwks_verifier(&upstream.url, Duration::from_millis(1500)).await;
    assert_eq!(upstream.fetches(), 2);
    std::thread::sleep(Duration::from_millis(1600));
    for _ in 0..5 {
        let token = stranger
            .issue(Uuid::new_v4(), TokenType::EXECUTION)
            .unwrap();
        assert_eq!(call(&verifier, &token).await, unknown_kid());
    }
    assert_eq!(upstream.fetches(), 3, "one early refresh, then refused");
    upstream.handle.stop(false).await;
}

#[actix_web::test]
async fn kid_is_required_with_a_jwks() {
    let a = issuer("ed25519_private.pem");
    let path = std::env::temp_dir().join(format!("scopegate-jwks-{}.json", Uuid::new_v4()));
    std::fs::write(&path, jwks_of(&[&a])).unwrap();
    let verifier = jwks_verifier(path.to_str().unwrap(), Duration::ZERO).await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = None;
    let private = jsonwebtoken::EncodingKey::from_ed_pem(&key_file("ed25519_private.pem")).unwrap();
    let no_kid = jsonwebtoken::encode(&header, &claims(Uuid::new_v4(), None), &private).unwrap();
    assert_eq!(
        call(&verifier, &no_kid).await,
        (401, "Invalid auth token: missing key id".into())
    );
    // The same key with its kid verifies (loaded from a file).
    let token = a.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    assert_eq!(call(&verifier, &token).await.0, 200);
    std::fs::remove_file(path).unwrap();
}

#[actix_web::test]
async fn key_pairs_default_to_airflows_algorithms_and_thumbprint_kids() {
    let rsa = Issuer::builder(SigningKey::rsa_pem(&key_file("rsa_private.pem")).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let token = rsa.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS512);
    let verifier =
        Verifier::builder(VerificationKey::rsa_pem(&key_file("rsa_public.pem")).unwrap())
            .audience(AUDIENCE)
            .build()
            .unwrap();
    assert!(verifier.verify(&token).is_ok());

    let ed = issuer("ed25519_private.pem");
    let token = ed.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);

    // RFC 7638, computed here from the public key file: the JSON of the
    // required members in lexicographic order, SHA-256, base64url.
    let public_der = pem_body(&key_file("ed25519_public.pem"));
    let x = URL_SAFE_NO_PAD.encode(&public_der[public_der.len() - 32..]);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let thumbprint = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()));
    assert_eq!(header.kid.as_deref(), Some(thumbprint.as_str()));
    assert_eq!(ed.kid(), thumbprint);
    let jwks = serde_json::to_value(ed.jwks()).unwrap();
    assert_eq!(jwks["keys"][0]["x"], x);
    assert_eq!(jwks["keys"][0]["kid"], thumbprint);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert!(jwks["keys"][0].get("d").is_none(), "never the private part");

    // A shared secret is never published.
    let hmac = Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    assert!(hmac.jwks().keys.is_empty());
    assert_eq!(hmac.kid(), "not-used");
}

fn pem_body(pem: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// Issue 9, item 1: a verification that took its key-set snapshot before a
/// rotation and finishes after it must not leave its token in the cache. Four
/// threads verify a stream of distinct tokens signed by the current key (the
/// tiny cache keeps them missing, so a signature check is always in flight)
/// while the key set is swapped to the other key; once the swap has returned,
/// no token of the removed key may verify, cached or not.
#[actix_web::test]
async fn no_token_of_a_removed_key_verifies_after_the_swap() {
    use std::sync::atomic::AtomicBool;

    let keys = [
        issuer("ed25519_private.pem"),
        issuer("ed25519_b_private.pem"),
    ];
    let path = std::env::temp_dir().join(format!("scopegate-race-{}.json", Uuid::new_v4()));
    std::fs::write(&path, jwks_of(&[&keys[0]])).unwrap();
    let verifier = Arc::new(
        Verifier::builder(JwksSource::File(path.clone()))
            .audience(AUDIENCE)
            .cache_entries(16)
            .load()
            .await
            .unwrap(),
    );
    const ROUNDS: usize = 40;
    const THREADS: usize = 4;
    let mut violations = Vec::new();
    for round in 0..ROUNDS {
        let (current, next) = (&keys[round % 2], &keys[(round + 1) % 2]);
        let tokens: Arc<Vec<String>> = Arc::new(
            (0..48)
                .map(|_| current.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap())
                .collect(),
        );
        let swapped = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (verifier, tokens) = (verifier.clone(), tokens.clone());
                let (swapped, stop) = (swapped.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut bad = 0usize;
                    let mut i = t;
                    while !stop.load(Ordering::SeqCst) {
                        // Read the flag before verifying: a verification that
                        // started after the swap returned must fail.
                        let after = swapped.load(Ordering::SeqCst);
                        let ok = verifier.verify(&tokens[i % tokens.len()]).is_ok();
                        if after && ok {
                            bad += 1;
                        }
                        i += THREADS;
                    }
                    bad
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(15));
        std::fs::write(&path, jwks_of(&[next])).unwrap();
        assert!(verifier.refresh_keys().await.unwrap(), "round {round}");
        swapped.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(15));
        stop.store(true, Ordering::SeqCst);
        let during: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        let after = tokens.iter().filter(|t| verifier.verify(t).is_ok()).count();
        if during + after > 0 {
            violations.push((round, during, after));
        }
    }
    std::fs::remove_file(path).unwrap();
    assert!(
        violations.is_empty(),
        "tokens of a removed key verified after the swap (round, during, after): {violations:?}"
    );
}

/// A JWKS file, removed when dropped.
struct JwksFile(std::path::PathBuf);

impl JwksFile {
    fn new(document: &str) -> JwksFile {
        let path = std::env::temp_dir().join(format!("scopegate-jwks-{}.json", Uuid::new_v4()));
        std::fs::write(&path, document).unwrap();
        JwksFile(path)
    }

    fn source(&self) -> JwksSource {
        JwksSource::File(self.0.clone())
    }

    fn write(&self, document: &str) {
        std::fs::write(&self.0, document).unwrap();
    }
}

impl Drop for JwksFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Issue 9, item 5: the scheduled refresh starts with `load()`, without the
/// user remembering to start it, and ends when the verifier is dropped.
#[actix_web::test]
async fn scheduled_refresh_starts_by_itself_and_ends_with_the_verifier() {
    let (a, b) = (
        issuer("ed25519_private.pem"),
        issuer("ed25519_b_private.pem"),
    );
    let upstream = Upstream::start(jwks_of(&[&a]));
    // Early refreshes are rate-limited to one an hour: only the schedule can
    // pick up the new key.
    let verifier = Arc::new(
        Verifier::builder(JwksSource::parse(&upstream.url))
            .audience(AUDIENCE)
            .jwks_refresh(Duration::from_millis(300))
            .jwks_min_retry(Duration::from_secs(3600))
            .load()
            .await
            .unwrap(),
    );
    upstream.publish(jwks_of(&[&a, &b]));
    actix_web::rt::time::sleep(Duration::from_millis(1200)).await;
    let token_b = b.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    assert_eq!(call(&verifier, &token_b).await.0, 200);
    assert!(upstream.fetches() >= 3, "{} fetches", upstream.fetches());

    drop(verifier);
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    let after_drop = upstream.fetches();
    actix_web::rt::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        upstream.fetches(),
        after_drop,
        "the refresh outlived its verifier"
    );
    upstream.handle.stop(false).await;
}

/// The scheduled refresh also runs under a plain tokio runtime.
#[tokio::test]
async fn scheduled_refresh_runs_under_tokio_test() {
    let (a, b) = (
        issuer("ed25519_private.pem"),
        issuer("ed25519_b_private.pem"),
    );
    let file = JwksFile::new(&jwks_of(&[&a]));
    let verifier = Verifier::builder(file.source())
        .audience(AUDIENCE)
        .jwks_refresh(Duration::from_millis(200))
        .jwks_min_retry(Duration::from_secs(3600))
        .load()
        .await
        .unwrap();
    let token_b = b.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    assert_eq!(
        verifier.verify(&token_b).unwrap_err(),
        scopegate::InvalidReason::UnknownKey
    );
    file.write(&jwks_of(&[&a, &b]));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(verifier.verify(&token_b).is_ok());
}

/// Issue 9, item 5: when no fetch has succeeded for the maximum stale age,
/// the keys are dropped, so taking the JWKS source down cannot keep a
/// removed key alive forever. Cached tokens stop too.
#[actix_web::test]
async fn keys_older_than_the_maximum_stale_age_are_dropped() {
    let a = issuer("ed25519_private.pem");
    let file = JwksFile::new(&jwks_of(&[&a]));
    let verifier = Arc::new(
        Verifier::builder(file.source())
            .audience(AUDIENCE)
            .jwks_refresh(Duration::from_millis(200))
            .jwks_min_retry(Duration::from_millis(200))
            .jwks_max_stale(Duration::from_millis(1500))
            .load()
            .await
            .unwrap(),
    );
    let token = a.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    assert_eq!(call(&verifier, &token).await.0, 200);
    assert_eq!(verifier.cached_tokens(), 1);
    // The source goes away: the last good keys stay in use for a while...
    std::fs::remove_file(&file.0).unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(call(&verifier, &token).await.0, 200);
    // ...but not past the maximum stale age (checked after each failed
    // fetch, every minimum retry gap). The refusal says there are no keys.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        call(&verifier, &token).await,
        (401, "Invalid auth token: signing keys unavailable".into())
    );
    // When the source is back, so are the keys.
    file.write(&jwks_of(&[&a]));
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(call(&verifier, &token).await.0, 200);
}

#[actix_web::test]
async fn maximum_stale_age_must_cover_the_refresh_interval() {
    let err = Verifier::builder(JwksSource::parse("/nonexistent/jwks.json"))
        .audience(AUDIENCE)
        .jwks_refresh(Duration::from_secs(3600))
        .jwks_max_stale(Duration::from_secs(600))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("jwks_max_stale"), "{err}");
}

/// Issue 9, item 5: a JWKS file is capped at 1 MiB, like a URL, and is never
/// read whole first.
#[actix_web::test]
async fn jwks_files_are_capped_at_one_mebibyte() {
    let a = issuer("ed25519_private.pem");
    let mut jwks: serde_json::Value = serde_json::from_str(&jwks_of(&[&a])).unwrap();
    jwks["keys"][0]["x-padding"] = "p".repeat(2 << 20).into();
    let file = JwksFile::new(&jwks.to_string());
    let err = Verifier::builder(file.source())
        .audience(AUDIENCE)
        .load()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("larger than 1048576 bytes"),
        "{err}"
    );
    // An endless file is refused after 1 MiB, not read until memory runs out.
    let err = Verifier::builder(JwksSource::File("/dev/zero".into()))
        .audience(AUDIENCE)
        .load()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("larger than 1048576 bytes"),
        "{err}"
    );
}
