#!/usr/bin/python3
"""Multi-step planning changes no result of a prefill/decode run either: the P/D example
(docs/examples/pd-disaggregation.toml, 6,000 requests) run as written and with
`multi_step = false` in each of its [[instances]] groups (a group takes the switch in its
own table, which `--set instances.multi_step` cannot reach) must give identical datasets,
every one but the summary's wall-clock columns (tools/compare_results.py --all).
Usage: pd_multi_step_check.py KVSIM CONFIG COMPARE_RESULTS WORKDIR
"""
import os
import subprocess
import sys


def main(kvsim, config, compare, workdir):
    os.makedirs(workdir, exist_ok=True)
    with open(config) as f:
        lines = f.read().splitlines()
    single = []
    for line in lines:
        single.append(line)
        if line.strip() == "[[instances]]":
            single.append("multi_step = false")
    assert single.count("multi_step = false") == 2, "the example should have two groups"
    single_config = os.path.join(workdir, "pd-single-step.toml")
    with open(single_config, "w") as f:
        f.write("\n".join(single) + "\n")
    outputs = []
    for name, path in (("single", single_config), ("multi", config)):
        out = os.path.join(workdir, name + ".h5")
        subprocess.run([kvsim, "run", path, "--quiet", "-o", out], check=True)
        outputs.append(out)
    return subprocess.run(["/usr/bin/python3", compare, *outputs, "--all"]).returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
