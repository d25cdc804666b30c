//! The README's Rust examples written in the ledger's words (permissions,
//! `any(..)`, guards) compile here, where `scopegate.toml` declares those
//! words: the workspace's root crate, which compiles the README's other
//! examples, keeps Airflow's (issue 24). Each such example is a
//! ```` ```rust,ignore ```` block right after the line `MARKER` in
//! README.md; this copies them, as plain `rust` blocks, to
//! `$OUT_DIR/readme_ledger.md`, which `src/lib.rs` makes doctests.

use std::path::Path;

const MARKER: &str = "<!-- compiled in examples/ledger, in its words -->";

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).unwrap_or_default();
    let mut out = String::new();
    let (mut marked, mut inside) = (false, false);
    for line in text.lines() {
        if inside {
            if line.starts_with("```") {
                out.push_str("```\n\n");
                inside = false;
            } else {
                out.push_str(line);
                out.push('\n');
            }
        } else if line.trim() == MARKER {
            marked = true;
        } else if marked && line.starts_with("```rust") {
            out.push_str("```rust\n");
            inside = true;
            marked = false;
        } else {
            marked = false;
        }
    }
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("readme_ledger.md"), out).expect("OUT_DIR is writable");
}
