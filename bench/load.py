#!/usr/bin/env python3
"""Driver of bench/load.sh (run that: it installs wrk, builds the example in
release and sets up the FastAPI peer's virtualenv first).

For each key (HS512 secret, EdDSA and RS512 private keys) and each state of
the verified-token cache (on, off) it starts the example server pinned to
one core, seeds a variable, and measures with wrk, pinned to the other core,
the public ``GET /execution/health`` and the protected
``GET /execution/variables/<key>`` (a valid execution token, answer 200),
alternating the two routes in every round so both see the same machine. Then
it does the same for the FastAPI + PyJWT peer (bench/peer/app.py) with the
same HS512 token and secret. It prints a Markdown table of req/s, the
protected/public ratio, the server's CPU time per request and the CPU that
other processes took on the server's core during the run (noise).

Traffic goes to 127.0.0.1 only; every wrk run and every server is bounded in
time and stopped by this script. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
AUDIENCE = "urn:airflow.apache.org:task"
VARIABLE = "bench_variable"
CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTUP_TIMEOUT = 30.0

KEYS = [
    # (label, key arguments for `serve` and `token`); HS512's secret is
    # random per run and passed in SCOPEGATE_JWT_SECRET, not on a command line.
    ("HS512", []),
    ("EdDSA", ["--private-key", str(ROOT / "tests/keys/ed25519_private.pem")]),
    ("RS512", ["--private-key", str(ROOT / "tests/keys/rsa_private.pem")]),
]

# The targets, read from this output (not asserted): protected /
# public with the cache on, and HS512 with the cache off.
TARGET_CACHE_ON = 0.90
TARGET_HS512_CACHE_OFF = 0.85
TARGET_PEER = 20.0


@dataclass
class Run:
    """One wrk run against one route."""

    rps: float
    requests: int
    seconds: float
    bad: int  # non-2xx answers plus socket errors
    server_cpu: float  # CPU seconds the server used during the run
    foreign_cpu: float  # CPU seconds others used on the server's core
    client_foreign_cpu: float  # CPU seconds others (not wrk) used on wrk's core

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.server_cpu / self.requests if self.requests else float("nan")

    @property
    def server_load(self) -> float:
        return self.server_cpu / self.seconds if self.seconds else 0.0

    @property
    def noise(self) -> float:
        """Share of the server's core that other processes took."""
        return self.foreign_cpu / self.seconds if self.seconds else 0.0

    @property
    def client_noise(self) -> float:
        """Share of wrk's core that other processes took."""
        return self.client_foreign_cpu / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    server: str
    key: str
    cache: str
    runs: dict[str, list[Run]] = field(default_factory=lambda: {"public": [], "protected": []})

    def best(self, route: str) -> Run:
        return max(self.runs[route], key=lambda r: r.rps)

    @property
    def ratio(self) -> float:
        return self.best("protected").rps / self.best("public").rps

    @property
    def cpu_ratio(self) -> float:
        """The same ratio from CPU time per request, which time-sharing with
        other processes disturbs less than req/s."""
        return self.best("public").cpu_us_per_request / self.best("protected").cpu_us_per_request

    @property
    def bad(self) -> int:
        return sum(r.bad for runs in self.runs.values() for r in runs)

    @property
    def noise(self) -> tuple[float, float]:
        """Others' share of the server's and of wrk's core, worst of the
        runs the row reports."""
        best = [self.best("public"), self.best("protected")]
        return max(r.noise for r in best), max(r.client_noise for r in best)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def core_busy_seconds(core: int) -> float:
    """CPU seconds a core spent busy since boot (not idle, not iowait)."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                ticks = [int(x) for x in line.split()[1:]]
                return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK
    raise RuntimeError(f"cpu{core} not in /proc/stat")


def children_cpu_seconds() -> float:
    """CPU time of this script's finished children (wrk, once it exits)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A server process pinned to one core, stopped on exit."""

    def __init__(self, name: str, argv: list[str], core: int, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.name = name
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"scopegate-bench-{name}.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(core), *argv],
            stdout=subprocess.PIPE,
            stderr=self.log_file,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read_listening(self) -> str:
        """The URL of the example's `{"listening": ...}` line."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                try:
                    url = json.loads(line).get("listening")
                except json.JSONDecodeError:
                    continue
                if url:
                    return url.rstrip("/")
            elif self.proc.poll() is not None:
                break
        self.fail("printed no listening line")

    def wait_http(self, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.fail(f"did not answer {url}")

    def fail(self, why: str):
        self.stop()
        raise SystemExit(f"{self.name} {why}; its log: {self.log_path}\n{self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log_file.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def http(method: str, url: str, token: str | None = None, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status
    except urllib.error.HTTPError as err:
        return err.code


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(args, server: Server, url: str, token: str | None, seconds: int) -> Run:
    cmd = ["taskset", "-c", str(args.client_cpu), "wrk", f"-t{args.threads}", f"-c{args.connections}",
           f"-d{seconds}s", "--timeout", "2s"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    cmd.append(url)
    cpu0, busy0 = cpu_seconds(server.pid), core_busy_seconds(args.server_cpu)
    client0, wrk0 = core_busy_seconds(args.client_cpu), children_cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    cpu1, busy1 = cpu_seconds(server.pid), core_busy_seconds(args.server_cpu)
    client1, wrk1 = core_busy_seconds(args.client_cpu), children_cpu_seconds()
    rps = WRK_RPS.search(out)
    total = WRK_TOTAL.search(out)
    if not rps or not total:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    bad = sum(int(n) for m in [WRK_NON2XX.search(out)] if m for n in m.groups())
    bad += sum(int(n) for m in [WRK_SOCKET.search(out)] if m for n in m.groups())
    server_cpu = cpu1 - cpu0
    return Run(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * UNIT[total.group(3)],
        bad=bad,
        server_cpu=server_cpu,
        foreign_cpu=max(0.0, (busy1 - busy0) - server_cpu),
        client_foreign_cpu=max(0.0, (client1 - client0) - (wrk1 - wrk0)),
    )


def measure(args, row: Row, server: Server, base: str, token: str) -> Row:
    urls = {"public": (f"{base}/health", None), "protected": (f"{base}/variables/{VARIABLE}", token)}
    # Warm-up: connections, allocators, the token cache.
    for url, tok in urls.values():
        wrk(args, server, url, tok, args.warmup)
    for round_ in range(args.rounds):
        # Alternate the order so neither route always runs first.
        order = ["public", "protected"] if round_ % 2 == 0 else ["protected", "public"]
        for route in order:
            url, tok = urls[route]
            # Another process on either core (a compiler, say) distorts the
            # run: run again, a bounded number of times; the best run counts.
            for attempt in range(1 + args.retries):
                run = wrk(args, server, url, tok, args.duration)
                row.runs[route].append(run)
                noisy = max(run.noise, run.client_noise) > args.max_noise
                log(f"   {row.server} {row.key} cache {row.cache} {route:9} {run.rps:10.0f} req/s "
                    f"{run.cpu_us_per_request:6.2f} µs CPU/req  server {100 * run.server_load:3.0f}%  "
                    f"others on server/wrk core {100 * run.noise:3.0f}%/{100 * run.client_noise:3.0f}%"
                    + (f"  BAD {run.bad}" if run.bad else "")
                    + ("  (noisy, again)" if noisy and attempt < args.retries else ""))
                if not noisy:
                    break
    return row


def mint(args, key_args: list[str], env: dict[str, str]) -> str:
    """An execution token from the example's `token` command, valid for an
    hour (no refresh header during the run)."""
    return subprocess.run(
        [args.example, "token", "--sub", str(uuid.uuid4()), "--type", "execution", "--ttl", "3600", *key_args],
        capture_output=True, text=True, check=True, timeout=30, env={**os.environ, **env},
    ).stdout.strip()


def example_row(args, key: str, key_args: list[str], env: dict[str, str], token: str, cache: bool) -> Row:
    row = Row("scopegate", key, "on" if cache else "off")
    argv = [args.example, "serve", "--bind", f"{HOST}:0", *key_args]
    if not cache:
        argv.append("--no-token-cache")
    env = {**env, "RUST_LOG": "warn"}
    with Server(f"scopegate-{key}-{row.cache}", argv, args.server_cpu, env=env) as server:
        base = server.read_listening()
        status = http("PUT", f"{base}/variables/{VARIABLE}", token, {"val": "bench-value"})
        if status != 201:
            server.fail(f"answered {status} to seeding the variable")
        for url, tok in [(f"{base}/health", None), (f"{base}/variables/{VARIABLE}", token)]:
            if (status := http("GET", url, tok)) != 200:
                server.fail(f"answered {status} to GET {url}")
        return measure(args, row, server, base, token)


def peer_row(args, secret: str, token: str) -> Row:
    row = Row("FastAPI", "HS512", "n/a")
    port = free_port()
    python = HERE / "peer/.venv/bin/python"
    argv = [str(python), "-m", "uvicorn", "app:app", "--host", HOST, "--port", str(port), "--workers", "1",
            "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
    env = {"PEER_JWT_SECRET": secret, "PEER_JWT_AUDIENCE": AUDIENCE,
           "PEER_VARIABLES": json.dumps({VARIABLE: "bench-value"})}
    with Server("fastapi", argv, args.server_cpu, env=env, cwd=HERE / "peer") as server:
        base = f"http://{HOST}:{port}/execution"
        server.wait_http(f"{base}/health")
        if (status := http("GET", f"{base}/variables/{VARIABLE}", token)) != 200:
            server.fail(f"answered {status} to the protected route")
        return measure(args, row, server, base, token)


def fmt_rps(x: float) -> str:
    return f"{x:,.0f}"


def report(args, rows: list[Row], peer: Row | None) -> int:
    print()
    print(f"wrk: {args.threads} thread, {args.connections} connections; per route the best of {args.rounds} runs of "
          f"{args.duration} s (a run is repeated up to {args.retries} times while other processes take more than "
          f"{100 * args.max_noise:.0f}% of a core); server on core {args.server_cpu}, wrk on core {args.client_cpu}; "
          f"loopback.")
    print()
    print("| server | key | cache | public req/s | protected req/s | protected/public | target | "
          "CPU µs/req public | CPU µs/req protected | ratio by CPU | others on server/wrk core |")
    print("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|")
    problems = 0
    for row in rows + ([peer] if peer else []):
        pub, prot = row.best("public"), row.best("protected")
        target = ""
        if row.server == "scopegate" and row.cache == "on":
            target = f"≥{TARGET_CACHE_ON:.2f} " + ("met" if row.ratio >= TARGET_CACHE_ON else "MISSED")
        elif row.server == "scopegate" and row.key == "HS512":
            target = f"≥{TARGET_HS512_CACHE_OFF:.2f} " + ("met" if row.ratio >= TARGET_HS512_CACHE_OFF else "MISSED")
        print(f"| {row.server} | {row.key} | {row.cache} | {fmt_rps(pub.rps)} | {fmt_rps(prot.rps)} | "
              f"{row.ratio:.3f} | {target} | {pub.cpu_us_per_request:.2f} | {prot.cpu_us_per_request:.2f} | "
              f"{row.cpu_ratio:.3f} | {100 * row.noise[0]:.0f}% / {100 * row.noise[1]:.0f}% |")
        if row.bad:
            problems += 1
            print(f"\nERROR: {row.server} {row.key} cache {row.cache}: {row.bad} failed requests", file=sys.stderr)
    if peer:
        print()
        print("Protected route, one core each (req/s, and requests per CPU-second of the server):")
        print()
        print("| scopegate | FastAPI + PyJWT | scopegate / FastAPI | per CPU-second: scopegate | FastAPI | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        theirs = peer.best("protected")
        for row in rows:
            if row.key != "HS512":
                continue
            ours = row.best("protected")
            ratio = ours.rps / theirs.rps
            per_cpu = ours.requests / ours.server_cpu / (theirs.requests / theirs.server_cpu)
            print(f"| HS512, cache {row.cache}: {fmt_rps(ours.rps)} | {fmt_rps(theirs.rps)} | "
                  f"**{ratio:.1f}×** {'(≥20× met)' if ratio >= TARGET_PEER else '(≥20× MISSED)'} | "
                  f"{fmt_rps(ours.requests / ours.server_cpu)} | {fmt_rps(theirs.requests / theirs.server_cpu)} | "
                  f"{per_cpu:.1f}× |")
    print()
    print(f"Machine: {os.cpu_count()} CPUs, {cpu_model()}; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
    return 1 if problems else 0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--example", default=str(ROOT / "target/release/examples/execution_api"))
    p.add_argument("--duration", type=int, default=5, help="seconds per measured wrk run (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per route (default 1)")
    p.add_argument("--rounds", type=int, default=3, help="measured runs per route, best kept (default 3)")
    p.add_argument("--retries", type=int, default=2,
                   help="extra runs of a route when others took more than --max-noise of a core (default 2)")
    p.add_argument("--max-noise", type=float, default=0.05,
                   help="share of a core others may take before a run is repeated (default 0.05)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--keys", default="HS512,EdDSA,RS512", help="comma-separated subset of HS512,EdDSA,RS512")
    p.add_argument("--no-peer", action="store_true", help="skip the FastAPI peer")
    args = p.parse_args()
    if not (1 <= args.duration <= 60 and 1 <= args.warmup <= 10 and 1 <= args.rounds <= 10
            and 0 <= args.retries <= 5):
        p.error("keep runs short: --duration in [1, 60] s, --warmup in [1, 10] s, --rounds in [1, 10], "
                "--retries in [0, 5]")

    secret = secrets.token_hex(64)
    # Only the HS512 runs read the secret; a private key and a secret at once
    # is refused, so the key-pair runs must not inherit one.
    os.environ.pop("SCOPEGATE_JWT_SECRET", None)
    hs512_env = {"SCOPEGATE_JWT_SECRET": secret}
    hs512_token = mint(args, [], hs512_env)
    wanted = set(args.keys.split(","))
    rows = []
    started = time.monotonic()
    for key, key_args in KEYS:
        if key not in wanted:
            continue
        env = hs512_env if key == "HS512" else {}
        token = hs512_token if key == "HS512" else mint(args, key_args, env)
        for cache in (True, False):
            log(f"== scopegate {key}, cache {'on' if cache else 'off'}")
            rows.append(example_row(args, key, key_args, env, token, cache))
    peer = None
    if not args.no_peer:
        # The same secret and the very token the HS512 runs used.
        log("== FastAPI + PyJWT peer, HS512")
        peer = peer_row(args, secret, hs512_token)
    log(f"== done in {time.monotonic() - started:.0f} s")
    return report(args, rows, peer)


if __name__ == "__main__":
    sys.exit(main())
