#!/usr/bin/python3
"""Compare the /requests tables of two kvsim results files bit for bit.

Usage: compare_results.py A.h5 B.h5 [--expect-different]

Exit 0 when the tables are identical (or, with --expect-different, when they differ),
1 otherwise, printing the first differing column and row. Used by the test suite to check
determinism and that multi-step planning changes no result, and handy to check that two
machines or two builds agree.
"""
import sys

import h5py
import numpy as np


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    expect_different = "--expect-different" in argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with h5py.File(args[0], "r") as fa, h5py.File(args[1], "r") as fb:
        a, b = fa["requests"][()], fb["requests"][()]
    difference = None
    if a.dtype != b.dtype:
        difference = f"column layouts differ: {a.dtype} vs {b.dtype}"
    elif a.shape != b.shape:
        difference = f"row counts differ: {a.shape[0]} vs {b.shape[0]}"
    elif a.tobytes() != b.tobytes():
        for name in a.dtype.names:
            ca, cb = a[name], b[name]
            unequal = np.flatnonzero(ca != cb)
            if unequal.size:
                row = unequal[0]
                difference = f"column {name} differs first at row {row}: {ca[row]!r} vs {cb[row]!r} ({unequal.size} rows differ)"
                break
        if difference is None:
            difference = "tables differ in bytes (NaN payloads?)"
    if expect_different:
        if difference is None:
            print(f"identical: {a.shape[0]} requests, but a difference was expected")
            return 1
        print(f"different as expected: {difference}")
        return 0
    if difference is not None:
        print(difference)
        return 1
    print(f"identical: {a.shape[0]} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
