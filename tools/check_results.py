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


def check_slo(requests, completed, summary, slo_rows, status, problems):
    """Recomputes SLO attainment, goodput and each bound's statistic from the counted rows:
    a metric's per-request target is its loosest bound; unserved requests are infinitely late."""
    targets = {}
    for row in slo_rows:
        name = row["name"].decode()
        metric = name.split(".")[0]
        targets[metric] = max(targets.get(metric, -math.inf), float(row["limit"]))
        served = requests.status == status["completed"]
        values = requests[metric].where(served, math.inf)
        if metric == "tpot":
            values = values[requests.output_tokens > 1]
        statistic = name.split(".", 1)[1]
        values = np.sort(values.to_numpy(dtype=np.float64))
        if len(values) == 0:
            expected = 0.0
        elif statistic == "mean":
            expected = math.inf if np.isinf(values).any() else float(np.mean(values))
        else:
            index = (len(values) - 1) * float(statistic[1:]) / 100
            low, high = values[int(math.floor(index))], values[min(int(math.floor(index)) + 1, len(values) - 1)]
            fractional = index > math.floor(index)
            if math.isinf(low) or (fractional and math.isinf(high)):
                expected = math.inf
            else:
                # Both neighbours finite: numpy over the values with the (trailing) infinite
                # ones clamped to the largest finite value gives the same interpolation.
                finite = values[np.isfinite(values)]
                expected = float(np.percentile(np.minimum(values, finite.max()), float(statistic[1:])))
        measured = float(row["measured"])
        if not (measured == expected or close(measured, expected)):
            problems.append(f"/slo {name}: measured {measured!r}, /requests gives {expected!r}")
    good = completed
    for metric, target in targets.items():
        ok = good[metric] <= target
        if metric == "tpot":
            ok = ok | (good.output_tokens <= 1)
        good = good[ok]
    attainment = len(good) / len(requests) if len(requests) else 0.0
    if not close(float(summary.slo_attainment), attainment):
        problems.append(f"/summary.slo_attainment = {summary.slo_attainment!r}, /requests gives {attainment!r}")
    window = float(summary.window_duration)
    goodput = len(good) / window if window > 0 else 0.0
    if not close(float(summary.goodput_rps), goodput):
        problems.append(f"/summary.goodput_rps = {summary.goodput_rps!r}, /requests gives {goodput!r}")


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
        slo_rows = f["slo"][:]
        energy_rows = f["energy"][:]
        energy_samples = f["timeseries/energy"][:]
        for row in energy_rows:
            mine = energy_samples[energy_samples["instance"] == row["instance"]]
            if len(mine) == 0 or not close(float(mine["joules"][-1]), float(row["joules"])):
                problems.append(f"/timeseries/energy: instance {row['instance']} does not end at its /energy.joules")
            elif (np.diff(mine["joules"]) < 0).any() or (np.diff(mine["time"]) < 0).any():
                problems.append(f"/timeseries/energy: instance {row['instance']} goes back in time or energy")
        config_text = f.attrs.get("config") if isinstance(f.attrs.get("config"), str) else None
        summary = pd.DataFrame(f["summary"][:]).iloc[0]
        group_rows = f["groups"][:]

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

    check_slo(requests, completed, summary, slo_rows, status, problems)
    energy = float(energy_rows["joules"].sum()) if len(energy_rows) else 0.0
    if not close(float(summary.energy_joules), energy):
        problems.append(f"/summary.energy_joules = {summary.energy_joules!r}, /energy gives {energy!r}")

    parts = completed.hbm_tokens + completed.dram_tokens + completed.ssd_tokens + completed.remote_tokens
    if not (parts == completed.cached_tokens).all():
        problems.append("/requests: cached_tokens is not hbm + dram + ssd + remote tokens for every completed request")

    input_tokens = completed.input_tokens.to_numpy().sum(dtype=np.float64)
    hit_ratio = completed.cached_tokens.to_numpy().sum(dtype=np.float64) / input_tokens if input_tokens > 0 else 0.0
    if not close(float(summary.prefix_hit_ratio), hit_ratio):
        problems.append(f"/summary.prefix_hit_ratio = {summary.prefix_hit_ratio!r}, /requests gives {hit_ratio!r}")
    check_groups(requests, group_rows, status, summary, problems)
    return problems, len(all_requests)


def check_groups(requests, group_rows, status, summary, problems):
    """/groups: each row's counts and figures recomputed from the window's requests on its
    instances (groups hold consecutive instance indices, in order)."""
    first = 0
    window = float(summary.window_duration)
    for row in group_rows:
        name = row["name"].decode()
        count = int(row["instances"])
        def ours(column):
            return (column >= first) & (column < first + count)
        # A disaggregated request (prefill_instance >= 0) is its prefill group's for TTFT and
        # prefix hits and its decode group's (its instance) for TPOT, E2E, output tokens and
        # preemptions; it counts once in each.
        prefill = requests.prefill_instance if "prefill_instance" in requests else requests.instance * 0 - 1
        first_side = ours(prefill.where(prefill >= 0, requests.instance))
        last_side = ours(requests.instance)
        first += count
        mine = requests[first_side | last_side]
        done = mine[mine.status == status["completed"]]
        front = requests[first_side]
        front_done = front[front.status == status["completed"]]
        back = requests[last_side]
        back_done = back[back.status == status["completed"]]
        expected = {"requests": len(mine), "completed": len(done), "preemptions": int(back.preemptions.sum())}
        for key, value in expected.items():
            if int(row[key]) != value:
                problems.append(f"/groups[{name}].{key} = {int(row[key])}, /requests gives {value}")
        figures = {
            "ttft": stats(front_done.ttft.to_numpy()),
            "tpot": stats(back_done[back_done.output_tokens > 1].tpot.to_numpy()),
            "e2e": stats(back_done.e2e.to_numpy()),
        }
        for metric, values in figures.items():
            for statistic in ("p50", "p99"):
                stored = float(row[f"{metric}_{statistic}"])
                if not close(stored, float(values[statistic])):
                    problems.append(f"/groups[{name}].{metric}_{statistic} = {stored!r}, numpy gives "
                                    f"{float(values[statistic])!r}")
        tokens = back_done.output_tokens.to_numpy().sum(dtype=np.float64)
        rate = tokens / window if window > 0 else 0.0
        if not close(float(row["output_tokens_per_s"]), rate):
            problems.append(f"/groups[{name}].output_tokens_per_s = {float(row['output_tokens_per_s'])!r}, "
                            f"/requests gives {rate!r}")
        input_tokens = front_done.input_tokens.to_numpy().sum(dtype=np.float64)
        hits = front_done.cached_tokens.to_numpy().sum(dtype=np.float64) / input_tokens if input_tokens > 0 else 0.0
        if not close(float(row["prefix_hit_ratio"]), hits):
            problems.append(f"/groups[{name}].prefix_hit_ratio = {float(row['prefix_hit_ratio'])!r}, "
                            f"/requests gives {hits!r}")


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
