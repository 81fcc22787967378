#!/usr/bin/env python3
"""What live activity and note summaries cost the reads that show them: the build before
activities (OLD) against this one (NEW), side by side in one run, on the same data; and what
adding an activity or a note costs beside adding a deal (NEW alone).

Each build runs on its own fresh SQLite file (and, with a PostgreSQL URL, its own fresh
database), seeded alike with 1,000 organizations, persons and deals (one per person); NEW also
gets two activities (one done) and a note per person, so that its summaries have something to
count. Then, alternating OLD and NEW, `wrk -t1` ROUNDS times per cell: the v1 person read
(which always shows the summary), a v1 page of 100 persons, the v1 organization and deal
reads, and the v2 person read with the summary fields included.

Run: python3 bench/activity_summary.py OLD_BIN NEW_BIN [seconds] [rounds] [postgres-url]
     -> bench/RESULTS-activity-summary.md
"""

import os
import statistics
import sys
import time

from common import ROOT, machine, wrk
from deal_counts import Build

OLD, NEW = sys.argv[1], sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
PG_URL = sys.argv[5] if len(sys.argv) > 5 else None

INCLUDED = ("activities_count,done_activities_count,undone_activities_count,next_activity_id,"
            "last_activity_id,notes_count,open_deals_count")
CASES = [
    ("GET /v1/persons/{id}", "/v1/persons/500"),
    ("GET /v1/persons?limit=100", "/v1/persons?limit=100"),
    ("GET /v1/organizations/{id}", "/v1/organizations/500"),
    ("GET /v1/deals/{id}", "/v1/deals/500"),
    ("GET /api/v2/persons/{id}?include_fields=…", f"/api/v2/persons/500?include_fields={INCLUDED}"),
]

WRITES = [
    ("POST /api/v2/deals", "/api/v2/deals", {"title": "Bench deal", "person_id": 7, "org_id": 7}),
    ("POST /api/v2/activities", "/api/v2/activities",
     {"subject": "Bench call", "type": "call", "person_id": 7, "org_id": 7, "deal_id": 7,
      "due_date": "2026-06-01", "due_time": "10:00"}),
    ("POST /v1/notes", "/v1/notes", {"content": "<p>Bench note</p>", "person_id": 7, "deal_id": 7}),
]


def seed(build, activities):
    for i in range(1, 1001):
        org = build.call("POST", "/v1/organizations", {"name": f"Org {i}"})["data"]["id"]
        p = build.call("POST", "/v1/persons", {"name": f"Person {i}", "org_id": org})["data"]["id"]
        d = build.call("POST", "/api/v2/deals", {"title": f"Deal {i}", "person_id": p,
                                                 "org_id": org, "value": i})["data"]["id"]
        if activities:
            for done, date in ((False, "2030-01-01"), (True, "2026-01-01")):
                build.call("POST", "/api/v2/activities", {
                    "person_id": p, "org_id": org, "deal_id": d, "due_date": date, "done": done})
            build.call("POST", "/v1/notes", {"content": f"Note {i}", "person_id": p,
                                             "org_id": org, "deal_id": d})


def run(label, pg, rows, writes):
    old, new = Build(OLD, "old", pg), Build(NEW, "new", pg)
    seed(old, False)
    seed(new, True)
    for name, path in CASES:
        for c in (2, 32):
            o, n = [], []
            for _ in range(ROUNDS):
                o.append(wrk(old.base + path, c, SECONDS))
                n.append(wrk(new.base + path, c, SECONDS))
            orps = statistics.median(r["rps"] for r in o)
            nrps = statistics.median(r["rps"] for r in n)
            op99 = statistics.median(r["p99"] for r in o)
            np99 = statistics.median(r["p99"] for r in n)
            rows.append((label, name, c, orps, op99, nrps, np99))
            print(f"{label:>8} {name:<44} c={c:<3} old {orps:>8.0f}/s p99 {op99:6.2f}  "
                  f"new {nrps:>8.0f}/s p99 {np99:6.2f}  new/old {nrps / orps:.2f}", flush=True)
    for c in (2, 32):
        cell = {}
        for _ in range(ROUNDS):
            for name, path, body in WRITES:
                cell.setdefault(name, []).append(
                    wrk(new.base + path, c, SECONDS, method="POST", body=body))
        deal = statistics.median(r["rps"] for r in cell[WRITES[0][0]])
        for name, _, _ in WRITES:
            rps = statistics.median(r["rps"] for r in cell[name])
            p99 = statistics.median(r["p99"] for r in cell[name])
            writes.append((label, name, c, rps, p99, rps / deal))
            print(f"{label:>8} {name:<28} c={c:<3} {rps:>8.0f}/s p99 {p99:6.2f}  "
                  f"÷ deal {rps / deal:.2f}", flush=True)
    old.stop()
    new.stop()


def main():
    rows, writes = [], []
    run("SQLite", None, rows, writes)
    if PG_URL:
        run("Postgres", PG_URL, rows, writes)
    lines = [
        "# What live activity and note summaries cost, and what adding them costs",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        f"Command: `python3 bench/activity_summary.py OLD NEW {SECONDS} {ROUNDS}"
        f"{' PG_URL' if PG_URL else ''}`, OLD the release build before activities (`7e93cb4`), "
        "NEW this one. Same data in both (1,000 organizations, persons and deals; NEW also two "
        "activities and a note per person). Each cell: the median of "
        f"{ROUNDS} `wrk -t1` runs of {SECONDS} s, OLD and NEW alternating.",
        "",
        "## Reads that show the summary",
        "",
        "| store | request | conns | old req/s | old p99 ms | new req/s | new p99 ms | new ÷ old |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, c, o, op99, n, np99 in rows:
        lines.append(f"| {label} | {name} | {c} | {o:.0f} | {op99:.2f} | {n:.0f} | {np99:.2f} | "
                     f"{n / o:.2f} |")
    lines += [
        "",
        "## Durable adds, NEW alone (each a committed write), beside adding a deal",
        "",
        "| store | request | conns | req/s | p99 ms | ÷ deal add |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, name, c, rps, p99, ratio in writes:
        lines.append(f"| {label} | {name} | {c} | {rps:.0f} | {p99:.2f} | {ratio:.2f} |")
    with open(os.path.join(ROOT, "bench", "RESULTS-activity-summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/RESULTS-activity-summary.md")


if __name__ == "__main__":
    main()
