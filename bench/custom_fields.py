#!/usr/bin/env python3
"""Issue 4's target: creating a person with 30 custom fields costs less than twice creating one
with none. Both bodies are driven against the same server in one run, alternating, with
`wrk -t1`; the ratio of their rates is the result.

Run: python3 bench/custom_fields.py [seconds per run]   (writes bench/RESULTS-custom-fields.md)
"""

import os
import statistics
import sys
import time

from common import Server, build, machine, wrk

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
TYPES = ["varchar"] * 8 + ["text"] * 3 + ["double"] * 4 + ["monetary"] * 3 + ["date"] * 3 + \
        ["daterange"] * 2 + ["enum"] * 3 + ["set"] * 2 + ["address"] * 2


def main():
    build()
    server = Server()
    server.start()
    try:
        body30 = {"name": "Custom Carl", "emails": [{"value": "carl@example.com"}], "custom_fields": {}}
        for i, t in enumerate(TYPES):
            req = {"field_name": f"F{i} {t}", "field_type": t}
            if t in ("enum", "set"):
                req["options"] = [{"label": "One"}, {"label": "Two"}]
            f = server.call("POST", "/api/v2/personFields", req)["data"]
            body30["custom_fields"][f["field_code"]] = value(t, f)
        assert len(body30["custom_fields"]) == 30
        body0 = {"name": "Plain Paul", "emails": [{"value": "paul@example.com"}]}
        server.call("POST", "/api/v2/persons", body30)  # the body is valid

        url = server.base + "/api/v2/persons"
        rows = []
        for c in (2, 32):
            runs = {"none": [], "30": []}
            for _ in range(2):
                runs["none"].append(wrk(url, c, SECONDS, "POST", body0))
                runs["30"].append(wrk(url, c, SECONDS, "POST", body30))
            med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50", "p99", "non2xx")}
                   for k, v in runs.items()}
            rows.append((c, med))
        write(rows)
    finally:
        server.stop()


def value(t, f):
    options = [o["id"] for o in f.get("options") or []]
    return {
        "varchar": "some text value",
        "text": "a longer text " * 10,
        "double": 12.5,
        "monetary": {"value": 1000, "currency": "EUR"},
        "date": "2024-05-06",
        "daterange": {"value": "2024-01-01", "until": "2024-12-31"},
        "enum": options[0] if options else None,
        "set": options,
        "address": {"value": "530 Fifth Avenue, New York", "locality": "New York"},
    }[t]


def write(rows):
    lines = [
        "# Custom fields: creating a person with 30 custom fields vs none",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        f"Command: `python3 bench/custom_fields.py {SECONDS}` (release build, fresh SQLite file, WAL +",
        "`synchronous=FULL`, durable group commit). `POST /api/v2/persons`, `wrk -t1`, each body run twice",
        f"for {SECONDS} s alternating, medians shown. The 30 fields mix varchar, text, double, monetary,",
        "date, daterange, enum, set and address, each validated and stored.",
        "",
        "| connections | body | req/s | p50 ms | p99 ms | non-2xx | cost vs none |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c, med in rows:
        base = med["none"]["rps"]
        for k in ("none", "30"):
            m = med[k]
            cost = base / m["rps"] if m["rps"] else float("inf")
            lines.append(f"| {c} | {k} custom fields | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
                         f"{m['non2xx']:.0f} | {cost:.2f}× |")
    worst = max(med["none"]["rps"] / med["30"]["rps"] for _, med in rows)
    lines += ["", f"Target: less than 2× the cost. Worst ratio here: **{worst:.2f}×** "
                  f"({'met' if worst < 2 else 'missed'})."]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-custom-fields.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
