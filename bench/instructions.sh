#!/usr/bin/env bash
# Instructions per request of the example's app, counted by callgrind: the
# figure that holds across machines and under noise, where wall-clock
# ratios do not.
#
#   bash bench/instructions.sh                        # everything, a few minutes
#   bash bench/instructions.sh --keys hs512 --cache on  # a quick look
#   bash bench/instructions.sh --help                 # the driver's options
#   bash bench/instructions.sh --keys hs512 --cache on --deny-lists memory,redis
#                                                     # a cache hit with 10,000 revocations
#
# Installs valgrind from Debian's packages when missing, builds the bench
# server (bench/server.rs: the example's app with an unprotected twin of
# the protected route, `--features bench`) in release, then runs
# bench/instructions.py, which prints the Markdown tables of
# bench/README.md. Traffic goes to 127.0.0.1 only; every server is stopped
# by the script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

for tool in taskset python3 cargo; do
    command -v "$tool" >/dev/null || { echo "instructions.sh: $tool not found" >&2; exit 1; }
done

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
    echo "== installing valgrind (Debian package)" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "instructions.sh: valgrind is missing; install it as root: apt-get install -y valgrind" >&2
        exit 1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

case " $* " in
*redis*) bash "$root/tests/redis/install.sh" ;;
esac

echo "== building the bench server (release)" >&2
(cd "$root" && cargo build --quiet --release --features bench --example bench_server)
server="${CARGO_TARGET_DIR:-$root/target}/release/examples/bench_server"

exec python3 "$here/instructions.py" --server "$server" "$@"
