"""Where things live. Parameters default to ``None`` and are resolved here,
so a notebook runs the same from any working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
SEED_DIR = DATA_DIR / "seed"
REFERENCE_DIR = DATA_DIR / "reference"
SYNTHETIC_DIR = DATA_DIR / "synthetic"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def shared_data_dir() -> Path:
    """The published reference data beside the project (``../shared/data``).

    ``CPSTATS_SHARED_DATA`` overrides it.
    """
    override = os.environ.get("CPSTATS_SHARED_DATA")
    return Path(override) if override else PROJECT_ROOT.parent / "shared" / "data"
