"""The notebook side of a theme: set the page up, render sections, write outputs.

A theme notebook is thin: its parameters cell, one :func:`start`, then one call per section
into its theme module, each rendered with :meth:`Page.show`::

    page = notebook.start("01_trends", la=la, year=year, dfe_dir=dfe_dir, cin_census=cin_census,
                          population_dir=population_dir, service=service, output_dir=output_dir)
    page.show(trends.stock(page.data))
    ...
    page.finish()

Files are written only when ``output_dir`` is set (the runner sets it; nbval and JupyterLab runs
leave it ``None`` and write nothing).
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cpstats import plots
from cpstats.inputs import resolve
from cpstats.results import Results, write_csv_atomic
from cpstats.themes.base import Chart, Section, Table, ThemeData

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
    return "" if math.isnan(value) else f"{value:,.3f}".rstrip("0").rstrip(".")


def reader_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as a reader sees it: the index as ordinary first column(s), none when it is the
    default row numbering."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


class Page:
    """One notebook's run: its data, the figures it states and the files it writes.

    Attributes
    ----------
    theme
        Notebook name, e.g. ``"01_trends"``; prefixes its tables and figures.
    data
        The run's :class:`~cpstats.themes.ThemeData`.
    output_dir
        Report folder being written, or ``None`` (then nothing is written).
    results
        Every figure the page's sections recorded.
    left_out
        What the page could not show with the inputs given (said at the end).
    """

    def __init__(self, theme: str, data: ThemeData, output_dir: Path | None):
        self.theme = theme
        self.data = data
        self.output_dir = output_dir
        self.results = Results(theme)
        self.left_out: list[str] = []

    def intro(self) -> None:
        """Display who, when and which inputs."""
        _markdown(self.data.intro())

    def show(self, section: Section) -> None:
        """Render a section: its sentences, tables and charts, in that order; keep its findings
        for ``results.csv`` and what it left out for the end of the page. Returns nothing, so a
        cell ending with it prints nothing more."""
        self.results.extend(section.findings)
        self.left_out.extend(section.left_out)
        for paragraph in section.paragraphs:
            _markdown(paragraph)
        for table in section.tables:
            self.show_table(table, title=section.title)
        for chart in section.charts:
            self.show_chart(chart)

    def show_table(self, table: Table, title: str = "") -> None:
        """Display a published table and save it as ``tables/<NN>_<name>.csv`` when writing
        (intervals there as two numeric columns; ``title`` names it in the workbook)."""
        from IPython.display import HTML, display

        from cpstats.workbook import split_intervals

        shown = reader_frame(table.frame)
        if table.caption:
            _markdown(table.caption)
        display(HTML(shown.to_html(index=False, na_rep="", float_format=_float_format,
                                   border=0, classes="cpstats-table")))
        if self.output_dir is not None:
            name = self._prefix(table.name, sheet=True)
            write_csv_atomic(split_intervals(shown), self.output_dir / "tables" / f"{name}.csv")
            self._describe(name, kind="table", title=table.caption.strip("*_ ") or title,
                           synthetic=table.synthetic)

    def show_chart(self, chart: Chart) -> None:
        """Draw a chart, display it as a PNG and save it as ``figures/<NN>_<name>.png`` when
        writing."""
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        fig = chart.figure()
        if chart.synthetic:  # said on the image itself, wherever the PNG travels
            plots.mark_synthetic(fig)  # type: ignore[arg-type]
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        alt = chart_alt(chart)
        if self.output_dir is not None:
            path = self.output_dir / "figures" / f"{self._prefix(chart.name)}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buffer.getvalue())
            self._describe(path.stem, kind="chart", title=chart.title, synthetic=chart.synthetic,
                           alt=alt)
        # The alt text travels in the output's metadata; the HTML export writes it on the <img>.
        display(Image(data=buffer.getvalue(), format="png", metadata={"alt": alt}))

    def _prefix(self, name: str, sheet: bool = False) -> str:
        """``NN_name``; for a table, kept within an Excel sheet name (its CSV and its sheet in
        ``tables.xlsx`` share the name)."""
        from cpstats.workbook import short_name

        prefixed = f"{self.theme[:2]}_{name}"
        return short_name(prefixed) if sheet else prefixed

    def _describe(self, name: str, *, kind: str, **what: object) -> None:
        """Leave what the report's pages and workbook need to know of a table, chart or page
        (its title, whether it comes from synthetic records) in ``meta/<kind>/``, which the
        runner reads and removes when it assembles the report."""
        import json

        folder = self.output_dir / "meta" / kind  # type: ignore[operator]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(what, sort_keys=True), encoding="utf-8")

    def finish(self) -> pd.DataFrame:
        """Say what was left out, write this page's results when writing, and return them."""
        if self.left_out:
            _markdown("**Left out of this run:**\n"
                      + "\n".join(f"- {x}" for x in dict.fromkeys(self.left_out)))
        self.results.save(self.output_dir)
        if self.output_dir is not None:
            self._describe(self.theme, kind="page", synthetic=self.data.synthetic)
        return self.results.frame()


def chart_alt(chart: Chart) -> str:
    """Alt text for a chart, from its title and the data it draws: what is plotted, over what
    range, and (for a short frame) the last values.

    Examples
    --------
    >>> frame = pd.DataFrame({"England": [40.0, 43.1]}, index=pd.Index(["2015-16", "2016-17"]))
    >>> chart_alt(Chart("x", frame, print, "Rate per 10,000", "DfE"))
    'Rate per 10,000. Chart of England, 2015-16 to 2016-17 (2 points); at 2016-17: England 43.1. Source: DfE.'
    """
    frame = chart.frame
    numeric = frame.select_dtypes("number")
    series = ", ".join(map(str, list(numeric.columns)[:6])) or "the data"
    more = f" and {len(numeric.columns) - 6} more" if len(numeric.columns) > 6 else ""
    parts = [chart.title.rstrip(".") + "."]
    if chart.synthetic:
        parts.insert(0, "Synthetic data (generated records, no real child).")
    if len(frame):
        span = f"{frame.index[0]} to {frame.index[-1]}" if len(frame) > 1 else f"{frame.index[0]}"
        last = numeric.iloc[-1].dropna() if len(numeric.columns) else pd.Series(dtype=float)
        values = "; ".join(f"{k} {_float_format(float(v))}" for k, v in last.head(6).items())
        tail = f"; at {frame.index[-1]}: {values}" if values else ""
        parts.append(f"Chart of {series}{more}, {span} ({len(frame)} points){tail}.")
    parts.append(f"Source: {chart.source.rstrip('.')}.")
    return " ".join(parts)


def _markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def start(theme: str, la: str | int | None = None, year: str | int | None = None,
          dfe_dir: str | Path | None = None,
          cin_census: str | Path | Sequence[str | Path] | None = None,
          population_dir: str | Path | None = None, service: str | Path | None = None,
          output_dir: str | Path | None = None, annex_a: str | Path | None = None) -> Page:
    """Set up a notebook and resolve its parameters.

    Parameters
    ----------
    theme
        The notebook's name (``"01_trends"``).
    la, year, dfe_dir, cin_census, population_dir, service, annex_a
        The papermill parameters; ``None`` means the embedded default (Buckinghamshire, 2016-17,
        the data shipped in ``data/``; the synthetic county stands in for a CIN Census return).
    output_dir
        The report folder to write figures, tables and results into; ``None`` writes nothing.

    Returns
    -------
    Page
    """
    setup()
    inputs = resolve(la, year, dfe_dir, cin_census, population_dir, service, annex_a)
    out = None if output_dir in (None, "") else Path(output_dir)  # type: ignore[arg-type]
    return Page(theme, ThemeData(inputs), out)
