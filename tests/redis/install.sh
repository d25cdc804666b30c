#!/usr/bin/env bash
# Makes sure `redis-server` (and `redis-cli`) are on PATH: installs Debian's
# redis-server package when they are missing, as root, WITHOUT starting the
# system service (the tests start their own instances, each on a free port
# with its data in a temporary directory, and stop them by PID). Used by
# tests/redis.rs and tests/interop/run.sh. Exits non-zero when it cannot.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install.sh: redis-server is missing; install it as root: apt-get install -y redis-server" >&2
    exit 1
fi
echo "== installing redis-server (Debian package; its service is not started)" >&2
# invoke-rc.d asks policy-rc.d whether to start a package's service: 101
# says no. Only a policy of our own is put in place, and only it removed.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    ours=1
fi
status=0
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends redis-server >/dev/null; } || status=$?
if [ -n "$ours" ]; then
    rm -f "$policy"
fi
if [ "$status" -ne 0 ]; then
    echo "install.sh: apt-get install redis-server failed ($status)" >&2
    exit "$status"
fi
command -v redis-server >/dev/null
