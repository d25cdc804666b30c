//! Compile-time checks of `#[route]` and `#[routes]`: every `*-fail.rs`
//! case must fail with exactly the diagnostics in its `.stderr`, and every
//! `*-ok.rs` case must build and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*-fail.rs");
    t.pass("tests/ui/*-ok.rs");
}
