"""What every theme notebook does first: one place for warning filters, display
options, the chart theme, parameter resolution and writing outputs.

A notebook's parameters are path-free (``None`` by default) and resolved here
from the project root, so a stored notebook runs the same from any working
directory. Files are written only when ``output_dir`` is set (the runner sets
it; nbval and JupyterLab runs leave it ``None`` and write nothing).

Typical use (see ``docs/notebooks.md``)::

    ctx = notebook_env.start("01_trends", la=la, year=year, dfe_dir=dfe_dir,
                             cin_census=cin_census, population_dir=population_dir,
                             output_dir=output_dir)
    text = ctx.record("cp_plans_at_31_march", 564, unit="count", source="report")
    ctx.show(fig, "cp_rate")
    ctx.publish_table(table, "cp_by_category", child_level=True)
    ctx.finish()
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpstats import disclosure, plots
from cpstats.childlevel import CinData
from cpstats.errors import ParameterError
from cpstats.facts import TOTAL, select
from cpstats.paths import PROJECT_ROOT
from cpstats.periods import parse_year, year_label
from cpstats.results import Results, write_csv_atomic

#: The embedded default run: Buckinghamshire, year ending 31 March 2017.
DEFAULT_LA = "825"
DEFAULT_YEAR = 2017
ENGLAND_CODE = "E92000001"

# Warnings known to be harmless here; anything else still reaches stderr (and nbval).
_KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    (r".*datetime\.datetime\.utcnow.*", DeprecationWarning, ""),
    (r".*Jupyter is migrating its paths.*", DeprecationWarning, ""),
    (r".*FigureCanvasAgg is non-interactive.*", UserWarning, ""),
    (r".*pkg_resources is deprecated.*", UserWarning, ""),
    (r".*is_categorical_dtype is deprecated.*", FutureWarning, ""),
    (r".*use_inf_as_na option is deprecated.*", FutureWarning, ""),
    (r".*The default of observed=False is deprecated.*", FutureWarning, ""),
)


def filter_warnings() -> None:
    """Silence the warnings known to be harmless (the one place they are listed)."""
    for message, category, module in _KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


def setup() -> None:
    """Warning filters, pandas display options and the chart theme, for a notebook."""
    filter_warnings()
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 80)
    pd.set_option("display.precision", 3)
    pd.set_option("display.float_format", _float_format)
    plots.set_theme()


def _float_format(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value == value else "NaN"


def period_year(period: pd.Series) -> pd.Series:
    """The year ending 31 March each period falls in (``2016-17`` -> 2017, ``2017-03`` -> 2017,
    ``2017-04`` -> 2018, ``2016-17 Q4`` -> 2017)."""
    text = period.astype("string")
    fy = text.str.extract(r"^(\d{4})-(\d{2})(?: Q[1-4])?$").astype("Float64")
    # A financial year's two halves are consecutive ("2016-17"); otherwise it is a month.
    is_fy = (fy[0] + 1) % 100 == fy[1]
    ym = text.str.extract(r"^(\d{4})-(\d{2})(?:-\d{2})?$").astype("Float64")
    from_month = ym[0] + (ym[1] >= 4).astype("Float64")
    return (fy[0] + 1).where(is_fy.fillna(False), from_month).astype("Int64")


def is_year(period: pd.Series) -> pd.Series:
    """True for a year ending 31 March written ``2016-17`` (consecutive years, so never a month)."""
    parts = period.astype("string").str.extract(r"^(\d{4})-(\d{2})$").astype("Float64")
    return ((parts[0] + 1) % 100 == parts[1]).fillna(False).astype(bool)


def is_month(period: pd.Series) -> pd.Series:
    """True for a month written ``2017-03``."""
    text = period.astype("string")
    return (text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False) & ~is_year(text)).astype(bool)


def as_at(facts: pd.DataFrame, year: int) -> pd.DataFrame:
    """Facts for periods up to and including the year ending 31 March ``year``: a report shows
    nothing after its year."""
    return facts[(period_year(facts["period"]) <= year).fillna(False)].reset_index(drop=True)


def _paths(value: str | Path | Sequence[str | Path] | None) -> list[Path]:
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

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def uses_synthetic(self) -> bool:
        """The default LA with no return of its own uses the synthetic county."""
        return not self.cin_census and self.la_code == DEFAULT_LA and self.dfe_dir is None

    def check_files(self) -> None:
        """Raise :class:`ParameterError` for an input path that does not exist."""
        for name, path in (("--dfe-dir", self.dfe_dir), ("--population-dir", self.population_dir)):
            if path is not None and not path.is_dir():
                raise ParameterError(name, path, "an existing folder")
        for path in self.cin_census:
            if not path.exists():
                raise ParameterError("--cin-census", path, "an existing CIN Census file or folder")


def resolve(la: str | int | None = None, year: str | int | None = None,
            dfe_dir: str | Path | None = None,
            cin_census: str | Path | Sequence[str | Path] | None = None,
            population_dir: str | Path | None = None) -> Inputs:
    """Turn notebook/CLI parameters into :class:`Inputs` (``None`` = the embedded default).

    Raises
    ------
    ParameterError
        For an unknown LA, a malformed year or a missing input path.
    """
    from cpstats import geography

    code = DEFAULT_LA if la is None else geography.la_code(la)
    inputs = Inputs(la_code=code, year=DEFAULT_YEAR if year is None else parse_year(year),
                    dfe_dir=_paths(dfe_dir)[0] if dfe_dir else None,
                    cin_census=_paths(cin_census),
                    population_dir=_paths(population_dir)[0] if population_dir else None)
    inputs.check_files()
    return inputs


#: Set by the report runner: a private folder holding the published facts it has already read
#: for its checks, so no notebook of a batch reads a whole DfE release again.
PUBLISHED_CACHE_ENV = "CPSTATS_PUBLISHED_CACHE"


def published_cache_path(folder: str | Path, dfe_dir: Path | None,
                         population_dir: Path | None) -> Path:
    """Where the runner leaves the published facts read from these inputs."""
    import hashlib

    key = "|".join(str(Path(p).resolve()) if p else "" for p in (dfe_dir, population_dir))
    return Path(folder) / f"published-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pickle"


@functools.lru_cache(maxsize=4)
def _published(dfe_dir: Path | None, population_dir: Path | None) -> pd.DataFrame:
    import os

    folder = os.environ.get(PUBLISHED_CACHE_ENV)
    if folder:
        cached = published_cache_path(folder, dfe_dir, population_dir)
        if cached.is_file():
            return pd.read_pickle(cached)
    frames = []
    if dfe_dir is None:
        from cpstats.reference import load_reference

        frames.append(load_reference())
    else:
        from cpstats.io.dfe import read_release

        frames.append(read_release(dfe_dir))
    from cpstats.io.local import read_report_figures

    frames.append(read_report_figures())
    return pd.concat(frames, ignore_index=True)


def published_facts(inputs: Inputs) -> pd.DataFrame:
    """Every published figure the run may use (DfE release or the shipped reference extract, and
    the report's transcribed figures), up to the run's year."""
    return as_at(_published(inputs.dfe_dir, inputs.population_dir), inputs.year)


#: Set by the report runner for each run: a private temporary folder where the first notebook
#: to need the child-level records (or their measures) leaves them for the others.
RUN_CACHE_ENV = "CPSTATS_RUN_CACHE"


def _run_cached(name: str, compute):  # noqa: ANN001, ANN202 -- any picklable value
    """``compute()``, shared between the notebooks of one runner run through its cache folder
    (outside the report, removed when the run ends); computed afresh outside the runner."""
    import os
    import pickle
    import tempfile

    folder = os.environ.get(RUN_CACHE_ENV)
    if not folder or not Path(folder).is_dir():
        return compute()
    path = Path(folder) / f"{name}.pickle"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)
    value = compute()
    handle, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return value


def load_child_level(inputs: Inputs) -> CinData | None:
    """The run's child-level records: the given CIN Census return(s); else, for the default LA,
    the synthetic county; else ``None``.

    The synthetic county is generated with its default seed (about a second) rather than read
    back from the XML returns ``make setup`` writes to ``data/synthetic/`` (the same records,
    which the CIN Census reader reads back identically, but 15 times slower to parse).
    """
    if inputs.cin_census:
        from cpstats.io.cin_census import read_returns

        return read_returns(inputs.cin_census)
    if not inputs.uses_synthetic:
        return None
    from cpstats import synth

    return synth.generate().data


class Context:
    """One notebook's run: its inputs, results and outputs.

    Attributes
    ----------
    theme
        Notebook name, e.g. ``"01_trends"``; prefixes its tables and figures.
    inputs
        The resolved :class:`Inputs`.
    output_dir
        Report folder being written, or ``None`` (then nothing is written).
    results
        The :class:`~cpstats.results.Results` this notebook states.
    left_out
        What the notebook could not show with the inputs given (said at the end).
    """

    def __init__(self, theme: str, inputs: Inputs, output_dir: Path | None):
        self.theme = theme
        self.inputs = inputs
        self.output_dir = output_dir
        self.results = Results(theme)
        self.left_out: list[str] = []
        self._names: dict[str, tuple[str, str]] = {}

    # -- who and when -------------------------------------------------------------------------
    @property
    def la_code(self) -> str:
        return self.inputs.la_code

    @property
    def la_name(self) -> str:
        from cpstats import geography

        return geography.la_name(self.la_code)

    @property
    def year(self) -> int:
        return self.inputs.year

    @property
    def period(self) -> str:
        return self.inputs.year_label

    @functools.cached_property
    def region(self) -> tuple[str, str]:
        """(GSS code, name) of the LA's region."""
        from cpstats import geography

        return geography.region_of(self.la_code)

    @functools.cached_property
    def neighbours(self) -> list[str]:
        """The LA's statistical neighbours (DfE model), as LA numbers."""
        from cpstats import geography

        return geography.statistical_neighbours(self.la_code)

    # -- data ---------------------------------------------------------------------------------
    @functools.cached_property
    def facts(self) -> pd.DataFrame:
        """Published facts (DfE, report) up to the run's year."""
        return published_facts(self.inputs)

    @functools.cached_property
    def population(self) -> pd.DataFrame:
        """ONS estimates of children aged 0-17 (``population_0_17`` facts, ``note`` naming the
        row): from ``population_dir`` when given, else those shipped with the published facts."""
        if self.inputs.population_dir is not None:
            from cpstats.io.population import read_ons_population

            return as_at(read_ons_population(self.inputs.population_dir), self.year)
        # ONS rows only: the report's own population figure is a transcription, not a vintage.
        return select(self.facts, measure="population_0_17", source="ons")

    @functools.cached_property
    def child_level(self) -> CinData | None:
        """The CIN Census return (or the synthetic county by default), or ``None`` without one."""
        return _run_cached("child_level", lambda: load_child_level(self.inputs))

    @functools.cached_property
    def child_facts(self) -> pd.DataFrame:
        """Measures from the child-level records up to the run's year (empty without records).

        Counts are exact here: publish them through :meth:`publish_table` or
        :func:`cpstats.disclosure.suppress_facts`.
        """
        from cpstats import measures
        from cpstats.facts import empty_facts

        data = self.child_level
        if data is None:
            return empty_facts()
        years = [y for y in measures.years_covered(data) if y <= self.year][-3:]
        return _run_cached("child_facts", lambda: as_at(
            measures.all_measures(data, years, la_name=self.la_name), self.year))

    @property
    def child_source(self) -> str | None:
        """``"cin_census"``, ``"synthetic"`` or ``None``."""
        return None if self.child_level is None else self.child_level.source

    @property
    def comparators(self) -> dict[str, str]:
        """Geography code -> label of the LA, its region and England, in chart order."""
        region_code, region_name = self.region
        return {self.la_code: self.la_name, region_code: region_name, ENGLAND_CODE: "England"}

    def fact(self, measure: str, source: str | Sequence[str], geography_code: str | None = None,
             period: str | None = None, breakdown: str = TOTAL) -> pd.DataFrame:
        """The fact(s) matching (default: this LA and year); empty when there are none."""
        table = self.child_facts if source in ("cin_census", "synthetic") else self.facts
        criteria = {"measure": measure, "geography_code": geography_code or self.la_code,
                    "period": period or self.period, "breakdown": breakdown,
                    "source": list(source) if not isinstance(source, str) else source}
        return select(table, **criteria)

    def value(self, measure: str, source: str | Sequence[str], geography_code: str | None = None,
              period: str | None = None, breakdown: str = TOTAL) -> float:
        """The single value matching, or NaN when absent (or suppressed at source)."""
        rows = self.fact(measure, source, geography_code, period, breakdown)
        return float(rows["value"].iloc[0]) if len(rows) == 1 else float("nan")

    def series(self, measure: str, source: str = "dfe", breakdown: str = TOTAL,
               neighbours: bool = True) -> pd.DataFrame:
        """Yearly values of ``measure`` for the LA, its region, England and (optionally) the mean
        of its statistical neighbours: one row per year (``period``), one column per area.

        The neighbours' mean is over those with a value that year (unweighted, as DfE's
        benchmarking tools show it).
        """
        table = select(self.facts, measure=measure, source=source, breakdown=breakdown)
        table = table[is_year(table["period"])
                      & (period_year(table["period"]) <= self.year).fillna(False)]
        labels = self.comparators
        wide = (table[table["geography_code"].isin(list(labels))]
                .pivot_table(index="period", columns="geography_code", values="value",
                             aggfunc="first")
                .reindex(columns=[c for c in labels if c in set(table["geography_code"])])
                .rename(columns=labels))
        if neighbours and self.neighbours:
            sn = table[table["geography_code"].isin(self.neighbours)]
            wide["Statistical neighbours (mean)"] = sn.groupby("period")["value"].mean()
        return wide.rename_axis(index="year", columns=None).sort_index()

    def breakdown(self, measure: str, key: str, source: str | Sequence[str],
                  geography_code: str | None = None, period: str | None = None,
                  later: bool = False) -> pd.Series:
        """Counts of a one-key breakdown (e.g. ``key="category"``) as a Series indexed by value.

        ``later=True`` also looks after the run's year (for a comparator DfE only published
        later: label it as such). Combined breakdowns (``category=...;gender=...``) are ignored.
        """
        table = self.child_facts if source in ("cin_census", "synthetic") else (
            _published(self.inputs.dfe_dir, self.inputs.population_dir) if later else self.facts)
        rows = select(table, measure=measure, geography_code=geography_code or self.la_code,
                      period=period or self.period,
                      source=list(source) if not isinstance(source, str) else source)
        rows = rows[rows["breakdown"].str.fullmatch(rf"{key}=[^;]+")]
        values = rows.set_index(rows["breakdown"].str.slice(len(key) + 1))["value"]
        return values.rename(measure).rename_axis(key)

    def nearest_period(self, measure: str, source: str, geography_code: str | None = None) -> str | None:
        """The year nearest the run's with ``measure`` published (earlier years win ties; a later
        one only when nothing earlier exists), or ``None``."""
        every = _published(self.inputs.dfe_dir, self.inputs.population_dir)
        rows = select(every, measure=measure, source=source,
                      geography_code=geography_code or self.la_code)
        periods = rows.loc[is_year(rows["period"]), "period"].drop_duplicates()
        if periods.empty:
            return None
        distance = (period_year(periods) - self.year).abs() * 2 + (period_year(periods) > self.year)
        return str(periods.iloc[int(distance.to_numpy().argmin())])

    def intro(self) -> str:
        """One paragraph: who, when, and which inputs this run used (no local paths)."""
        published = ("DfE release in " + project_relative(self.inputs.dfe_dir)
                     if self.inputs.dfe_dir else "the reference extract shipped in data/reference/")
        if self.child_source == "synthetic":
            child = ("the **synthetic county** (generated records standing in for a CIN Census "
                     "return: no real child; its figures illustrate the method only)")
        elif self.child_source == "cin_census":
            child = "the council's own CIN Census return (counts from 1 to 5 shown as c)"
        else:
            child = "none (child-level analyses are left out; see the end of this notebook)"
        return (f"**{self.la_name}** (LA {self.la_code}), year ending 31 March {self.year} "
                f"({self.period}). Published figures: {published}. Child-level records: {child}. "
                f"Nothing after 31 March {self.year} is shown.")

    def geography(self, code: str) -> tuple[str, str]:
        """(level, name) of a geography code, as the facts name it."""
        if not self._names:
            names = self.facts.drop_duplicates("geography_code")
            self._names = dict(zip(names["geography_code"],
                                   zip(names["geography_level"], names["geography_name"],
                                       strict=True), strict=True))
        if code in self._names:
            return self._names[code]
        if code == ENGLAND_CODE:
            return "national", "England"
        return "local_authority", self.la_name if code == self.la_code else code

    # -- stating figures ----------------------------------------------------------------------
    def record(self, measure: str, value: float | None, *, unit: str, source: str,
               geography_code: str | None = None, period: str | None = None,
               breakdown: str = TOTAL, **options: object) -> str:
        """Record a headline figure for this LA and year unless told otherwise; return the text
        the prose uses. See :meth:`cpstats.results.Results.record` for ``options``."""
        code = geography_code or self.la_code
        level, name = self.geography(code)
        return self.results.record(measure, value, unit=unit, source=source, geography_code=code,
                                   geography_name=name, geography_level=level,
                                   period=period or self.period, breakdown=breakdown,
                                   **options)  # type: ignore[arg-type]

    def record_fact(self, fact: pd.Series | pd.DataFrame, **overrides: object) -> str:
        """Record one facts row as a headline figure; return its text for the prose."""
        return self.results.record_fact(fact, **overrides)

    # -- outputs ------------------------------------------------------------------------------
    def _name(self, name: str) -> str:
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise ValueError(f"output name {name!r}: use lower-case letters, digits and _")
        return f"{self.theme[:2]}_{name}"

    def publish_table(self, table: pd.DataFrame, name: str, *, child_level: bool = False,
                      total_row: str | None = None, total_column: str | None = None,
                      count_columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The table as published (child-level counts suppressed), saved as ``tables/<name>.csv``
        when the run writes files. Display the returned table, not the input.

        Parameters
        ----------
        table
            The table to publish; the index is written as the first column(s).
        name
            File name stem (lower-case); prefixed with the theme number.
        child_level
            Counts derived from child-level data: 1-5 shown as ``c`` with secondary suppression.
        total_row, total_column
            Margins of a count table (see :func:`cpstats.disclosure.suppress_table`).
        count_columns
            Which columns are counts to protect (default: all).
        """
        if isinstance(table.columns, pd.MultiIndex):
            # One header row, so the CSV and the Excel sheet read as a plain table.
            table = table.set_axis([": ".join(map(str, c)) for c in table.columns], axis=1)
        shown = table
        if child_level:
            columns = list(count_columns) if count_columns is not None else list(table.columns)
            protected = disclosure.suppress_table(table[columns], total_row, total_column)
            shown = table.astype(object).copy()
            shown[columns] = protected
        if self.output_dir is not None:
            write_csv_atomic(shown.reset_index(), self.output_dir / "tables" / f"{self._name(name)}.csv")
        return shown

    def show(self, fig: object, name: str) -> None:
        """Display a finished figure as a PNG, save it as ``figures/<name>.png`` when writing, and
        close it. The PNG is rendered here, so figures show whatever matplotlib backend is active."""
        import io

        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        if self.output_dir is not None:
            path = self.output_dir / "figures" / f"{self._name(name)}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buffer.getvalue())
        display(Image(data=buffer.getvalue(), format="png"))

    def leave_out(self, what: str) -> None:
        """Note something the notebook could not show with the inputs given."""
        self.left_out.append(what)

    def finish(self) -> pd.DataFrame:
        """Write this notebook's results when writing; return them (for a last look)."""
        self.results.save(self.output_dir)
        return self.results.frame()


def start(theme: str, la: str | int | None = None, year: str | int | None = None,
          dfe_dir: str | Path | None = None,
          cin_census: str | Path | Sequence[str | Path] | None = None,
          population_dir: str | Path | None = None,
          output_dir: str | Path | None = None) -> Context:
    """Set up a notebook and resolve its parameters.

    Parameters
    ----------
    theme
        The notebook's name (``"01_trends"``).
    la, year, dfe_dir, cin_census, population_dir
        The papermill parameters; ``None`` means the embedded default (Buckinghamshire, 2016-17,
        the data shipped in ``data/``; the synthetic county stands in for a CIN Census return).
    output_dir
        The report folder to write figures, tables and results into; ``None`` writes nothing.

    Returns
    -------
    Context
    """
    setup()
    inputs = resolve(la, year, dfe_dir, cin_census, population_dir)
    out = None if output_dir in (None, "") else Path(output_dir)  # type: ignore[arg-type]
    return Context(theme, inputs, out)


def project_relative(path: Path) -> str:
    """A path as shown in a notebook: relative to the project root (never the user's home)."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return Path(path).name

