"""A run's inputs: parameters resolved and checked, and the data they name loaded once.

Used by the runner (before any notebook starts), by the notebooks (through
:mod:`cpstats.notebook`) and by :class:`cpstats.themes.ThemeData`. This is the one module
between the readers (``cpstats.io``) and everything that computes: themes and statistics
receive frames from here and never import a reader.

Parameters are path-free by default (``None``): the embedded default run is Buckinghamshire,
year ending 31 March 2017, from the data shipped in ``data/``, with the synthetic county
standing in for a CIN Census return.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from cpstats.defaults import DEFAULT_LA, DEFAULT_YEAR
from cpstats.errors import ParameterError
from cpstats.facts import select
from cpstats.paths import PROJECT_ROOT
from cpstats.periods import as_at, parse_year, year_label

T = TypeVar("T")

PathLike = str | Path
PathsLike = PathLike | Sequence[PathLike] | None


def _paths(value: PathsLike) -> list[Path]:
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, (str, Path)) else list(value)
    return [Path(v).expanduser() for v in items]


@dataclass
class Inputs:
    """Resolved parameters of one run (LA, year and input locations)."""

    la_code: str
    year: int
    dfe_dir: Path | None = None
    cin_census: list[Path] = field(default_factory=list)
    population_dir: Path | None = None
    service: Path | None = None
    annex_a: Path | None = None

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def uses_synthetic(self) -> bool:
        """The default LA with no return of its own uses the synthetic county."""
        return (not self.cin_census and self.annex_a is None and self.la_code == DEFAULT_LA
                and self.dfe_dir is None)

    def check_files(self) -> None:
        """Raise :class:`ParameterError` for an input path that does not exist, or that is a
        pipe, device or socket (read, it would wait or stream forever)."""
        for name, path in (("--dfe-dir", self.dfe_dir), ("--population-dir", self.population_dir)):
            if path is not None and not path.is_dir():
                raise ParameterError(name, path, "an existing folder")
        named = [("--cin-census", p) for p in self.cin_census]
        for name, path in [*named, ("--service", self.service), ("--annex-a", self.annex_a)]:
            refuse_special(name, path)
        for path in self.cin_census:
            if not path.exists():
                raise ParameterError("--cin-census", path, "an existing CIN Census file or folder")
        if self.service is not None and not self.service.is_file():
            raise ParameterError("--service", self.service, "an existing service settings CSV file")
        if self.annex_a is not None and not self.annex_a.is_file():
            raise ParameterError("--annex-a", self.annex_a, "an existing Annex A workbook (.xlsx)")


def refuse_special(option: str, path: Path | None) -> None:
    """Raise :class:`ParameterError` naming ``option`` when ``path`` is a pipe, device or socket."""
    from cpstats.io.files import problem_with

    special = path is not None and path.exists() and problem_with(path)
    if special:
        raise ParameterError(option, path, special.expected)


def resolve(la: str | int | None = None, year: str | int | None = None,
            dfe_dir: PathLike | None = None, cin_census: PathsLike = None,
            population_dir: PathLike | None = None,
            service: PathLike | None = None, annex_a: PathLike | None = None) -> Inputs:
    """Turn notebook/CLI parameters into :class:`Inputs` (``None`` = the embedded default).

    Raises
    ------
    ParameterError
        For an unknown LA, a malformed year or a missing input path.
    """
    from cpstats import geography

    code = DEFAULT_LA if la is None else geography.la_code(la)
    if year is None and annex_a:
        year = annex_a_year(Path(annex_a).expanduser(), code)
    inputs = Inputs(la_code=code, year=DEFAULT_YEAR if year is None else parse_year(year),
                    dfe_dir=_paths(dfe_dir)[0] if dfe_dir else None,
                    cin_census=_paths(cin_census),
                    population_dir=_paths(population_dir)[0] if population_dir else None,
                    service=_paths(service)[0] if service else None,
                    annex_a=_paths(annex_a)[0] if annex_a else None)
    inputs.check_files()
    return inputs


def read_annex_a(path: Path, la_code: str):  # noqa: ANN201 -- AnnexAData (import kept lazy)
    """An Annex A workbook read once per run (the planning step's read is the notebooks'),
    again when the file changes."""
    stat = path.stat()
    return _read_annex_a(path, la_code, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _read_annex_a(path: Path, la_code: str, mtime_ns: int, size: int):  # noqa: ANN202, ARG001
    from cpstats.io.annex_a import read_annex_a as read

    return read(path, la_code=la_code)


def annex_a_year(path: Path, la_code: str) -> int:
    """The year ending 31 March that holds an Annex A workbook's extract date: a report from
    it ends there."""
    from cpstats.periods import quarter_of

    refuse_special("--annex-a", path)
    if not path.is_file():
        raise ParameterError("--annex-a", path, "an existing Annex A workbook (.xlsx)")
    return quarter_of(read_annex_a(path.resolve(), la_code).extract_date)[0]


# -- published facts ----------------------------------------------------------------------------
#: Set by the report runner: a private folder holding the published facts it has already read
#: for its checks, so no notebook of a batch reads a whole DfE release again.
PUBLISHED_CACHE_ENV = "CPSTATS_PUBLISHED_CACHE"


def published_cache_path(folder: PathLike, dfe_dir: Path | None,
                         population_dir: Path | None) -> Path:
    """Where the runner leaves the published facts read from these inputs."""
    key = "|".join(str(Path(p).resolve()) if p else "" for p in (dfe_dir, population_dir))
    return Path(folder) / f"published-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pickle"


@functools.lru_cache(maxsize=4)
def all_published(dfe_dir: Path | None, population_dir: Path | None) -> pd.DataFrame:
    """Every published figure the inputs hold, all years: the DfE release (or the shipped
    reference extract), the report's transcribed figures, and ONS populations when a folder is
    given (replacing the shipped ones)."""
    folder = os.environ.get(PUBLISHED_CACHE_ENV)
    if folder:
        cached = published_cache_path(folder, dfe_dir, population_dir)
        if cached.is_file():
            return pd.read_pickle(cached)
    from cpstats.io.local import read_report_figures

    if dfe_dir is None:
        from cpstats.reference import load_reference

        frames = [load_reference()]
    else:
        from cpstats.io.dfe import read_release

        frames = [read_release(dfe_dir)]
    frames.append(read_report_figures())
    if population_dir is not None:
        from cpstats.io.population import read_ons_population

        frames = [f[~((f["measure"] == "population_0_17") & (f["source"] == "ons"))]
                  for f in frames]
        frames.append(read_ons_population(population_dir))
    return pd.concat(frames, ignore_index=True)


def published_facts(inputs: Inputs) -> pd.DataFrame:
    """Every published figure the run may use, up to the run's year."""
    return as_at(all_published(inputs.dfe_dir, inputs.population_dir), inputs.year)


# -- child-level records --------------------------------------------------------------------------
#: Set by the report runner for each run: a private temporary folder where the first notebook
#: to need the child-level records (or their measures) leaves them for the others.
RUN_CACHE_ENV = "CPSTATS_RUN_CACHE"


def run_cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()``, shared between the notebooks of one runner run through its cache folder
    (removed when the run ends); computed afresh outside the runner.

    The first notebook to need ``name`` computes it under a lock (``.<name>.lock``) while any
    other notebook needing it waits, then reads it: notebooks running side by side compute it
    once rather than each (the synthetic county and its measures took seconds in each).
    """
    import fcntl

    folder = os.environ.get(RUN_CACHE_ENV)
    if not folder or not Path(folder).is_dir():
        return compute()
    path = Path(folder) / f"{name}.pickle"
    with (Path(folder) / f".{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the kernel dies
        if path.is_file():
            with path.open("rb") as handle:
                return pickle.load(handle)
        value = compute()
        store_cached(Path(folder), name, value)
    return value


def store_cached(folder: Path, name: str, value: object) -> None:
    """Leave ``value`` in a run's cache folder as :func:`run_cached` finds it under ``name``
    (the runner seeds it with what its planning step read)."""
    handle, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, Path(folder) / f"{name}.pickle")


def load_child_level(inputs: Inputs):  # noqa: ANN201 -- CinData | None (import kept lazy)
    """The run's child-level records: the given CIN Census return(s), brought up to an Annex A
    workbook's extract date when one is given too (or the workbook alone); else, for the default
    LA, the synthetic county; else ``None``.

    The synthetic county is generated with its default seed, once per version of the code
    (:func:`cpstats.release_cache.synthetic_county` keeps it: generating takes about a second),
    rather than read back from the XML returns ``make setup`` writes to ``data/synthetic/``
    (the same records, which the CIN Census reader reads back identically, but 15 times
    slower to parse).
    """
    returns = None
    if inputs.cin_census:
        from cpstats.io.cin_census import read_returns

        returns = read_returns(inputs.cin_census)
    if inputs.annex_a is not None:
        from cpstats.annex_a_measures import splice

        annex = read_annex_a(inputs.annex_a.resolve(), inputs.la_code)
        return annex if returns is None else splice(returns, annex)
    if returns is not None:
        return returns
    if not inputs.uses_synthetic:
        return None
    from cpstats import release_cache

    return release_cache.synthetic_county()


# -- service settings -----------------------------------------------------------------------------
#: Service settings a council may give in a ``--service`` CSV (``setting,value``), with the
#: measure each becomes.
SERVICE_SETTINGS = {"chair_fte": "conference_chairs_fte",
                    "caseload_target": "children_per_chair_fte_target"}


def service_facts(inputs: Inputs, published: pd.DataFrame) -> pd.DataFrame:
    """The LA's service figures (chair FTE, caseload target) as facts: from ``--service`` when
    given, else those the council's transcribed report states for that LA; empty otherwise."""
    if inputs.service is not None:
        from cpstats.io.local import read_service_settings

        return read_service_settings(inputs.service, inputs.la_code, inputs.year)
    rows = select(published, geography_code=inputs.la_code, source="report",
                  measure=list(SERVICE_SETTINGS.values()), breakdown="total")
    return rows.reset_index(drop=True)


def project_relative(path: Path) -> str:
    """A path as shown in a notebook: relative to the project root, else its name alone (never
    the user's home or a temporary folder)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return Path(path).name


# -- children by ethnic group (the ethnicity theme's denominators) ----------------------------
#: Period of the Census 2011 facts: census day.
CENSUS_DAY = "2011-03-27"


def census_children(inputs: Inputs) -> pd.DataFrame:
    """Census 2011 children aged 0-17 by comparison group (:mod:`cpstats.ethnicity_map`: Arab
    joins Any other) for England, its regions and every LA, as facts: measure
    ``population_0_17``, period ``2011-03-27``, breakdown ``ethnicity=<group>`` plus ``total``
    (all children 0-17), source ``ons``. From the DC2101EW files when ``--population-dir`` holds
    them, else the extract shipped in ``data/reference/``."""
    from cpstats.ethnicity_map import CENSUS2011_TO_GROUP
    from cpstats.facts import TOTAL, make_facts
    from cpstats.io import population

    folder = inputs.population_dir
    if folder is not None and (folder / population.DC2101EW_FILES["local_authority"]).is_file():
        long = population.read_census2011_children(None, folder)
        long = long.assign(group=long["breakdown"].str.removeprefix("census_group="))
        note = "Census 2011 DC2101EW, usual residents aged 0-17 on 27 March 2011"
    else:
        from cpstats.reference import load_census_extract

        keys = ["geography_level", "geography_code", "geography_name"]
        long = load_census_extract().melt(id_vars=keys, var_name="group", value_name="value")
        note = ("Census 2011 DC2101EW, usual residents aged 0-17 on 27 March 2011 (extract "
                "shipped in data/reference/)")
    group_of = {gid: CENSUS2011_TO_GROUP[label]
                for label, gid in population.CENSUS2011_GROUPS.items()}
    long["breakdown"] = ("ethnicity=" + long["group"].map(group_of)).fillna(TOTAL)
    summed = (long.groupby(["geography_level", "geography_code", "geography_name", "breakdown"],
                           sort=False, observed=True)["value"].sum().reset_index())
    return make_facts(summed, measure=population.MEASURE, period=CENSUS_DAY, unit="count",
                      source="ons", note=note)


def census2021_all_ages() -> pd.DataFrame:
    """Census 2021 usual residents of all ages by ethnic group, one row per area (GSS code on
    2023 boundaries), from the copy in ``../shared/data``: a sensitivity check only, never a
    base for children (:func:`cpstats.io.population.read_census2021_ethnicity`).

    Raises
    ------
    InputError
        When that file is absent or malformed.
    """
    from cpstats.io.population import read_census2021_ethnicity

    return read_census2021_ethnicity()


def school_census_pupils(inputs: Inputs) -> pd.DataFrame:  # noqa: ARG001 -- kept for a path
    """Pupils by ethnicity in the January school census (facts: measure ``pupils``, breakdown
    ``ethnicity=<CIN code>``, ``unclassified`` and ``total``), from the copy in
    ``../shared/data/dfe/school_census/``.

    Raises
    ------
    InputError
        When that file is absent or malformed.
    """
    from cpstats.io.population import read_school_census_ethnicity

    return read_school_census_ethnicity(None)


def ons_children(inputs: Inputs) -> pd.DataFrame:
    """ONS estimates of children aged 0-17 (``population_0_17`` facts) from ``--population-dir``,
    else from ``../shared/data/ons/``: for the areas and years the published facts lack (a DfE
    release carries no populations).

    Raises
    ------
    InputError
        When no ONS file is found.
    """
    from cpstats.io.population import read_ons_population

    return read_ons_population(inputs.population_dir)
