"""The conda environment, the lock and the package metadata must stay in step."""

from __future__ import annotations

import re
import tomllib

import yaml

from cpstats.paths import PROJECT_ROOT


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def _pins() -> dict[str, str]:
    lines = (PROJECT_ROOT / "constraints.txt").read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if "==" in line)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}


def _requirement_name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]).lower()


def test_every_dependency_is_pinned_in_the_lock():
    project = _pyproject()["project"]
    wanted = project["dependencies"] + [spec for extra in project["optional-dependencies"].values()
                                        for spec in extra]
    pins = _pins()
    unpinned = [spec for spec in wanted if _requirement_name(spec) not in pins]
    assert not unpinned, f"add exact versions to constraints.txt for {unpinned}"


def test_environment_yml_installs_the_same_lock_and_python():
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and re.match(r"python\b", d))
    assert python == "python" + _pyproject()["project"]["requires-python"].replace(" ", "")
    assert _pyproject()["project"]["requires-python"] == ">=3.11,<3.14"
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-c constraints.txt" in pip_section
    assert "-e .[test,dask]" in pip_section  # every extra, as the Makefile installs


def test_lib_is_not_ignored_by_git():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert "lib/" not in ignored and "lib" not in ignored


def test_the_makefile_installs_every_extra_the_tests_use():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    extras = ",".join(_pyproject()["project"]["optional-dependencies"])
    assert f'-e ".[{extras}]"' in makefile
