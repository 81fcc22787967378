#!/usr/bin/env python3
"""Deals beside persons (issue 14): what adding, reading and listing a deal costs next to the
same for a person, side by side in one run on one server.

Starts the release binary on a fresh SQLite file (and, with a PostgreSQL URL, on a fresh
database there too), adds 1,000 persons with an organization each and 1,000 deals for them,
then alternates person and deal requests with `wrk -t1` (ROUNDS rounds, so that drift
between the two falls on both): POST /api/v2/persons vs POST /api/v2/deals (with a person, an
organization and a value), GET by id, and a 100-item v2 list page. Also the v1 person read
with its live deal counts, and the v2 person read with `include_fields` of them.

Run: python3 bench/deals.py [seconds] [rounds] [postgres-url]   -> bench/RESULTS-deals.md
"""

import statistics
import subprocess
import sys
import time

from common import ROOT, Server, fresh_pg, machine, wrk

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
PG_URL = sys.argv[3] if len(sys.argv) > 3 else None

PERSON = {"name": "John Doe", "owner_id": 1, "org_id": 1,
          "emails": [{"value": "john.doe@example.com", "primary": True, "label": "work"}],
          "visible_to": 3}
DEAL = {"title": "Annual licence", "owner_id": 1, "person_id": 1, "org_id": 1,
        "value": 1200, "currency": "EUR", "visible_to": 3}
COUNTS = ("open_deals_count,won_deals_count,lost_deals_count,closed_deals_count,"
          "related_open_deals_count")


def seed(server):
    for i in range(1, 1001):
        org = server.call("POST", "/v1/organizations", {"name": f"Org {i}"})["data"]["id"]
        person = server.call("POST", "/api/v2/persons", {"name": f"Person {i}", "org_id": org})
        pid = person["data"]["id"]
        server.call("POST", "/api/v2/deals",
                    {"title": f"Deal {i}", "person_id": pid, "org_id": org, "value": i})


def pairs():
    """(label, person request, deal request): each a (method, path, body)."""
    return [
        ("add (v2 POST)", ("POST", "/api/v2/persons", PERSON), ("POST", "/api/v2/deals", DEAL)),
        ("get by id (v2)", ("GET", "/api/v2/persons/500", None), ("GET", "/api/v2/deals/500", None)),
        ("list 100 (v2)", ("GET", "/api/v2/persons?limit=100", None),
         ("GET", "/api/v2/deals?limit=100", None)),
        ("get by id (v1)", ("GET", "/v1/persons/500", None), ("GET", "/v1/deals/500", None)),
    ]


def run(label, server, rows):
    server.start()
    seed(server)
    for name, (pm, pp, pb), (dm, dp, db) in pairs():
        for c in (2, 32):
            persons, deals = [], []
            for _ in range(ROUNDS):
                persons.append(wrk(server.base + pp, c, SECONDS, pm, pb))
                deals.append(wrk(server.base + dp, c, SECONDS, dm, db))
            p = statistics.median(r["rps"] for r in persons)
            d = statistics.median(r["rps"] for r in deals)
            pp99 = statistics.median(r["p99"] for r in persons)
            dp99 = statistics.median(r["p99"] for r in deals)
            bad = sum(r["non2xx"] for r in persons + deals)
            rows.append((label, name, c, p, pp99, d, dp99, bad))
            print(f"{label:>8} {name:<16} c={c:<3} person {p:>8.0f}/s p99 {pp99:6.2f}  "
                  f"deal {d:>8.0f}/s p99 {dp99:6.2f}  deal/person {d / p:.2f}  non2xx {bad}",
                  flush=True)
    # The person read with its deal counts: v2 with include_fields vs without.
    for c in (2, 32):
        plain, counted = [], []
        for _ in range(ROUNDS):
            plain.append(wrk(server.base + "/api/v2/persons/500", c, SECONDS))
            counted.append(wrk(server.base + f"/api/v2/persons/500?include_fields={COUNTS}", c, SECONDS))
        p = statistics.median(r["rps"] for r in plain)
        d = statistics.median(r["rps"] for r in counted)
        rows.append((label, "v2 person + deal counts", c, p,
                     statistics.median(r["p99"] for r in plain), d,
                     statistics.median(r["p99"] for r in counted), 0))
        print(f"{label:>8} counts c={c}: plain {p:.0f}/s, with counts {d:.0f}/s ({d / p:.2f})", flush=True)
    server.stop()


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "pipestack"], cwd=ROOT, check=True)
    rows = []
    run("SQLite", Server(), rows)
    if PG_URL:
        run("Postgres", Server(database=fresh_pg(PG_URL)), rows)
    lines = [
        "# Deals beside persons",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        f"Command: `python3 bench/deals.py {SECONDS} {ROUNDS}{' PG_URL' if PG_URL else ''}`. Release "
        "build, one server per store, seeded with 1,000 organizations, persons and deals. Each "
        f"cell: the median of {ROUNDS} `wrk -t1` runs of {SECONDS} s, person and deal requests "
        "alternating. Durable writes (SQLite `synchronous=FULL`; PostgreSQL commits).",
        "",
        "| store | request | conns | person req/s | person p99 ms | deal req/s | deal p99 ms | "
        "deal ÷ person | non-2xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, c, p, pp99, d, dp99, bad in rows:
        if name.startswith("v2 person +"):
            continue
        lines.append(f"| {label} | {name} | {c} | {p:.0f} | {pp99:.2f} | {d:.0f} | {dp99:.2f} | "
                     f"{d / p:.2f} | {bad} |")
    lines += [
        "",
        "The person read with its deal counts (`GET /api/v2/persons/{id}` without and with "
        f"`include_fields={COUNTS}`):",
        "",
        "| store | conns | plain req/s | with counts req/s | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, name, c, p, _, d, _, _ in rows:
        if name.startswith("v2 person +"):
            lines.append(f"| {label} | {c} | {p:.0f} | {d:.0f} | {d / p:.2f} |")
    with open(f"{ROOT}/bench/RESULTS-deals.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/RESULTS-deals.md")


if __name__ == "__main__":
    main()
