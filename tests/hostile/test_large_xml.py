"""A large CIN Census return is streamed, never loaded whole (issue: hardening: a 218 MB
return was read at a 490 MB peak; ``benchmarks/bench_cin_census.py`` prints the peak at full
size).

The peak resident memory (``VmHWM``) of reading returns of two sizes is measured, each in a
fresh process, above the process's peak after imports. Reading keeps the records (a few bytes
per byte of XML); a reader that built the whole tree would add libxml2's tree, about nine times the file.
So the peak's growth between the two sizes must stay below ``GROWTH_LIMIT`` times the files'
growth, and the control (``lxml.etree.parse`` of the same files) must exceed it. Resident memory,
not ``tracemalloc``: libxml2 allocates outside Python's allocator, so tracemalloc never sees a
tree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/status").is_file(),
                                 reason="peak memory read from /proc/self/status (Linux)")]

#: Peak memory growth per byte of file growth a streaming read stays under (measured 2.9 to
#: 4.0 on 2- and 8-MB returns; the tree alone 9.2 to 9.6, so a whole-tree reader, which keeps
#: the records too, would be above 13).
GROWTH_LIMIT = 7.0
PROBE = r"""
import json, re, sys
from pathlib import Path
from cpstats.io.cin_census import read_returns
from lxml import etree
mode, path = sys.argv[1:]
def peak():  # VmHWM: this process's own peak (ru_maxrss keeps the forking pytest's across exec)
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
base = peak()
kept = read_returns([path], source="synthetic") if mode == "read" else etree.parse(path)
print(json.dumps(peak() - base))
"""


def _peak(mode: str, path: Path) -> float:
    """Bytes of peak resident memory above the fresh process's after imports."""
    out = subprocess.run([sys.executable, "-c", PROBE, mode, str(path)], capture_output=True,
                         text=True, check=True, timeout=600)
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> list[Path]:
    """Synthetic returns of about 2,000 and 8,000 children (2 and 8 MB), every year in one."""
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return

    folder = tmp_path_factory.mktemp("large")
    paths = []
    for children in (2_000, 8_000):
        county = synth.generate(seed=1, scale=children / 32_400)
        paths.append(write_return(county.data, folder / f"return_{children}.xml",
                                  la_child_ids=county.la_child_ids, whole_history=True))
    return paths


def _growth(mode: str, paths: list[Path]) -> float:
    small, big = paths
    return (_peak(mode, big) - _peak(mode, small)) / (big.stat().st_size - small.stat().st_size)


def test_reading_a_return_streams_it(returns):
    growth = _growth("read", returns)
    assert growth < GROWTH_LIMIT, f"peak grows {growth:.1f} bytes per byte of XML"


def test_a_whole_tree_would_break_the_bound(returns):
    """The control: loading the tree whole grows the peak past the limit, so the test above
    can fail."""
    assert _growth("tree", returns) > GROWTH_LIMIT
