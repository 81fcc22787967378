#!/usr/bin/env python3
"""Two builds of pipestack side by side in one run: the same requests against an `old` and a
`new` release binary, each on a fresh SQLite file with the same data, alternating `wrk -t1`
runs; the ratio new/old of their rates is the result. For measuring what a change costs.

Run: python3 bench/compare.py OLD_BIN NEW_BIN OUT.md [seconds per run] [postgres://…/postgres]
(BENCH_ONLY=<text> measures only the cases whose label contains it.)
With a PostgreSQL URL, each build gets a fresh database there instead of a SQLite file.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import common
from common import TOKEN, machine, wrk


class Bin(common.Server):
    def __init__(self, binary, pg=None):
        super().__init__()
        self.binary = binary
        self.database = f"sqlite://{self.dir}/bench.db"
        if pg:
            name = f"pipestack_compare_{os.getpid()}_{len(os.path.basename(binary))}_{id(self)}"
            subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.database = pg[: pg.rindex("/") + 1] + name

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--database", self.database, "serve",
             "--listen", f"127.0.0.1:{self.port}", "--api-token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"},
        )
        t0 = time.monotonic()
        while True:
            try:
                return self.call("GET", "/v1/users/me")
            except OSError:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError("server did not start")
                time.sleep(0.01)


def main():
    old_bin, new_bin, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    pg = sys.argv[5] if len(sys.argv) > 5 else None
    servers = {"old": Bin(old_bin, pg), "new": Bin(new_bin, pg)}
    for s in servers.values():
        s.start()
        for i in range(200):
            s.call("POST", "/api/v2/persons",
                   {"name": f"Person {i}", "emails": [{"value": f"p{i}@example.com"}]})
    body = {"name": "New Nora", "emails": [{"value": "nora@example.com"}]}
    cases = [
        ("GET /api/v2/persons/7", "GET", "/api/v2/persons/7", None),
        ("GET /v1/persons/7", "GET", "/v1/persons/7", None),
        ("GET /v1/persons?limit=100", "GET", "/v1/persons?limit=100", None),
        ("GET /api/v2/persons?limit=100", "GET", "/api/v2/persons?limit=100", None),
        ("v2 search exact email", "GET", "/api/v2/persons/search?term=p7%40example.com&fields=email&exact_match=true", None),
        ("v2 search substring", "GET", "/api/v2/persons/search?term=rson%2017", None),
        ("POST /api/v2/persons", "POST", "/api/v2/persons", body),
    ]
    # BENCH_ONLY="GET /v1" measures only the cases whose label contains it (a quick look).
    only = os.environ.get("BENCH_ONLY")
    cases = [c for c in cases if not only or only in c[0]]
    rows = []
    try:
        for label, method, path, b in cases:
            for c in (2, 32):
                runs = {"old": [], "new": []}
                for _ in range(2):
                    for name, s in servers.items():
                        runs[name].append(wrk(s.base + path, c, seconds, method, b))
                med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p99", "non2xx")}
                       for k, v in runs.items()}
                rows.append((label, c, med))
                print(label, c, med, flush=True)
    finally:
        for s in servers.values():
            s.stop()
    lines = [
        f"# {os.path.basename(out)[:-3]}: two builds side by side",
        "",
        f"`python3 bench/compare.py OLD NEW {out} {seconds}{' postgres://…' if pg else ''}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"old = `{old_bin}`, new = `{new_bin}`; both release builds on fresh "
        f"{'PostgreSQL databases (same machine)' if pg else 'SQLite files'} with",
        f"the same 200 persons; `wrk -t1`, two alternating runs of {seconds} s per cell, medians.",
        "",
        machine(),
        "",
        "| request | conns | old req/s | new req/s | new/old | old p99 ms | new p99 ms | non-2xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, c, m in rows:
        lines.append(
            f"| {label} | {c} | {m['old']['rps']:.0f} | {m['new']['rps']:.0f} | "
            f"{m['new']['rps'] / m['old']['rps']:.2f} | {m['old']['p99']:.2f} | {m['new']['p99']:.2f} | "
            f"{m['old']['non2xx'] + m['new']['non2xx']:.0f} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
