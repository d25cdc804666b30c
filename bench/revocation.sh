#!/usr/bin/env bash
# How long a revocation takes to reach the other replica (SPEC §13: within
# 1 second): median and maximum over 100 revocations, from the exit of
# `execution_api revoke` to the first refusal.
#
#   bash bench/revocation.sh                     # 100 revocations: ~10 s
#   bash bench/revocation.sh --revocations 1000
#
# Installs redis-server (Debian's package, its service not started) when
# it is missing, builds the example in release, then runs
# bench/revocation.py, which starts its own redis-server and two replicas
# on free loopback ports and prints a Markdown table (bench/README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bash "$root/tests/redis/install.sh"
echo "== building the example (release)" >&2
(cd "$root" && cargo build --quiet --release --example execution_api)
exec python3 "$here/revocation.py" \
    --binary "${CARGO_TARGET_DIR:-$root/target}/release/examples/execution_api" "$@"
