//! Groups across files (issue 25) in a real build: editing a group's own
//! file recompiles the group that includes it, so its `ROUTES` (and
//! `configure`, and `openapi()`) are never stale. A small crate generated
//! under `target/tests/include-tracking/`, built and run with cargo in
//! trybuild's target directory (whose dependencies trybuild has already
//! compiled), as `tests/scopegate_toml.rs` does for `scopegate.toml`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The workspace's target directory, from this test binary's location
/// (`<target>/<profile>/deps/include_recompile-*`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// The including group: it prints its `ROUTES`.
const MAIN: &str = r#"
use scopegate::routes;

mod items;

#[routes(prefix = "/api", include = [items::items])]
mod api {
    use actix_web::HttpResponse;
}

fn main() {
    let _ = actix_web::App::new().configure(api::configure);
    for route in api::ROUTES {
        println!("{} {}", route.method, route.path);
    }
}
"#;

/// The included group, in its own file, with one route or two.
fn items(second: bool) -> String {
    let second = if second {
        r#"
    #[route(delete, "/<item_id>")]
    pub async fn delete_item() -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
"#
    } else {
        ""
    };
    format!(
        r#"use scopegate::routes;

#[routes(prefix = "/items", included)]
pub mod items {{
    use super::*;

    #[route(get, "/<item_id>")]
    pub async fn get_item() -> HttpResponse {{
        HttpResponse::Ok().finish()
    }}
{second}}}
"#
    )
}

#[test]
fn editing_an_included_groups_file_rebuilds_the_including_group() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = target_dir().join("tests/include-tracking");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "include-tracking"
version = "0.0.0"
edition = "2021"
publish = false

# Its own workspace, so the main workspace ignores this crate.
[workspace]

[dependencies]
scopegate = {{ path = {runtime:?} }}
actix-web = {{ version = "4.11", default-features = false, features = ["macros", "unicode"] }}
"#,
        runtime = root.join("runtime").display().to_string(),
    );
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        // Only when it changes, so that cargo's freshness check sees the
        // same file as the last run.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(path, text).unwrap();
        }
    };
    write("Cargo.toml", &manifest);
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    write("src/main.rs", MAIN);
    let run = |what: &str| -> Vec<String> {
        let start = Instant::now();
        let out = Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir().join("tests/trybuild"))
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo");
        eprintln!(
            "{what}: cargo run in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };

    write("src/items.rs", &items(false));
    assert_eq!(run("one route"), ["GET /api/items/<item_id>"]);

    // Only the included group's file changes; the including group's
    // `ROUTES` follows.
    write("src/items.rs", &items(true));
    assert_eq!(
        run("a route added to the included file"),
        ["GET /api/items/<item_id>", "DELETE /api/items/<item_id>"]
    );

    write("src/items.rs", &items(false));
    assert_eq!(run("the route removed again"), ["GET /api/items/<item_id>"]);
}
