"""Benchmark: read a large synthetic Annex A workbook against a bare openpyxl pass.

Writes the synthetic county's Annex A (Lists 3, 5, 7, messy headers, codes and dates)
at a scale giving about ``--rows`` data rows, then times, each in a fresh process:

* **floor**: ``openpyxl.load_workbook(read_only=True)`` and ``iter_rows(values_only=True)``
  over every sheet, keeping nothing;
* **read**: :func:`cpstats.io.annex_a.read_annex_a` (find lists and columns, copy the
  kept cells, type, validate, hash IDs, build the tables).

Prints rows per second and the ratio read / floor (goal: within 3x), in CPU seconds of
the process (``time.process_time``, less disturbed by other users of a shared machine)
and wall-clock seconds. With ``--repeat N`` each timing is the fastest of N fresh runs.

Usage: ``python benchmarks/bench_annex_a.py [--rows 50000] [--repeat 3] [--keep FILE]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Data rows per unit of scale in a six-month window (Lists 3 + 5 + 7), measured at scale 1.
ROWS_AT_SCALE_1 = 7_000
EXTRACT = "2017-03-31"


def measure(mode: str, path: Path) -> dict[str, float]:
    """One timing in this process (called in a fresh subprocess by :func:`main`)."""
    import openpyxl

    from cpstats.io.annex_a import read_annex_a

    start, start_cpu = time.perf_counter(), time.process_time()
    rows = 0
    if mode == "floor":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for _ in sheet.iter_rows(values_only=True):
                rows += 1
        book.close()
    else:
        data = read_annex_a(path, la_code="825", source="synthetic")
        rows = len(data.referrals) + len(data.s47s) + len(data.cp_plans)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - start_cpu,
            "rows": rows}


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best(mode: str, path: Path, repeat: int) -> dict[str, float]:
    runs = [_run("--measure", mode, str(path)) for _ in range(repeat)]
    return {"cpu": min(r["cpu"] for r in runs), "seconds": min(r["seconds"] for r in runs),
            "rows": runs[0]["rows"]}


def _write(path: Path, rows: int) -> None:
    from cpstats import synth
    from cpstats.io.annex_a_writer import write_annex_a

    county = synth.generate(scale=rows / ROWS_AT_SCALE_1)
    write_annex_a(county.data, path, county.data.reference_date,
                  la_child_ids=county.la_child_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write (or reuse) the workbook here instead of a temporary file")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / f"annex_a_{EXTRACT}.xlsx"
        if not path.is_file():
            started = time.perf_counter()
            _write(path, args.rows)
            print(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in "
                  f"{time.perf_counter() - started:.1f} s")
        floor, read = _best("floor", path, args.repeat), _best("read", path, args.repeat)
    print(f"data rows read (Lists 3, 5, 7): {read['rows']:,}; rows in the workbook (all "
          f"sheets, headers included): {floor['rows']:,}")
    for name, r in (("openpyxl read-only pass", floor), ("read_annex_a", read)):
        print(f"{name:<24} CPU {r['cpu']:6.2f} s  wall {r['seconds']:6.2f} s  "
              f"({read['rows'] / r['cpu']:,.0f} rows per CPU second)")
    print(f"ratio read / floor: CPU {read['cpu'] / floor['cpu']:.2f}x, wall "
          f"{read['seconds'] / floor['seconds']:.2f}x (goal: within 3x)")


if __name__ == "__main__":
    main()
