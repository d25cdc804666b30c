#!/usr/bin/env python3
"""Instructions per request of the example server, counted by callgrind:
deterministic, so it compares two builds on a machine too noisy for wrk.

    cargo build --release --example execution_api
    python3 bench/instructions.py target/release/examples/execution_api after

Runs BINARY under `valgrind --tool=callgrind` pinned to core 0 (so actix
starts one worker), with a random 256-bit HS512 secret; seeds a variable,
warms up with 300 requests per route, then for each route zeroes the
counters (`callgrind_control -z`), sends 2,000 keep-alive requests and dumps
(`callgrind_control -d`) into a temporary directory, removed at the end.
Prints instructions per request of the public
`GET /execution/health` and of the protected `GET /execution/variables/<key>`
(an execution token, a verified-token cache hit). Loopback only; the server
is stopped at the end. Standard library only, plus valgrind.
"""

import glob
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

WARMUP = 300
REQUESTS = 2000


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, label = sys.argv[1], sys.argv[2]
    env = dict(os.environ, SCOPEGATE_JWT_SECRET=secrets.token_hex(32))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = tempfile.mkdtemp(prefix="scopegate-callgrind-")
    server = subprocess.Popen(
        ["taskset", "-c", "0", "valgrind", "--tool=callgrind",
         f"--callgrind-out-file={work}/callgrind.%p",
         binary, "serve", "--bind", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in server.stdout:
            if "listening" in line:
                break
        token = subprocess.run(
            [binary, "token", "--sub", str(uuid.uuid4()), "--type", "execution"],
            env=env, capture_output=True, text=True, check=True).stdout.strip()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        auth = {"Authorization": f"Bearer {token}"}

        def call(method, path, headers, body=None):
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            res.read()
            return res.status

        status = call("PUT", "/execution/variables/bench", {**auth, "Content-Type": "application/json"},
                      json.dumps({"val": "x"}))
        assert status == 201, status
        routes = {"public": ("/execution/health", {}),
                  "protected": ("/execution/variables/bench", auth)}
        for _ in range(WARMUP):
            for path, headers in routes.values():
                call("GET", path, headers)
        per_request = {}
        for name, (path, headers) in routes.items():
            subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True, check=True)
            for _ in range(REQUESTS):
                assert call("GET", path, headers) == 200
            subprocess.run(["callgrind_control", "-d", name, str(server.pid)], capture_output=True, check=True)
            time.sleep(1)
            dump = max(glob.glob(f"{work}/callgrind.*"), key=os.path.getmtime)
            total = re.search(r"^(?:summary|totals):\s+(\d+)", open(dump).read(), re.M)
            per_request[name] = int(total.group(1)) / REQUESTS
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    public, protected = per_request["public"], per_request["protected"]
    print(f"{label}: public {public:,.0f} instructions/request, protected {protected:,.0f}, "
          f"protected - public {protected - public:,.0f}, public/protected {public / protected:.3f}")


if __name__ == "__main__":
    main()
