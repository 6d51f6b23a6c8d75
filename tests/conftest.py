"""Shared fixtures. Tests that need ``../shared/data`` skip with a reason on a
user's own clone, but fail under CI (``CI=true``) so nothing hides there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpstats.paths import shared_data_dir


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; skipped when absent locally, a failure in CI."""
    path = shared_data_dir()
    if not (path / "README.md").is_file():
        message = f"published reference data not found at {path} (set CPSTATS_SHARED_DATA)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def cin_2022(shared_data: Path) -> Path:
    """The DfE 2022 release folder."""
    return shared_data / "dfe" / "cin_2022"


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    """A notebooks folder of one tiny notebook (:mod:`tests.tiny_notebooks`) for runner tests."""
    from tests.tiny_notebooks import notebooks_folder

    return notebooks_folder(tmp_path / "notebooks")
