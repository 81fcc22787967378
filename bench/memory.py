#!/usr/bin/env python3
"""Where the server's memory goes at a million persons (issue 18: RSS <= 100 MB).

Loads 1,000,000 persons once (`pipestack import`, kept as a template under the work folder),
then for each binary given runs every request `bench/run.py` asks, in its order, at 2 and 32
connections, on a fresh copy of that file: the server's RSS after each cell, at the end, and
at its highest (sampled every 100 ms, with the cell it came in). Each binary may be given
environment variables (`BIN:NAME=VALUE,NAME=VALUE`), e.g. to try allocator settings.

Run: python3 bench/memory.py [seconds per cell] BIN[:ENV] …   -> printed, one line per binary
(the work folder: $PIPESTACK_BENCH_DIR, /tmp/pipestack-memory by default)
"""

import os
import shutil
import subprocess
import sys
import threading
import time

from common import BIN, Server, wrk
from run import gen, row, scenarios

WORK = os.environ.get("PIPESTACK_BENCH_DIR", "/tmp/pipestack-memory")
PERSONS = 1_000_000


def status(pid):
    """VmRSS and RssAnon in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "RssAnon")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) // 1024
    return out


def template():
    path = f"{WORK}/template/bench.db"
    if not os.path.exists(path):
        os.makedirs(f"{WORK}/template", exist_ok=True)
        gen(PERSONS, f"{WORK}/persons.csv")
        s = Server(db_dir=f"{WORK}/template")
        s.start()
        s.proc.terminate()
        s.proc.wait()
        subprocess.run([BIN, "--database", f"sqlite://{path}", "import", f"{WORK}/persons.csv",
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return path


def measure(binary, env, seconds):
    copy = f"{WORK}/run"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(os.path.dirname(template()), copy)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        s = Server(db_dir=copy, binary=binary)
        s.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    probe = row(f"{WORK}/persons.csv", 12345)
    probe["id"] = 12346
    peak, cell, stop = {"VmRSS": 0}, ["start"], threading.Event()

    def sample():
        while not stop.is_set():
            now = status(s.proc.pid)
            if now["VmRSS"] > peak["VmRSS"]:
                peak.update(now, at=cell[0])
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    after = []
    for name, method, path, body, _ in scenarios(probe):
        for c in (2, 32):
            cell[0] = f"{name} c={c}"
            wrk(s.base + path, c, seconds, method=method, body=body)
            after.append(status(s.proc.pid)["VmRSS"])
    stop.set()
    sampler.join()
    end = status(s.proc.pid)
    s.proc.terminate()
    s.proc.wait()
    shutil.rmtree(copy, ignore_errors=True)
    return end, peak, after


def main():
    seconds = int(sys.argv[1])
    for spec in sys.argv[2:]:
        binary, _, envs = spec.partition(":")
        env = dict(e.split("=", 1) for e in envs.split(",") if e)
        end, peak, after = measure(binary, env, seconds)
        print(f"{spec}: end {end['VmRSS']} MB (anonymous {end['RssAnon']}), highest "
              f"{peak['VmRSS']} MB in {peak['at']}; after each cell {after}", flush=True)


if __name__ == "__main__":
    main()
