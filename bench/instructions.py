#!/usr/bin/env python3
"""Driver of bench/instructions.sh (run that: it installs valgrind and builds
the bench server in release first). Instructions per request of the
example's app, counted by callgrind: deterministic, so it compares builds,
and routes, on a machine far too noisy for wall-clock ratios.

For each configuration (a key kind, the verified-token cache on or off) it
starts `bench_server` (bench/server.rs: the example's app plus an
unprotected twin of the protected route) under
`valgrind --tool=callgrind --instr-atstart=no`, pinned to core 0, seeds a
variable, switches instrumentation on (`callgrind_control -i on`), warms up
with --warmup requests per route, then for each route zeroes the counters
(`callgrind_control -z`), sends exactly --requests keep-alive requests, one
at a time, each answered 200, and dumps the counters
(`callgrind_control -d`). The server is idle (in `epoll_wait`) whenever
counters are zeroed or dumped: `callgrind_control` reaches it through vgdb,
which wakes a blocked process, and returns only once the command is done.

Routes: the public `GET /execution/health`; the unprotected twin
`GET /execution/unguarded/<key>` (the handler of the protected route, on a
path of the same shape and length registered just before it), requested
without a token and with the very `Authorization` header the protected
route gets (which the twin ignores: the two requests are then the same
size, and the difference is scopegate's alone); the protected
`GET /execution/variables/<key>` with an execution token; and, for
scopegate's extractor, `GET /execution/task-reschedules/<id>/start_date`,
whose handler takes a `TiToken` under `ti:self` (it has no twin); and, for
permissions (issue 19), the protected route's handler under a vocabulary
with five permissions, `GET /execution/bench/plain/<key>` (none required)
and `GET /execution/bench/perms/<key>` (three required and an `any(..)` of
two more, the token holding the second).

Per route it prints the whole process's instructions per request, and,
from the profile (inclusive costs parsed from the callgrind file, by
function name), scopegate's own: its `Enforce` service call (bearer token,
verification or cache, policy check, the per-request record), its
extractors (`FromRequest` of scopegate's types) and `Reissue` (its service
call, its future's poll and drop), each without the inner service they wrap;
plus actix's route matching, clock reads and heap allocations per request.

With --deny-lists (e.g. `memory,redis`), each configuration is measured
once per deny-list, holding --revoked revocations (10,000): `memory` is a
MemoryDenyList, `redis` a RedisDenyList mirroring a redis-server this
script starts (on a free port, data in a temporary directory, stopped by
PID); a last table compares scopegate's own instructions per cache hit
with the in-memory one.

Loopback only; every server is stopped at the end and the callgrind files
are removed (--keep DIR keeps them). Standard library only, plus valgrind.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VARIABLE = "bench"
KEYS = ["hs512", "rs512", "es256", "eddsa"]
STARTUP_TIMEOUT = 120.0

# The issue's targets, read from this output (not asserted).
TARGET_OWN = 800  # scopegate's own instructions per protected request, cache hit
TARGET_RATIO = 0.95  # protected throughput / twin throughput, in instructions
TARGET_DENY = 1.05  # scopegate's own with the Redis deny-list / with the in-memory one
# Issue 19: scopegate's own instructions on a cache hit of a route with three
# permissions and an any(..), over the same route without them.
TARGET_PERMISSIONS = 1.05


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the callgrind file ------------------------------------------------------


@dataclass
class Profile:
    """One callgrind dump: self cost per function, and per call edge the
    inclusive cost and the number of calls."""

    total: int = 0
    self_cost: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    edges: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    calls: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def inclusive(self, fn: str) -> int:
        return self.self_cost.get(fn, 0) + sum(c for (f, _), c in self.edges.items() if f == fn)

    def callees(self, fn: str):
        return [(g, c) for (f, g), c in self.edges.items() if f == fn]

    def functions(self, pattern: re.Pattern) -> list[str]:
        names = set(self.self_cost) | {f for f, _ in self.edges}
        return sorted(n for n in names if pattern.search(n))

    def calls_to(self, pattern: re.Pattern) -> int:
        return sum(n for (_, g), n in self.calls.items() if pattern.search(g))


NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")


def parse(path: Path) -> Profile:
    """Reads a callgrind output file (format version 1, one event: Ir)."""
    prof = Profile()
    names: dict[str, str] = {}

    def name(spec: str) -> str:
        m = NAMED.match(spec)
        if not m:
            return spec
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), spec)

    positions = 1
    fn = callee = ""
    pending_calls = 0
    in_call = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[positions]) if len(parts) > positions else 0
                if in_call:
                    prof.edges[(fn, callee)] += cost
                    prof.calls[(fn, callee)] += pending_calls
                    in_call = False
                else:
                    prof.self_cost[fn] += cost
            elif line.startswith("fn="):
                fn = name(line[3:])
            elif line.startswith("cfn="):
                callee = name(line[4:])
            elif line.startswith("calls="):
                pending_calls = int(line[6:].split()[0])
                in_call = True
            elif line.startswith("positions:"):
                positions = len(line.split()) - 1
            elif line.startswith(("summary:", "totals:")):
                prof.total = int(line.split()[1])
    return prof


# Function names, as valgrind demangles Rust symbols. Patterns are loose on
# module paths, which move.
SCOPEGATE = re.compile(r"^(<|core::ptr::drop_in_place<)?scopegate::")
# Calls from a scopegate wrapper into what it wraps: the inner service's
# call, the inner future's poll (an `async` block's is named `{{closure}}`)
# and drop.
INNER = re.compile(
    r"as actix_service::Service<.*>>::call$|as core::future::future::Future>::poll$|\{\{closure\}\}$"
    r"|^core::ptr::drop_in_place<"
)
# `EnforceService::call`, or `Enforce::check` alone where the compiler
# inlined the call into actix's boxed service.
ENFORCE = re.compile(
    r"^<scopegate::[\w:]*EnforceService<S> as actix_service::Service<.*>>::call$|^scopegate::[\w:]*Enforce::check$"
)
EXTRACTOR = re.compile(
    r"^<scopegate::[\w:<>, ]* as actix_web::extract::FromRequest>::from_request$|^scopegate::[\w:]*request::extract$"
)
REISSUE = re.compile(
    r"^<scopegate::[\w:]*ReissueService<S> as actix_service::Service<.*>>::call$"
    r"|^<scopegate::[\w:]*ReissueFuture<F> as core::future::future::Future>::poll$"
    r"|^core::ptr::drop_in_place<scopegate::[\w:]*ReissueFuture<"
)
ROUTING = re.compile(r"^actix_router::resource::ResourceDef::capture_match_info_fn$")
# scopegate's dispatcher (SPEC §14): its guard runs inside actix's match
# above; its service fills `match_info`, then calls the route's service,
# which is not routing (callgrind may name that call `...::call'2`).
DISPATCH = re.compile(r"^<scopegate::[\w:]*Dispatch as actix_service::Service<.*>>::call$")
ROUTE_CALL = re.compile(r"as actix_service::Service<.*>>::call('\d+)?$")


def dispatcher(prof: Profile) -> int:
    """Inclusive cost of the dispatcher's service, without the route's
    service it calls."""
    total = 0
    for fn in prof.functions(DISPATCH):
        total += prof.self_cost.get(fn, 0)
        total += sum(cost for callee, cost in prof.callees(fn) if not ROUTE_CALL.search(callee))
    return total
CLOCK = re.compile(r"^clock_gettime")
MALLOC = re.compile(r"^(malloc|realloc|calloc)$")
# Inside Enforce, for the detail table: calls made by scopegate's code
# (caller, callee). The bearer-header parse and the cache's `get` are
# inlined (into `verify_request` and `Verifier::cached`), so they are
# measured through the functions that hold them.
SCOPEGATE_FN = re.compile(r"^(<)?scopegate::")
DETAIL = {
    # The bearer header, then the cache lookup or a full verification.
    "token": (SCOPEGATE_FN, re.compile(r"^scopegate::[\w:]*(verify_request|authenticate_with)$")),
    "verify": (SCOPEGATE_FN, re.compile(r"^scopegate::[\w:]*Verifier::(verify|cached|verify_fresh)$")),
    # The hash table lookup itself.
    "cache": (SCOPEGATE_FN, re.compile(r"^(scopegate::[\w:]*TokenCache::get|quick_cache::sync::Cache<.*>::get)$")),
    "policy": (SCOPEGATE_FN, re.compile(r"^scopegate::[\w:]*RoutePolicy::check$")),
    # The per-request record, in the request's extensions.
    "record": (SCOPEGATE_FN, re.compile(r"^actix_http::extensions::Extensions::insert$")),
    # The deny-list's answer: the verifier's call through `dyn DenyList`.
    "deny": (SCOPEGATE_FN, re.compile(r"^<[\w:]*Arc<T> as scopegate::[\w:]*DenyList>::revocation_status$")),
}


def called(prof: "Profile", callers: re.Pattern, callees: re.Pattern) -> int:
    """Inclusive cost of the calls from functions matching `callers` to
    functions matching `callees` (a callee that is itself a caller is not
    counted twice)."""
    return sum(c for (f, g), c in prof.edges.items()
               if callers.search(f) and callees.search(g) and not callees.search(f))


# The drop glue of a future that holds the inner future as a box
# (`Pin<Box<dyn Future>>`, an app's routing future): the box's free, inlined
# there, is the inner future's, not scopegate's.
DROPS_INNER_BOX = re.compile(r"^core::ptr::drop_in_place<scopegate::[\w:]*ReissueFuture<core::pin::Pin<alloc::boxed::Box<")
DEALLOC = "__rustc::__rust_dealloc"


def own(prof: Profile, pattern: re.Pattern) -> int:
    """Inclusive cost of the functions matching `pattern`, without their
    calls into the service or future they wrap."""
    total = 0
    for fn in prof.functions(pattern):
        total += prof.self_cost.get(fn, 0)
        for callee, cost in prof.callees(fn):
            if pattern.search(callee):
                continue  # counted as itself
            if SCOPEGATE.search(callee) or not INNER.search(callee):
                total += cost
        if DROPS_INNER_BOX.search(fn) and prof.calls.get((fn, DEALLOC)):
            drops = sum(n for (_, g), n in prof.calls.items() if g == fn)
            total -= drops * prof.edges[(fn, DEALLOC)] // prof.calls[(fn, DEALLOC)]
    return total


def inclusive(prof: Profile, pattern: re.Pattern) -> int:
    return sum(prof.inclusive(fn) for fn in prof.functions(pattern))


# --- the server and the client -------------------------------------------------


class Server:
    """bench_server under callgrind, pinned to one core."""

    def __init__(self, args, key: str, cache: bool, work: Path, deny: str = "none", twin: bool = True):
        argv = ["taskset", "-c", str(args.cpu), "valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={work}/callgrind.%p", args.server, "--key", key]
        if not cache:
            argv.append("--no-token-cache")
        if not twin:
            argv.append("--no-twin")
        if deny != "none":
            argv += ["--deny-list", deny, "--revoked", str(args.revoked)]
        if deny == "redis":
            argv += ["--revocations", args.redis_url]
        self.work = work
        self.dumps = 0
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=open(work / f"server-{key}-{cache}-{deny}.log", "w"), text=True,
                                     env={**os.environ, "RUST_LOG": "warn"})
        line = self.read_line()
        info = json.loads(line)
        m = re.match(r"http://([^/]+)/", info["listening"])
        self.host, self.port = m.group(1).rsplit(":", 1)
        self.token = info["token"]
        self.sub = info["sub"]
        self.ct = info.get("ct")
        self.ct_token = info.get("ct_token")

    def read_line(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.startswith("{"):
                    return line
            elif self.proc.poll() is not None:
                break
        self.stop()
        raise SystemExit(f"bench_server printed no listening line; see {self.work}")

    def control(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], capture_output=True, check=True,
                       timeout=120)

    def dump(self) -> Profile:
        """Dumps the counters since the last zeroing and parses the file."""
        self.dumps += 1
        self.control("-d")
        path = self.work / f"callgrind.{self.proc.pid}.{self.dumps}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # The file is complete once its totals line is written.
            if path.exists() and re.search(rb"^totals:", path.read_bytes()[-4096:], re.M):
                return parse(path)
            time.sleep(0.1)
        raise SystemExit(f"no callgrind dump {path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Client:
    """One keep-alive connection; every answer is checked."""

    def __init__(self, server: Server):
        self.conn = http.client.HTTPConnection(server.host, int(server.port), timeout=120)

    def call(self, method: str, path: str, headers: dict, body: bytes | None = None,
             want: int | None = 200) -> int:
        """Sends one request; its status must be `want` (any, with None).
        Returns the status."""
        self.conn.request(method, path, body=body, headers=headers)
        res = self.conn.getresponse()
        res.read()
        if want is not None and res.status != want:
            raise SystemExit(f"{method} {path}: {res.status}, expected {want}")
        if res.getheader("Refreshed-API-Token"):
            raise SystemExit(f"{method} {path}: a refreshed token; the measurement would count an issue")
        return res.status


@dataclass
class Row:
    key: str
    cache: bool
    deny: str
    route: str
    requests: int
    total: float
    enforce: float
    extractor: float
    reissue: float
    routing: float
    clock: float
    mallocs: float
    detail: dict[str, float]

    @property
    def own(self) -> float:
        return self.enforce + self.extractor + self.reissue


def measure(args, key: str, cache: bool, work: Path, deny: str = "none") -> list[Row]:
    log(f"== {key}, cache {'on' if cache else 'off'}, deny-list {deny}")
    server = Server(args, key, cache, work, deny)
    rows = []
    try:
        client = Client(server)
        auth = {"Authorization": f"Bearer {server.token}"}
        client.call("PUT", f"/execution/variables/{VARIABLE}", {**auth, "Content-Type": "application/json"},
                    json.dumps({"val": "bench-value"}).encode(), want=201)
        routes = {
            "public /health": ("/execution/health", {}),
            "twin, no token": (f"/execution/unguarded/{VARIABLE}", {}),
            "twin, token sent": (f"/execution/unguarded/{VARIABLE}", auth),
            "protected": (f"/execution/variables/{VARIABLE}", auth),
            # A handler that takes the token (`TiToken`), under `ti:self`.
            "protected, TiToken": (f"/execution/task-reschedules/{server.sub}/start_date", auth),
            # The same handler as "protected", in a vocabulary with permissions.
            "permissions, none required": (f"/execution/bench/plain/{VARIABLE}", auth),
            "permissions, 3 and any(..)": (f"/execution/bench/perms/{VARIABLE}", auth),
        }
        server.control("-i", "on")
        for _ in range(args.warmup):
            for path, headers in routes.values():
                client.call("GET", path, headers)
        n = args.requests if cache else args.cold_requests
        for route, (path, headers) in routes.items():
            server.control("-z")
            for _ in range(n):
                client.call("GET", path, headers)
            prof = server.dump()
            per = lambda x: x / n  # noqa: E731
            rows.append(Row(
                key=key, cache=cache, deny=deny, route=route, requests=n, total=per(prof.total),
                enforce=per(own(prof, ENFORCE)), extractor=per(own(prof, EXTRACTOR)),
                reissue=per(own(prof, REISSUE)), routing=per(inclusive(prof, ROUTING)),
                clock=per(prof.calls_to(CLOCK)), mallocs=per(prof.calls_to(MALLOC)),
                detail={k: per(called(prof, f, g)) for k, (f, g) in DETAIL.items()},
            ))
            log(f"   {route:17} {rows[-1].total:10,.0f} instructions/request, scopegate {rows[-1].own:7,.0f}")
    finally:
        server.stop()
    return rows


# --- the routing table (issue 21) -----------------------------------------------

# The example's protected GET routes, each with what it needs in its path and
# query; `{ti}` is the bench server's task instance (the token's subject),
# `{ct}` its connection test (workload token). State is seeded first, so
# that most answer 200; the others answer their handler's status, the same
# on every request. Left out: `GET /connection-tests/<id>/connection`, which
# hands a connection test its connection once (409 after).
DAG, RUN, TASK = "bench_dag", "manual__1", "bench_task"
XCOM = f"/execution/xcoms/{DAG}/{RUN}/{TASK}/bench_key"
SEEDS = [
    ("PUT", f"/execution/variables/{VARIABLE}", {"val": "bench-value"}, 201),
    ("POST", XCOM, [1, 2, 3], 201),
    ("POST", "/execution/hitlDetails/{ti}", {"ti_id": "{ti}", "options": ["yes"], "subject": "bench"}, 201),
    ("PUT", "/execution/store/ti/{ti}/bench", {"value": 1}, 204),
]
ROUTING_ROUTES = [
    "/execution/assets/by-name?name=bench",
    "/execution/assets/by-uri?uri=bench",
    "/execution/assets/by-alias?alias_name=bench",
    "/execution/asset-events/by-asset?name=bench&uri=bench",
    "/execution/asset-events/by-asset-alias?name=bench",
    "/execution/connections/bench",
    f"/execution/dag-runs/{DAG}/{RUN}",
    f"/execution/dag-runs/{DAG}/{RUN}/state",
    f"/execution/dag-runs/count?dag_id={DAG}",
    f"/execution/dag-runs/previous?dag_id={DAG}&logical_date=2026-01-01T00:00:00Z",
    f"/execution/dags/{DAG}",
    f"/execution/task-instances/count?dag_id={DAG}",
    f"/execution/task-instances/previous/{DAG}/{TASK}",
    f"/execution/task-instances/states?dag_id={DAG}",
    f"/execution/task-instances/breadcrumbs?dag_id={DAG}&run_id={RUN}",
    "/execution/task-instances/{ti}/previous-successful-dagrun",
    "/execution/task-instances/{ti}/validate-inlets-and-outlets",
    "/execution/task-reschedules/{ti}/start_date",
    "/execution/variables/keys",
    f"/execution/variables/{VARIABLE}",
    f"{XCOM}/item/0",
    f"{XCOM}/slice",
    XCOM,
    "/execution/hitlDetails/{ti}",
    "/execution/store/ti/{ti}/bench",
    "/execution/store/asset/by-name/value?name=bench&key=k",
    "/execution/store/asset/by-uri/value?uri=bench&key=k",
]


@dataclass
class RoutingRow:
    path: str
    status: int
    total: float
    routing: float


def measure_routing(args, work: Path) -> list[RoutingRow]:
    """/health and every protected GET of the example, HS512, cache on, in
    one server process: instructions per request and actix's routing share
    (its matcher, the guards it runs, scopegate's dispatcher included)."""
    log("== routing table: hs512, cache on, the example's routes alone (no twin)")
    server = Server(args, "hs512", True, work, twin=False)
    rows = []
    try:
        client = Client(server)
        fill = lambda text: text.replace("{ti}", server.sub).replace("{ct}", server.ct or "")  # noqa: E731
        auth = {"Authorization": f"Bearer {server.token}"}
        for method, path, body, want in SEEDS:
            body = json.loads(fill(json.dumps(body)))
            client.call(method, fill(path), {**auth, "Content-Type": "application/json"},
                        json.dumps(body).encode(), want=want)
        routes = [("/execution/health", {})]
        for path in ROUTING_ROUTES:
            token = server.ct_token if "{ct}" in path else server.token
            routes.append((fill(path), {"Authorization": f"Bearer {token}"}))
        server.control("-i", "on")
        statuses = {}
        for _ in range(args.warmup):
            for path, headers in routes:
                statuses[path] = client.call("GET", path, headers, want=statuses.get(path))
        n = args.requests
        for path, headers in routes:
            server.control("-z")
            for _ in range(n):
                client.call("GET", path, headers, want=statuses[path])
            prof = server.dump()
            total, routing = prof.total / n, (inclusive(prof, ROUTING) + dispatcher(prof)) / n
            rows.append(RoutingRow(path=path, status=statuses[path], total=total, routing=routing))
            log(f"   {path[:60]:60} {total:10,.0f} instructions/request, routing {routing:7,.0f}")
    finally:
        server.stop()
    return rows


def report_routing(args, rows: list[RoutingRow]) -> None:
    print()
    print(f"Routing, HS512, cache on: {args.requests:,} keep-alive requests per route after "
          f"{args.warmup} per route, one server process; instructions per request of the whole "
          f"process, and of actix's route matching (every `ResourceDef` match, the guards it runs, "
          f"scopegate's dispatcher).")
    print()
    print("| route | status | instructions/request | routing | routing share | /health ÷ route |")
    print("|---|---:|---:|---:|---:|---:|")
    health = rows[0].total
    for row in rows:
        shown = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", row.path)
        print(f"| `GET {shown}` | {row.status} | {row.total:,.0f} | {row.routing:,.0f} | "
              f"{row.routing / row.total:.1%} | {health / row.total:.3f} |")
    print()
    print("Targets (issue 21):")
    print()
    print("| target | measured | |")
    print("|---|---:|---|")
    by_path = {r.path: r for r in rows}
    for label, path, goal in [("variables route ≥ 0.85 of /health", f"/execution/variables/{VARIABLE}", 0.85),
                              ("XCom read ≥ 0.75 of /health", XCOM, 0.75)]:
        ratio = health / by_path[path].total
        print(f"| {label} | {ratio:.3f} | {met(ratio >= goal)} |")
    worst = max(rows, key=lambda r: r.routing)
    print(f"| routing ≤ 2,000 instructions, every route | {worst.routing:,.0f} (most) | "
          f"{met(worst.routing <= 2000)} |")


# --- the report ----------------------------------------------------------------


def report(args, rows: list[Row]) -> None:
    print()
    print(f"callgrind, {args.requests:,} keep-alive requests per route with the cache on and "
          f"{args.cold_requests:,} with it off, after {args.warmup} per route; instructions per request "
          f"of the whole server process.")
    print()
    print("| key | cache | route | instructions/request | twin (token sent)/route | actix routing | "
          "scopegate: Enforce | extractor | Reissue | scopegate total | clock reads | allocations |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_config = defaultdict(dict)
    for row in rows:
        by_config[(row.key, row.cache, row.deny)][row.route] = row
    for (key, cache, deny), routes in by_config.items():
        twin = routes["twin, token sent"].total
        for route, row in routes.items():
            vs_twin = f"{twin / row.total:.3f}" if route not in NO_TWIN else ""
            print(f"| {name(key, deny)} | {'on' if cache else 'off'} | {route} | "
                  f"{row.total:,.0f} | {vs_twin} | {row.routing:,.0f} | {row.enforce:,.0f} | "
                  f"{row.extractor:,.0f} | {row.reissue:,.0f} | {row.own:,.0f} | {row.clock:.1f} | "
                  f"{row.mallocs:.1f} |")
    print()
    print("Protected route, inside scopegate's `Enforce` (inclusive instructions per request):")
    print()
    print("| key | cache | the token: bearer header, then cache or verification | of which the verifier | "
          "of which the cache lookup | the policy check | `Extensions::insert` (the record) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (key, cache, deny), routes in by_config.items():
        d = routes["protected"].detail
        print(f"| {name(key, deny)} | {'on' if cache else 'off'} | {d['token']:,.0f} | "
              f"{d['verify']:,.0f} | {d['cache']:,.0f} | {d['policy']:,.0f} | {d['record']:,.0f} |")
    print()
    print("Targets (cache on):")
    print()
    print("| key | scopegate's own, protected | ≤ 800 | twin/protected, token sent | same, routing equalised | "
          "≥ 0.95 | twin/protected, twin without token |")
    print("|---|---:|---|---:|---:|---|---:|")
    for (key, cache, deny), routes in by_config.items():
        if not cache:
            continue
        prot, twin = routes["protected"], routes["twin, token sent"]
        sent = twin.total / prot.total
        # The protected route's requests also try the twin's path (registered
        # just before it) and `/variables/keys` (registered before it in the
        # example): take actix's routing difference out.
        equal = twin.total / (prot.total - (prot.routing - twin.routing))
        none = routes["twin, no token"].total / prot.total
        print(f"| {name(key, deny)} | {prot.own:,.0f} | {met(prot.own <= TARGET_OWN)} | {sent:.3f} | {equal:.3f} | "
              f"{met(equal >= TARGET_RATIO)} | {none:.3f} |")
    denies = sorted({row.deny for row in rows})
    if len(denies) > 1:
        print()
        print(f"Deny-lists holding {args.revoked:,} revocations, protected route, cache hits "
              f"(the goal: the Redis deny-list costs at most {TARGET_DENY - 1:.0%} more of scopegate's own "
              f"instructions than the in-memory one):")
        print()
        print("| key | deny-list | instructions/request | scopegate's own | Enforce | `Extensions::insert` "
              "(the record; mostly malloc) | the deny-list's answer | vs memory, scopegate's own | ≤ +5% | "
              "vs memory, the answer |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
        for (key, cache, deny), routes in by_config.items():
            if not cache:
                continue
            prot = routes["protected"]
            memory = by_config.get((key, cache, "memory"))
            ratio = prot.own / memory["protected"].own if memory else None
            shown = f"{ratio:.3f}" if ratio else ""
            goal = met(ratio <= TARGET_DENY) if ratio and deny == "redis" else ""
            answer = prot.detail["deny"]
            vs = f"{answer / memory['protected'].detail['deny']:.3f}" if memory and answer else ""
            print(f"| {name(key)} | {deny} | {prot.total:,.0f} | {prot.own:,.0f} | {prot.enforce:,.0f} | "
                  f"{prot.detail['record']:,.0f} | {answer:,.0f} | {shown} | {goal} | {vs} |")
    print()
    print("Permissions (issue 19), cache on: scopegate's own instructions per request, the same handler "
          "and vocabulary:")
    print()
    print("| key | no permission required | 3 permissions and an `any(..)` | ratio | ≤ 1.05 |")
    print("|---|---:|---:|---:|---|")
    for (key, cache, deny), routes in by_config.items():
        if not cache:
            continue
        plain, perms = routes["permissions, none required"], routes["permissions, 3 and any(..)"]
        ratio = perms.own / plain.own
        print(f"| {name(key, deny)} | {plain.own:,.0f} | {perms.own:,.0f} | {ratio:.3f} | "
              f"{met(ratio <= TARGET_PERMISSIONS)} |")


# Routes without an unprotected twin of the same shape.
NO_TWIN = {"protected, TiToken"}


def name(key: str, deny: str = "none") -> str:
    shown = "EdDSA" if key == "eddsa" else key.upper()
    return shown if deny == "none" else f"{shown}, {deny} deny-list"


class Redis:
    """A redis-server of this script's own, for `--deny-lists redis`."""

    def __init__(self, work: Path):
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        (work / "redis").mkdir()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(work / "redis")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit("redis-server did not start")
                time.sleep(0.05)

    def flush(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "FLUSHALL"], capture_output=True, check=True)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default=str(ROOT / "target/release/examples/bench_server"),
                   help="the bench_server binary (default: target/release/examples/bench_server)")
    p.add_argument("--requests", type=int, default=2000, help="measured requests per route, cache on (2000)")
    p.add_argument("--cold-requests", type=int, default=500, help="measured requests per route, cache off (500)")
    p.add_argument("--warmup", type=int, default=300, help="warm-up requests per route (300)")
    p.add_argument("--keys", default=",".join(KEYS), help="comma-separated subset of " + ",".join(KEYS))
    p.add_argument("--cache", default="on,off", help="on, off or on,off (default)")
    p.add_argument("--cpu", type=int, default=0, help="core to pin the server to (0)")
    p.add_argument("--keep", metavar="DIR", help="keep the callgrind files in DIR")
    p.add_argument("--routing", choices=["with", "only", "without"], default="with",
                   help="the routing table of every protected GET (HS512, cache on): with the other "
                        "tables (default), only it, or without it")
    p.add_argument("--deny-lists", default="none",
                   help="comma-separated deny-lists to measure each configuration with: none (default), "
                        "memory, redis")
    p.add_argument("--revoked", type=int, default=10_000, help="revocations each deny-list holds (10000)")
    args = p.parse_args()
    denies = args.deny_lists.split(",")
    if any(d not in ("none", "memory", "redis") for d in denies):
        p.error("--deny-lists from none, memory, redis")
    keys = args.keys.split(",")
    caches = [{"on": True, "off": False}[c] for c in args.cache.split(",")]
    if any(k not in KEYS for k in keys) or not (1 <= args.requests <= 100_000 and 1 <= args.cold_requests <= 100_000):
        p.error(f"--keys from {','.join(KEYS)}; --requests and --cold-requests in [1, 100000]")
    for tool in ("valgrind", "callgrind_control", "taskset"):
        if not shutil.which(tool):
            p.error(f"{tool} not found (bench/instructions.sh installs valgrind)")
    work = Path(tempfile.mkdtemp(prefix="scopegate-callgrind-"))
    started = time.monotonic()
    rows = []
    routing = []
    redis = None
    try:
        if args.routing != "without":
            routing = measure_routing(args, work)
        if "redis" in denies and args.routing != "only":
            if not shutil.which("redis-server"):
                p.error("redis-server not found (bench/instructions.sh installs it with --deny-lists redis)")
            redis = Redis(work)
            args.redis_url = redis.url
        for cache in (caches if args.routing != "only" else []):
            for key in keys:
                for deny in denies:
                    if redis:
                        redis.flush()
                    rows += measure(args, key, cache, work, deny)
    finally:
        if redis:
            redis.stop()
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    log(f"== done in {time.monotonic() - started:.0f} s")
    if rows:
        report(args, rows)
    if routing:
        report_routing(args, routing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
