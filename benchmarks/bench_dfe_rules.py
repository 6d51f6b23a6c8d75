"""Benchmark: DfE's CIN Census rules (``cpstats check --rules dfe``) on a large return.

Writes one synthetic return for 2016-17 of about 100,000 children (the default county's
2016-17 return scaled up: it passes every rule, so the rules do their full work without
stopping early), then, in a fresh process, times reading it with every child kept
(:func:`cpstats.io.cin_census.read_cin_census`, ``keep_rejected=True``, as the command
does) and running the year's rule set (:func:`cpstats.rules.run`). Prints CPU and wall
seconds of each step and children per second. ``--repeat N`` keeps the fastest of N runs.

Usage: ``python benchmarks/bench_dfe_rules.py [--children 100000] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Children in the default county's 2016-17 return (scale 1).
CHILDREN_IN_2017_AT_SCALE_1 = 10_495


def measure(path: Path) -> dict[str, float]:
    """Read and rule timings in this process (called in a fresh subprocess)."""
    from cpstats import rules
    from cpstats.io.cin_census import read_cin_census

    clocks = [(time.perf_counter(), time.process_time())]
    data = read_cin_census(path, source="synthetic", keep_rejected=True)
    clocks.append((time.perf_counter(), time.process_time()))
    table = rules.run(rules.Census.of(data))
    clocks.append((time.perf_counter(), time.process_time()))
    (w0, c0), (w1, c1), (w2, c2) = clocks
    return {"children": len(data.children), "rules": len(table),
            "failing": int(table["records"].sum()), "read_wall": w1 - w0, "read_cpu": c1 - c0,
            "rules_wall": w2 - w1, "rules_cpu": c2 - c1}


def make(children: int, folder: Path) -> Path:
    """The synthetic 2016-17 return of about ``children`` children."""
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_returns

    county = synth.generate(years=(2016, 2017), scale=children / CHILDREN_IN_2017_AT_SCALE_1)
    [_, path] = write_returns(county.data, folder, county.years,
                              la_child_ids=county.la_child_ids, upns=county.upns)
    return path


def _fresh(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_dfe_") as tmp:
        path = make(args.children, Path(tmp))
        runs = [_fresh(path) for _ in range(args.repeat)]
        size_mb = path.stat().st_size / 1e6
    best = {key: min(run[key] for run in runs) for key in runs[0]}
    print(f"return: {best['children']:,} children, {size_mb:.1f} MB; {best['rules']} rules, "
          f"{best['failing']} failing records")
    for step in ("read", "rules"):
        cpu, wall = best[f"{step}_cpu"], best[f"{step}_wall"]
        print(f"{step:>6}: {cpu:6.2f} s CPU {wall:6.2f} s wall "
              f"{best['children'] / wall:10,.0f} children/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
