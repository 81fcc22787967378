#!/usr/bin/env python3
"""Writes N synthetic persons as CSV (v1 field names) for the importer and the benchmarks.

Run: python3 bench/gen_persons.py N OUT.csv
Names are "<First> <Last> <n>", emails "first.last.<n>@<domain>", so a name or email
substring matches a handful of persons and an exact email exactly one.
"""

import csv
import random
import sys

FIRST = ["Anna", "Ben", "Carla", "Dmitri", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Kaisa", "Liam", "Mei", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tiina"]
LAST = ["Smith", "Tamm", "Kask", "Müller", "Rossi", "Novak", "Ivanova", "Berg", "Lind", "Saar",
        "Garcia", "Kowalski", "Dubois", "Jensen", "Virtanen", "Ozols", "Horvat", "Popescu"]
DOMAINS = ["example.com", "example.org", "mail.example", "corp.example"]


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(42)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "email", "phone", "visible_to"])
        for i in range(n):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            w.writerow([
                f"{first} {last} {i}",
                f"{first.lower()}.{last.lower()}.{i}@{rnd.choice(DOMAINS)}",
                f"+372 5{i:07d}",
                "3",
            ])


if __name__ == "__main__":
    main()
