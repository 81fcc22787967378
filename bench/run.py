#!/usr/bin/env python3
"""pipestack against the ceiling, side by side in one run (issue 6).

Builds the release binaries, starts pipestack on a fresh SQLite file and the null server
(same HTTP stack, fixed responses of the same size, no work), and drives both with
`wrk -t1` at 2 and 32 connections for: POST /v1/persons, POST /api/v2/persons,
GET /v1/persons/{id}, a 100-person list page in each dialect, v2 search by substring and by
exact email, POST /api/v2/deals and POST /api/v2/activities. Once on a small store (1,000
persons), once at 1,000,000 (loaded with `pipestack import`). Also: server RSS, and time from
start to first answer. Given a PostgreSQL URL, the writes are measured once more on a fresh
PostgreSQL database holding the small store, against the same null server.

Run: python3 bench/run.py [seconds per measurement] [persons] [postgres://…]   -> bench/RESULTS.md
"""

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import BIN, ROOT, TOKEN, Server, fresh_pg, machine, wrk

MAIN = __name__ == "__main__"
SECONDS = int(sys.argv[1]) if MAIN and len(sys.argv) > 1 else 5
BIG = int(sys.argv[2]) if MAIN and len(sys.argv) > 2 else 1_000_000
PG = sys.argv[3] if MAIN and len(sys.argv) > 3 else None
SMALL = 1_000
NULL_BIN = os.path.join(ROOT, "target", "release", "pipestack-null-server")
HERE = os.path.dirname(os.path.abspath(__file__))

V1_BODY = {"name": "John Doe", "owner_id": 1, "org_id": None,
           "email": [{"value": "john.doe@example.com", "primary": True, "label": "work"}],
           "phone": [{"value": "+15551234567", "primary": True, "label": "work"}],
           "visible_to": "3", "marketing_status": "subscribed"}
V2_BODY = {"name": "John Doe", "owner_id": 1,
           "emails": [{"value": "john.doe@example.com", "primary": True, "label": "work"}],
           "phones": [{"value": "+15551234567", "primary": True, "label": "work"}],
           "visible_to": 3, "marketing_status": "subscribed"}


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bins"], cwd=ROOT, check=True)


def gen(n, path):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_persons.py"), str(n), path], check=True)


def row(path, index):
    with open(path) as f:
        for i, r in enumerate(csv.DictReader(f)):
            if i == index:
                return r
    raise ValueError(index)


def scenarios(probe):
    """(name, method, path, body) for every measured request; `probe` is a stored person row."""
    from urllib.parse import quote
    email = probe["email"]
    local = email.split("@")[0]
    sub = local[local.index(".") + 1:]  # e.g. "berg.12345": a substring of one email
    sub_q, email_q = quote(sub), quote(email)
    return [
        ("POST /v1/persons", "POST", "/v1/persons", V1_BODY, "post_v1_person"),
        ("POST /api/v2/persons", "POST", "/api/v2/persons", V2_BODY, "post_v2_person"),
        ("GET /v1/persons/{id}", "GET", f"/v1/persons/{probe['id']}", None, "get_v1_person"),
        ("GET /v1/persons?limit=100", "GET", "/v1/persons?limit=100", None, "list_v1"),
        ("GET /api/v2/persons?limit=100", "GET", "/api/v2/persons?limit=100", None, "list_v2"),
        # A different page each request (random `start`): pages the cache does not hold, the
        # path every page takes the first time after a write.
        ("GET /v1/persons?limit=100&start=random", "GET", "/v1/persons?limit=100&start={start}", None,
         "list_v1"),
        (f"v2 search substring `{sub}`", "GET", f"/api/v2/persons/search?term={sub_q}", None, "search_v2"),
        ("v2 search exact email", "GET",
         f"/api/v2/persons/search?term={email_q}&fields=email&exact_match=true", None, "search_v2_exact"),
        # Last: they add deals and activities to the probe person, whose answers above were
        # captured without them.
        ("POST /api/v2/deals", "POST", "/api/v2/deals",
         {"title": "Bench deal", "value": 1200, "currency": "EUR", "person_id": probe["id"]}, "post_v2_deal"),
        ("POST /api/v2/activities", "POST", "/api/v2/activities",
         {"subject": "Bench call", "type": "call", "person_id": probe["id"],
          "due_date": "2026-12-01", "due_time": "10:00"}, "post_v2_activity"),
    ]


def is_write(scenario):
    return scenario[1] == "POST"


def capture(server, scen, outdir):
    for _, method, path, body, name in scen:
        if "{start}" in path:
            continue  # served by another scenario's capture
        req = urllib.request.Request(
            server.base + path, method=method,
            data=None if body is None else __import__("json").dumps(body).encode(),
            headers={"x-api-token": TOKEN, "content-type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        assert status < 300, (path, status, data[:300])
        with open(f"{outdir}/{name}.status", "w") as f:
            f.write(str(status))
        with open(f"{outdir}/{name}.body", "wb") as f:
            f.write(data)


def start_null(outdir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([NULL_BIN, f"127.0.0.1:{port}", outdir], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(3000):
        try:
            urllib.request.urlopen(base + "/v1/users/me")
            return proc, base
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("null server did not start")


def measure(label, server, scen, null_base, results, conns=(2, 32)):
    for name, method, path, body, _ in scen:
        for c in conns:
            ours = wrk(server.base + path, c, SECONDS, method, body)
            ceiling = wrk(null_base + path, c, SECONDS, method, body)
            results.append((label, name, c, ours, ceiling))
            print(f"{label:>10} {name:<40} c={c:<3} {ours['rps']:>9.0f} req/s  null {ceiling['rps']:>9.0f}"
                  f"  ratio {ours['rps'] / ceiling['rps']:.2f}  p99 {ours['p99']:.2f} ms  non2xx {ours['non2xx']}",
                  flush=True)


class PeakRss:
    """The server's highest RSS while a `with` block runs, sampled every 100 ms."""

    def __init__(self, server):
        self.server, self.peak = server, 0.0
        self.stop = __import__("threading").Event()
        self.thread = __import__("threading").Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def first_answer(server):
    server.proc.terminate()
    server.proc.wait()
    return server.start()


def main():
    build()
    work = tempfile.mkdtemp(prefix="pipestack-bench-")
    results, notes, pg_results = [], [], []
    try:
        big_csv = os.path.join(work, "persons.csv")
        gen(BIG, big_csv)
        small_csv = os.path.join(work, "small.csv")
        with open(big_csv) as src, open(small_csv, "w") as dst:
            for i, line in enumerate(src):
                if i > SMALL:
                    break
                dst.write(line)

        for label, file, n in (("small", small_csv, SMALL), ("1M", big_csv, BIG)):
            server = Server(os.path.join(work, label))
            os.makedirs(server.dir, exist_ok=True)
            server.start()
            server.proc.terminate()
            server.proc.wait()
            t0 = time.monotonic()
            subprocess.run([BIN, "--database", f"sqlite://{server.dir}/bench.db", "import", file, "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            load_s = time.monotonic() - t0
            startup = server.start()
            probe_index = min(12345, n - 1)
            probe = row(file, probe_index)
            probe["id"] = probe_index + 1
            scen = scenarios(probe)
            outdir = os.path.join(work, f"canned-{label}")
            os.makedirs(outdir)
            capture(server, scen, outdir)
            null, null_base = start_null(outdir)
            try:
                with PeakRss(server) as peak:
                    measure(label, server, scen, null_base, results)
                if PG and label == "small":
                    pg = Server(database=fresh_pg(PG))
                    pg.start()
                    subprocess.run([BIN, "--database", pg.database, "import", file, "--quiet"],
                                   check=True, stdout=subprocess.DEVNULL)
                    try:
                        measure("PostgreSQL", pg, [s for s in scen if is_write(s)], null_base, pg_results,
                                conns=(32,))
                    finally:
                        pg.proc.terminate()
                        pg.proc.wait()
            finally:
                null.terminate()
            rss = server.rss_mb()
            startup_again = first_answer(server)
            db_mb = sum(os.path.getsize(os.path.join(server.dir, f)) for f in os.listdir(server.dir)) / 2**20
            notes.append((label, n, load_s, startup, startup_again, rss, peak.peak, db_mb))
            server.proc.terminate()
            server.proc.wait()
        write(results, notes, pg_results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write(results, notes, pg_results):
    lines = [
        "# Benchmarks: pipestack against the ceiling",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        f"Command: `python3 bench/run.py {SECONDS} {BIG}{' postgres://…' if PG else ''}`. Release build; pipestack on a fresh SQLite file "
        "(WAL, `synchronous=FULL`: every 2xx is on disk); the null server (`bench/null_server.rs`, "
        "same tokio/hyper/axum stack) answers the same routes with pipestack's own captured "
        f"responses, doing no work. `wrk -t1`, {SECONDS} s per cell, pipestack then null server, "
        "back to back. Ratio = pipestack req/s ÷ null req/s in the same run.",
        "",
        "| store | request | conns | pipestack req/s | p50 ms | p99 ms | null req/s | null p99 ms | ratio | non-2xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, c, ours, null in results:
        lines.append(
            f"| {label} | {name} | {c} | {ours['rps']:.0f} | {ours['p50']:.2f} | {ours['p99']:.2f} | "
            f"{null['rps']:.0f} | {null['p99']:.2f} | {ours['rps'] / null['rps']:.2f} | {ours['non2xx']} |")
    lines += ["", "| store | persons | import time | first answer (fresh start) | first answer (restart) | "
                  "server RSS after the runs | server RSS at its highest (every 100 ms) | database on disk |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, n, load_s, startup, again, rss, peak, db_mb in notes:
        lines.append(f"| {label} | {n:,} | {load_s:.1f} s | {startup * 1000:.0f} ms | {again * 1000:.0f} ms | "
                     f"{rss:.0f} MB | {peak:.0f} MB | {db_mb:.0f} MB |")
    if pg_results:
        by_sqlite = {(n, c): o for l, n, c, o, _ in results if l == "small"}
        lines += ["", "Writes on PostgreSQL (a fresh database holding the small store; PostgreSQL on the same "
                      "two cores, `synchronous_commit=on`), beside SQLite and the same null server, c=32:", "",
                  "| request | SQLite req/s (p99 ms) | PostgreSQL req/s (p99 ms) | null req/s | SQLite ÷ null | "
                  "PostgreSQL ÷ null |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for _, name, c, ours, null in pg_results:
            s = by_sqlite[(name, c)]
            lines.append(f"| {name} | {s['rps']:.0f} ({s['p99']:.1f}) | {ours['rps']:.0f} ({ours['p99']:.1f}) | "
                         f"{null['rps']:.0f} | {s['rps'] / null['rps']:.2f} | {ours['rps'] / null['rps']:.2f} |")
    # Flatness: the same cell at 1M vs small.
    lines += ["", "Flatness (req/s at 1M ÷ req/s on the small store, c=32):", ""]
    by = {(l, n, c): o for l, n, c, o, _ in results}
    for (l, n, c), o in by.items():
        if l == "small" and c == 32 and ("1M", n, c) in by:
            lines.append(f"- {n}: {by[('1M', n, c)]['rps'] / o['rps']:.2f}")
    analysis = os.path.join(HERE, "ANALYSIS.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            lines += ["", f.read().rstrip()]
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
