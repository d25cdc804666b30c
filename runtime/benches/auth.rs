//! Criterion benches for the auth hot path:
//! - verification of one token, HS512, RS512, ES256 and EdDSA, cold (cache
//!   off) and as a verified-token cache hit;
//! - a cold verification against jsonwebtoken's bare `decode` of the same
//!   token, RS512, ES256 and EdDSA, with the ratios printed;
//! - a cold verification (ES256, an identity provider's usual key) with
//!   the keys found by OpenID Connect discovery, against the same keys from
//!   a JWKS URL, and through a verifier that trusts three issuers, once the
//!   keys are loaded, with the ratios printed;
//! - a cache hit with a 10,000-entry deny-list consulted;
//! - the policy check (token type + one self-scope);
//! - one full request through `actix_web::test::call_service`, to a
//!   protected route and to a public route. The protected/public ratio is
//!   printed at the end, measured in the same run.

use std::time::{Duration, Instant};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse};
use criterion::{criterion_group, criterion_main, Criterion};
use scopegate::{
    Enforce, Issuer, JwksSource, MemoryDenyList, Owner, RoutePolicy, SigningKey, TiToken,
    TokenType, TokenTypes, TrustedIssuer, VerificationKey, Verifier,
};
use uuid::Uuid;

const SECRET: &[u8] = b"bench-secret-of-64-bytes-or-more-as-rfc-7518-asks-for-hs512-keys";
const AUDIENCE: &str = "urn:airflow.apache.org:task";

static HEARTBEAT: RoutePolicy = RoutePolicy::protected(
    TokenTypes::EXECUTION_ONLY,
    &[Owner::new(
        "ti:self",
        "task_instance_id",
        "task instance ID",
    )],
);

fn verifier() -> Verifier {
    Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

fn token(sub: Uuid) -> String {
    Issuer::builder(SigningKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap()
        .issue(sub, TokenType::EXECUTION)
        .unwrap()
}

fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Verification per algorithm, cold (cache off: a full signature check) and
/// as a cache hit (the same token again).
fn verification(c: &mut Criterion) {
    let pairs: [(&str, SigningKey, VerificationKey); 4] = [
        (
            "hs512",
            SigningKey::secret(SECRET).unwrap(),
            VerificationKey::secret(SECRET).unwrap(),
        ),
        (
            "rs512",
            SigningKey::rsa_pem(&key("rsa_private.pem")).unwrap(),
            VerificationKey::rsa_pem(&key("rsa_public.pem")).unwrap(),
        ),
        (
            "es256",
            SigningKey::ec_pem(&key("ec_p256_private.pem")).unwrap(),
            VerificationKey::ec_pem(&key("ec_p256_public.pem")).unwrap(),
        ),
        (
            "eddsa",
            SigningKey::ed_pem(&key("ed25519_private.pem")).unwrap(),
            VerificationKey::ed_pem(&key("ed25519_public.pem")).unwrap(),
        ),
    ];
    let mut group = c.benchmark_group("verify");
    for (name, signing, verifying) in pairs {
        let token = Issuer::builder(signing)
            .audience(AUDIENCE)
            .build()
            .unwrap()
            .issue(Uuid::new_v4(), TokenType::EXECUTION)
            .unwrap();
        let cold = Verifier::builder(verifying.clone())
            .audience(AUDIENCE)
            .cache_entries(0)
            .build()
            .unwrap();
        let cached = Verifier::builder(verifying)
            .audience(AUDIENCE)
            .build()
            .unwrap();
        group.bench_function(format!("{name}/cold"), |b| {
            b.iter(|| cold.verify(std::hint::black_box(&token)).unwrap())
        });
        group.bench_function(format!("{name}/cache hit"), |b| {
            b.iter(|| cached.verify(std::hint::black_box(&token)).unwrap())
        });
    }
    group.finish();
}

/// A cache hit with a deny-list of 10,000 revoked tokens consulted on the
/// way, next to a plain cache hit: revocation must stay a hash lookup.
fn revocation(c: &mut Criterion) {
    let revoked = std::sync::Arc::new(MemoryDenyList::new());
    let exp = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
        + 3600;
    for i in 0..10_000 {
        revoked.revoke(&format!("revoked-{i}"), exp);
    }
    let with_list = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
        .audience(AUDIENCE)
        .deny_list(revoked)
        .max_session_age(std::time::Duration::from_secs(24 * 3600))
        .build()
        .unwrap();
    let token = token(Uuid::new_v4());
    with_list.verify(&token).unwrap();
    c.bench_function("verify/hs512/cache hit + deny list (10k)", |b| {
        b.iter(|| with_list.verify(std::hint::black_box(&token)).unwrap())
    });
}

fn policy_check(c: &mut Criterion) {
    let sub = Uuid::new_v4();
    let claims = verifier().verify(&token(sub)).unwrap();
    let req = test::TestRequest::default()
        .param("task_instance_id", sub.to_string())
        .to_http_request();
    c.bench_function("policy/check ti:self", |b| {
        b.iter(|| {
            HEARTBEAT
                .check(std::hint::black_box(&claims), req.match_info())
                .unwrap()
        })
    });
}

fn requests(c: &mut Criterion) {
    let rt = actix_web::rt::System::new();
    let sub = Uuid::new_v4();
    let bearer = format!("Bearer {}", token(sub));
    let app = |cache_entries: usize| {
        let verifier = Verifier::builder(VerificationKey::secret(SECRET).unwrap())
            .audience(AUDIENCE)
            .cache_entries(cache_entries)
            .build()
            .unwrap();
        rt.block_on(test::init_service(
            App::new()
                .app_data(web::Data::new(verifier))
                .service(
                    web::resource("/task-instances/{task_instance_id}/heartbeat")
                        .wrap(Enforce::new(&HEARTBEAT))
                        .put(|_: TiToken| async { HttpResponse::NoContent().finish() }),
                )
                // The same path shape without a policy: separates the cost of
                // auth from the cost of matching a dynamic path.
                .route(
                    "/open/{task_instance_id}/heartbeat",
                    web::put().to(|| async { HttpResponse::NoContent().finish() }),
                )
                .route(
                    "/health",
                    web::get().to(|| async { HttpResponse::NoContent().finish() }),
                ),
        ))
    };
    // [cache on, cache off]
    let apps = [app(16 * 1024), app(0)];
    let (cached, cold) = (0, 1);
    let protected_uri = format!("/task-instances/{sub}/heartbeat");
    let protected = |i: usize| {
        let req = test::TestRequest::put()
            .uri(&protected_uri)
            .insert_header((AUTHORIZATION, bearer.as_str()))
            .to_request();
        rt.block_on(async {
            let res = test::call_service(&apps[i], req).await;
            assert_eq!(res.status(), 204);
        })
    };
    let public = || {
        let req = test::TestRequest::get().uri("/health").to_request();
        rt.block_on(async {
            let res = test::call_service(&apps[cached], req).await;
            assert_eq!(res.status(), 204);
        })
    };

    let open_uri = format!("/open/{sub}/heartbeat");
    let open = || {
        let req = test::TestRequest::put()
            .uri(&open_uri)
            .insert_header((AUTHORIZATION, bearer.as_str()))
            .to_request();
        rt.block_on(async {
            let res = test::call_service(&apps[0], req).await;
            assert_eq!(res.status(), 204);
        })
    };
    let mut group = c.benchmark_group("request");
    group.bench_function("unprotected, same path shape", |b| b.iter(open));
    group.bench_function("protected hs512 ti:self, cache on", |b| {
        b.iter(|| protected(cached))
    });
    group.bench_function("protected hs512 ti:self, cache off", |b| {
        b.iter(|| protected(cold))
    });
    group.bench_function("public", |b| b.iter(public));
    group.finish();

    // Interleaved timing of all three, so machine noise hits each alike.
    let rounds = 20;
    let per_round = 2_000;
    let mut totals = [Duration::ZERO; 4];
    for _ in 0..rounds {
        let start = Instant::now();
        (0..per_round).for_each(|_| public());
        totals[0] += start.elapsed();
        let start = Instant::now();
        (0..per_round).for_each(|_| open());
        totals[3] += start.elapsed();
        let start = Instant::now();
        (0..per_round).for_each(|_| protected(cached));
        totals[1] += start.elapsed();
        let start = Instant::now();
        (0..per_round).for_each(|_| protected(cold));
        totals[2] += start.elapsed();
    }
    let n = f64::from(rounds * per_round);
    let [public, on, off, open] = totals.map(|t| t.as_secs_f64() / n * 1e6);
    println!(
        "\nfull request via call_service, same run, {} requests each:",
        rounds * per_round
    );
    println!("  public /health                     {public:6.2} µs");
    println!("  unprotected, same path shape       {open:6.2} µs");
    for (name, t) in [("protected, cache on ", on), ("protected, cache off", off)] {
        println!(
            "  {name} (HS512)      {t:6.2} µs   throughput vs public {:.2}, vs same path shape {:.2}",
            public / t,
            open / t
        );
    }
}

/// A cold verification (cache off) against jsonwebtoken's bare `decode` of
/// the same token with the same key, for each asymmetric key kind: both in
/// criterion, then interleaved rounds of both (so machine noise hits each
/// alike) with the ratio scopegate/jsonwebtoken printed. Target: <= 1.2.
fn cold_vs_jsonwebtoken(c: &mut Criterion) {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    type Map = serde_json::Map<String, serde_json::Value>;
    let cases: [(&str, SigningKey, VerificationKey, DecodingKey, Algorithm); 3] = [
        (
            "rs512",
            SigningKey::rsa_pem(&key("rsa_private.pem")).unwrap(),
            VerificationKey::rsa_pem(&key("rsa_public.pem")).unwrap(),
            DecodingKey::from_rsa_pem(&key("rsa_public.pem")).unwrap(),
            Algorithm::RS512,
        ),
        (
            "es256",
            SigningKey::ec_pem(&key("ec_p256_private.pem")).unwrap(),
            VerificationKey::ec_pem(&key("ec_p256_public.pem")).unwrap(),
            DecodingKey::from_ec_pem(&key("ec_p256_public.pem")).unwrap(),
            Algorithm::ES256,
        ),
        (
            "eddsa",
            SigningKey::ed_pem(&key("ed25519_private.pem")).unwrap(),
            VerificationKey::ed_pem(&key("ed25519_public.pem")).unwrap(),
            DecodingKey::from_ed_pem(&key("ed25519_public.pem")).unwrap(),
            Algorithm::EdDSA,
        ),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(name, signing, verifying, decoding, alg)| {
            let token = Issuer::builder(signing)
                .audience(AUDIENCE)
                .build()
                .unwrap()
                .issue(Uuid::new_v4(), TokenType::EXECUTION)
                .unwrap();
            let cold = Verifier::builder(verifying)
                .audience(AUDIENCE)
                .cache_entries(0)
                .build()
                .unwrap();
            let mut validation = Validation::new(alg);
            validation.set_audience(&[AUDIENCE]);
            (name, token, cold, decoding, validation)
        })
        .collect();
    let mut group = c.benchmark_group("cold vs jsonwebtoken");
    for (name, token, cold, decoding, validation) in &runs {
        group.bench_function(format!("{name}/scopegate cold verify"), |b| {
            b.iter(|| cold.verify(std::hint::black_box(token)).unwrap())
        });
        group.bench_function(format!("{name}/jsonwebtoken decode"), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map>(std::hint::black_box(token), decoding, validation)
                    .unwrap()
            })
        });
    }
    group.finish();

    println!("\ncold verify vs jsonwebtoken's bare decode, same run, interleaved:");
    for (name, token, cold, decoding, validation) in &runs {
        let (rounds, per_round) = (20, 200);
        let (mut ours, mut theirs) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..per_round {
                cold.verify(std::hint::black_box(token)).unwrap();
            }
            ours += start.elapsed();
            let start = Instant::now();
            for _ in 0..per_round {
                jsonwebtoken::decode::<Map>(std::hint::black_box(token), decoding, validation)
                    .unwrap();
            }
            theirs += start.elapsed();
        }
        let n = f64::from(rounds * per_round);
        let (ours, theirs) = (ours.as_secs_f64() / n * 1e6, theirs.as_secs_f64() / n * 1e6);
        let ratio = ours / theirs;
        println!(
            "  {name:6} scopegate {ours:8.2} µs   jsonwebtoken {theirs:8.2} µs   ratio {ratio:.2} ({})",
            if ratio <= 1.2 { "<= 1.2: met" } else { "> 1.2: missed" }
        );
    }
}

/// Serves `/.well-known/openid-configuration` (naming `issuer` and its
/// `/jwks`) and `/jwks` on 127.0.0.1, one connection at a time, for the
/// life of the bench; returns the issuer URL.
fn identity_provider(jwks: String) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let discovery =
        serde_json::json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")}).to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut request_line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let body = if request_line.contains("/.well-known/openid-configuration") {
                &discovery
            } else {
                &jwks
            };
            let mut stream = &stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    issuer
}

/// Cold verification (cache off) once the keys are loaded: an identity
/// provider's keys found by discovery against the same keys from a JWKS
/// URL (target: ratio <= 1.0 within noise), and a verifier of three
/// issuers (whose `iss` is read before the signature to pick the keys).
fn cold_through_discovery(c: &mut Criterion) {
    let probe = Issuer::builder(SigningKey::ec_pem(&key("ec_p256_private.pem")).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let jwks = serde_json::to_string(&probe.jwks()).unwrap();
    let issuer = identity_provider(jwks);
    let minter = Issuer::builder(SigningKey::ec_pem(&key("ec_p256_private.pem")).unwrap())
        .audience(AUDIENCE)
        .issuer(issuer.as_str())
        .build()
        .unwrap();
    let token = minter.issue(Uuid::new_v4(), TokenType::EXECUTION).unwrap();
    let secret = || VerificationKey::secret(SECRET).unwrap();
    let (discovery, jwks_url, three) = actix_web::rt::System::new().block_on(async {
        let discovery = Verifier::oidc(issuer.as_str())
            .audience(AUDIENCE)
            .cache_entries(0)
            .load()
            .await
            .unwrap();
        let jwks_url = Verifier::builder(JwksSource::Url(format!("{issuer}/jwks")))
            .audience(AUDIENCE)
            .issuer(issuer.as_str())
            .cache_entries(0)
            .load()
            .await
            .unwrap();
        let three = Verifier::builder(secret())
            .issuer("urn:example:own")
            .trust(TrustedIssuer::new("urn:example:partner", secret()))
            .trust(TrustedIssuer::oidc(issuer.as_str()))
            .audience(AUDIENCE)
            .cache_entries(0)
            .load()
            .await
            .unwrap();
        (discovery, jwks_url, three)
    });
    let runs = [
        ("JWKS URL", &jwks_url),
        ("discovery", &discovery),
        ("3 issuers, discovery last", &three),
    ];
    for (_, verifier) in runs {
        verifier.verify(&token).unwrap();
    }
    let mut group = c.benchmark_group("cold es256, keys loaded");
    for (name, verifier) in runs {
        group.bench_function(name, |b| {
            b.iter(|| verifier.verify(std::hint::black_box(&token)).unwrap())
        });
    }
    group.finish();

    // Many short interleaved rounds, each verifier in turn, and the median
    // of the per-round ratios: a burst of load from the machine's other
    // users lands on one round, not on one verifier.
    let (rounds, per_round) = (400, 10);
    let mut times = [const { Vec::new() }; 3];
    for round in 0..rounds {
        for i in 0..3 {
            // Rotate the order, so none always runs first.
            let i = (i + round) % 3;
            let verifier = runs[i].1;
            let start = Instant::now();
            for _ in 0..per_round {
                verifier.verify(std::hint::black_box(&token)).unwrap();
            }
            times[i].push(start.elapsed().as_secs_f64() / f64::from(per_round) * 1e6);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = |i: usize| median(times[i].iter().zip(&times[0]).map(|(t, u)| t / u).collect());
    let [url, disc, three] = times.clone().map(median);
    let (disc_ratio, three_ratio) = (ratio(1), ratio(2));
    println!("\ncold ES256 verify with the keys loaded, same run, {rounds} interleaved rounds (medians):");
    println!("  JWKS URL                   {url:8.2} µs");
    println!(
        "  discovery                  {disc:8.2} µs   ratio to the JWKS URL {disc_ratio:.3} ({})",
        if disc_ratio <= 1.02 {
            "no more, within 2%: met"
        } else {
            "more: missed"
        }
    );
    println!(
        "  3 issuers, discovery last  {three:8.2} µs   ratio to the JWKS URL {three_ratio:.3}"
    );
}

criterion_group!(
    benches,
    verification,
    cold_vs_jsonwebtoken,
    cold_through_discovery,
    revocation,
    policy_check,
    requests
);
criterion_main!(benches);
