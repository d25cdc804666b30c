//! Groups across files (issue 25) in a real build: editing a group's own
//! file recompiles the group that includes it, so its `ROUTES` (and
//! `configure`, and `openapi()`) are never stale. A small crate generated
//! under `target/tests/include-tracking/`, built and run with cargo in
//! trybuild's target directory (whose dependencies trybuild has already
//! compiled), as `tests/scopegate_toml.rs` does for `scopegate.toml`.

#[path = "support/fixture_crate.rs"]
mod fixture_crate;

use fixture_crate::FixtureCrate;

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
    let fixture = FixtureCrate::new("include-tracking", "include-tracking");
    fixture.write("src/main.rs", MAIN);
    let run = |what: &str| -> Vec<String> {
        let (out, secs) = fixture.cargo("run");
        eprintln!("{what}: cargo run in {secs:.1} s");
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

    fixture.write("src/items.rs", &items(false));
    assert_eq!(run("one route"), ["GET /api/items/<item_id>"]);

    // Only the included group's file changes; the including group's
    // `ROUTES` follows.
    fixture.write("src/items.rs", &items(true));
    assert_eq!(
        run("a route added to the included file"),
        ["GET /api/items/<item_id>", "DELETE /api/items/<item_id>"]
    );

    fixture.write("src/items.rs", &items(false));
    assert_eq!(run("the route removed again"), ["GET /api/items/<item_id>"]);
}
