#!/usr/bin/python3
"""Compare two sweep indexes (index.h5 or index.csv) cell by cell, ignoring the wall-clock
columns (wall_time, requests_per_wall_second), which measure the machine, not the
simulation. Exit 0 when equal, 1 with the differences otherwise.

Usage: tools/compare_indexes.py A B
"""
import sys

import pandas as pd

WALL = ["wall_time", "requests_per_wall_second"]


def load(path):
    if path.endswith(".csv"):
        frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    else:
        import h5py
        with h5py.File(path, "r") as f:
            frame = pd.DataFrame(f["index"][()])
        for c in frame.columns:
            if frame[c].dtype == object:
                frame[c] = frame[c].str.decode("utf-8")
        frame = frame.astype(str)
    return frame.drop(columns=[c for c in WALL if c in frame.columns])


def same(a, b):
    """Cells are equal as numbers when both read as numbers (150 and 150.0, nan and nan:
    the CSV writes whole numbers without a decimal point), as text otherwise."""
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return x == y or (x != x and y != y)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        print(f"shapes or columns differ: {a.shape} {list(a.columns)} vs {b.shape} {list(b.columns)}")
        sys.exit(1)
    differences = [(r, c) for r in range(a.shape[0]) for c in range(a.shape[1]) if not same(a.iat[r, c], b.iat[r, c])]
    for row, col in differences:
        print(f"row {row} column {a.columns[col]}: {a.iat[row, col]} != {b.iat[row, col]}")
    if differences:
        sys.exit(1)
    print(f"indexes equal: {a.shape[0]} points, {a.shape[1]} columns")


if __name__ == "__main__":
    main()
