#!/usr/bin/python3
"""The per-instance and per-link time series on a run whose state is known by hand.

One request (1,000 prompt tokens, 3,000 output tokens) on two instances; the replayed trace
is rebased to its first arrival, so the request arrives at t = 0, and is released before
the sampler's first sample at that instant. Samples every second. Expected:
  t = 0      one row per instance (the first sample records every instance): instance 0
             (least_loaded: the tie at 0 goes to the lowest index) runs the request's
             prefill, one step of all 1,000 prompt tokens (< max_num_batched_tokens 8,192),
             with ceil(1000 / 16) = 63 blocks; instance 1 all zero;
  t = 1      instance 0 decodes: waiting 0, running 1, batch_tokens 1; its HBM blocks
             stay 63 because the whole decode run is one multi-step plan (instances.multi_step)
             whose blocks are applied at its end, so no later sample differs; instance 1 is
             unchanged: no row. The run ends at 24.1 s with nothing busy: no further sample.
  links      no KV moves without lower tiers: no link rows.
Link rows are checked on a two-node run with a remote pool: every row names a link of
/links, its utilisation is in (0, 1] or 0, a link's first row is busy, and a 0 row only
closes a busy stretch.
Usage: timeseries_check.py KVSIM WORKDIR
"""
import json
import os
import subprocess
import sys

import h5py


def run(kvsim, workdir, name, extra, config=None):
    out = os.path.join(workdir, name + ".h5")
    if os.path.exists(out):
        os.remove(out)
    args = [kvsim, "run"] + ([config] if config else [])
    subprocess.run(args + ["--quiet", "-o", out, "--set", "kvcache.sample_interval=1", *extra], check=True)
    return h5py.File(out, "r")


def main(kvsim, workdir):
    os.makedirs(workdir, exist_ok=True)
    trace = os.path.join(workdir, "one.jsonl")
    with open(trace, "w") as f:
        f.write(json.dumps({"format": "kvsim", "version": 1, "block_size": 16, "categories": ["chat"]}) + "\n")
        f.write(json.dumps({"id": 0, "arrival": 0.5, "session": 0, "parent": -1, "turn": 1, "type": "chat",
                            "input_tokens": 1000, "output_tokens": 3000, "priority": 0, "think_time": -1}) + "\n")
    config = os.path.join(workdir, "one.toml")
    with open(config, "w") as f:
        f.write(f'[instances]\ncount = 2\n[routing]\npolicy = "least_loaded"\n[workload]\ntrace = "{trace}"\n')
    with run(kvsim, workdir, "one", [], config) as f:
        rows = f["timeseries/instances"][()]
        links = f["timeseries/links"][()]
    first = rows[rows["time"] == 0]
    assert first["instance"].tolist() == [0, 1], first
    assert first[0].tolist()[2:] == (0, 1, 1000, 63), first
    assert first[1].tolist()[2:] == (0, 0, 0, 0), first
    later = rows[rows["time"] > 0]
    assert len(later) == 1 and later[0].tolist() == (1.0, 0, 0, 1, 1, 63), later
    assert len(links) == 0, links

    with run(kvsim, workdir, "remote", ["--set", "platform.nodes=2", "--set", "instances.count=16", "--set",
                                        "workload.num_requests=1000", "--set", "instances.kv_blocks=800", "--set",
                                        "kvcache.remote.capacity=2GiB", "--set", "kvcache.remote.servers=2"]) as f:
        links = f["timeseries/links"][()]
        known = set(n.decode() for n in f["links"][()]["name"])
    assert len(links) > 0
    u = links["utilization"]
    assert ((u > 0) & (u <= 1 + 1e-9) | (u == 0)).all(), u
    by_link = {}
    for row in links:
        by_link.setdefault(row["link"], []).append(row)
    for name, series in by_link.items():
        assert series[0]["utilization"] > 0, (name, series[0])  # a link's first row is busy
        zeros = [i for i, r in enumerate(series) if r["utilization"] == 0]
        for i in zeros:  # a 0 row closes a busy stretch: the row before it is busy
            assert i > 0 and series[i - 1]["utilization"] > 0, (name, series)
        assert name.decode() in known, name
    print(f"ok: {len(rows)} instance rows, {len(links)} link rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
