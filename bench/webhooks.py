#!/usr/bin/env python3
"""What webhooks cost the writes they report: durable creates with five active webhooks whose
receiver takes 10 s to answer each delivery (Pipedrive's timeout), beside creates with none,
side by side in one run.

Each cell starts the release binary on a fresh store (SQLite; and, with a PostgreSQL URL, a
fresh PostgreSQL database too), with or without five `create.person` webhooks (three v2, two
v1) pointed at a receiver that sleeps 10 s before every answer, then runs `wrk -t1` creating
persons (`POST /api/v2/persons`). The two kinds alternate, ROUNDS times each; medians are
compared. The server with webhooks keeps writing its events to the outbox, making deliveries
of them and sending them (32 in flight, each held 10 s by the receiver) while it serves.

Run: cargo build --release && python3 bench/webhooks.py [seconds] [rounds] [postgres-url]
     -> bench/RESULTS-webhooks.md
"""

import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from common import ROOT, TOKEN, free_port, machine, wrk

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PG_URL = sys.argv[3] if len(sys.argv) > 3 else None
BIN = os.path.join(ROOT, "target", "release", "pipestack")
SLOW = 10.0


class SlowReceiver(http.server.BaseHTTPRequestHandler):
    """Reads a delivery, waits 10 s, answers 200."""

    received = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(SLOW)
        SlowReceiver.received += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


class Build:
    """The release binary on a fresh SQLite file or a fresh PostgreSQL database."""

    def __init__(self, label, pg):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if pg:
            name = f"pipestack_webhooks_{label}_{time.time_ns()}"
            subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.db = pg[: pg.rindex("/") + 1] + name
        else:
            self.db = f"sqlite://{tempfile.mkdtemp(prefix='pipestack-webhooks-')}/bench.db"
        self.proc = subprocess.Popen(
            [BIN, "--database", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--api-token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"})
        for _ in range(3000):
            try:
                self.call("GET", "/v1/users/me")
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("the server did not start")

    def call(self, method, path, body=None):
        req = urllib.request.Request(
            self.base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"x-api-token": TOKEN, "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def cell(pg, hooks, receiver):
    build = Build("hooks" if hooks else "none", pg)
    try:
        for i in range(hooks):
            build.call("POST", "/v1/webhooks", {
                "subscription_url": f"{receiver}/hook{i}", "event_action": "create",
                "event_object": "person", "version": "2.0" if i < 3 else "1.0"})
        result = wrk(build.base + "/api/v2/persons", 32, SECONDS, "POST",
                     {"name": "Bench Person", "emails": [{"value": "b@example.com"}]})
        return result
    finally:
        build.stop()


def run(label, pg, rows):
    receiver = start_receiver()
    none, hooks = [], []
    for _ in range(ROUNDS):
        none.append(cell(pg, 0, receiver))
        hooks.append(cell(pg, 5, receiver))
    n_rps = statistics.median(r["rps"] for r in none)
    h_rps = statistics.median(r["rps"] for r in hooks)
    n_p99 = statistics.median(r["p99"] for r in none)
    h_p99 = statistics.median(r["p99"] for r in hooks)
    bad = sum(r["non2xx"] for r in none + hooks)
    rows.append((label, n_rps, n_p99, h_rps, h_p99, h_rps / n_rps, bad))
    print(f"{label:>10} none {n_rps:8.0f}/s p99 {n_p99:6.2f} ms | 5 slow webhooks "
          f"{h_rps:8.0f}/s p99 {h_p99:6.2f} ms | ratio {h_rps / n_rps:.2f} | non-2xx {bad}",
          flush=True)


def main():
    rows = []
    run("SQLite", None, rows)
    if PG_URL:
        run("PostgreSQL", PG_URL, rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = [
        "# Webhooks: creates with five slow webhooks beside creates with none",
        "",
        f"`python3 bench/webhooks.py {SECONDS} {ROUNDS}{' PG_URL' if PG_URL else ''}` at {commit}, "
        f"{time.strftime('%Y-%m-%d')}. {machine()}",
        "",
        "`wrk -t1 -c32`, `POST /api/v2/persons` (durable: acknowledged once committed), "
        f"{SECONDS} s per cell, medians of {ROUNDS} rounds, each cell on a fresh store. "
        "\"5 slow webhooks\": five `create.person` webhooks (three v2, two v1) whose receiver "
        "answers each delivery only after 10 s (Pipedrive's timeout), so the dispatcher's 32 "
        "sends in flight are all held while the creates run. Target (issue 16): within 15% of "
        "no webhooks (ratio ≥ 0.85).",
        "",
        "| store | no webhooks | p99 | 5 slow webhooks | p99 | ratio | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, n_rps, n_p99, h_rps, h_p99, ratio, bad in rows:
        out.append(f"| {label} | {n_rps:,.0f}/s | {n_p99:.2f} ms | {h_rps:,.0f}/s | "
                   f"{h_p99:.2f} ms | {ratio:.2f} | {bad} |")
    path = os.path.join(ROOT, "bench", "RESULTS-webhooks.md")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
