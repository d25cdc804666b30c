#!/usr/bin/env bash
# Soak run: 60 s of wrk at saturation against the example server, with four
# kinds of traffic at once (distinct valid, expired, forged and wrong-type
# tokens). Reports: 5xx count (must be 0), whether every forged or expired
# request was refused with 401, and the server's RSS at the start and at the
# end (the verified-token cache must keep it flat while 50k distinct valid
# tokens churn through its 16k entries).
#
#   bench/soak.sh [SECONDS]     (default 60)
#
# Loopback only. Server pinned to core 0, the wrk processes to core 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
duration="${1:-60}"
work="$(mktemp -d)"
trap 'kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
venv="$here/soak/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check PyJWT==2.15.1

echo "== building the example (release)"
(cd "$root" && cargo build --quiet --release --example execution_api)
bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/execution_api"

secret="soak-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "== minting tokens"
"$venv/bin/python" "$here/soak/mint.py" "$secret" "$work" 50000

SCOPEGATE_JWT_SECRET="$secret" taskset -c 0 "$bin" serve --bind 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["listening"])' "$work/serve.out")"
path="${base#http://*/}"; path="/${path}variables/soak"
host="${base%/execution/}"
# Seed the variable so valid requests answer 200.
valid_one="$(head -1 "$work/valid.txt")"
curl -sf -X PUT "$host$path" -H "Authorization: Bearer $valid_one" -H 'Content-Type: application/json' \
    -d '{"val": "soak"}' >/dev/null

rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
# Warm up, so the start figure includes the allocator's steady state.
TOKENS_FILE="$work/valid.txt" TARGET_PATH="$path" taskset -c 1 wrk -t1 -c16 -d3s -s "$here/soak/soak.lua" "$host" >/dev/null
rss_start=$(rss)
echo "== soak: ${duration}s, server pid $server_pid, RSS at start ${rss_start} KiB"

for kind in valid expired forged wrongtype; do
    TOKENS_FILE="$work/$kind.txt" TARGET_PATH="$path" taskset -c 1 \
        wrk -t1 -c16 -d"${duration}s" -s "$here/soak/soak.lua" "$host" >"$work/wrk-$kind.out" 2>&1 &
done
mid=""
sleep $((duration / 2)); mid=$(rss)
wait %2 %3 %4 %5 2>/dev/null || wait
rss_end=$(rss)

fail=0
total=0
for kind in valid expired forged wrongtype; do
    line="$(grep STATUSES "$work/wrk-$kind.out" || true)"
    rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$kind.out")"
    echo "$kind: ${line#STATUSES } (${rps} req/s)"
    json="${line#STATUSES }"; json="${json% socket_errors*}"
    n=$(python3 -c 'import json,sys; print(sum(json.loads(sys.argv[1]).values()))' "$json")
    total=$((total + n))
    fivexx=$(python3 -c 'import json,sys; print(sum(v for k,v in json.loads(sys.argv[1]).items() if k.startswith("5")))' "$json")
    [ "$fivexx" = 0 ] || { echo "  FAIL: $fivexx responses were 5xx"; fail=1; }
    case "$kind" in
        valid) want=200 ;; expired|forged) want=401 ;; wrongtype) want=403 ;;
    esac
    other=$(python3 -c 'import json,sys; print(sum(v for k,v in json.loads(sys.argv[1]).items() if k != sys.argv[2]))' "$json" "$want")
    [ "$other" = 0 ] || { echo "  FAIL: $other responses were not $want"; fail=1; }
done
echo "total requests: $total in ${duration}s"
echo "server RSS: start ${rss_start} KiB, middle ${mid} KiB, end ${rss_end} KiB"
[ "$fail" = 0 ] && echo "soak: PASS (no 5xx; every expired and forged token refused with 401)" || { echo "soak: FAIL"; exit 1; }
