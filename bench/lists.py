#!/usr/bin/env python3
"""List pages a build serves beside another, a different page each time (`start` random in
0-899 per request, so the page cache rarely holds the page asked for), in one run.

Each round starts each binary on a fresh SQLite file, adds 1,100 persons (the seed's body,
two emails each) and runs `wrk -t1 -c32` on a v2 and a v1 page of 100 for SECONDS, then times
v1 pages asked one at a time right after a commit (nothing kept for them); rounds alternate
the builds and the medians are compared.

Run: cargo build --release --bins && python3 bench/lists.py BEFORE_BIN AFTER_BIN [seconds] [rounds]
     -> bench/RESULTS-lists.md
"""

import json
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from common import ROOT, TOKEN, Server, machine, save_results, wrk
from write_path import BODY

# Read only when run (other scripts import `seed`).
ARGS = sys.argv[1:] if __name__ == "__main__" else []
BINS = {"before": ARGS[0], "after": ARGS[1]} if len(ARGS) > 1 else {}
SECONDS = int(ARGS[2]) if len(ARGS) > 2 else 5
ROUNDS = int(ARGS[3]) if len(ARGS) > 3 else 3
PATHS = ["/api/v2/persons?limit=100&start={start}", "/v1/persons?limit=100&start={start}"]


def seed(base):
    def add(i):
        body = dict(BODY, name=f"Person {i:05d}",
                    email=[{"value": f"p{i}@example.com", "primary": True, "label": "work"},
                           {"value": f"q{i}@example.org", "primary": False, "label": "home"}])
        req = urllib.request.Request(base + "/v1/persons", method="POST", data=json.dumps(body).encode(),
                                     headers={"x-api-token": TOKEN, "content-type": "application/json"})
        urllib.request.urlopen(req).read()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(add, range(1100)))


def after_a_commit(base, times=300):
    """Median ms of a v1 page at a random offset asked right after a commit (a rename), one
    request at a time: the path every page takes first after a write, nothing kept for it."""
    rnd = random.Random(1)
    took = []
    for i in range(times):
        req = urllib.request.Request(base + "/api/v2/persons/1", method="PATCH",
                                     data=json.dumps({"name": f"Renamed {i}"}).encode(),
                                     headers={"x-api-token": TOKEN, "content-type": "application/json"})
        urllib.request.urlopen(req).read()
        req = urllib.request.Request(base + f"/v1/persons?limit=100&start={rnd.randint(0, 899)}",
                                     headers={"x-api-token": TOKEN})
        t0 = time.perf_counter()
        urllib.request.urlopen(req).read()
        took.append(time.perf_counter() - t0)
    return statistics.median(took) * 1000


def main():
    cells = {(b, p): [] for b in BINS for p in PATHS}
    cold = {b: [] for b in BINS}
    for _ in range(ROUNDS):
        for name, binary in BINS.items():
            server = Server(binary=binary)
            server.start()
            try:
                seed(server.base)
                for p in PATHS:
                    cells[(name, p)].append(wrk(server.base + p, 32, SECONDS))
                cold[name].append(after_a_commit(server.base))
            finally:
                server.stop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = ["# List pages, a different page each time: a build beside another", "",
           f"`python3 bench/lists.py BEFORE AFTER {SECONDS} {ROUNDS}` at {commit}, "
           f"{time.strftime('%Y-%m-%d')}. {machine()}", "",
           f"`wrk -t1 -c32`, {SECONDS} s per cell, 1,100 persons, `start` random in 0-899 for "
           f"each request; medians of {ROUNDS} rounds, builds alternating.", "",
           "| request | before req/s (p99) | after req/s (p99) | after ÷ before |", "|---|---:|---:|---:|"]
    for p in PATHS:
        b = {k: statistics.median(x[k] for x in cells[("before", p)]) for k in ("rps", "p99")}
        a = {k: statistics.median(x[k] for x in cells[("after", p)]) for k in ("rps", "p99")}
        out.append(f"| `GET {p.replace('{start}', 'random')}` | {b['rps']:,.0f} ({b['p99']:.1f} ms) | "
                   f"{a['rps']:,.0f} ({a['p99']:.1f} ms) | {a['rps'] / b['rps']:.2f} |")
    b, a = statistics.median(cold["before"]), statistics.median(cold["after"])
    out.append(f"| `GET /v1/persons?limit=100&start=random` right after a commit, one at a time: "
               f"median ms | {b:.2f} ms | {a:.2f} ms | {b / a:.2f} |")
    out += ["", "non-2xx answers: " + str(sum(x["non2xx"] for v in cells.values() for x in v))]
    save_results("RESULTS-lists.md", out)


if __name__ == "__main__":
    main()
