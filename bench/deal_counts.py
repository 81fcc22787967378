#!/usr/bin/env python3
"""What live deal counts cost person and organization reads: the build before deals (OLD)
against this one (NEW), side by side in one run, on the same data.

Each build runs on its own fresh SQLite file (and, with a PostgreSQL URL, its own fresh
database), seeded alike with 1,000 organizations and persons (NEW also gets a deal for each
person: the counts then have something to count). Then, alternating OLD and NEW, `wrk -t1`
ROUNDS times per cell: the v1 person read (which always shows the ten deal counts), a v1 page
of 100 persons, the v1 organization read, and the v2 person read without counts.

Run: python3 bench/deal_counts.py OLD_BIN NEW_BIN [seconds] [rounds] [postgres-url]
     -> bench/RESULTS-deal-counts.md
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

from common import ROOT, TOKEN, free_port, machine, wrk

OLD, NEW = sys.argv[1], sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
PG_URL = sys.argv[5] if len(sys.argv) > 5 else None

CASES = [
    ("GET /v1/persons/{id}", "/v1/persons/500"),
    ("GET /v1/persons?limit=100", "/v1/persons?limit=100"),
    ("GET /v1/organizations/{id}", "/v1/organizations/500"),
    ("GET /api/v2/persons/{id}", "/api/v2/persons/500"),
]


class Build:
    def __init__(self, binary, label, pg):
        self.binary, self.label = binary, label
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if pg:
            name = f"pipestack_counts_{label.lower()}_{int(time.time())}"
            subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.db = pg[: pg.rindex("/") + 1] + name
        else:
            self.dir = tempfile.mkdtemp(prefix="pipestack-counts-")
            self.db = f"sqlite://{self.dir}/bench.db"
        self.proc = subprocess.Popen(
            [binary, "--database", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--api-token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"})
        for _ in range(3000):
            try:
                self.call("GET", "/v1/users/me")
                break
            except OSError:
                time.sleep(0.01)

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            self.base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"x-api-token": TOKEN, "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def seed(self, deals):
        for i in range(1, 1001):
            org = self.call("POST", "/v1/organizations", {"name": f"Org {i}"})["data"]["id"]
            p = self.call("POST", "/v1/persons", {"name": f"Person {i}", "org_id": org})["data"]["id"]
            if deals:
                self.call("POST", "/api/v2/deals", {"title": f"Deal {i}", "person_id": p,
                                                    "org_id": org, "value": i})

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def run(label, pg, rows):
    old, new = Build(OLD, "old", pg), Build(NEW, "new", pg)
    old.seed(False)
    new.seed(True)
    for name, path in CASES:
        for c in (2, 32):
            o, n = [], []
            for _ in range(ROUNDS):
                o.append(wrk(old.base + path, c, SECONDS))
                n.append(wrk(new.base + path, c, SECONDS))
            orps = statistics.median(r["rps"] for r in o)
            nrps = statistics.median(r["rps"] for r in n)
            op99 = statistics.median(r["p99"] for r in o)
            np99 = statistics.median(r["p99"] for r in n)
            rows.append((label, name, c, orps, op99, nrps, np99))
            print(f"{label:>8} {name:<28} c={c:<3} old {orps:>8.0f}/s p99 {op99:6.2f}  "
                  f"new {nrps:>8.0f}/s p99 {np99:6.2f}  new/old {nrps / orps:.2f}", flush=True)
    old.stop()
    new.stop()


def main():
    rows = []
    run("SQLite", None, rows)
    if PG_URL:
        run("Postgres", PG_URL, rows)
    lines = [
        "# What live deal counts cost person and organization reads",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        f"Command: `python3 bench/deal_counts.py OLD NEW {SECONDS} {ROUNDS}"
        f"{' PG_URL' if PG_URL else ''}`, OLD the release build before deals (`e1fc08c`), NEW "
        "this one. Same data in both (1,000 organizations and persons; NEW also one deal per "
        f"person). Each cell: the median of {ROUNDS} `wrk -t1` runs of {SECONDS} s, OLD and NEW "
        "alternating.",
        "",
        "| store | request | conns | old req/s | old p99 ms | new req/s | new p99 ms | new ÷ old |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, c, o, op99, n, np99 in rows:
        lines.append(f"| {label} | {name} | {c} | {o:.0f} | {op99:.2f} | {n:.0f} | {np99:.2f} | "
                     f"{n / o:.2f} |")
    with open(os.path.join(ROOT, "bench", "RESULTS-deal-counts.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/RESULTS-deal-counts.md")


if __name__ == "__main__":
    main()
