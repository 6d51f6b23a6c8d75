"""Tiny notebooks for runner tests: a parameters cell as the real notebooks have it and a few
cells, so each run of ``cpstats report --notebooks-dir`` costs one kernel start."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

PARAMETERS = ("la = None\nyear = None\ndfe_dir = None\ncin_census = None\n"
              "population_dir = None\nservice = None\nannex_a = None\noutput_dir = None")
#: A cell recording one published figure, saved where the runner asks (``{theme}``: its name).
RECORD = """
from cpstats.results import Results
results = Results("{theme}")
text = results.record("cp_plans_at_31_march", 553, unit="count", geography_code=la,
                      geography_name="Somewhere", period=year, source="dfe")
if output_dir is not None:
    results.save(output_dir)
print(text)
"""


def write_notebook(path: Path, *cells: str) -> None:
    """A notebook at ``path``: the parameters cell, then ``cells``, run by the cpstats kernel."""
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                             *[new_code_cell(c) for c in cells]])
    nb.metadata["kernelspec"] = {"name": "cpstats", "display_name": "Python (cpstats)",
                                 "language": "python"}
    nbformat.write(nb, path)


def notebooks_folder(folder: Path) -> Path:
    """``folder`` made, holding one notebook ``01_ok`` that records a figure."""
    folder.mkdir()
    write_notebook(folder / "01_ok.ipynb", RECORD.format(theme="01_ok"))
    return folder
