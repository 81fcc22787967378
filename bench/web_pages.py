#!/usr/bin/env python3
"""The web app's pages at a million persons: how long the server takes to answer each, asked
one at a time (a person at a browser), against the issue's 50 ms.

Loads N persons (default 1,000,000; `bench/gen_persons.py`, `pipestack import`), a few
organizations, deals and activities of the probed person, starts the release binary and asks
every main page ROUNDS times with a session cookie over one keep-alive connection, first
once to warm the caches. On localhost the time to the whole answer is the server's time plus
well under a millisecond.

Run: cargo build --release --bins && python3 bench/web_pages.py [persons] [rounds]
     -> bench/RESULTS-web.md
"""

import csv
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote_plus

from common import BIN, TOKEN, Server, machine, save_results

ARGS = sys.argv[1:] if __name__ == "__main__" else []
N = int(ARGS[0]) if ARGS else 1_000_000
ROUNDS = int(ARGS[1]) if len(ARGS) > 1 else 30
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_MS = 50.0


def pages(person_id, org_id, middle, name, email, phone):
    """(label, path) of every main page, with ids that exist; `name` and `email` are the probed
    person's."""
    full = quote_plus(name.lower())
    three = name.split()[1][:3].lower()
    last = name.split()[1].lower()
    two = name[:2].lower()
    return [
        ("persons, first page (by name)", "/app/persons"),
        ("persons, last changed first", "/app/persons?sort=update_time+DESC"),
        ("persons, page 2", "/app/persons?start=50"),
        ("persons, page at 10,000 (the deepest)", "/app/persons?start=10000"),
        (f"persons, asked at {middle:,} (answered at 10,000)", f"/app/persons?start={middle}"),
        ("search, a full name (one hit)", f"/app/persons?q={full}"),
        ("search, an email", f"/app/persons?q={quote_plus(email)}"),
        (f"search, 3 letters ({three!r}: many hits)", f"/app/persons?q={three}"),
        (f"search, a last name ({last!r})", f"/app/persons?q={last}"),
        (f"names starting with 2 letters ({two!r})", f"/app/persons?q={two}"),
        ("search, 3 letters matching nobody ('qqq')", "/app/persons?q=qqq"),
        ("search, 3 letters in every email ('com')", "/app/persons?q=com"),
        ("search, phone digits", f"/app/persons?q={quote_plus(phone[:9])}"),
        ("label filter (no person has it)", "/app/persons?label_id=1"),
        ("owner filter", "/app/persons?owner_id=1"),
        ("a person", f"/app/persons/{person_id}"),
        ("a person's edit form", f"/app/persons/{person_id}/edit"),
        ("a person's history", f"/app/persons/{person_id}/history"),
        ("add a person (form)", "/app/persons/new"),
        ("organizations", "/app/organizations"),
        ("an organization", f"/app/organizations/{org_id}"),
        ("deals board", "/app/deals"),
        ("activities, upcoming", "/app/activities"),
        ("webhooks", "/app/webhooks"),
        ("person fields", "/app/fields/person"),
    ]


def main():
    work = tempfile.mkdtemp(prefix="pipestack-web-")
    csv_path = os.path.join(work, "persons.csv")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_persons.py"), str(N), csv_path], check=True)
    server = Server(os.path.join(work, "db"))
    os.makedirs(server.dir, exist_ok=True)
    server.start()  # makes the company and its admin
    server.proc.terminate()
    server.proc.wait()
    t0 = time.monotonic()
    subprocess.run([BIN, "--database", server.database, "import", csv_path, "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    load_s = time.monotonic() - t0
    server.start()
    try:
        probe = 12346
        with open(csv_path) as f:
            row = next(r for i, r in enumerate(csv.DictReader(f)) if i == probe - 1)
        org = server.call("POST", "/v1/organizations", {"name": "Analytical Engines"})["data"]["id"]
        server.call("PUT", f"/v1/persons/{probe}", {"org_id": org})
        for i in range(150):
            server.call("PUT", f"/v1/persons/{probe}", {"label_ids": [1 + i % 3]})
        for i in range(3):
            server.call("POST", "/api/v2/deals", {"title": f"Deal {i}", "value": 1000 * i, "person_id": probe})
            server.call("POST", "/api/v2/activities", {"subject": f"Call {i}", "person_id": probe,
                                                        "due_date": "2999-01-0%d" % (i + 1)})
            server.call("POST", "/v1/notes", {"content": f"Note {i}", "person_id": probe})
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        headers = {"Cookie": f"pipestack_session={TOKEN}"}
        rows = []
        for label, path in pages(probe, org, N // 2, row["name"], row["email"], row["phone"]):
            times = []
            for i in range(ROUNDS + 1):
                t = time.perf_counter()
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                ms = (time.perf_counter() - t) * 1000
                if r.status != 200:
                    raise RuntimeError(f"{path}: {r.status} {body[:200]!r}")
                if i > 0:
                    times.append(ms)
            times.sort()
            p90 = times[int(len(times) * 0.9) - 1]
            rows.append((label, path, statistics.median(times), p90, times[-1], len(body)))
            print(f"{label:40s} median {rows[-1][2]:8.1f} ms  p90 {p90:8.1f}  max {times[-1]:8.1f}", flush=True)
        rss = server.rss_mb()
    finally:
        server.stop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    out = ["# The web app's pages at a million persons", "",
           f"`python3 bench/web_pages.py {N} {ROUNDS}` at {commit}, {time.strftime('%Y-%m-%d')}. {machine()}", "",
           f"{N:,} persons imported in {load_s:.1f} s (SQLite, release build); each page asked {ROUNDS} times "
           "in a row over one keep-alive connection with a session cookie, after one warm-up; the time to "
           f"the whole answer on localhost. Target: under {TARGET_MS:.0f} ms. Server RSS after: {rss:.0f} MB.", "",
           "| page | path | median | p90 | max | size | under 50 ms |", "|---|---|---:|---:|---:|---:|---|"]
    for label, path, med, p90, mx, size in rows:
        ok = "yes" if p90 < TARGET_MS else "**no**"
        out.append(f"| {label} | `{path}` | {med:.1f} ms | {p90:.1f} ms | {mx:.1f} ms | {size / 1024:.0f} KiB | {ok} |")
    save_results("RESULTS-web.md", out)


if __name__ == "__main__":
    main()
