#!/usr/bin/env python3
"""Memory under a flood of maximal writes (issue 18, finding 7): starts the
example server (a built binary, `execution_api`), sends floods of writes an
execution token may send, and prints the server's resident memory (VmRSS,
from /proc) before and after each flood, with how each write was answered.

    cargo build --release --example execution_api
    python3 bench/flood.py target/release/examples/execution_api
    python3 bench/flood.py BINARY --xcoms 20 --xcom-bytes 1000000 \\
        --variables 10000 --variable-bytes 100000 [-- SERVE_ARGS...]

Floods, each on a fresh server so they do not add up:
- XComs: N posts of a JSON array of small integers of about B bytes (the
  shape that costs a JSON tree the most), each to its own key of one run;
- Variables: N puts of a string of B bytes, each to its own key.

Loopback only; the server is stopped by its PID at the end. Standard
library only.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import secrets
import subprocess
import sys
import time

DAG_RUN_TASK = "flood/manual__1/push"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Server:
    def __init__(self, binary: str, serve_args: list[str]):
        self.secret = secrets.token_hex(32)  # 64 bytes, as HS512 needs
        env = dict(os.environ, SCOPEGATE_JWT_SECRET=self.secret, RUST_LOG="warn")
        self.proc = subprocess.Popen(
            [binary, "serve", "--bind", "127.0.0.1:0", "--queue-task", DAG_RUN_TASK, *serve_args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
        )
        deadline = time.time() + 60
        self.base = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            doc = json.loads(line)
            if "listening" in doc:
                self.base = doc["listening"]
                break
        if self.base is None:
            self.stop()
            raise RuntimeError("the server did not start")
        host_port = self.base.split("//")[1].split("/")[0]
        self.host, port = host_port.split(":")
        self.port = int(port)
        token = subprocess.run(
            [binary, "token", "--sub", "00000000-0000-4000-8000-000000000001", "--type", "execution",
             "--ttl", "3600"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(self, method: str, path: str, body: bytes) -> int:
        self.conn.request(method, f"/execution{path}", body=body, headers=self.headers)
        res = self.conn.getresponse()
        res.read()
        return res.status

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def flood(binary, serve_args, label, count, make_request):
    server = Server(binary, serve_args)
    try:
        before = rss_mib(server.proc.pid)
        statuses = collections.Counter()
        started = time.time()
        for i in range(count):
            method, path, body = make_request(i)
            statuses[server.send(method, path, body)] += 1
        took = time.time() - started
        time.sleep(0.5)
        after = rss_mib(server.proc.pid)
        answers = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
        print(f"| {label} | {before:.1f} | {after:.1f} | {answers} | {took:.1f} s |")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--xcoms", type=int, default=20)
    parser.add_argument("--xcom-bytes", type=int, default=1_000_000)
    parser.add_argument("--variables", type=int, default=10_000)
    parser.add_argument("--variable-bytes", type=int, default=100_000)
    parser.add_argument("serve_args", nargs="*", help="more `serve` arguments, after --")
    args = parser.parse_args()

    items = max(1, (args.xcom_bytes - 2) // 2)
    xcom = ("[" + ",".join(["1"] * items) + "]").encode()
    dag, run, task = DAG_RUN_TASK.split("/")
    value = "v" * args.variable_bytes

    print("| flood | RSS before (MiB) | RSS after (MiB) | answers | time |")
    print("|---|---:|---:|---|---:|")
    flood(
        args.binary, args.serve_args,
        f"{args.xcoms} XCom posts of {len(xcom):,} bytes", args.xcoms,
        lambda i: ("POST", f"/xcoms/{dag}/{run}/{task}/key_{i}", xcom),
    )
    flood(
        args.binary, args.serve_args,
        f"{args.variables:,} variable writes of {args.variable_bytes:,} bytes", args.variables,
        lambda i: ("PUT", f"/variables/flood_{i}", json.dumps({"val": value}).encode()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
