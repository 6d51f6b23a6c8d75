"""The kernel the runner uses: found when it runs this interpreter, registered in the
environment's prefix when missing, never another interpreter's kernel of the same name.

Each test points Jupyter's search path at empty temporary folders and registers kernels
with a name no real environment has, in a temporary prefix."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cpstats import kernel

NAME = "cpstats-test-kernel"


@pytest.fixture
def jupyter(tmp_path: Path, monkeypatch) -> Path:
    """A prefix whose ``share/jupyter`` is first on Jupyter's (otherwise empty) path."""
    prefix = tmp_path / "prefix"
    (prefix / "share" / "jupyter").mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    return prefix


def _spec(folder: Path, name: str) -> dict:
    return json.loads((folder / "share" / "jupyter" / "kernels" / name / "kernel.json").read_text())


def _write_spec(folder: Path, name: str, python: str) -> Path:
    path = folder / "share" / "jupyter" / "kernels" / name / "kernel.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"argv": [python, "-m", "ipykernel_launcher", "-f",
                                         "{connection_file}"],
                                "display_name": "other", "language": "python"}))
    return path


def test_registers_a_kernel_for_this_interpreter_when_there_is_none(jupyter):
    assert kernel.kernel_python(NAME) is None
    assert kernel.ensure_kernel(NAME, prefix=str(jupyter)) == NAME
    spec = _spec(jupyter, NAME)
    assert spec["argv"][0] == sys.executable
    assert spec["display_name"] == kernel.DISPLAY_NAME
    assert kernel.runs_this_python(kernel.kernel_python(NAME))


def test_an_existing_kernel_for_this_interpreter_is_used_as_it_is(jupyter):
    kernel.ensure_kernel(NAME, prefix=str(jupyter))
    path = jupyter / "share" / "jupyter" / "kernels" / NAME / "kernel.json"
    os.utime(path, (0, 0))
    assert kernel.ensure_kernel(NAME, prefix=str(jupyter)) == NAME
    assert path.stat().st_mtime == 0


def test_a_stale_kernel_in_the_prefix_is_replaced(jupyter):
    _write_spec(jupyter, NAME, "/opt/elsewhere/bin/python3.9")
    assert kernel.ensure_kernel(NAME, prefix=str(jupyter)) == NAME
    assert _spec(jupyter, NAME)["argv"][0] == sys.executable


def test_another_interpreters_kernel_first_on_the_path_is_not_used(tmp_path, monkeypatch):
    foreign, prefix = tmp_path / "foreign", tmp_path / "prefix"
    spec = _write_spec(foreign, NAME, "/opt/elsewhere/bin/python3.9")
    before = spec.read_text()
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(foreign / "share" / "jupyter"), str(prefix / "share" / "jupyter")]))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    name = kernel.ensure_kernel(NAME, prefix=str(prefix))
    assert name.startswith(f"{NAME}-") and name != NAME
    assert _spec(prefix, name)["argv"][0] == sys.executable
    assert spec.read_text() == before  # left as it was
    assert kernel.ensure_kernel(NAME, prefix=str(prefix)) == name  # and found again


def test_runs_this_python_tells_venvs_of_one_base_apart(tmp_path):
    here = Path(sys.executable)
    for venv in ("a", "b"):
        (tmp_path / venv / "bin").mkdir(parents=True)
        (tmp_path / venv / "bin" / "python").symlink_to(here.resolve())
        (tmp_path / venv / "bin" / "python3").symlink_to("python")
    a, b = (str(tmp_path / v / "bin" / "python") for v in "ab")
    assert kernel.runs_this_python(sys.executable)
    assert kernel.runs_this_python(str(tmp_path / "a" / "bin" / "python3"), executable=a)
    assert not kernel.runs_this_python(b, executable=a)
    assert not kernel.runs_this_python(None)


@pytest.mark.slow
def test_refresh_runs_without_a_registered_kernel(jupyter, tmp_path, monkeypatch):
    """``cpstats notebooks refresh`` (and so the runner) in an environment where no kernel of
    that name exists: one is registered and the notebook runs; the stored metadata keeps the
    kernel name the notebooks use."""
    from cpstats import report

    monkeypatch.setattr(sys, "prefix", str(jupyter))
    notebook = tmp_path / "01_tiny.ipynb"
    nb = new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)")])
    nb.metadata["kernelspec"] = {"name": NAME, "display_name": "x", "language": "python"}
    nbformat.write(nb, notebook)
    report.refresh_notebook(notebook, kernel=NAME)
    done = nbformat.read(notebook, as_version=4)
    assert done.cells[0].outputs[0]["text"].strip() == sys.executable
    assert done.metadata["kernelspec"]["name"] == kernel.KERNEL
    assert _spec(jupyter, NAME)["argv"][0] == sys.executable


def test_registering_leaves_nothing_in_the_temporary_folder(jupyter, tmp_path, monkeypatch):
    """ipykernel's install() stages the spec in a tmp*_kernels folder and leaves it behind
    empty (99 of them in /tmp before): registering leaves no folder in the temporary folder."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    assert kernel.ensure_kernel(NAME, prefix=str(jupyter)) == NAME
    assert _spec(jupyter, NAME)["argv"][0] == sys.executable
    assert list(scratch.iterdir()) == []
