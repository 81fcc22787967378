#!/usr/bin/env python3
"""Two builds side by side on a large store: each imports the same generated persons into a
fresh SQLite file (`pipestack import`, timed), then both serve and are driven in alternating
`wrk -t1` runs with run.py's requests; the ratio new/old of their rates is the result. For
what a change costs at scale, where compare.py's 200 persons say little.

Run: python3 bench/compare_big.py OLD_BIN NEW_BIN OUT.md [seconds per run] [persons]
(BENCH_ONLY=<text> measures only the cases whose label contains it.)
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import common
import run
from compare import Bin
from common import machine, wrk


def load(binary, csv_path):
    """A fresh store (its first start makes the company) with the persons imported."""
    server = Bin(binary)
    server.start()
    server.proc.terminate()
    server.proc.wait()
    t0 = time.monotonic()
    subprocess.run([binary, "--database", server.database, "import", csv_path, "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PIPESTACK_LOG": "warn"})
    return server, time.monotonic() - t0


def main():
    old_bin, new_bin, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    persons = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000_000
    work = tempfile.mkdtemp(prefix="pipestack-compare-big-")
    servers, imports = {}, {}
    try:
        csv_path = os.path.join(work, "persons.csv")
        run.gen(persons, csv_path)
        for name, binary in (("old", old_bin), ("new", new_bin)):
            servers[name], imports[name] = load(binary, csv_path)
            print(f"{name}: imported {persons} persons in {imports[name]:.1f} s", flush=True)
        probe_index = min(12345, persons - 1)
        probe = run.row(csv_path, probe_index)
        probe["id"] = probe_index + 1
        only = os.environ.get("BENCH_ONLY")
        cases = [c for c in run.scenarios(probe) if not only or only in c[0]]
        for s in servers.values():
            s.start()
        rows = []
        for label, method, path, body, _ in cases:
            for c in (2, 32):
                runs = {"old": [], "new": []}
                for _ in range(2):
                    for name, s in servers.items():
                        runs[name].append(wrk(s.base + path, c, seconds, method, body))
                med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p99", "non2xx")}
                       for k, v in runs.items()}
                rows.append((label, c, med))
                print(label, c, med, flush=True)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"# {os.path.basename(out)[:-3]}: two builds side by side at {persons:,} persons",
        "",
        f"`python3 bench/compare_big.py OLD NEW {out} {seconds} {persons}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"old = `{old_bin}`, new = `{new_bin}`; release builds, each importing the same "
        f"{persons:,} generated persons into a fresh SQLite file; `wrk -t1`, two alternating "
        f"runs of {seconds} s per cell, medians.",
        "",
        machine(),
        "",
        f"Import: old {imports['old']:.1f} s, new {imports['new']:.1f} s "
        f"(new/old {imports['new'] / imports['old']:.2f}).",
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
