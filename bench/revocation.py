#!/usr/bin/env python3
"""Driver of bench/revocation.sh (run that: it installs redis-server and
builds the example in release first). How long a revocation takes to reach
the replicas (SPEC §13: within 1 second).

It starts a redis-server of its own (a free port, its data in a temporary
directory, append-only file as a production store would have it) and two
replicas of the example, `serve --revocations redis://...`: A queues the
task instances whose workload tokens are revoked, B only verifies. For each
of --revocations tokens, one after the other: B answers 403 to the token on
`GET /execution/variables/<key>` (a workload token, not revoked, is not of
that route's type); `execution_api revoke --token T --revocations URL`
runs to its exit (code 0: Redis has the revocation); from that exit, B (and
then A) is asked again and again, on one keep-alive connection, until it
answers 401 `token revoked`. Prints the median, 90th percentile and maximum
of those times in Markdown, and the `revoke` command's own run time.

The times include one request's round trip (the poll that sees the 401,
~0.2 ms here); polls are back to back, so the resolution is that round
trip. Loopback only; every process is stopped by PID at the end.
Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BOUND = 1.0  # seconds


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)


def start_replica(binary: str, secret: str, url: str, queue: int, log_path: Path):
    proc = subprocess.Popen(
        [binary, "serve", "--bind", "127.0.0.1:0", "--secret", secret, "--revocations", url,
         "--queue", str(queue)],
        stdout=subprocess.PIPE, stderr=log_path.open("w"), stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "RUST_LOG": "warn"})
    tokens = []
    for line in proc.stdout:
        record = json.loads(line)
        if "listening" in record:
            host, port = record["listening"].split("/")[2].rsplit(":", 1)
            return proc, (host, int(port)), tokens
        tokens.append(record["workload_token"])
    raise SystemExit(f"a replica exited early; see {log_path}")


class Probe:
    """One keep-alive connection to a replica's protected route."""

    def __init__(self, address: tuple[str, int]):
        self.conn = http.client.HTTPConnection(*address, timeout=10)

    def status(self, token: str) -> int:
        self.conn.request("GET", "/execution/variables/bench",
                          headers={"Authorization": f"Bearer {token}"})
        res = self.conn.getresponse()
        res.read()
        return res.status

    def ready(self) -> bool:
        self.conn.request("GET", "/execution/health/ping")
        res = self.conn.getresponse()
        res.read()
        return res.status == 200


def until_refused(probe: Probe, token: str, since: float) -> float:
    while True:
        status = probe.status(token)
        elapsed = time.perf_counter() - since
        if status == 401:
            return elapsed
        if status != 403:
            raise SystemExit(f"unexpected status {status}")
        if elapsed > 5:
            raise SystemExit("a revocation did not arrive within 5 s")


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
    return (f"{statistics.median(ordered) * 1000:.2f} | {p90 * 1000:.2f} | {ordered[-1] * 1000:.2f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=str(ROOT / "target/release/examples/execution_api"),
                   help="the example (default: target/release/examples/execution_api)")
    p.add_argument("--revocations", type=int, default=100, help="how many tokens to revoke (100)")
    args = p.parse_args()
    if not 1 <= args.revocations <= 10_000:
        p.error("--revocations in [1, 10000]")
    if not shutil.which("redis-server"):
        p.error("redis-server not found (bench/revocation.sh installs it)")
    work = Path(tempfile.mkdtemp(prefix="scopegate-revocation-"))
    secret = secrets.token_hex(32)
    procs = []
    try:
        redis, url = start_redis(work)
        procs.append(redis)
        a, a_addr, tokens = start_replica(args.binary, secret, url, args.revocations, work / "a.log")
        procs.append(a)
        b, b_addr, _ = start_replica(args.binary, secret, url, 0, work / "b.log")
        procs.append(b)
        probe_a, probe_b = Probe(a_addr), Probe(b_addr)
        deadline = time.monotonic() + 10
        while not (probe_a.ready() and probe_b.ready()):
            if time.monotonic() > deadline:
                raise SystemExit("the replicas did not load the list")
            time.sleep(0.02)
        on_b, on_a, command = [], [], []
        log(f"== {args.revocations} revocations")
        for token in tokens:
            if probe_b.status(token) != 403 or probe_a.status(token) != 403:
                raise SystemExit("a token was refused before its revocation")
            started = time.perf_counter()
            done = subprocess.run([args.binary, "revoke", "--token", "-", "--revocations", url],
                                  input=token, capture_output=True, text=True, timeout=30)
            exited = time.perf_counter()
            if done.returncode != 0:
                raise SystemExit(f"revoke failed: {done.stderr}")
            command.append(exited - started)
            on_b.append(until_refused(probe_b, token, exited))
            on_a.append(until_refused(probe_a, token, exited))
        print()
        print(f"{args.revocations} revocations, one after the other, each timed from the exit of "
              f"`execution_api revoke` (code 0) to the first 401 of the replica (ms):")
        print()
        print("| | median | p90 | max | within 1 s |")
        print("|---|---:|---:|---:|---|")
        print(f"| replica B (the other replica) | {summary(on_b)} | "
              f"{'yes' if max(on_b) < BOUND else 'NO'} |")
        print(f"| replica A (asked after B) | {summary(on_a)} | {'yes' if max(on_a) < BOUND else 'NO'} |")
        print(f"| the `revoke` command itself, start to exit | {summary(command)} | |")
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
