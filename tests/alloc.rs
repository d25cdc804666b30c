//! `RoutePolicy::check` makes no heap allocation when the token passes.
//! Proven with a counting global allocator (its own test binary, so the
//! allocator only counts this file's work; counts are per thread).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use actix_web::test::TestRequest;
use common::now;
use scopegate::testing::TestAuth;
use scopegate::{Owner, RoutePolicy, TokenType, TokenTypes};
use uuid::Uuid;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

static RUN: RoutePolicy = RoutePolicy::protected(
    TokenTypes::only(TokenType::EXECUTION).with(TokenType::WORKLOAD),
    &[
        Owner::new("ti:self", "task_instance_id", "task instance ID"),
        Owner::new("ct:self", "connection_test_id", "connection test ID"),
    ],
);

#[test]
fn policy_check_does_not_allocate_on_success() {
    let sub = Uuid::new_v4();
    let auth = TestAuth::new();
    let claims = auth.verifier().verify(&auth.workload(sub)).unwrap();
    let upper = sub.to_string().to_uppercase();
    let req = TestRequest::default()
        .param("task_instance_id", upper)
        .param("connection_test_id", sub.to_string())
        .to_http_request();
    let path = req.match_info();

    let before = allocations();
    for _ in 0..1000 {
        assert!(RUN.check(&claims, path).is_ok());
    }
    assert_eq!(allocations() - before, 0);

    // The counter does count: a refusal builds an error, and a String does too.
    let other = TestRequest::default()
        .param("task_instance_id", Uuid::new_v4().to_string())
        .to_http_request();
    let before = allocations();
    let err = RUN.check(&claims, other.match_info()).unwrap_err();
    let _message = err.to_string();
    assert!(allocations() > before);
}

/// The per-request record and its "allowed" marker (issue 9): once a
/// request carries its verification result, running the policy again,
/// marking the request allowed, and handing the token to the handler
/// (`TiToken`, `authorized_claims`) make no heap allocation. A whole
/// `Enforce::check` on a cache hit costs only the record's slot in the
/// request's extensions.
#[test]
fn allowed_marker_and_token_extraction_do_not_allocate() {
    use actix_web::FromRequest as _;
    use scopegate::{authorized_claims, Enforce, TiToken};

    let auth = TestAuth::new();
    let verifier = auth.verifier();
    let sub = Uuid::new_v4();
    let token = auth.workload(sub);
    verifier.verify(&token).unwrap(); // now a cache hit
    let request = || {
        TestRequest::default()
            .app_data(verifier.clone())
            .param("task_instance_id", sub.to_string())
            .param("connection_test_id", sub.to_string())
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_srv_request()
    };
    let enforce = Enforce::new(&RUN);

    let req = request();
    let before = allocations();
    enforce.check(&req).unwrap();
    let first = allocations() - before;
    assert!(first <= 2, "{first} allocations for a cache-hit check");

    let before = allocations();
    for _ in 0..1000 {
        enforce.check(&req).unwrap();
        let token = TiToken::extract(req.request()).into_inner().unwrap();
        assert_eq!(token.id, sub);
        assert!(authorized_claims(req.request()).is_some());
    }
    assert_eq!(allocations() - before, 0);
    assert_eq!(verifier.verifications(), 1, "one signature check in all");
}

/// A cache hit, with a deny-list of 10,000 revoked tokens and 10,000
/// revoked refresh chains consulted on the way (issue 9, item 8; issue 18),
/// and the maximum session age a deny-list requires, is still lookups and
/// comparisons only: no heap allocation.
#[test]
fn a_cache_hit_with_a_deny_list_does_not_allocate() {
    use scopegate::MemoryDenyList;
    use std::sync::Arc;

    let revoked = Arc::new(MemoryDenyList::new());
    for i in 0..10_000 {
        revoked.revoke(&format!("revoked-{i}"), now() + 600);
        revoked.revoke_chain(&format!("chain-{i}"), now() + 600);
    }
    let auth = TestAuth::new();
    let verifier = auth
        .verifier_builder()
        .deny_list(revoked)
        .max_session_age(std::time::Duration::from_secs(24 * 3600))
        .build()
        .unwrap();
    let token = auth.execution(Uuid::new_v4());
    verifier.verify(&token).unwrap();
    let before = allocations();
    for _ in 0..1000 {
        assert!(verifier.verify(&token).is_ok());
    }
    assert_eq!(allocations() - before, 0);
    assert_eq!(verifier.verifications(), 1);
}
