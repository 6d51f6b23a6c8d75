"""Work that does not depend on the LA, done once per release and kept between runs.

The annual forecast pooled over every LA, its backtests and the cross-council correlations are
the same for every LA of one release and year. They are computed once into a content-addressed
cache and reused by every report, notebook and batch worker:

- **Where**: ``$CPSTATS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/cpstats``, else
  ``~/.cache/cpstats``. ``cpstats cache info`` lists it; ``cpstats cache clear`` empties it.
- **Key**: a folder per release named by the sha256 of the bytes of every input file the
  published facts come from (the DfE release folder or the shipped reference extract, the
  council's transcribed figures, ``--population-dir``), of cpstats' version and its source code,
  and of the BLAS kernel choice (``OPENBLAS_CORETYPE``). A changed input file, a new version or a
  changed model gives another folder, so nothing stale is ever read.
- **What**: only figures computed from published statistics. Child-level records and anything
  computed from them never go in: :func:`cached` refuses a frame that carries a child-level
  source. The one exception is the synthetic county (:func:`synthetic_county`): its generated
  records, with no real child, and its next-quarter outlook (quarterly totals, forecasts and
  backtest scores), the same in every default run since the county's seed and generator are
  fixed and its code is in the key. A council's return is never kept here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pandas as pd

T = TypeVar("T")

CACHE_ENV = "CPSTATS_CACHE_DIR"
#: Sources of child-level figures: never cached here (the same as ``themes.base.CHILD_SOURCES``,
#: kept apart so this module imports no theme).
CHILD_SOURCES = frozenset({"cin_census", "synthetic"})
_PACKAGE = Path(__file__).resolve().parent


def cache_root() -> Path:
    """The cache folder (not created here)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cpstats"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _digest(paths: Iterable[Path], root: Path | None = None) -> str:
    """sha256 over each file's name (relative to ``root``) and bytes."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root) if root else path.name).encode() + b"\0")
        stat = path.stat()
        digest.update(_file_hash(str(path), stat.st_size, stat.st_mtime_ns))
    return digest.hexdigest()


@functools.lru_cache(maxsize=4096)
def _file_hash(path: str, size: int, mtime_ns: int) -> bytes:  # noqa: ARG001 -- the memo's key
    """A file's sha256, computed once per path, size and modification time in a process."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """cpstats' version and a hash of its source and resources (a changed model or rule is a
    new cache)."""
    from cpstats._version import __version__

    files = [p for p in _files(_PACKAGE) if p.suffix in {".py", ".csv"}]
    return f"{__version__}-{_digest(files, _PACKAGE)[:16]}"


def input_files(dfe_dir: Path | None, population_dir: Path | None) -> list[Path]:
    """Every file the published facts of a run are read from (:func:`cpstats.inputs.all_published`)."""
    from cpstats.paths import REFERENCE_DIR, SEED_DIR

    folders = [Path(dfe_dir) if dfe_dir else REFERENCE_DIR, SEED_DIR]
    if population_dir:
        folders.append(Path(population_dir))
    return [f for folder in folders for f in _files(folder)]


def release_key(dfe_dir: Path | None, population_dir: Path | None) -> str:
    """The cache key of a release: inputs' bytes, cpstats' code, the BLAS kernel choice."""
    digest = hashlib.sha256(_digest(input_files(dfe_dir, population_dir)).encode())
    digest.update(code_fingerprint().encode())
    digest.update(f"blas={os.environ.get('OPENBLAS_CORETYPE', '')}".encode())
    return digest.hexdigest()[:32]


def release_folder(dfe_dir: Path | None, population_dir: Path | None) -> Path:
    """This release's folder in the cache."""
    return cache_root() / release_key(dfe_dir, population_dir)


def _check_published(value: object, name: str) -> None:
    frames = value if isinstance(value, (tuple, list)) else [value]
    for frame in frames:
        if isinstance(frame, pd.DataFrame) and "source" in frame.columns and \
                frame["source"].isin(CHILD_SOURCES).any():
            raise ValueError(f"release cache entry {name!r} holds child-level figures: "
                             "compute them per run instead")


def cached(dfe_dir: Path | None, population_dir: Path | None, name: str,
           compute: Callable[[], T]) -> T:
    """``compute()`` for the release the inputs name, read from the cache when it is there.

    Parameters
    ----------
    dfe_dir, population_dir
        The run's inputs (``None``: the data shipped in ``data/``).
    name
        What is kept, with everything it depends on besides the inputs (say
        ``annual_backtest-2017-h3``).
    compute
        Computes the value from published statistics only.

    Raises
    ------
    ValueError
        When the value carries child-level figures (nothing is written).
    """
    return _kept(release_folder(dfe_dir, population_dir) / f"{name}.pickle", compute,
                 lambda value: _check_published(value, name))


#: The cache's folder for the synthetic county's records (beside the releases' folders).
SYNTHETIC = "synthetic"


def synthetic_county():  # noqa: ANN201 -- a CinData (import kept lazy)
    """The default synthetic county's records (:func:`cpstats.synth.generate` with its defaults:
    about a second to generate, hundredths to read back), kept per version of cpstats' code
    and of the libraries whose random numbers and pickles they are. Invented records of no
    real child, the same in every default run: the one kind of record kept here. Only the
    newest version's copy is kept."""
    import sys

    import numpy as np
    import pyarrow as pa

    from cpstats import synth

    versions = f"py{sys.version_info[0]}.{sys.version_info[1]}-numpy{np.__version__}-" \
               f"pandas{pd.__version__}-pyarrow{pa.__version__}"
    path = cache_root() / SYNTHETIC / f"county-{code_fingerprint()}-{versions}.pickle"
    county = _kept(path, lambda: synth.generate().data)
    for older in path.parent.glob("county-*.pickle"):
        if older != path:
            older.unlink(missing_ok=True)
    return county


def _kept(path: Path, compute: Callable[[], T],
          check: Callable[[object], None] | None = None) -> T:
    """The value pickled at ``path``, else ``compute()`` (passed through ``check``, which
    raises to keep it out) written there atomically."""
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:  # noqa: BLE001 -- absent, damaged, or of other libraries: made again
        pass
    value = compute()
    if check is not None:
        check(value)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent workers write the same bytes
    except OSError:  # a read-only or full cache only costs time
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return value


def for_run(data: object, name: str, compute: Callable[[], T]) -> T:
    """:func:`cached` for a theme's run (a :class:`~cpstats.themes.ThemeData`): ``name`` is
    suffixed with the run's year, since published facts are cut at it."""
    inputs = data.inputs  # type: ignore[attr-defined]
    return cached(inputs.dfe_dir, inputs.population_dir, f"{name}-{inputs.year}", compute)


def mark_prepared(dfe_dir: Path | None, population_dir: Path | None, year: int) -> None:
    """Note that the cache holds the release-level work of ``year`` (:func:`is_prepared`); the
    work itself is done by :func:`cpstats.executors.prepare_years`, since computing it needs
    the themes, which import this module."""
    try:
        _marker(dfe_dir, population_dir, year).touch()
    except OSError:
        pass  # a read-only cache: every run computes the work again


def _marker(dfe_dir: Path | None, population_dir: Path | None, year: int) -> Path:
    folder = release_folder(dfe_dir, population_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"prepared-{year}"


def is_prepared(dfe_dir: Path | None, population_dir: Path | None, year: int) -> bool:
    """:func:`cpstats.executors.prepare_years` has run for this release and year (the cache holds its work)."""
    return (release_folder(dfe_dir, population_dir) / f"prepared-{year}").is_file()


def info() -> pd.DataFrame:
    """One row per cached release (key, entries, bytes), and one named ``synthetic`` for the
    synthetic county's records."""
    root = cache_root()
    rows = [{"release": folder.name, "entries": len(list(folder.glob("*.pickle"))),
             "bytes": sum(p.stat().st_size for p in folder.glob("*.pickle"))}
            for folder in sorted(root.iterdir()) if folder.is_dir()] if root.is_dir() else []
    return pd.DataFrame(rows, columns=["release", "entries", "bytes"])


def clear() -> int:
    """Empty the cache (the synthetic county's records too); returns the number of releases
    removed."""
    root = cache_root()
    if not root.is_dir():
        return 0
    folders = [p for p in root.iterdir() if p.is_dir()]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return sum(folder.name != SYNTHETIC for folder in folders)
