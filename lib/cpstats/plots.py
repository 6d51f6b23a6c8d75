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
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.text import Text

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
                      # Titles sit just above the axes (none has ticks on top): placed there, not
                      # searched for above tick labels at every layout pass and draw.
                      "axes.titley": 1.0,
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
           legend: bool | None = None, legend_columns: int = 1,
           legend_outside: bool = False) -> Figure:
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
    legend_outside
        Put the legend to the right of the axes (for charts whose data fill every corner).
    """
    heading = ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, labels = ax.get_legend_handles_labels()
    if legend_outside and labels:
        ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    elif legend_columns > 1 and labels:
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + (high - low) * 0.18)
        ax.legend(frameon=False, fontsize=9, loc="upper left", ncol=legend_columns)
    elif legend or (legend is None and labels):
        ax.legend(frameon=False, fontsize=9)
    elif ax.get_legend() is not None:
        ax.get_legend().remove()
    add_source(fig, source, heading)
    return fig


def add_source(fig: Figure, source: str, title: Text | None = None) -> None:
    """Lay the chart out (with ``title``, its axes' title, broken into lines that fit the room
    its alignment leaves within the figure), then put ``Source: ...`` under it, broken to fit
    the figure's width."""
    # An Agg canvas (notebooks, PNG files) has its renderer; others lend tight_layout's.
    renderer = (fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer")
                else fig._get_renderer())  # noqa: SLF001
    content = title.get_text() if title is not None else ""
    laid_out = None
    for _ in range(3):  # the axes move as the layout makes room for labels: break again
        broken = ("" if title is None else
                  break_lines(title, content, renderer, _room_for(title, fig)))
        if broken == laid_out:
            break
        laid_out = broken
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    # tight_layout leaves a do-nothing layout engine behind, for which savefig draws the whole
    # figure once more before drawing it: without it every chart is drawn once, not twice.
    fig.set_layout_engine(None)
    note = fig.text(0.01, 0.01, "", ha="left", va="bottom", fontsize=8, color=AF_DARK_GREY)
    break_lines(note, f"Source: {source}", renderer, 0.99 * fig.bbox.width)


def _room_for(text: Text, fig: Figure) -> float:
    """Pixels a line of ``text`` may take within the figure's width, as its alignment has it."""
    x, _ = text.get_transform().transform(text.get_position())
    right = fig.bbox.width - x
    return {"left": right, "right": x}.get(text.get_horizontalalignment(), 2 * min(x, right))


def break_lines(text: Text, content: str, renderer: RendererBase, width: float) -> str:
    """Set ``text`` to ``content`` broken at spaces into lines at most ``width`` pixels wide
    (a word wider than that gets a line of its own); returns the text set.

    matplotlib's own ``wrap=True`` breaks lines the same way but measures every prefix of
    every line, at every layout pass and again at every draw: with long titles and source
    notes that was about a quarter of a chart's drawing time.
    """
    prop = text.get_fontproperties()

    def fits(line: str) -> bool:
        return renderer.get_text_width_height_descent(line, prop, ismath=False)[0] <= width

    lines = []
    for paragraph in content.split("\n"):
        words = paragraph.split(" ")
        while words:
            # The longest run of words that fits, found by halving (widths grow with words).
            low, high = 1, len(words)
            while low < high:
                middle = (low + high + 1) // 2
                if fits(" ".join(words[:middle])):
                    low = middle
                else:
                    high = middle - 1
            lines.append(" ".join(words[:low]))
            words = words[low:]
    text.set_text("\n".join(lines))
    return text.get_text()


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


def period_ticks(ax: Axes, positions: Sequence[float], periods: Sequence[object]) -> None:
    """Label the x axis with periods. Quarters (``2016-17 Q1``) read ``Q1`` ... ``Q4`` with
    each year named once, under the first of its quarters shown: a dozen full labels do not
    fit side by side, and turned they run into the axis title. Other periods are labelled as
    they are (turned when there are more than eight)."""
    labels = [str(p) for p in periods]
    parts = [label.rsplit(" ", 1) for label in labels]
    quarters = all(len(p) == 2 and p[1] in ("Q1", "Q2", "Q3", "Q4") for p in parts)
    if quarters:
        labels = [f"{q}\n{year}" if i == 0 or q == "Q1" else q
                  for i, (year, q) in enumerate(parts)]
    ax.set_xticks(list(positions), labels, rotation=45 if not quarters and len(labels) > 8 else 0)


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


#: The label every chart drawn from the synthetic county carries above its title.
SYNTHETIC_LABEL = "SYNTHETIC DATA: generated records, no real child"


def mark_synthetic(fig: Figure) -> None:
    """Say on a finished chart, above its title, that it comes from the synthetic county (so
    the PNG says so wherever it travels); the axes move down to make room."""
    fig.subplots_adjust(top=fig.subplotpars.top - 0.04)
    fig.text(0.01, 0.995, SYNTHETIC_LABEL, ha="left", va="top", fontsize=9, fontweight="bold",
             color="#D4351C")


def problems(fig: Figure) -> list[str]:
    """What a reader would trip over in a finished chart, checked at its saved size: texts
    that overlap or fall outside the figure, a legend over plotted data, a line hidden under
    another, a bar axis that does not start at zero. Empty when the chart is clean.

    Parameters
    ----------
    fig
        A finished figure (after :func:`finish`).

    Returns
    -------
    list of str
        One line per problem, naming the texts or lines involved.
    """
    fig.set_dpi(plt.rcParams["savefig.dpi"])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    found = _text_problems(fig, renderer)
    for ax in fig.axes:
        found += _legend_over_data(ax, renderer) + _hidden_lines(ax) + _bars_from_zero(ax)
    return found


def _texts(fig: Figure) -> list[tuple[str, object]]:
    texts = [("figure text", t) for t in fig.texts]
    for ax in fig.axes:
        texts += [("title", ax.title), ("x label", ax.xaxis.label), ("y label", ax.yaxis.label)]
        texts += [("x tick", t) for t in _drawn_ticks(ax.xaxis)]
        texts += [("y tick", t) for t in _drawn_ticks(ax.yaxis)]
        texts += [("annotation", t) for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [("legend", t) for t in legend.get_texts()]
    return [(kind, t) for kind, t in texts
            if t.get_visible() and t.get_text().strip()]  # type: ignore[attr-defined]


def _drawn_ticks(axis) -> list[object]:  # noqa: ANN001 -- a matplotlib Axis
    """Tick labels matplotlib draws: those of ticks inside the axis's view."""
    low, high = sorted(axis.get_view_interval())
    slack = (high - low) * 1e-6
    ticks = [*axis.get_major_ticks(), *axis.get_minor_ticks()]
    return [tick.label1 for tick in ticks if low - slack <= tick.get_loc() <= high + slack]


def _text_problems(fig: Figure, renderer: object) -> list[str]:
    boxes = [(kind, t.get_text(), t.get_window_extent(renderer))  # type: ignore[attr-defined]
             for kind, t in _texts(fig)]
    width, height = fig.bbox.width, fig.bbox.height
    found = [f"{kind} '{text[:40]}' falls outside the figure" for kind, text, box in boxes
             if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1]
    for i, (kind_a, text_a, a) in enumerate(boxes):
        for kind_b, text_b, b in boxes[i + 1:]:
            if a.overlaps(b) and (min(a.x1, b.x1) - max(a.x0, b.x0)) > 1 \
                    and (min(a.y1, b.y1) - max(a.y0, b.y0)) > 1:
                found.append(f"{kind_a} '{text_a[:40]}' overlaps {kind_b} '{text_b[:40]}'")
    return found


def _legend_over_data(ax: Axes, renderer: object) -> list[str]:
    legend = ax.get_legend()
    if legend is None:
        return []
    box = legend.get_window_extent(renderer)  # type: ignore[arg-type]
    # Data points: lines drawn with markers and scatter points (a reference curve without
    # markers may pass behind the legend's text).
    marked = [(str(ln.get_label()), ln.get_xydata()) for ln in ax.get_lines()
              if ln.get_marker() not in (None, "None", "", " ")]
    marked += [(str(c.get_label()), c.get_offsets()) for c in ax.collections
               if len(c.get_offsets()) and c.get_offsets().shape[-1] == 2
               and type(c).__name__ == "PathCollection"]
    covered = []
    for label, data in marked:
        points = ax.transData.transform(data)  # type: ignore[arg-type]
        inside = ((points[:, 0] > box.x0) & (points[:, 0] < box.x1)
                  & (points[:, 1] > box.y0) & (points[:, 1] < box.y1))
        if inside.any():
            covered.append(f"the legend covers data of '{label}'")
    return covered


def _hidden_lines(ax: Axes) -> list[str]:
    """Lines drawn (in display units) within a pixel of a later line at every point."""
    lines = [ln for ln in ax.get_lines() if ln.get_visible() and len(ln.get_xydata()) > 1
             and not str(ln.get_label()).startswith("_")]
    found = []
    for i, lower in enumerate(lines):
        below = ax.transData.transform(lower.get_xydata())  # type: ignore[arg-type]
        for upper in lines[i + 1:]:
            above = ax.transData.transform(upper.get_xydata())  # type: ignore[arg-type]
            if below.shape == above.shape and (abs(below - above) <= 1.5).all():
                found.append(f"line '{lower.get_label()}' is hidden under "
                             f"'{upper.get_label()}'")
    return found


def _bars_from_zero(ax: Axes) -> list[str]:
    from matplotlib.patches import Rectangle

    # Bars live in data coordinates; shaded spans (axvspan) span the axes instead.
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0
            and p.get_data_transform() == ax.transData]
    if not bars:
        return []
    # Vertical bars share one width and grow upwards; horizontal ones share one height.
    vertical = len({round(b.get_width(), 9) for b in bars}) == 1
    start = min(ax.get_ylim() if vertical else ax.get_xlim())
    if start > 0:
        return [f"a bar chart whose value axis starts at {start:g}, not 0"]
    return []


def title_of(ax: Axes) -> str:
    """An axes' title wherever it sits (the suite's theme puts titles on the left; matplotlib's
    ``get_title()`` reads only the centre one)."""
    return " ".join(t for t in (ax.get_title(loc=loc) for loc in ("left", "center", "right"))
                    if t)
