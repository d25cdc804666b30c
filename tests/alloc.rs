//! `RoutePolicy::check` makes no heap allocation when the token passes.
//! Proven with a counting global allocator (its own test binary, so the
//! allocator only counts this file's work; counts are per thread).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use actix_web::test::TestRequest;
use common::*;
use scopegate::{RoutePolicy, SelfScope, TokenType, TokenTypes};
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
    TokenTypes::only(TokenType::Execution).with(TokenType::Workload),
    &[
        SelfScope::new("ti:self", "task_instance_id", "task instance ID"),
        SelfScope::new("ct:self", "connection_test_id", "connection test ID"),
    ],
);

#[test]
fn policy_check_does_not_allocate_on_success() {
    let sub = Uuid::new_v4();
    let claims = verifier()
        .verify(&hs512(&claims(sub, Some("workload"))))
        .unwrap();
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
