//! Criterion benches for the auth hot path:
//! - HS512 verification of one token;
//! - the policy check (token type + one self-scope);
//! - one full request through `actix_web::test::call_service`, to a
//!   protected route and to a public route. The protected/public ratio is
//!   printed at the end, measured in the same run.

use std::time::{Duration, Instant};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{test, web, App, HttpResponse};
use criterion::{criterion_group, criterion_main, Criterion};
use scopegate::{
    Enforce, Issuer, RoutePolicy, SelfScope, SigningKey, TiToken, TokenType, TokenTypes,
    VerificationKey, Verifier,
};
use uuid::Uuid;

const SECRET: &[u8] = b"bench-secret";
const AUDIENCE: &str = "urn:airflow.apache.org:task";

static HEARTBEAT: RoutePolicy = RoutePolicy::protected(
    TokenTypes::EXECUTION_ONLY,
    &[SelfScope::new(
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
        .issue(sub, TokenType::Execution)
        .unwrap()
}

fn verification(c: &mut Criterion) {
    let v = verifier();
    let t = token(Uuid::new_v4());
    c.bench_function("verify/hs512", |b| {
        b.iter(|| v.verify(std::hint::black_box(&t)).unwrap())
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
    let app = rt.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(verifier()))
            .service(
                web::resource("/task-instances/{task_instance_id}/heartbeat")
                    .wrap(Enforce::new(&HEARTBEAT))
                    .put(|_: TiToken| async { HttpResponse::NoContent().finish() }),
            )
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::NoContent().finish() }),
            ),
    ));
    let protected_uri = format!("/task-instances/{sub}/heartbeat");
    let protected = || {
        let req = test::TestRequest::put()
            .uri(&protected_uri)
            .insert_header((AUTHORIZATION, bearer.as_str()))
            .to_request();
        rt.block_on(async {
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status(), 204);
        })
    };
    let public = || {
        let req = test::TestRequest::get().uri("/health").to_request();
        rt.block_on(async {
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status(), 204);
        })
    };

    let mut group = c.benchmark_group("request");
    group.bench_function("protected (hs512, ti:self)", |b| b.iter(protected));
    group.bench_function("public", |b| b.iter(public));
    group.finish();

    // Interleaved timing of both, so machine noise hits both sides alike.
    let rounds = 20;
    let per_round = 2_000;
    let (mut t_protected, mut t_public) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            protected();
        }
        t_protected += start.elapsed();
        let start = Instant::now();
        for _ in 0..per_round {
            public();
        }
        t_public += start.elapsed();
    }
    let n = f64::from(rounds * per_round);
    let (p, q) = (t_protected.as_secs_f64() / n, t_public.as_secs_f64() / n);
    println!(
        "\nfull request, same run, {} requests each: protected {:.2} µs, public {:.2} µs; \
         protected/public time ratio {:.2}x (throughput ratio {:.2})",
        rounds * per_round,
        p * 1e6,
        q * 1e6,
        p / q,
        q / p
    );
}

criterion_group!(benches, verification, policy_check, requests);
criterion_main!(benches);
