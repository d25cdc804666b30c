#!/usr/bin/env bash
# Instructions of one request through the same routes registered six ways
# (bench/routing.rs: before issue 21, actix scopes, a radix of scopes, a
# resource per path, scopegate's dispatcher, the route alone), counted by
# callgrind, for the example's routes and for generated APIs of 50, 200 and
# 1,000 routes (issue 21).
#
#   bash bench/routing.sh            # both tables: about 10 minutes
#   bash bench/routing.sh --help     # the driver's options
#
# Needs valgrind (bench/instructions.sh installs it). Builds the apps in
# release, then runs bench/routing.py, which prints Markdown tables on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
command -v valgrind >/dev/null || { echo "routing.sh: valgrind not found (bench/instructions.sh installs it)" >&2; exit 1; }
echo "== building the routing apps (release)" >&2
(cd "$root" && cargo build --quiet --release --features bench --example bench_routing)
exec python3 "$here/routing.py" --binary "${CARGO_TARGET_DIR:-$root/target}/release/examples/bench_routing" "$@"
