#!/usr/bin/env python3
"""Builds of pipestack each beside its own build of the null server, in one run: for a change
that makes the null server faster too (a release profile, a dependency of the HTTP stack), what
it does to pipestack's rate and to the ratio the targets are stated in.

Each round starts every pair in turn (order reversed every other round), pipestack on a fresh
SQLite file with 2 s of creates first, and runs `wrk -t1 -c32` for SECONDS on a create
(`POST /v1/persons`, the seed's body) and a read by id, each followed by the same request to
that pair's null server. Medians of the rounds are printed, and every round's ratio.

Run: python3 bench/pairs.py PIPESTACK_BIN:NULL_BIN,PIPESTACK_BIN:NULL_BIN [rounds] [seconds]
(release binaries, copied aside: e.g. one pair built with the profile as committed, one with
`cargo build --release --config 'profile.release.lto=false'`.)
"""

import os
import shutil
import statistics
import sys
import tempfile

import run
from common import Server, wrk
from run import V1_BODY

CELLS = (("create", "POST", "/v1/persons", V1_BODY), ("get", "GET", "/v1/persons/7", None))


def main():
    pairs = [tuple(p.split(":")) for p in sys.argv[1].split(",")]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    # The null server answers with pipestack's own answers, captured once.
    answers = tempfile.mkdtemp(prefix="pipestack-pairs-")
    first = Server(binary=pairs[0][0])
    first.start()
    first.call("POST", "/v1/persons", V1_BODY)
    run.capture(first, [s for s in run.scenarios({"id": 1, "email": "a.b@x.io"})
                        if s[4] in ("post_v1_person", "get_v1_person")], answers)
    first.stop()
    rates = {}  # (pair, cell) -> [(pipestack req/s, null req/s)] per round
    for r in range(rounds):
        for pair in (pairs if r % 2 == 0 else pairs[::-1]):
            run.NULL_BIN = pair[1]
            null, null_base = run.start_null(answers)
            server = Server(binary=pair[0])
            server.start()
            wrk(server.base + "/v1/persons", 32, 2, method="POST", body=V1_BODY)
            for name, method, path, body in CELLS:
                ours = wrk(server.base + path, 32, seconds, method=method, body=body)
                ceiling = wrk(null_base + path, 32, seconds, method=method, body=body)
                rates.setdefault((pair, name), []).append((ours["rps"], ceiling["rps"]))
            server.stop()
            null.terminate()
            null.wait()
    shutil.rmtree(answers, ignore_errors=True)
    for pair in pairs:
        for name, *_ in CELLS:
            runs = rates[(pair, name)]
            print(f"{os.path.basename(pair[0])} {name}: pipestack "
                  f"{statistics.median(a for a, _ in runs):.0f} req/s, null "
                  f"{statistics.median(b for _, b in runs):.0f}, ratio "
                  f"{statistics.median(a / b for a, b in runs):.3f} "
                  f"{[round(a / b, 3) for a, b in runs]}")


if __name__ == "__main__":
    main()
