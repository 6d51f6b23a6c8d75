"""One chart style for every notebook: a seaborn theme, the UK government analysis
function's colour-blind-safe palette, titles that state the finding, axis labels
with units and a source note under every chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Government Analysis Function categorical palette (colour-blind safe, in this order).
AF_PALETTE: tuple[str, ...] = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
AF_DARK_BLUE, AF_TURQUOISE, AF_DARK_PINK, AF_ORANGE, AF_DARK_GREY, AF_LIGHT_PURPLE = AF_PALETTE
#: Shading for background periods (school holidays, a change point).
SHADE = "#BFBFBF"
FIGSIZE = (8.0, 4.5)


def set_theme() -> None:
    """Apply the suite's one theme (call once per notebook; :func:`cpstats.notebook.setup` does)."""
    sns.set_theme(style="whitegrid", palette=list(AF_PALETTE), font="DejaVu Sans",
                  rc={"figure.figsize": FIGSIZE, "figure.dpi": 100, "savefig.dpi": 150,
                      "axes.titlesize": 12, "axes.titleweight": "bold", "axes.titlelocation": "left",
                      "axes.spines.top": False, "axes.spines.right": False,
                      "svg.hashsalt": "cpstats", "figure.max_open_warning": 0})


def colours(n: int) -> list[str]:
    """The first ``n`` palette colours (repeating beyond six, which a chart should avoid)."""
    return [AF_PALETTE[i % len(AF_PALETTE)] for i in range(n)]


def new_figure(width: float = FIGSIZE[0], height: float = FIGSIZE[1],
               ncols: int = 1) -> tuple[Figure, Axes | Sequence[Axes]]:
    """A figure and its axes in the suite's size."""
    fig, axes = plt.subplots(1, ncols, figsize=(width, height))
    return fig, axes


def finish(fig: Figure, ax: Axes, *, title: str, xlabel: str, ylabel: str, source: str,
           legend: bool | None = None, legend_columns: int = 1) -> Figure:
    """Label a chart: the finding as its title, axis labels with units, the source under it.

    Parameters
    ----------
    fig, ax
        The chart.
    title
        A sentence stating what the chart shows (built from the values, not typed).
    xlabel, ylabel
        Axis labels including units, e.g. ``"Children per 10,000 aged 0-17"``.
    source
        Where the figures come from, including the population vintage of any rate.
    legend
        Force the legend on or off; by default shown when the axes have labelled artists.
    legend_columns
        More than 1 puts the legend in a row across the top, with headroom made for it.
    """
    ax.set_title(title, wrap=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, labels = ax.get_legend_handles_labels()
    if legend_columns > 1 and labels:
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + (high - low) * 0.18)
        ax.legend(frameon=False, fontsize=9, loc="upper left", ncol=legend_columns)
    elif legend or (legend is None and labels):
        ax.legend(frameon=False, fontsize=9)
    elif ax.get_legend() is not None:
        ax.get_legend().remove()
    add_source(fig, source)
    return fig


def add_source(fig: Figure, source: str) -> None:
    """Put ``Source: ...`` under the chart and leave room for it."""
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.text(0.01, 0.01, f"Source: {source}", ha="left", va="bottom", fontsize=8,
             color=AF_DARK_GREY, wrap=True)


def shade_spans(ax: Axes, spans: pd.DataFrame, label: str | None = None) -> None:
    """Shade date spans (columns ``start``, ``end``) on a date axis, e.g. school holidays."""
    for i, (start, end) in enumerate(zip(spans["start"], spans["end"], strict=True)):
        ax.axvspan(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1), color=SHADE,
                   alpha=0.35, lw=0, zorder=0, label=label if i == 0 else None)


def mark_change(ax: Axes, x: object, text: str) -> None:
    """A dashed vertical line with a note: where a series changes definition."""
    ax.axvline(x, color=AF_DARK_GREY, ls="--", lw=1)
    ax.annotate(text, xy=(x, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                textcoords="offset points", fontsize=8, color=AF_DARK_GREY)


def save(fig: Figure, name: str, output_dir: str | Path | None) -> Path | None:
    """Write ``figures/<name>.png`` under ``output_dir``; nothing when it is ``None``.

    The figure is saved without timestamps in its metadata, so reruns give identical files.
    """
    if output_dir is None:
        return None
    path = Path(output_dir) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    return path


def draw_lines(frame: pd.DataFrame, chart: object) -> Figure:
    """A :class:`cpstats.themes.Chart` drawer: one line per column over the index.

    Reads ``chart.title``, ``chart.source`` and from ``chart.options``: ``xlabel``, ``ylabel``,
    ``highlight`` (a column drawn thicker, e.g. the LA), ``ylim_zero`` (start the axis at 0).
    """
    options = chart.options  # type: ignore[attr-defined]
    fig, ax = new_figure()
    for colour, column in zip(colours(len(frame.columns)), frame.columns, strict=True):
        ax.plot(frame.index.astype(str), frame[column], marker="o", color=colour, label=column,
                lw=2.5 if column == options.get("highlight") else 1.5)
    if options.get("ylim_zero"):
        ax.set_ylim(bottom=0)
    return finish(fig, ax, title=chart.title, xlabel=str(options.get("xlabel", "")),  # type: ignore[attr-defined]
                  ylabel=str(options.get("ylabel", "")), source=chart.source)  # type: ignore[attr-defined]


def draw_bars(frame: pd.DataFrame, chart: object) -> Figure:
    """A :class:`cpstats.themes.Chart` drawer: grouped bars (one group per row, one bar per
    column), the value axis from zero. Options as :func:`draw_lines`."""
    options = chart.options  # type: ignore[attr-defined]
    fig, ax = new_figure()
    frame.plot.bar(ax=ax, color=colours(len(frame.columns)), rot=0, width=0.75)
    ax.set_ylim(bottom=0)
    return finish(fig, ax, title=chart.title, xlabel=str(options.get("xlabel", "")),  # type: ignore[attr-defined]
                  ylabel=str(options.get("ylabel", "")), source=chart.source)  # type: ignore[attr-defined]
