#!/usr/bin/env python3
"""What `--rate-limits` costs: the same requests against two servers started side by side in
one run, one without rate limits and one with them on (limits set so high that nothing is
refused, so every request is counted, checked and answered with the five headers). The ratio
of their rates is the result.

Run: python3 bench/rate_limits.py [seconds per run]   (writes bench/RESULTS-rate-limits.md)
"""

import json
import os
import statistics
import sys
import tempfile

from common import Server, build, machine, wrk

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    build()
    limits = os.path.join(tempfile.mkdtemp(), "limits.json")
    with open(limits, "w") as f:
        json.dump({"burst_limit": 10**9, "search_burst_limit": 10**9,
                   "daily_tokens_per_seat": 10**15}, f)
    servers = {"off": Server(), "on": Server(args=["--rate-limits", limits])}
    for s in servers.values():
        s.start()
    try:
        for s in servers.values():
            s.call("POST", "/api/v2/persons", {"name": "Rated Rita", "emails": [{"value": "r@x.io"}]})
        checks = servers["on"]
        assert checks.call("GET", "/api/v2/persons/1")["data"]["id"] == 1
        body = {"name": "Counted Carl", "emails": [{"value": "c@x.io"}]}
        cases = [("GET /api/v2/persons/1", "GET", "/api/v2/persons/1", None),
                 ("POST /api/v2/persons", "POST", "/api/v2/persons", body)]
        rows = []
        for label, method, path, b in cases:
            for c in (2, 32):
                runs = {"off": [], "on": []}
                for _ in range(2):
                    for name, s in servers.items():
                        runs[name].append(wrk(s.base + path, c, SECONDS, method, b))
                med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p99", "non2xx")}
                       for k, v in runs.items()}
                rows.append((label, c, med))
        write(rows)
    finally:
        for s in servers.values():
            s.stop()


def write(rows):
    lines = [
        "# What `--rate-limits` costs",
        "",
        "`python3 bench/rate_limits.py " + str(SECONDS) + "`: two release servers side by side in one run,",
        "rate limits off and on (limits too high to refuse anything), `wrk -t1`, two alternating",
        f"runs of {SECONDS} s each, medians.",
        "",
        machine(),
        "",
        "| request | connections | off req/s | on req/s | on/off | off p99 ms | on p99 ms | non-2xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, c, m in rows:
        lines.append(
            f"| {label} | {c} | {m['off']['rps']:.0f} | {m['on']['rps']:.0f} | "
            f"{m['on']['rps'] / m['off']['rps']:.2f} | {m['off']['p99']:.2f} | {m['on']['p99']:.2f} | "
            f"{m['off']['non2xx'] + m['on']['non2xx']:.0f} |")
    with open(os.path.join(HERE, "RESULTS-rate-limits.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
