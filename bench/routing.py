#!/usr/bin/env python3
"""Driver of bench/routing.sh (run that: it builds bench/routing.rs in
release first). Instructions of one request through actix apps that register
the same routes in different ways (issue 21, SPEC §14), counted by callgrind:
deterministic, so layouts compare on a noisy machine.

Each figure is the difference between two runs of `bench_routing` under
`valgrind --tool=callgrind --toggle-collect=bench_routing::measured`, with
`--requests` R and 6R (startup cancels out), divided by 5R: the
instructions of one request, in-process through actix's `test::call_service`
(no HTTP parsing, no socket), so that what differs between layouts is
routing. Prints two Markdown tables: the example's routes under each layout,
and the last route of a generated API of 50, 200 and 1,000 routes.

Standard library only, plus valgrind.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

LAYOUTS = ["alone", "flat", "scopes", "radix", "pattern", "dispatch"]
ROUTES = [
    ("GET", "/execution/health", 200),
    ("GET", "/execution/variables/<k>", 200),
    ("GET", "/execution/xcoms/<a>/<b>/<c>/<d>", 200),
    ("GET", "/execution/xcoms/<a>/<b>/<c>/<d>/item/<o>", 200),
    ("GET", "/execution/task-reschedules/<t>/start_date", 200),
    ("PUT", "/execution/variables/keys", 200),
    ("GET", "last", 200),
    ("GET", "/execution/nope/x", 404),
    ("POST", "/execution/variables/<k>", 405),
]
# Layouts that cannot answer a row as actix's flat order does (a resource per
# path answers 405 for `PUT /variables/keys`; scopes answer no 405 at all).
SKIP = {("pattern", "/execution/variables/keys"), ("alone", 404), ("alone", 405),
        ("scopes", 405), ("radix", 405), ("pattern", 405)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def instructions(binary: str, args: list[str], requests: int) -> int:
    """Instructions counted inside `measured` for one run."""
    with tempfile.TemporaryDirectory(prefix="scopegate-routing-") as work:
        out = Path(work) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", "--toggle-collect=bench_routing::measured",
                f"--callgrind-out-file={out}", binary, *args, "--requests", str(requests)]
        run = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        if run.returncode != 0:
            raise SystemExit(f"bench_routing {' '.join(args)} failed:\n{run.stderr[-2000:]}")
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit("no totals in the callgrind file")


def per_request(binary: str, args: list[str], requests: int) -> float:
    low = instructions(binary, args, requests)
    high = instructions(binary, args, 6 * requests)
    return (high - low) / (5 * requests)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=str(ROOT / "target/release/examples/bench_routing"))
    p.add_argument("--requests", type=int, default=200, help="R: runs of R and 6R requests (200)")
    p.add_argument("--sizes", default="50,200,1000", help="generated APIs' sizes (50,200,1000)")
    args = p.parse_args()
    print("| route | " + " | ".join(LAYOUTS) + " |")
    print("|---|" + "---:|" * len(LAYOUTS))
    for method, path, status in ROUTES:
        cells = []
        for layout in LAYOUTS:
            if (layout, path) in SKIP or (layout, status) in SKIP:
                cells.append("")
                continue
            value = per_request(args.binary, ["--layout", layout, "--method", method, "--path", path,
                                              "--expect", str(status)], args.requests)
            cells.append(f"{value:,.0f}")
            log(f"{layout:8} {method} {path}: {value:,.0f}")
        shown = "the last route" if path == "last" else path
        print(f"| `{method} {shown}` ({status}) | " + " | ".join(cells) + " |", flush=True)
    print()
    generated = ["alone", "flat", "scopes", "radix", "dispatch"]
    print("| routes | " + " | ".join(generated) + " |")
    print("|---:|" + "---:|" * len(generated))
    for size in args.sizes.split(","):
        cells = []
        for layout in generated:
            value = per_request(args.binary, ["--layout", layout, "--app", f"gen:{size}", "--path", "last"],
                                args.requests)
            cells.append(f"{value:,.0f}")
            log(f"{layout:8} gen:{size}: {value:,.0f}")
        print(f"| {int(size):,} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
