#!/usr/bin/env python3
"""Durable creates, a build beside another and beside the null server, in one run: what a
change to the write path does to throughput and to the tail.

Each round starts each binary on a fresh SQLite file and runs `wrk -t1 -c32` creating persons
(`POST /v1/persons`, the seed's body) for SECONDS, then the null server (`bench/null_server.rs`,
answering the same route with pipestack's own captured answer, doing no work). Rounds
alternate the builds; medians are compared.

Run: cargo build --release --bins && python3 bench/write_path.py BEFORE_BIN [seconds] [rounds]
     -> bench/RESULTS-write-path.md   (BEFORE_BIN: a release binary of the build to compare)
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import ROOT, TOKEN, Server, machine, save_results, wrk

# Read only when run: bench/floor.py imports this file for its helpers.
ARGS = sys.argv[1:] if __name__ == "__main__" else []
BEFORE = ARGS[0] if ARGS else None
SECONDS = int(ARGS[1]) if len(ARGS) > 1 else 10
ROUNDS = int(ARGS[2]) if len(ARGS) > 2 else 3
AFTER = os.path.join(ROOT, "target", "release", "pipestack")
NULL_BIN = os.path.join(ROOT, "target", "release", "pipestack-null-server")
BODY = {"name": "John Doe", "owner_id": 1,
        "email": [{"value": "john.doe@example.com", "primary": True, "label": "work"}],
        "phone": [{"value": "+15551234567", "primary": True, "label": "work"}],
        "visible_to": "3", "marketing_status": "subscribed"}


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(base):
    for _ in range(3000):
        try:
            req = urllib.request.Request(base + "/v1/users/me", headers={"x-api-token": TOKEN})
            urllib.request.urlopen(req).read()
            return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{base} did not start")


def cell(binary):
    server = Server(binary=binary)
    server.start()
    try:
        return wrk(server.base + "/v1/persons", 32, SECONDS, "POST", BODY)
    finally:
        server.stop()


def null_cell(outdir):
    p = port()
    proc = subprocess.Popen([NULL_BIN, f"127.0.0.1:{p}", outdir], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{p}"
    try:
        wait(base)
        return wrk(base + "/v1/persons", 32, SECONDS, "POST", BODY)
    finally:
        proc.terminate()
        proc.wait()


def capture(outdir):
    server = Server(binary=AFTER)
    server.start()
    base = server.base
    try:
        req = urllib.request.Request(base + "/v1/persons", method="POST", data=json.dumps(BODY).encode(),
                                     headers={"x-api-token": TOKEN, "content-type": "application/json"})
        with urllib.request.urlopen(req) as r:
            status, data = r.status, r.read()
        with open(f"{outdir}/post_v1_person.status", "w") as f:
            f.write(str(status))
        with open(f"{outdir}/post_v1_person.body", "wb") as f:
            f.write(data)
        req = urllib.request.Request(base + "/v1/users/me", headers={"x-api-token": TOKEN})
        with urllib.request.urlopen(req) as r:
            me = r.read()
        with open(f"{outdir}/get_v1_person.status", "w") as f:
            f.write("200")
        with open(f"{outdir}/get_v1_person.body", "wb") as f:
            f.write(me)
    finally:
        server.stop()


def main():
    outdir = tempfile.mkdtemp(prefix="pipestack-null-")
    capture(outdir)
    cells = {"before": [], "after": [], "null": []}
    for _ in range(ROUNDS):
        cells["before"].append(cell(BEFORE))
        cells["after"].append(cell(AFTER))
        cells["null"].append(null_cell(outdir))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50", "p99")}
           for k, v in cells.items()}
    bad = sum(r["non2xx"] for k in ("before", "after") for r in cells[k])
    for k, m in med.items():
        print(f"{k:>7} {m['rps']:9.0f} req/s  p50 {m['p50']:6.2f} ms  p99 {m['p99']:7.2f} ms  "
              f"ratio to null {m['rps'] / med['null']['rps']:.3f}", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = [
        "# Write path: durable creates, before and after, beside the null server",
        "",
        f"`python3 bench/write_path.py BEFORE_BIN {SECONDS} {ROUNDS}` at {commit} "
        f"(\"after\"), {time.strftime('%Y-%m-%d')}. {machine()}",
        "",
        "`wrk -t1 -c32`, `POST /v1/persons` (the seed's body; durable: answered once committed "
        f"with `synchronous=FULL`), {SECONDS} s per cell on a fresh SQLite file, medians of "
        f"{ROUNDS} rounds, builds alternating. Null: the same route answered with a captured "
        "response, no work.",
        "",
        "| build | req/s | p50 | p99 | ÷ null |",
        "|---|---:|---:|---:|---:|",
    ]
    for k in ("before", "after", "null"):
        m = med[k]
        out.append(f"| {k} | {m['rps']:,.0f} | {m['p50']:.2f} ms | {m['p99']:.2f} ms | "
                   f"{m['rps'] / med['null']['rps']:.3f} |")
    out += ["", f"non-2xx answers: {bad}"]
    save_results("RESULTS-write-path.md", out)


if __name__ == "__main__":
    main()
