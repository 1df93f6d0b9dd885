#!/usr/bin/python3
"""Check a kvsim results file against its documented schema (results/README.md).

Usage: tools/check_results.py [--kvsim PATH] RESULTS.h5

The expected tables, columns, dtypes and units come from `kvsim describe results --json`
(PATH defaults to $KVSIM, else build/kvsim beside this script).

Reads /requests and /summary with h5py into pandas DataFrames, checks every documented
column and dtype, recomputes the counts and the TTFT/TPOT/E2E percentiles from /requests with
numpy (which is what kvsim's summary promises to match) and compares them with /summary, and
checks the root attributes (the resolved config must parse as TOML). Prints "ok: N requests"
and exits 0, or prints every problem found and exits 1.
"""

import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tomllib

import h5py
import numpy as np
import pandas as pd

REL_TOL = 1e-9
ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_schema(kvsim):
    """The schema kvsim's writer uses (`kvsim describe results --json`): one declaration
    drives the writer, this checker and the README test."""
    out = subprocess.run([kvsim, "describe", "results", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


STRING_ATTRIBUTES = ("kvsim_version", "git_revision", "simgrid_version", "command_line", "config", "workload_report")


def close(a, b):
    return math.isclose(a, b, rel_tol=REL_TOL)


def stats(values):
    """p50/p90/p99/mean the way the summary defines them: zeros for an empty set."""
    if len(values) == 0:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])  # numpy default: 'linear'
    return {"p50": p50, "p90": p90, "p99": p99, "mean": np.mean(values)}


def check_table(name, dataset, columns, problems):
    """Columns present with the declared dtypes, and a units attribute aligned with them
    holding the declared units."""
    names = dataset.dtype.names or ()
    units = dataset.attrs.get("units")
    if units is None:
        problems.append(f"/{name}: no units attribute")
    elif len(units) != len(names):
        problems.append(f"/{name}: {len(units)} units for {len(names)} columns")
        units = None
    for column in columns:
        column_name, dtype, unit = column["name"], column["type"], column["unit"]
        if column_name not in names:
            problems.append(f"/{name}: missing column {column_name}")
            continue
        if dataset.dtype[column_name].base != np.dtype(dtype).newbyteorder("<"):
            problems.append(f"/{name}.{column_name}: dtype {dataset.dtype[column_name]}, expected {dtype}")
        if units is not None:
            stored = units[names.index(column_name)]
            stored = stored.decode() if isinstance(stored, bytes) else stored
            if stored != unit:
                problems.append(f"/{name}.{column_name}: unit {stored!r}, expected {unit!r}")
    return names


def check(path, schema):
    problems = []
    tables = schema["tables"]
    with h5py.File(path, "r") as f:
        for name in tables:
            if name not in f:
                problems.append(f"missing dataset /{name}")
        if problems:
            return problems, 0

        for name, columns in tables.items():
            check_table(name, f[name], columns, problems)
        names = f["requests"].dtype.names or ()
        if "status" in names:
            mapping = h5py.check_enum_dtype(f["requests"].dtype["status"])
            if mapping != schema["status"]:
                problems.append(f"/requests.status: enum {mapping}, expected {schema['status']}")
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
        if f.attrs.get("schema_version") != schema["schema_version"]:
            problems.append(f"root attribute schema_version is {f.attrs.get('schema_version')!r}, "
                            f"expected {schema['schema_version']}")
        if isinstance(f.attrs.get("config"), str):
            try:
                tomllib.loads(f.attrs["config"])
            except tomllib.TOMLDecodeError as error:
                problems.append(f"root attribute config is not valid TOML: {error}")

        if problems:  # the recomputation below relies on the schema
            return problems, f["requests"].shape[0]
        all_requests = pd.DataFrame(f["requests"][:])
        config_text = f.attrs.get("config") if isinstance(f.attrs.get("config"), str) else None
        summary = pd.DataFrame(f["summary"][:]).iloc[0]

    # The summary covers the requests of the steady-state window only (run.warmup/cooldown):
    # warmup <= arrival <= last arrival - cooldown.
    run = tomllib.loads(config_text).get("run", {}) if config_text else {}
    if len(all_requests):
        last = all_requests.arrival.max()
        expected = (all_requests.arrival >= run.get("warmup", 0)) & (all_requests.arrival <= last - run.get("cooldown", 0))
        wrong = int((expected.astype(np.uint8) != all_requests.in_window).sum())
        if wrong:
            problems.append(f"/requests.in_window: {wrong} rows disagree with run.warmup/cooldown")
    requests = all_requests[all_requests.in_window == 1]
    if int(summary["excluded"]) != len(all_requests) - len(requests):
        problems.append(f"/summary.excluded = {int(summary['excluded'])}, /requests gives "
                        f"{len(all_requests) - len(requests)}")

    status = schema["status"]
    completed = requests[requests.status == status["completed"]]
    counts = {
        "requests": len(requests),
        "completed": len(completed),
        "rejected": int((requests.status == status["rejected"]).sum()),
        "unfinished": int((requests.status == status["unfinished"]).sum()),
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
    return problems, len(all_requests)


def main(argv):
    parser = argparse.ArgumentParser(description="Check a kvsim results file against its schema.")
    parser.add_argument("--kvsim", default=os.environ.get("KVSIM", str(ROOT / "build" / "kvsim")))
    parser.add_argument("results")
    args = parser.parse_args(argv[1:])
    try:
        schema = load_schema(args.kvsim)
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as error:
        print(f"cannot read the schema from {args.kvsim} describe results --json: {error}", file=sys.stderr)
        return 2
    try:
        problems, rows = check(args.results, schema)
    except (OSError, KeyError, ValueError) as error:
        problems, rows = [f"cannot read {args.results}: {error}"], 0
    if problems:
        for problem in problems:
            print(f"{args.results}: {problem}")
        return 1
    print(f"ok: {rows} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
