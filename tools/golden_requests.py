#!/usr/bin/python3
"""Pin a run's per-request timeline to a small CSV, and check a later run against it.

Usage: golden_requests.py write RESULTS.h5 GOLDEN.csv
       golden_requests.py check RESULTS.h5 GOLDEN.csv

The CSV holds the columns that say where and when every request ran (id, instance, arrival,
first_token, finish, cached_tokens, load_wait, preemptions, status), times as exact
hexadecimal floats, so `check` is a bit-for-bit comparison that does not depend on the
/requests table's full column layout (other columns may be added without re-baselining).
Exit 0 when identical, 1 with the first difference otherwise.
"""
import csv
import sys

import h5py

COLUMNS = ["id", "instance", "arrival", "first_token", "finish", "cached_tokens", "load_wait", "preemptions", "status"]


def rows(path):
    with h5py.File(path, "r") as f:
        table = f["requests"][()]
    out = []
    for r in table:
        row = []
        for c in COLUMNS:
            v = r[c]
            if hasattr(v, "decode"):
                row.append(v.decode())
            elif isinstance(v.item(), float):
                row.append(float(v).hex())
            else:
                row.append(str(int(v)))
        out.append(row)
    return out


def main(argv):
    if len(argv) != 4 or argv[1] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    actual = rows(argv[2])
    if argv[1] == "write":
        with open(argv[3], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows(actual)
        return 0
    with open(argv[3], newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        expected = list(reader)
    if header != COLUMNS:
        print(f"golden columns {header} differ from {COLUMNS}")
        return 1
    if len(expected) != len(actual):
        print(f"row counts differ: golden {len(expected)}, run {len(actual)}")
        return 1
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e != a:
            for c, x, y in zip(COLUMNS, e, a):
                if x != y:
                    print(f"row {i}: {c} golden {x}, run {y}")
                    return 1
    print(f"identical: {len(actual)} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
