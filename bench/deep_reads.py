#!/usr/bin/env python3
"""Do long reads hold up everyone else? Two builds side by side: each imports the same
persons into a fresh SQLite file, then, while `wrk` keeps 4 connections busy with a v1 list at
a deep offset in an order no index serves (`sort=primary_email DESC&start=…`), a second `wrk`
measures `GET /healthz` and `GET /v1/persons/{id}` at 2 connections: their p99 is the result.

Run: python3 bench/deep_reads.py OLD_BIN NEW_BIN OUT.md [persons] [seconds]
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import common
import run
from compare import Bin
from compare_big import load
from common import machine, wrk

DEEP = "/v1/persons?sort=primary_email%20DESC&start={start}&limit=100"


def measure(server, persons, seconds):
    deep = DEEP.format(start=persons // 3)
    results = {}
    load_thread = threading.Thread(
        target=lambda: results.update(deep=wrk(server.base + deep, 4, seconds + 2)))
    load_thread.start()
    time.sleep(1)
    results["healthz"] = wrk(server.base + "/healthz", 2, seconds // 2)
    results["get"] = wrk(server.base + "/v1/persons/7", 2, seconds // 2)
    load_thread.join()
    return results


def main():
    old_bin, new_bin, out = sys.argv[1], sys.argv[2], sys.argv[3]
    persons = int(sys.argv[4]) if len(sys.argv) > 4 else 300_000
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    work = tempfile.mkdtemp(prefix="pipestack-deep-reads-")
    rows = {}
    try:
        csv_path = os.path.join(work, "persons.csv")
        run.gen(persons, csv_path)
        for name, binary in (("old", old_bin), ("new", new_bin)):
            server, _ = load(binary, csv_path)
            server.start()
            try:
                rows[name] = measure(server, persons, seconds)
            finally:
                server.stop()
            print(name, rows[name], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"# {os.path.basename(out)[:-3]}: other requests while long reads run",
        "",
        f"`python3 bench/deep_reads.py OLD NEW {out} {persons} {seconds}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. old = `{old_bin}`, "
        f"new = `{new_bin}`.",
        f"{persons:,} imported persons; `wrk -c4` on `{DEEP.format(start=persons // 3)}` the whole "
        "time, and meanwhile `wrk -c2` on each of the requests below.",
        "",
        machine(),
        "",
        "| request | build | req/s | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, key in (("GET /healthz", "healthz"), ("GET /v1/persons/7", "get"),
                       ("deep list (the load)", "deep")):
        for name in ("old", "new"):
            r = rows[name][key]
            lines.append(f"| {label} | {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
