"""Charts a reader can read: the checks find what they look for, and the report's charts pass."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cpstats import plots  # noqa: E402

QUARTERS = [f"{y}-{(y + 1) % 100:02d} Q{q}" for y in (2014, 2015, 2016) for q in (1, 2, 3, 4)]


@pytest.fixture(autouse=True)
def _theme():
    plots.set_theme()
    yield
    plt.close("all")


def _finish(fig, ax, **kwargs):
    return plots.finish(fig, ax, title="A title", xlabel="Quarter", ylabel="Children",
                        source="DfE", **kwargs)


def test_a_clean_chart_has_no_problem():
    fig, ax = plots.new_figure()
    ax.plot([0, 1, 2], [3, 4, 5], marker="o", label="Surrey")
    ax.plot([0, 1, 2], [5, 6, 9], marker="o", label="England")
    assert plots.problems(_finish(fig, ax, legend=False)) == []


def test_turned_quarter_labels_collide_and_period_ticks_do_not():
    fig, ax = plots.new_figure()
    ax.bar(QUARTERS, range(12))
    ax.tick_params(axis="x", rotation=45)
    found = plots.problems(_finish(fig, ax))
    assert any("x tick '2014-15 Q1' overlaps" in p for p in found), found
    fig, ax = plots.new_figure()
    ax.bar(range(12), range(12))
    plots.period_ticks(ax, range(12), QUARTERS)
    assert [t.get_text() for t in ax.get_xticklabels()][:5] == ["Q1\n2014-15", "Q2", "Q3", "Q4",
                                                                "Q1\n2015-16"]
    assert plots.problems(_finish(fig, ax)) == []


def test_a_bar_axis_must_start_at_zero():
    fig, ax = plots.new_figure()
    ax.bar(["April", "May"], [93.2, 97.1])
    ax.set_ylim(84, 100)
    assert plots.problems(_finish(fig, ax)) == [
        "a bar chart whose value axis starts at 84, not 0"]
    fig, ax = plots.new_figure()
    ax.barh(["under 4 weeks", "4 to 8 weeks"], [47, 84])  # horizontal: the x axis is the value
    assert plots.problems(_finish(fig, ax)) == []


def test_a_line_hidden_under_another_is_found():
    fig, ax = plots.new_figure()
    ax.plot(range(6), [40, 42, 41, 43, 45, 44], label="ICPCs")
    ax.plot(range(6), [40, 42, 41, 43, 45, 44], label="Plans started")
    assert plots.problems(_finish(fig, ax, legend=False)) == [
        "line 'ICPCs' is hidden under 'Plans started'"]


def test_a_synthetic_chart_says_so_above_its_title_without_a_collision():
    fig, ax = plots.new_figure()
    ax.plot(range(5), [3, 4, 5, 4, 6], marker="o", label="Children")
    fig = plots.finish(fig, ax, title="About 585 children expected on plans at the end of "
                       "2017-18 Q1, and more words to wrap onto a second line", xlabel="Quarter",
                       ylabel="Children", source="DfE", legend=False)
    assert "\n" in ax.get_title(loc="left")
    plots.mark_synthetic(fig)
    assert [t.get_text() for t in fig.texts][-1] == plots.SYNTHETIC_LABEL
    assert plots.problems(fig) == []


def test_a_legend_over_the_forecast_is_found():
    fig, ax = plots.new_figure()
    ax.plot(range(10), [100] * 9 + [180], marker="o", label="Forecast")
    ax.plot(range(10), [95] * 10, label="Observed")
    fig = _finish(fig, ax)
    ax.legend(loc="upper right", frameon=False)  # over the last point, the forecast
    assert plots.problems(fig) == ["the legend covers data of 'Forecast'"]
    ax.legend(loc="center left", frameon=False)
    assert plots.problems(fig) == []


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["trends", "demographics", "pipeline", "forecasting"])
def test_the_default_report_s_charts_read_cleanly(theme):
    from cpstats import Study, notebook

    notebook.setup()
    result = Study().theme(theme)
    found = {}
    for section in result.sections:
        for chart in section.charts:
            figure = chart.figure()
            found[chart.name] = plots.problems(figure)  # type: ignore[arg-type]
            plt.close(figure)  # type: ignore[arg-type]
    assert found, f"{theme} drew no chart"
    assert {k: v for k, v in found.items() if v} == {}
    assert pd.Series(found).index.is_unique


def test_a_finished_chart_is_drawn_once_when_saved(monkeypatch):
    # tight_layout leaves a layout engine behind that made savefig draw every chart twice.
    import io

    from matplotlib.figure import Figure

    fig, ax = plots.new_figure()
    ax.plot([1, 2, 3], [3, 1, 2], label="LA")
    _finish(fig, ax)
    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or draw(self, renderer))
    fig.savefig(io.BytesIO(), format="png")
    assert len(draws) == 1


def test_a_long_title_is_broken_to_fit_beside_its_axes_and_no_earlier():
    """Long category labels push the axes right, and a left-aligned title starts there: its
    lines must fit in what is left of the figure, each as full as that width allows."""
    from matplotlib.font_manager import FontProperties

    fig, ax = plots.new_figure()
    ax.barh(["A very long category name indeed", "Another long category name"], [3, 4])
    title = ("Buckinghamshire's rate went from 16.3 to 45.2 per 10,000 between 2012-13 and "
             "2016-17, while England's went from 37.8 to 43.3 over the same five years")
    plots.finish(fig, ax, title=title, xlabel="Children", ylabel="", source="DfE")
    lines = ax.get_title(loc="left").split("\n")
    room = fig.bbox.width * (1 - ax.get_position().x0)
    font = FontProperties(size=plt.rcParams["axes.titlesize"],
                          weight=plt.rcParams["axes.titleweight"])
    renderer = fig.canvas.get_renderer()

    def width(text: str) -> float:
        return renderer.get_text_width_height_descent(text, font, ismath=False)[0]

    assert len(lines) >= 3 and " ".join(lines) == title
    assert max(width(line) for line in lines) <= room
    for line, following in zip(lines, lines[1:], strict=False):
        assert width(f"{line} {following.split(' ')[0]}") > room  # the next word did not fit
    assert plots.problems(fig) == []


@pytest.mark.parametrize("loc", ["left", "center", "right"])
def test_a_title_is_broken_within_the_figure_wherever_it_is_aligned(loc):
    from matplotlib.font_manager import FontProperties

    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    title = " ".join(["Children on plans rose again in the year"] * 4)
    with plt.rc_context({"axes.titlelocation": loc}):  # no later test inherits the alignment
        plots.finish(fig, ax, title=title, xlabel="Year", ylabel="Children", source="DfE")
    lines = ax.get_title(loc=loc).split("\n")
    font = FontProperties(size=plt.rcParams["axes.titlesize"],
                          weight=plt.rcParams["axes.titleweight"])
    renderer = fig.canvas.get_renderer()
    widest = max(renderer.get_text_width_height_descent(line, font, ismath=False)[0]
                 for line in lines)
    assert 2 <= len(lines) <= 4 and widest <= fig.bbox.width
