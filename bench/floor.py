#!/usr/bin/env python3
"""How far durable creates can go on this machine: pipestack beside the *durable floor* and
the null server, in one run.

The durable floor is the null server (`bench/null_server.rs`) given a SQLite file: its POST
routes insert each request's body as one row of a table with no index, group-committed by one
writer thread (WAL, `synchronous=FULL`), and answer once committed, as pipestack does. No
parsing, no validation, no person: what a durable write costs on this HTTP stack, with this
disk, on these two cores shared with `wrk`. Whatever pipestack does per create comes on top.

Each round runs `wrk -t1 -c32 POST /v1/persons` (the seed's body) for SECONDS on pipestack
(fresh SQLite file), the floor (fresh file) and the null server; medians of ROUNDS rounds.

Run: cargo build --release --bins && python3 bench/floor.py [seconds] [rounds]
     -> bench/RESULTS-floor.md
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, Server, machine, save_results, wrk

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
NULL_BIN = os.path.join(ROOT, "target", "release", "pipestack-null-server")

# The seed's body, and the capture of pipestack's answer, as in write_path.py.
import write_path  # noqa: E402

BODY = write_path.BODY


def null_cell(outdir, floor=None):
    p = write_path.port()
    args = [NULL_BIN, f"127.0.0.1:{p}", outdir] + ([floor] if floor else [])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{p}"
    try:
        write_path.wait(base)
        return wrk(base + "/v1/persons", 32, SECONDS, "POST", BODY)
    finally:
        proc.terminate()
        proc.wait()


def pipestack_cell():
    server = Server()
    server.start()
    try:
        return wrk(server.base + "/v1/persons", 32, SECONDS, "POST", BODY)
    finally:
        server.stop()


def main():
    outdir = tempfile.mkdtemp(prefix="pipestack-null-")
    write_path.capture(outdir)
    cells = {"pipestack": [], "floor": [], "null": []}
    for r in range(ROUNDS):
        cells["pipestack"].append(pipestack_cell())
        floor_file = os.path.join(tempfile.mkdtemp(prefix="pipestack-floor-"), "floor.db")
        cells["floor"].append(null_cell(outdir, floor_file))
        cells["null"].append(null_cell(outdir))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]['rps']:.0f}" for k, v in cells.items()),
              flush=True)
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("rps", "p50", "p99")}
           for k, v in cells.items()}
    bad = sum(x["non2xx"] for v in cells.values() for x in v)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = [
        "# Durable creates beside the durable floor and the null server",
        "",
        f"`python3 bench/floor.py {SECONDS} {ROUNDS}` at {commit}, {time.strftime('%Y-%m-%d')}. "
        f"{machine()}",
        "",
        "`wrk -t1 -c32`, `POST /v1/persons` (the seed's body), "
        f"{SECONDS} s per cell, medians of {ROUNDS} rounds, servers alternating. "
        "Floor: the null server's HTTP stack inserting each body as one row (no index) in a "
        "SQLite file, group-committed (WAL, `synchronous=FULL`) and answered after the commit. "
        "Null: a captured answer, no work.",
        "",
        "| server | req/s | p50 | p99 | ÷ null | ÷ floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k in ("pipestack", "floor", "null"):
        m = med[k]
        out.append(f"| {k} | {m['rps']:,.0f} | {m['p50']:.2f} ms | {m['p99']:.2f} ms | "
                   f"{m['rps'] / med['null']['rps']:.3f} | {m['rps'] / med['floor']['rps']:.3f} |")
    out += ["", "Each round (req/s): " + "; ".join(
        f"{k} " + ", ".join(f"{x['rps']:.0f}" for x in v) for k, v in cells.items()),
        "", f"non-2xx answers: {bad}"]
    save_results("RESULTS-floor.md", out)


if __name__ == "__main__":
    main()
