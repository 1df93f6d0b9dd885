#!/usr/bin/python3
"""Compare two kvsim results files bit for bit: their /requests tables, or with --all every
dataset.

Usage: compare_results.py A.h5 B.h5 [--all] [--expect-different]

Exit 0 when the compared tables are identical (or, with --expect-different, when they
differ), 1 otherwise, printing the first differing dataset, column and row. --all compares
every dataset of the two files (a dataset present in one file only is a difference), except
the summary's wall-clock columns, which measure the machine rather than the simulation.
Used by the test suite to check determinism and that multi-step planning changes no result,
and handy to check that two machines or two builds agree.
"""
import sys

import h5py
import numpy as np

# Summary columns that time the host, not the simulated system.
WALL_CLOCK = {"summary": ("wall_time", "requests_per_wall_second")}


def table_difference(a, b, ignore=()):
    """None when the two record arrays are equal bit for bit (ignoring the named columns),
    else a description of the first difference."""
    if a.dtype != b.dtype:
        return f"column layouts differ: {a.dtype} vs {b.dtype}"
    if a.shape != b.shape:
        return f"row counts differ: {a.shape[0] if a.shape else 1} vs {b.shape[0] if b.shape else 1}"
    names = [n for n in (a.dtype.names or ()) if n not in ignore]
    if a.dtype.names is None:
        return None if a.tobytes() == b.tobytes() else "values differ"
    for name in names:
        ca, cb = a[name], b[name]
        if ca.tobytes() == cb.tobytes():
            continue
        unequal = np.flatnonzero(ca != cb)
        if unequal.size:
            row = unequal[0]
            return f"column {name} differs first at row {row}: {ca[row]!r} vs {cb[row]!r} ({unequal.size} rows differ)"
        return f"column {name} differs in bytes (NaN payloads?)"
    return None


def datasets(f):
    found = {}
    f.visititems(lambda name, obj: found.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    expect_different = "--expect-different" in argv
    every = "--all" in argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    difference = None
    with h5py.File(args[0], "r") as fa, h5py.File(args[1], "r") as fb:
        rows = fa["requests"].shape[0]
        if every:
            da, db = datasets(fa), datasets(fb)
            for name in sorted(set(da) | set(db)):
                if name not in da or name not in db:
                    difference = f"/{name} is in {args[0] if name in da else args[1]} only"
                    break
                found = table_difference(da[name][()], db[name][()], WALL_CLOCK.get(name, ()))
                if found is not None:
                    difference = f"/{name}: {found}"
                    break
        else:
            difference = table_difference(fa["requests"][()], fb["requests"][()])
    what = "every dataset" if every else "requests"
    if expect_different:
        if difference is None:
            print(f"identical ({what}): {rows} requests, but a difference was expected")
            return 1
        print(f"different as expected: {difference}")
        return 0
    if difference is not None:
        print(difference)
        return 1
    print(f"identical ({what}): {rows} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
