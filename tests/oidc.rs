//! Identity providers (SPEC §12): OpenID Connect discovery against local
//! HTTP servers that play an identity provider (good, mismatched issuer,
//! oversize, slow, unreachable then reachable, redirects, plain http), and
//! a verifier that trusts several issuers, each with its own keys.
//! tests/interop/test_oidc.py does the same against a real provider.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse, HttpServer};
use common::*;
use scopegate::{
    ConfigError, Enforce, InvalidReason, Issuer, JwksSource, KeySetError, MemoryDenyList,
    PermissionFormat, Permissions, Reissue, RoutePolicy, SigningKey, Token, TokenType, TokenTypes,
    TrustedIssuer, VerificationKey, Verifier, REFRESHED_TOKEN_HEADER,
};
use serde_json::{json, Map};
use uuid::Uuid;

static ANY: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[],
);

/// An issuer of tokens for `iss`, signing with the Ed25519 key in `pem`
/// (with `kid` when given, else the key's thumbprint).
fn minter(iss: &str, pem: &str, kid: Option<&str>) -> Issuer {
    let mut builder = Issuer::builder(SigningKey::ed_pem(&key_file(pem)).unwrap())
        .audience(AUDIENCE)
        .issuer(iss);
    if let Some(kid) = kid {
        builder = builder.kid(kid);
    }
    builder.build().unwrap()
}

fn jwks_of(issuers: &[&Issuer]) -> String {
    let keys: Vec<_> = issuers.iter().flat_map(|i| i.jwks().keys).collect();
    serde_json::to_string(&scopegate::jwk::JwkSet { keys }).unwrap()
}

fn token(issuer: &Issuer) -> String {
    issuer.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap()
}

/// What a fake identity provider serves, changeable while it runs.
#[derive(Clone, Default)]
struct Served {
    /// The discovery document; `None`: a correct one for this server.
    discovery: Option<String>,
    jwks: String,
    /// Wait this long before answering the discovery document.
    delay: Duration,
    /// Answer the discovery document with this redirect instead.
    redirect: Option<String>,
}

/// A local identity provider on 127.0.0.1: discovery at
/// `/.well-known/openid-configuration`, keys at `/jwks`. Counts the
/// discovery fetches.
struct Idp {
    issuer: String,
    served: Arc<Mutex<Served>>,
    discoveries: Arc<AtomicUsize>,
    handle: ServerHandle,
}

impl Idp {
    fn start(jwks: String) -> Idp {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), jwks)
    }

    fn start_on(listener: TcpListener, jwks: String) -> Idp {
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(Mutex::new(Served {
            jwks,
            ..Served::default()
        }));
        let discoveries = Arc::new(AtomicUsize::new(0));
        let (state, count, iss) = (served.clone(), discoveries.clone(), issuer.clone());
        let server = HttpServer::new(move || {
            let (state, count, iss) = (state.clone(), count.clone(), iss.clone());
            let jwks_state = state.clone();
            App::new()
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        count.fetch_add(1, Ordering::SeqCst);
                        let served = state.lock().unwrap().clone();
                        let iss = iss.clone();
                        async move {
                            actix_web::rt::time::sleep(served.delay).await;
                            if let Some(to) = served.redirect {
                                return HttpResponse::Found()
                                    .insert_header(("location", to))
                                    .finish();
                            }
                            let body = served.discovery.unwrap_or_else(|| {
                                json!({"issuer": iss, "jwks_uri": format!("{iss}/jwks")})
                                    .to_string()
                            });
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(move || {
                        let body = jwks_state.lock().unwrap().jwks.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Idp {
            issuer,
            served,
            discoveries,
            handle,
        }
    }

    fn serve(&self, change: impl FnOnce(&mut Served)) {
        change(&mut self.served.lock().unwrap());
    }

    fn discoveries(&self) -> usize {
        self.discoveries.load(Ordering::SeqCst)
    }
}

/// Status and detail of one request with `token` through `Enforce`.
async fn call(verifier: &Arc<Verifier>, token: &str) -> (u16, String) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::from(verifier.clone()))
            .service(
                web::resource("/x")
                    .wrap(Enforce::new(&ANY))
                    .to(|t: Token| async move { HttpResponse::Ok().body(t.sub().to_owned()) }),
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

fn refused(reason: &str) -> (u16, String) {
    (401, format!("Invalid auth token: {reason}"))
}

async fn oidc(issuer: &str) -> Arc<Verifier> {
    Arc::new(
        Verifier::oidc(issuer)
            .audience(AUDIENCE)
            .jwks_min_retry(Duration::from_millis(200))
            .load()
            .await
            .unwrap(),
    )
}

/// The claims of `issuer`'s tokens, for tokens it would never write.
fn claims_of(iss: Option<&str>) -> Map<String, serde_json::Value> {
    let mut c = claims(Uuid::new_v4(), None);
    if let Some(iss) = iss {
        c.insert("iss".into(), iss.into());
    }
    c
}

fn ed_token(claims: &Map<String, serde_json::Value>, pem: &str, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.into());
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&key_file(pem)).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

// ---- discovery ----------------------------------------------------------------

#[actix_web::test]
async fn discovery_finds_the_keys_and_requires_iss() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let a = minter(&iss, "ed25519_private.pem", None);
    let idp = Idp::start_on(listener, jwks_of(&[&a]));
    let verifier = oidc(&idp.issuer).await;
    assert_eq!(idp.discoveries(), 1);
    assert_eq!(call(&verifier, &token(&a)).await.0, 200);
    // `iss` is required and compared exactly.
    let kid = a.kid().to_owned();
    let without = ed_token(&claims_of(None), "ed25519_private.pem", &kid);
    assert_eq!(
        call(&verifier, &without).await,
        refused("missing required claim 'iss'")
    );
    let slash = ed_token(
        &claims_of(Some(&format!("{iss}/"))),
        "ed25519_private.pem",
        &kid,
    );
    assert_eq!(call(&verifier, &slash).await, refused("invalid issuer"));
    // The audience still applies.
    let mut other = claims_of(Some(&iss));
    other.insert("aud".into(), "urn:someone-else".into());
    let other = ed_token(&other, "ed25519_private.pem", &kid);
    assert_eq!(call(&verifier, &other).await, refused("invalid audience"));
    idp.handle.stop(false).await;
}

#[actix_web::test]
async fn a_discovery_document_naming_another_issuer_is_refused_at_start_naming_both() {
    let idp = Idp::start(String::new());
    idp.serve(|s| {
        s.discovery = Some(
            json!({"issuer": "https://idp.example.com", "jwks_uri": "https://idp.example.com/jwks"})
                .to_string(),
        )
    });
    let err = Verifier::oidc(idp.issuer.as_str())
        .audience(AUDIENCE)
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConfigError::KeySet(KeySetError::IssuerMismatch { .. })),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("https://idp.example.com"), "{message}");
    assert!(message.contains(&idp.issuer), "{message}");
    idp.handle.stop(false).await;
}

/// The issuer is checked again on every discovery: a provider that starts
/// naming another issuer has its tokens refused (never accepted on keys from
/// such a document), and the log says why.
#[actix_web::test]
async fn the_issuer_is_checked_again_on_every_rediscovery() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let a = minter(&iss, "ed25519_private.pem", None);
    let idp = Idp::start_on(listener, jwks_of(&[&a]));
    let verifier = oidc(&idp.issuer).await;
    let t = token(&a);
    assert_eq!(call(&verifier, &t).await.0, 200);
    idp.serve(|s| {
        s.discovery = Some(
            json!({"issuer": "https://evil.example", "jwks_uri": format!("{iss}/jwks")})
                .to_string(),
        )
    });
    let (_guard, logs) = capture_logs();
    let err = verifier.refresh_keys().await.unwrap_err();
    assert!(err.is_misconfiguration(), "{err}");
    assert_eq!(
        call(&verifier, &t).await,
        refused("signing keys unavailable")
    );
    assert!(
        logs.text().contains("misconfigured key source"),
        "{}",
        logs.text()
    );
    assert!(
        logs.text().contains("https://evil.example"),
        "{}",
        logs.text()
    );
    // Fixed: accepted again.
    idp.serve(|s| s.discovery = None);
    verifier.refresh_keys().await.unwrap();
    assert_eq!(call(&verifier, &t).await.0, 200);
    idp.handle.stop(false).await;
}

#[actix_web::test]
async fn an_oversize_discovery_document_is_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let a = minter(&iss, "ed25519_private.pem", None);
    let idp = Idp::start_on(listener, jwks_of(&[&a]));
    let padding = "x".repeat(300 * 1024);
    idp.serve(|s| {
        s.discovery = Some(
            json!({"issuer": iss, "jwks_uri": format!("{iss}/jwks"), "padding": padding})
                .to_string(),
        )
    });
    // Unusable, not misconfigured: the start goes on, the tokens are
    // refused until a discovery succeeds.
    let verifier = oidc(&idp.issuer).await;
    let err = verifier.refresh_keys().await.unwrap_err();
    assert!(matches!(err, KeySetError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("262144 bytes"), "{err}");
    assert_eq!(
        call(&verifier, &token(&a)).await,
        refused("signing keys unavailable")
    );
    idp.handle.stop(false).await;
}

#[actix_web::test]
async fn a_slow_provider_is_cut_off_at_the_fetch_timeout() {
    let idp = Idp::start(String::new());
    idp.serve(|s| s.delay = Duration::from_secs(30));
    let started = Instant::now();
    let verifier = Verifier::oidc(idp.issuer.as_str())
        .audience(AUDIENCE)
        .fetch_timeout(Duration::from_millis(500))
        .load()
        .await
        .unwrap();
    let err = verifier.refresh_keys().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "two fetches of a 30 s answer took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, KeySetError::Http { .. }), "{err}");
    assert!(err.to_string().contains("timeout"), "{err}");
    idp.handle.stop(false).await;
}

/// Unreachable at start-up: the verifier starts, refuses the provider's
/// tokens with a reason and a warning, and retries until the provider
/// answers; then its tokens pass, without a restart.
#[actix_web::test]
async fn unreachable_at_start_then_reachable() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let iss = format!("http://{addr}");
    let a = minter(&iss, "ed25519_private.pem", None);
    let (guard, logs) = capture_logs();
    let verifier = oidc(&iss).await;
    drop(guard);
    assert!(
        logs.text()
            .contains("identity provider unreachable at start-up"),
        "{}",
        logs.text()
    );
    let t = token(&a);
    assert_eq!(
        call(&verifier, &t).await,
        refused("signing keys unavailable")
    );
    let idp = Idp::start_on(TcpListener::bind(addr).unwrap(), jwks_of(&[&a]));
    // The scheduled retry (every minimum retry gap, 200 ms) finds it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while verifier.verify(&t).is_err() {
        assert!(Instant::now() < deadline, "keys never arrived");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(idp.discoveries() >= 1);
    assert_eq!(call(&verifier, &t).await.0, 200);
    idp.handle.stop(false).await;
}

#[actix_web::test]
async fn discovery_is_https_only_off_loopback() {
    for url in ["http://idp.example.com", "http://10.0.0.1/realms/x"] {
        let err = Verifier::oidc(url).audience(AUDIENCE).build().unwrap_err();
        assert!(matches!(err, ConfigError::InvalidIssuerUrl { .. }), "{err}");
        assert!(err.to_string().contains("opt in"), "{err}");
        // Explicitly opted in (a sidecar, a test):
        assert!(Verifier::oidc(url)
            .audience(AUDIENCE)
            .insecure_http()
            .build()
            .is_ok());
    }
    for url in [
        "https://idp.example.com",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        assert!(
            Verifier::oidc(url).audience(AUDIENCE).build().is_ok(),
            "{url}"
        );
    }
    // A jwks_uri over plain http off loopback is a misconfiguration.
    let idp = Idp::start(String::new());
    let iss = idp.issuer.clone();
    idp.serve(|s| {
        s.discovery =
            Some(json!({"issuer": iss, "jwks_uri": "http://idp.example.com/jwks"}).to_string())
    });
    let err = Verifier::oidc(idp.issuer.as_str())
        .audience(AUDIENCE)
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::KeySet(KeySetError::InsecureJwksUri { .. })
        ),
        "{err}"
    );
    idp.handle.stop(false).await;
}

#[actix_web::test]
async fn a_redirect_never_changes_the_scheme() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let a = minter(&iss, "ed25519_private.pem", None);
    let idp = Idp::start_on(listener, jwks_of(&[&a]));
    // To https: refused, for discovery...
    idp.serve(|s| s.redirect = Some(format!("https://{}/jwks", &iss["http://".len()..])));
    let verifier = oidc(&iss).await;
    let err = verifier.refresh_keys().await.unwrap_err();
    assert!(
        err.to_string().contains("may not change the scheme"),
        "{err}"
    );
    // ...and for a JWKS URL.
    let jwks = Verifier::builder(JwksSource::parse(&format!(
        "{iss}/.well-known/openid-configuration"
    )))
    .audience(AUDIENCE)
    .load()
    .await
    .unwrap_err();
    assert!(
        jwks.to_string().contains("may not change the scheme"),
        "{jwks}"
    );
    // Within the scheme, a redirect is followed.
    idp.serve(|s| s.redirect = Some("/jwks".into()));
    let jwks = Verifier::builder(JwksSource::parse(&format!(
        "{iss}/.well-known/openid-configuration"
    )))
    .audience(AUDIENCE)
    .load()
    .await
    .unwrap();
    assert!(jwks.verify(&token(&a)).is_ok());
    idp.handle.stop(false).await;
}

/// JWKS keys of `kty: oct` (a secret must never be published, and a
/// published one could sign anything) and of `use: enc` are ignored.
#[actix_web::test]
async fn oct_and_encryption_keys_are_ignored() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let iss = format!("http://{}", listener.local_addr().unwrap());
    let a = minter(&iss, "ed25519_private.pem", None);
    let mut keys = json!([
        {"kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "alg": "HS256"},
    ]);
    let mut enc = serde_json::to_value(&a.jwks().keys[0]).unwrap();
    enc["kid"] = "enc".into();
    enc["use"] = "enc".into();
    keys.as_array_mut().unwrap().push(enc);
    keys.as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&a.jwks().keys[0]).unwrap());
    let idp = Idp::start_on(listener, json!({ "keys": keys }).to_string());
    let verifier = oidc(&iss).await;
    let hs = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("shared".into());
        let key =
            jsonwebtoken::EncodingKey::from_secret(b"secret-secret-secret-secret-secret").unwrap();
        jsonwebtoken::encode(&header, &claims_of(Some(&iss)), &key).unwrap()
    };
    assert_eq!(call(&verifier, &hs).await, refused("unknown key id"));
    let enc = ed_token(&claims_of(Some(&iss)), "ed25519_private.pem", "enc");
    assert_eq!(call(&verifier, &enc).await, refused("unknown key id"));
    assert_eq!(call(&verifier, &token(&a)).await.0, 200);
    idp.handle.stop(false).await;
}

// ---- several issuers ----------------------------------------------------------

struct Two {
    a: Issuer,
    b: Issuer,
    own: Issuer,
    idp_a: Idp,
    idp_b: Idp,
    verifier: Arc<Verifier>,
}

const OWN: &str = "urn:example:own";

/// Two identity providers whose keys share the `kid` "k1" (each its own
/// key), and this service's own secret.
async fn two_providers_and_a_secret() -> Two {
    let (la, lb) = (
        TcpListener::bind("127.0.0.1:0").unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let iss_a = format!("http://{}", la.local_addr().unwrap());
    let iss_b = format!("http://{}", lb.local_addr().unwrap());
    let a = minter(&iss_a, "ed25519_private.pem", Some("k1"));
    let b = minter(&iss_b, "ed25519_b_private.pem", Some("k1"));
    let own = Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .issuer(OWN)
        .build()
        .unwrap();
    let idp_a = Idp::start_on(la, jwks_of(&[&a]));
    let idp_b = Idp::start_on(lb, jwks_of(&[&b]));
    let verifier = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .issuer(OWN)
        .trust(TrustedIssuer::oidc(iss_a.as_str()))
        .trust(TrustedIssuer::oidc(iss_b.as_str()))
        .audience(AUDIENCE)
        .jwks_min_retry(Duration::from_millis(200))
        .load()
        .await
        .unwrap();
    Two {
        a,
        b,
        own,
        idp_a,
        idp_b,
        verifier: Arc::new(verifier),
    }
}

#[actix_web::test]
async fn each_trusted_issuer_verifies_its_own_tokens_and_a_stranger_is_untrusted() {
    let two = two_providers_and_a_secret().await;
    let v = &two.verifier;
    for issuer in [&two.a, &two.b, &two.own] {
        assert_eq!(call(v, &token(issuer)).await.0, 200);
    }
    // A third issuer: untrusted, whoever signed.
    let c = minter("https://third.example", "ed25519_private.pem", Some("k1"));
    assert_eq!(call(v, &token(&c)).await, refused("untrusted issuer"));
    // No iss at all, when several are trusted: refused.
    let none = ed_token(&claims_of(None), "ed25519_private.pem", "k1");
    assert_eq!(
        call(v, &none).await,
        refused("missing required claim 'iss'")
    );
    // A's key and kid, B's iss: checked with B's "k1" only, so refused.
    let iss_b = two.idp_b.issuer.clone();
    let forged = ed_token(&claims_of(Some(&iss_b)), "ed25519_private.pem", "k1");
    assert_eq!(call(v, &forged).await, refused("invalid signature"));
    // The own secret's iss with A's key: the secret's HS512 is pinned, so
    // the header's EdDSA is refused; the algorithm is the key's.
    let forged = ed_token(&claims_of(Some(OWN)), "ed25519_private.pem", "k1");
    assert_eq!(call(v, &forged).await, refused("algorithm not allowed"));
    assert_eq!(
        v.issuers().collect::<Vec<_>>(),
        [
            Some(OWN),
            Some(two.idp_a.issuer.as_str()),
            Some(iss_b.as_str())
        ]
    );
    two.idp_a.handle.stop(false).await;
    two.idp_b.handle.stop(false).await;
}

#[actix_web::test]
async fn several_issuers_need_distinct_iss_values() {
    let key = || VerificationKey::secret(SECRET).unwrap();
    let err = Verifier::builder(key())
        .trust(TrustedIssuer::new("urn:a", key()))
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::IssuerRequired), "{err}");
    let err = Verifier::builder(key())
        .issuer("urn:a")
        .trust(TrustedIssuer::new("urn:a", key()))
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::DuplicateIssuer(_)), "{err}");
    // Each issuer's audiences: its own, or the builder's.
    let err = Verifier::trusting(TrustedIssuer::new("urn:a", key()))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::NoAudience), "{err}");
    let v = Verifier::trusting(TrustedIssuer::new("urn:a", key()).audience("urn:only-a"))
        .trust(TrustedIssuer::new("urn:b", key()))
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let mint = |iss: &str, aud: &str| {
        let mut c = claims_of(Some(iss));
        c.insert("aud".into(), aud.into());
        hs512(&c)
    };
    assert!(v.verify(&mint("urn:a", "urn:only-a")).is_ok());
    assert_eq!(
        v.verify(&mint("urn:a", AUDIENCE)).unwrap_err(),
        InvalidReason::InvalidAudience
    );
    assert!(v.verify(&mint("urn:b", AUDIENCE)).is_ok());
    assert_eq!(
        v.verify(&mint("urn:b", "urn:only-a")).unwrap_err(),
        InvalidReason::InvalidAudience
    );
}

/// A rotation at one issuer cuts off its removed key's tokens, cached or
/// not, and leaves the other issuer's cached tokens cached.
#[actix_web::test]
async fn a_rotation_at_one_issuer_while_anothers_tokens_are_cached() {
    let two = two_providers_and_a_secret().await;
    let v = &two.verifier;
    let (ta, tb, town) = (token(&two.a), token(&two.b), token(&two.own));
    for t in [&ta, &tb, &town] {
        assert_eq!(call(v, t).await.0, 200);
    }
    assert_eq!(v.verifications(), 3);
    assert_eq!(v.cached_tokens(), 3);
    // A rotates: a new key under a new kid, the old one retired.
    let iss_a = two.idp_a.issuer.clone();
    let a2 = minter(&iss_a, "ed25519_b_private.pem", Some("k2"));
    two.idp_a.serve(|s| s.jwks = jwks_of(&[&a2]));
    assert!(v.refresh_keys().await.unwrap(), "A's keys changed");
    // A's old token: refused although it was cached.
    assert_eq!(call(v, &ta).await, refused("unknown key id"));
    assert_eq!(call(v, &token(&a2)).await.0, 200);
    // B's and the own token are still cache hits: no signature check.
    let before = v.verifications();
    assert_eq!(call(v, &tb).await.0, 200);
    assert_eq!(call(v, &town).await.0, 200);
    assert_eq!(
        v.verifications(),
        before,
        "B's and the own token were re-verified"
    );
    two.idp_a.handle.stop(false).await;
    two.idp_b.handle.stop(false).await;
}

#[actix_web::test]
async fn an_issuer_may_be_limited_to_the_types_it_grants() {
    let key = || VerificationKey::secret(SECRET).unwrap();
    let v = Verifier::builder(key())
        .issuer("urn:scheduler")
        .trust(
            TrustedIssuer::new("urn:partner", key()).grants(TokenTypes::only(TokenType::WORKLOAD)),
        )
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let mint = |iss: &str, scope: Option<&str>| {
        let mut c = claims(Uuid::new_v4(), scope);
        c.insert("iss".into(), iss.into());
        hs512(&c)
    };
    assert!(v.verify(&mint("urn:partner", Some("workload"))).is_ok());
    // More than it may grant: an execution token, explicit or by default,
    // and an unknown type.
    for scope in [Some("execution"), None, Some("admin")] {
        assert_eq!(
            v.verify(&mint("urn:partner", scope)).unwrap_err(),
            InvalidReason::TypeNotGranted,
            "{scope:?}"
        );
    }
    // The other issuer is not limited.
    assert!(v.verify(&mint("urn:scheduler", None)).is_ok());
    assert_eq!(
        scopegate::AuthError::InvalidToken(InvalidReason::TypeNotGranted).to_string(),
        "Invalid auth token: token type not granted by its issuer"
    );
}

#[actix_web::test]
async fn an_issuer_may_be_limited_to_the_permissions_it_grants() {
    static LEDGER: Permissions = Permissions::new(
        "scp",
        PermissionFormat::Space,
        &["reports:read", "entries:write", "ledger:admin"],
    );
    let key = || VerificationKey::secret(SECRET).unwrap();
    let v = Verifier::builder(key())
        .issuer("urn:ledger")
        .trust(
            TrustedIssuer::new("urn:partner", key())
                .grants_permissions(LEDGER.set_of(&["reports:read", "entries:write"])),
        )
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let mint = |iss: &str, scp: Option<serde_json::Value>| {
        let mut c = claims(Uuid::new_v4(), None);
        c.insert("iss".into(), iss.into());
        if let Some(scp) = scp {
            c.insert("scp".into(), scp);
        }
        hs512(&c)
    };
    // What it may grant, none of it, and names that are not the ledger's
    // permissions (an identity provider's own scopes) verify.
    for scp in [
        Some(json!("reports:read entries:write")),
        Some(json!("openid profile reports:read")),
        Some(json!("")),
        None,
    ] {
        assert!(
            v.verify(&mint("urn:partner", scp.clone())).is_ok(),
            "{scp:?}"
        );
    }
    // One permission more than it may grant is 401, whatever else is there.
    for scp in ["ledger:admin", "reports:read ledger:admin openid"] {
        assert_eq!(
            v.verify(&mint("urn:partner", Some(json!(scp))))
                .unwrap_err(),
            InvalidReason::PermissionNotGranted,
            "{scp}"
        );
    }
    // A claim it cannot read is not let through either.
    assert_eq!(
        v.verify(&mint("urn:partner", Some(json!(["ledger:admin"]))))
            .unwrap_err(),
        InvalidReason::MalformedClaim("scp")
    );
    // The service's own issuer is not limited.
    assert!(v
        .verify(&mint("urn:ledger", Some(json!("ledger:admin"))))
        .is_ok());
    assert_eq!(
        scopegate::AuthError::InvalidToken(InvalidReason::PermissionNotGranted).to_string(),
        "Invalid auth token: permission not granted by its issuer"
    );
}

#[actix_web::test]
async fn the_deny_list_is_keyed_by_issuer_and_jti() {
    let key = || VerificationKey::secret(SECRET).unwrap();
    let revoked = Arc::new(MemoryDenyList::new());
    let v = Verifier::builder(key())
        .issuer("urn:a")
        .trust(TrustedIssuer::new("urn:b", key()))
        .audience(AUDIENCE)
        .deny_list(revoked.clone())
        .max_session_age(Duration::from_secs(3600))
        .build()
        .unwrap();
    let mint = |iss: &str| {
        let mut c = claims(Uuid::new_v4(), None);
        c.insert("iss".into(), iss.into());
        c.insert("jti".into(), "same-jti".into());
        hs512(&c)
    };
    let (ta, tb) = (mint("urn:a"), mint("urn:b"));
    let claims_a = v.verify(&ta).unwrap();
    assert!(v.verify(&tb).is_ok());
    assert!(revoked.revoke_claims(&claims_a));
    // A's is refused, cached or not; B's, with the same jti (and so the
    // same chain, its own jti), is not.
    assert_eq!(v.verify(&ta).unwrap_err(), InvalidReason::Revoked);
    assert!(v.verify(&tb).is_ok());
    // revoke() with a jti alone revokes it at every issuer.
    revoked.revoke("same-jti", claims_a.exp);
    assert_eq!(v.verify(&tb).unwrap_err(), InvalidReason::Revoked);
}

/// Reissue re-mints only this service's own tokens: never an identity
/// provider's, never another service's from its JWKS, whatever their type
/// and lifetime.
#[actix_web::test]
async fn reissue_never_re_mints_a_token_of_another_issuer() {
    let two = two_providers_and_a_secret().await;
    // A third service publishing a JWKS (not an identity provider).
    let other_iss = "urn:example:other-service";
    let other = minter(other_iss, "ed25519_private.pem", Some("o1"));
    let jwks_path = std::env::temp_dir().join(format!("scopegate-oidc-{}.json", Uuid::new_v4()));
    std::fs::write(&jwks_path, jwks_of(&[&other])).unwrap();
    let verifier = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .issuer(OWN)
        .trust(TrustedIssuer::oidc(two.idp_a.issuer.as_str()))
        .trust(TrustedIssuer::new(
            other_iss,
            JwksSource::File(jwks_path.clone()),
        ))
        .audience(AUDIENCE)
        .load()
        .await
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier))
            .wrap(Reissue::new(two.own.clone()))
            .service(
                web::resource("/x")
                    .wrap(Enforce::new(&ANY))
                    .to(|_: Token| async { HttpResponse::Ok().finish() }),
            ),
    )
    .await;
    // Minted 590 s ago for 600 s: due for a refresh, whoever minted it.
    let near_expiry = |iss: &str| {
        let now = now();
        let mut c = claims(Uuid::new_v4(), None);
        c.insert("iat".into(), (now - 590).into());
        c.insert("nbf".into(), (now - 590).into());
        c.insert("exp".into(), (now + 10).into());
        c.insert("iss".into(), iss.into());
        c
    };
    let refreshed = |req: test::TestRequest| {
        let app = &app;
        async move {
            let res = test::call_service(app, req.to_request()).await;
            assert_eq!(res.status(), 200);
            res.headers().contains_key(REFRESHED_TOKEN_HEADER)
        }
    };
    // This service's own near-expiry token: refreshed.
    let own = hs512(&near_expiry(OWN));
    assert!(
        refreshed(
            test::TestRequest::get()
                .uri("/x")
                .insert_header((AUTHORIZATION, format!("Bearer {own}")))
        )
        .await
    );
    // The identity provider's and the other service's: never.
    for (issuer, pem, kid) in [
        (two.idp_a.issuer.as_str(), "ed25519_private.pem", "k1"),
        (other_iss, "ed25519_private.pem", "o1"),
    ] {
        let t = ed_token(&near_expiry(issuer), pem, kid);
        assert!(
            !refreshed(
                test::TestRequest::get()
                    .uri("/x")
                    .insert_header((AUTHORIZATION, format!("Bearer {t}")))
            )
            .await,
            "{issuer}'s token was re-minted"
        );
    }
    std::fs::remove_file(jwks_path).unwrap();
    two.idp_a.handle.stop(false).await;
    two.idp_b.handle.stop(false).await;
}
