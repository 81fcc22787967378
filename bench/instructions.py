#!/usr/bin/env python3
"""What a request costs the server in CPU instructions, for two builds side by side.

Wall-clock rates on a shared 2-core machine drift by 5-15% between runs; instruction counts do
not. Each build runs under `valgrind --tool=callgrind` on a fresh SQLite file holding the same
200 persons; each request is sent FEW times, then (on a second fresh start) MANY times, and
(instructions after MANY - instructions after FEW) / (MANY - FEW) is the server's cost of one
request: start-up, seeding and shutdown cancel out. Syscalls (fsync) are not instructions, so
for writes this measures the CPU side only. Threads are counted apart and the WAL checkpoint
thread left out: it wakes on a timer, so its share grows with wall time (slow under valgrind),
not with requests.

Run: python3 bench/instructions.py OLD_BIN NEW_BIN OUT.md  (BENCH_ONLY=<text>: only those cases)
"""

import os
import re
import shutil
import subprocess
import sys
import time

import common
from common import TOKEN

FEW = 20
# BENCH_REQUESTS=N sends N instead of 120 (more averages out clock-driven work further).
MANY = int(os.environ.get("BENCH_REQUESTS", "120"))

CASES = [
    ("GET /v1/persons/7", "GET", "/v1/persons/7", None),
    ("GET /api/v2/persons/7", "GET", "/api/v2/persons/7", None),
    ("GET /v1/persons?limit=100", "GET", "/v1/persons?limit=100", None),
    ("GET /api/v2/persons?limit=100", "GET", "/api/v2/persons?limit=100", None),
    ("GET /v1/persons?limit=100&sort=name", "GET", "/v1/persons?limit=100&sort=name%20ASC", None),
    ("v2 search exact email", "GET",
     "/api/v2/persons/search?term=p7%40example.com&fields=email&exact_match=true", None),
    ("v2 search substring", "GET", "/api/v2/persons/search?term=rson%2017", None),
    ("GET /v1/organizations/1", "GET", "/v1/organizations/1", None),
    ("POST /api/v2/persons", "POST", "/api/v2/persons",
     {"name": "New Nora", "emails": [{"value": "nora@example.com"}]}),
    ("POST /v1/persons", "POST", "/v1/persons",
     {"name": "New Nils", "email": "nils@example.com", "org_id": 1}),
]


class Traced(common.Server):
    def __init__(self, binary):
        super().__init__()
        self.binary = binary
        self.out = os.path.join(self.dir, "callgrind.out")

    def start(self):
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes",
             f"--callgrind-out-file={self.out}", self.binary,
             "--database", f"sqlite://{self.dir}/bench.db", "serve",
             "--listen", f"127.0.0.1:{self.port}", "--api-token", TOKEN],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PIPESTACK_LOG": "warn"},
        )
        t0 = time.monotonic()
        while True:
            try:
                return self.call("GET", "/v1/users/me")
            except OSError:
                if time.monotonic() - t0 > 120:
                    raise RuntimeError("server did not start under valgrind")
                time.sleep(0.1)

    def instructions(self):
        """Stops the server (SIGINT: a clean exit writes the profiles) and adds up the totals of
        every thread but the checkpointer."""
        self.proc.send_signal(2)
        self.proc.wait(timeout=120)
        total = 0
        for name in os.listdir(self.dir):
            if not name.startswith("callgrind.out-"):
                continue
            with open(os.path.join(self.dir, name)) as f:
                text = f.read()
            if "checkpoint_loop" in text:
                continue
            m = re.search(r"^(summary|totals): (\d+)", text, re.M)
            if not m:
                raise RuntimeError(f"no totals in {name}")
            total += int(m.group(2))
        return total


def cost(binary, method, path, body):
    totals = []
    for n in (FEW, MANY):
        s = Traced(binary)
        try:
            s.start()
            s.call("POST", "/v1/organizations", {"name": "Acme"})
            for i in range(200):
                s.call("POST", "/api/v2/persons",
                       {"name": f"Person {i}", "emails": [{"value": f"p{i}@example.com"}]})
            for _ in range(n):
                s.call(method, path, body)
            totals.append(s.instructions())
        finally:
            shutil.rmtree(s.dir, ignore_errors=True)
    return (totals[1] - totals[0]) / (MANY - FEW)


def main():
    old_bin, new_bin, out = sys.argv[1], sys.argv[2], sys.argv[3]
    only = os.environ.get("BENCH_ONLY")
    rows = []
    for label, method, path, body in (c for c in CASES if not only or only in c[0]):
        old = cost(old_bin, method, path, body)
        new = cost(new_bin, method, path, body)
        rows.append((label, old, new))
        print(f"{label}: old {old:.0f}, new {new:.0f}, new/old {new / old:.3f}", flush=True)
    lines = [
        f"# {os.path.basename(out)[:-3]}: instructions per request, two builds side by side",
        "",
        f"`python3 bench/instructions.py OLD NEW {out}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. old = `{old_bin}`, "
        f"new = `{new_bin}`;",
        f"release builds under callgrind on fresh SQLite files with one organization and 200 "
        f"persons; ({MANY} - {FEW}) requests' instructions / {MANY - FEW}. The count does not "
        "depend on what else the machine does; caches that expire by the clock still make two "
        "runs of one build differ a little (see an old-vs-old run).",
        "",
        common.machine(),
        "",
        "| request | old instructions | new instructions | new/old |",
        "| --- | --- | --- | --- |",
    ]
    for label, old, new in rows:
        lines.append(f"| {label} | {old:,.0f} | {new:,.0f} | {new / old:.3f} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
