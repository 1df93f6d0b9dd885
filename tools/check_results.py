#!/usr/bin/python3
"""Check a kvsim results file against its documented schema (results/README.md).

Usage: tools/check_results.py RESULTS.h5

Reads /requests and /summary with h5py into pandas DataFrames, checks every documented
column and dtype, recomputes the counts and the TTFT/TPOT/E2E percentiles from /requests with
numpy (which is what kvsim's summary promises to match) and compares them with /summary, and
checks the root attributes (the resolved config must parse as TOML). Prints "ok: N requests"
and exits 0, or prints every problem found and exits 1.
"""

import math
import sys
import tomllib

import h5py
import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
REL_TOL = 1e-9

REQUEST_COLUMNS = {
    "id": ("uint64", "-"),
    "session": ("uint64", "-"),
    "parent": ("int64", "-"),
    "turn": ("uint32", "-"),
    "instance": ("int32", "-"),
    "arrival": ("float64", "s"),
    "first_token": ("float64", "s"),
    "finish": ("float64", "s"),
    "ttft": ("float64", "s"),
    "tpot": ("float64", "s"),
    "e2e": ("float64", "s"),
    "input_tokens": ("uint32", "tokens"),
    "output_tokens": ("uint32", "tokens"),
    "cached_tokens": ("uint32", "tokens"),
    "hbm_tokens": ("uint32", "tokens"),
    "dram_tokens": ("uint32", "tokens"),
    "ssd_tokens": ("uint32", "tokens"),
    "remote_tokens": ("uint32", "tokens"),
    "load_wait": ("float64", "s"),
    "preemptions": ("uint32", "-"),
    "status": ("uint8", "-"),
}
STATUS_VALUES = {"completed": 0, "rejected": 1, "unfinished": 2}

TIER_COLUMNS = {
    "location": "int32", "capacity_blocks": "uint64", "lookup_blocks": "uint64", "hit_blocks": "uint64",
    "loaded_blocks": "uint64", "loaded_bytes": "float64", "written_blocks": "uint64", "written_bytes": "float64",
    "evicted_blocks": "uint64", "occupancy_blocks": "uint64",
}
LINK_COLUMNS = {"bytes": "float64", "busy": "float64"}
SAMPLE_COLUMNS = {"time": "float64", "tier": "uint32", "occupancy_blocks": "uint64"}

SUMMARY_COLUMNS = {
    "requests": "uint64",
    "completed": "uint64",
    "rejected": "uint64",
    "unfinished": "uint64",
    "sim_duration": "float64",
    "throughput_rps": "float64",
    "output_tokens_per_s": "float64",
    **{f"{m}_{s}": "float64" for m in ("ttft", "tpot", "e2e") for s in ("p50", "p90", "p99", "mean")},
    "prefix_hit_ratio": "float64",
    "preemptions": "uint64",
    "wall_time": "float64",
    "requests_per_wall_second": "float64",
}

STRING_ATTRIBUTES = ("kvsim_version", "git_revision", "simgrid_version", "command_line", "config", "workload_report")


def close(a, b):
    return math.isclose(a, b, rel_tol=REL_TOL)


def stats(values):
    """p50/p90/p99/mean the way the summary defines them: zeros for an empty set."""
    if len(values) == 0:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])  # numpy default: 'linear'
    return {"p50": p50, "p90": p90, "p99": p99, "mean": np.mean(values)}


def check_table(name, dataset, expected, problems):
    """Columns present with the documented dtypes and a units attribute aligned with them."""
    names = dataset.dtype.names or ()
    for column, dtype in expected.items():
        if column not in names:
            problems.append(f"/{name}: missing column {column}")
        elif dataset.dtype[column].base != np.dtype(dtype).newbyteorder("<"):
            problems.append(f"/{name}.{column}: dtype {dataset.dtype[column]}, expected {dtype}")
    units = dataset.attrs.get("units")
    if units is None:
        problems.append(f"/{name}: no units attribute")
    elif len(units) != len(names):
        problems.append(f"/{name}: {len(units)} units for {len(names)} columns")
    return names


def check(path):
    problems = []
    with h5py.File(path, "r") as f:
        for name in ("requests", "summary", "tiers", "links", "timeseries/tier_occupancy"):
            if name not in f:
                problems.append(f"missing dataset /{name}")
        if problems:
            return problems, 0

        check_table("requests", f["requests"], {c: t for c, (t, _) in REQUEST_COLUMNS.items()}, problems)
        names = f["requests"].dtype.names or ()
        units = list(f["requests"].attrs.get("units", []))
        if len(units) == len(names):
            for column, (_, unit) in REQUEST_COLUMNS.items():
                if column in names and units[names.index(column)] != unit:
                    problems.append(f"/requests.{column}: unit {units[names.index(column)]!r}, expected {unit!r}")
        if "status" in names:
            mapping = h5py.check_enum_dtype(f["requests"].dtype["status"])
            if mapping != STATUS_VALUES:
                problems.append(f"/requests.status: enum {mapping}, expected {STATUS_VALUES}")
        check_table("summary", f["summary"], SUMMARY_COLUMNS, problems)
        check_table("tiers", f["tiers"], TIER_COLUMNS, problems)
        check_table("links", f["links"], LINK_COLUMNS, problems)
        check_table("timeseries/tier_occupancy", f["timeseries/tier_occupancy"], SAMPLE_COLUMNS, problems)
        tiers = f["tiers"][:]
        samples = f["timeseries/tier_occupancy"][:]
        if len(samples) and samples["tier"].max() >= len(tiers):
            problems.append("/timeseries/tier_occupancy.tier points past the /tiers table")
        if f["summary"].shape != (1,):
            problems.append(f"/summary: shape {f['summary'].shape}, expected (1,)")

        for attribute in STRING_ATTRIBUTES:
            if not isinstance(f.attrs.get(attribute), str):
                problems.append(f"root attribute {attribute} missing or not a string")
        if not isinstance(f.attrs.get("seed"), np.uint64):
            problems.append("root attribute seed missing or not uint64")
        if not isinstance(f.attrs.get("wall_time"), np.float64):
            problems.append("root attribute wall_time missing or not float64")
        if f.attrs.get("schema_version") != SCHEMA_VERSION:
            problems.append(f"root attribute schema_version is {f.attrs.get('schema_version')!r}, expected {SCHEMA_VERSION}")
        if isinstance(f.attrs.get("config"), str):
            try:
                tomllib.loads(f.attrs["config"])
            except tomllib.TOMLDecodeError as error:
                problems.append(f"root attribute config is not valid TOML: {error}")

        if problems:  # the recomputation below relies on the schema
            return problems, f["requests"].shape[0]
        requests = pd.DataFrame(f["requests"][:])
        summary = pd.DataFrame(f["summary"][:]).iloc[0]

    completed = requests[requests.status == STATUS_VALUES["completed"]]
    counts = {
        "requests": len(requests),
        "completed": len(completed),
        "rejected": int((requests.status == STATUS_VALUES["rejected"]).sum()),
        "unfinished": int((requests.status == STATUS_VALUES["unfinished"]).sum()),
        "preemptions": int(requests.preemptions.sum()),
    }
    for key, value in counts.items():
        if int(summary[key]) != value:
            problems.append(f"/summary.{key} = {int(summary[key])}, /requests gives {value}")

    recomputed = {
        "ttft": stats(completed.ttft.to_numpy()),
        "tpot": stats(completed[completed.output_tokens > 1].tpot.to_numpy()),
        "e2e": stats(completed.e2e.to_numpy()),
    }
    for metric, values in recomputed.items():
        for statistic, expected in values.items():
            stored = float(summary[f"{metric}_{statistic}"])
            if not close(stored, float(expected)):
                problems.append(f"/summary.{metric}_{statistic} = {stored!r}, numpy gives {float(expected)!r}")

    parts = completed.hbm_tokens + completed.dram_tokens + completed.ssd_tokens + completed.remote_tokens
    if not (parts == completed.cached_tokens).all():
        problems.append("/requests: cached_tokens is not hbm + dram + ssd + remote tokens for every completed request")

    input_tokens = completed.input_tokens.to_numpy().sum(dtype=np.float64)
    hit_ratio = completed.cached_tokens.to_numpy().sum(dtype=np.float64) / input_tokens if input_tokens > 0 else 0.0
    if not close(float(summary.prefix_hit_ratio), hit_ratio):
        problems.append(f"/summary.prefix_hit_ratio = {summary.prefix_hit_ratio!r}, /requests gives {hit_ratio!r}")
    return problems, len(requests)


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} RESULTS.h5", file=sys.stderr)
        return 2
    try:
        problems, rows = check(argv[1])
    except (OSError, KeyError, ValueError) as error:
        problems, rows = [f"cannot read {argv[1]}: {error}"], 0
    if problems:
        for problem in problems:
            print(f"{argv[1]}: {problem}")
        return 1
    print(f"ok: {rows} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
