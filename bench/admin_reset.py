#!/usr/bin/env python3
"""How long the admin API's reset and snapshot restore take on a company with 1,000 persons
(issue 17's target: a reset under 20 ms, fast enough to call before every test).

The release binary with `--admin-api` on a fresh store (SQLite; and, with a PostgreSQL URL, a
fresh PostgreSQL database too). The company gets 1,000 persons (each with an email, a phone
and a custom field value; every tenth in one of 100 organizations), 100 deals, 100 activities
and 100 notes, and is saved as a snapshot. Then ROUNDS times: the snapshot is restored (timed)
and the company reset (timed), so that every reset empties the full company. Times are the
client's (one keep-alive connection, request to answer, the reset's commit on disk included).

Run: cargo build --release && python3 bench/admin_reset.py [rounds] [postgres-url]
     -> bench/RESULTS-admin.md
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, TOKEN, free_port, machine

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
PG_URL = sys.argv[2] if len(sys.argv) > 2 else None
BIN = os.path.join(ROOT, "target", "release", "pipestack")
PERSONS = 1000


class Server:
    def __init__(self, pg):
        self.port = free_port()
        if pg:
            name = f"pipestack_admin_{time.time_ns()}"
            subprocess.run(["psql", pg, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.db = pg[: pg.rindex("/") + 1] + name
        else:
            self.db = f"sqlite://{tempfile.mkdtemp(prefix='pipestack-admin-')}/bench.db"
        self.proc = subprocess.Popen(
            [BIN, "--database", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--api-token", TOKEN, "--admin-api"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"})
        for _ in range(3000):
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.call("GET", "/v1/users/me")
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("the server did not start")

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        self.conn.request(method, path, body=data,
                          headers={"x-api-token": TOKEN, "content-type": "application/json"})
        r = self.conn.getresponse()
        out = json.loads(r.read())
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {out}")
        return out

    def timed(self, method, path, body=None):
        t0 = time.perf_counter()
        out = self.call(method, path, body)
        return (time.perf_counter() - t0) * 1000, out

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def fill(s):
    field = s.call("POST", "/api/v2/personFields", {"field_name": "Tier", "field_type": "varchar"})
    code = field["data"]["field_code"]
    orgs = [s.call("POST", "/api/v2/organizations", {"name": f"Org {i}"})["data"]["id"]
            for i in range(100)]
    persons = []
    for i in range(PERSONS):
        body = {"name": f"Person {i}", "emails": [{"value": f"p{i}@example.com"}],
                "phones": [{"value": f"+1555{i:06d}"}], "custom_fields": {code: f"T{i % 7}"}}
        if i % 10 == 0:
            body["org_id"] = orgs[i // 10]
        persons.append(s.call("POST", "/api/v2/persons", body)["data"]["id"])
    for i in range(100):
        s.call("POST", "/api/v2/deals", {"title": f"Deal {i}", "person_id": persons[i]})
        s.call("POST", "/api/v2/activities",
               {"subject": f"Call {i}", "type": "call", "person_id": persons[i]})
        s.call("POST", "/v1/notes", {"content": f"Note {i}", "person_id": persons[i]})


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run(label, pg):
    s = Server(pg)
    try:
        fill(s)
        snap_ms, snap = s.timed("POST", "/_pipestack/snapshots", {"name": "full"})
        resets, restores, empties = [], [], []
        for _ in range(ROUNDS):
            ms, _ = s.timed("POST", "/_pipestack/snapshots/full/restore", {})
            restores.append(ms)
            n = len(s.call("GET", "/api/v2/persons?limit=500")["data"])
            assert n == 500, n
            ms, _ = s.timed("POST", "/_pipestack/reset", {})
            resets.append(ms)
            assert s.call("GET", "/api/v2/persons")["data"] == []
            ms, _ = s.timed("POST", "/_pipestack/reset", {})
            empties.append(ms)
        row = (label, statistics.median(resets), pct(resets, 90), statistics.median(empties),
               statistics.median(restores), pct(restores, 90), snap_ms,
               snap["data"]["size_bytes"])
        print(f"{label:>10} reset@1k median {row[1]:.1f} ms p90 {row[2]:.1f} | reset empty "
              f"{row[3]:.1f} | restore median {row[4]:.1f} p90 {row[5]:.1f} | snapshot "
              f"{row[6]:.1f} ms, {row[7] / 1024:.0f} KiB", flush=True)
        return row
    finally:
        s.stop()


def main():
    rows = [run("SQLite", None)]
    if PG_URL:
        rows.append(run("PostgreSQL", PG_URL))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    out = [
        "# Admin API: reset and snapshot restore on a company with 1,000 persons",
        "",
        f"`python3 bench/admin_reset.py {ROUNDS}{' PG_URL' if PG_URL else ''}` at {commit}, "
        f"{time.strftime('%Y-%m-%d')}. {machine()}",
        "",
        f"Release build, `--admin-api`, fresh store. The company: {PERSONS:,} persons (email, "
        "phone, a custom field; every tenth in one of 100 organizations), 100 deals, 100 "
        "activities, 100 notes, saved as a snapshot. Each of "
        f"{ROUNDS} rounds restores the snapshot, then resets the company (so each reset empties "
        "all of it), then resets the empty company. Client-side times on one keep-alive "
        "connection, the commit to disk included. Target (issue 17): reset under 20 ms at "
        "1,000 persons.",
        "",
        "| store | reset @1k median | p90 | reset of an empty company | restore median | p90 "
        "| snapshot save | snapshot size |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r50, r90, e50, s50, s90, snap, size in rows:
        out.append(f"| {label} | {r50:.1f} ms | {r90:.1f} ms | {e50:.1f} ms | {s50:.1f} ms | "
                   f"{s90:.1f} ms | {snap:.1f} ms | {size / 1024:.0f} KiB |")
    path = os.path.join(ROOT, "bench", "RESULTS-admin.md")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
