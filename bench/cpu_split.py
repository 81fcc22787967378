#!/usr/bin/env python3
"""Where the CPU goes while durable creates run (issue 18): each server thread's share of a
core and the machine's idle and I/O-wait time, around one `wrk -t1` run of `POST /v1/persons`
at 32 connections on a fresh store (after 2 s of warm-up creates).

Run: python3 bench/cpu_split.py [seconds] [binary]   -> printed
"""

import os
import sys
import time

from common import BIN, Server, wrk
from run import V1_BODY

TICK = os.sysconf("SC_CLK_TCK")


def threads(pid):
    """CPU ticks (user + system) per thread, by (tid, name)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[(tid, name)] = int(fields[11]) + int(fields[12])
    return out


def machine():
    """The machine's CPU ticks: user+nice, system, idle, iowait, softirq, and all of them."""
    with open("/proc/stat") as f:
        t = [int(x) for x in f.readline().split()[1:]]
    return [t[0] + t[1], t[2], t[3], t[4], t[6], sum(t)]


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    s = Server(binary=sys.argv[2] if len(sys.argv) > 2 else BIN)
    s.start()
    url = s.base + "/v1/persons"
    wrk(url, 32, 2, method="POST", body=V1_BODY)
    t0, m0, start = threads(s.proc.pid), machine(), time.monotonic()
    result = wrk(url, 32, seconds, method="POST", body=V1_BODY)
    t1, m1, elapsed = threads(s.proc.pid), machine(), time.monotonic() - start
    s.proc.terminate()
    s.proc.wait()
    print(f"POST /v1/persons c=32: {result['rps']:.0f} req/s, p99 {result['p99']:.2f} ms")
    total = 0.0
    for key in sorted(t1, key=lambda k: t0.get(k, 0) - t1[k]):
        share = (t1[key] - t0.get(key, 0)) / TICK / elapsed
        total += share
        if share >= 0.01:
            print(f"  {key[1]:24s} {share * 100:5.1f}% of a core")
    print(f"  server in all            {total * 100:5.1f}%")
    d = [b - a for a, b in zip(m0, m1)]
    names = ["user", "system", "idle", "iowait", "softirq"]
    print("  machine (% of one core): " + ", ".join(
        f"{n} {x / d[-1] * 100 * os.cpu_count():.0f}%" for n, x in zip(names, d)))


if __name__ == "__main__":
    main()
