"""The report runner: parameters checked before any notebook starts, a failing notebook leaves
no partial folder and an earlier report intact, --force is needed to replace a report.

Uses tiny notebooks (a notebooks-dir of their own) so each run costs one kernel start."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cpstats import report
from cpstats.commands import report as commands_report
from cpstats.errors import EXIT_BAD_INPUT, InputError
from cpstats.results import current_umask
from tests.tiny_notebooks import write_notebook as _notebook


def _run(*args: str) -> int:
    """``cpstats report ...`` as the CLI runs it (only this command is loaded, so another
    command's import problem cannot hide this one's behaviour)."""
    parser = argparse.ArgumentParser(prog="cpstats")
    commands_report.register(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(["report", "--no-progress", *args])
    try:
        return arguments.func(arguments)
    except InputError as error:
        print(f"cpstats report: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


@pytest.mark.parametrize("args, message", [
    (["--la", "Atlantis"], "--la"),
    (["--la", "825", "--year", "2031"], "2016-17"),  # names the years that do have data
    (["--la", "825", "--year", "2016/17"], "--year"),
    (["--cin-census", "no_such_return.xml"], "--cin-census"),
    (["--population-dir", "no_such_folder"], "--population-dir"),
    (["--jobs", "0"], "--jobs"),
])
def test_bad_parameters_fail_before_any_notebook_starts(args, message, notebooks, cin_2022,
                                                        tmp_path, monkeypatch, capsys):
    def never(*_args, **_kwargs):
        raise AssertionError("a notebook started")

    monkeypatch.setattr(report, "execute", never)
    status = _run("--notebooks-dir", str(notebooks), "--dfe-dir", str(cin_2022),
                  "--out", str(tmp_path / "reports"), *args)
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_a_failing_notebook_leaves_no_partial_folder_and_force_is_needed(notebooks, cin_2022,
                                                                          tmp_path, capsys):
    out = tmp_path / "reports"
    common = ["--notebooks-dir", str(notebooks), "--dfe-dir", str(cin_2022), "--out", str(out),
              "--la", "Buckinghamshire", "--year", "2017"]
    folder = out / "buckinghamshire" / "2016-17"

    # A first report is written in full.
    assert _run(*common) == 0
    results = pd.read_csv(folder / "results.csv", dtype={"geography_code": str})
    assert results.loc[0, "geography_code"] == "825" and results.loc[0, "value"] == 553
    for name in ("01_ok.ipynb", "01_ok.html", "01_ok_with_code.html", "index.html", "tables.xlsx"):
        assert (folder / name).is_file(), name
    assert "553" in (folder / "index.html").read_text(encoding="utf-8")
    # Readable by colleagues as the umask allows (temporary files start private).
    mask = current_umask()
    assert folder.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (folder / "results.csv").stat().st_mode & 0o777 == 0o666 & ~mask
    (folder / "earlier.txt").write_text("the earlier report", encoding="utf-8")

    # Without --force the report is never overwritten, and nothing runs.
    assert _run(*common) == 2
    assert "--force" in capsys.readouterr().err

    # A notebook that raises: the error names notebook and cell; the earlier report is intact.
    _notebook(notebooks / "02_fails.ipynb", "x = 1", "raise ValueError('broken on purpose')")
    assert _run(*common, "--force") == 1
    err = capsys.readouterr().err
    assert "02_fails.ipynb" in err and "cell" in err and "broken on purpose" in err
    assert (folder / "earlier.txt").read_text(encoding="utf-8") == "the earlier report"
    assert sorted(p.name for p in (out / "buckinghamshire").iterdir()) == ["2016-17"]

    # With --force and working notebooks the report is replaced.
    (notebooks / "02_fails.ipynb").unlink()
    assert _run(*common, "--force") == 0
    assert not (folder / "earlier.txt").exists()
    assert (folder / "results.csv").is_file()


# -- the real notebooks: the default run reproduces the report; another LA's prose follows its data
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory, shared_data):
    """The default run (01 and 02) and Surrey from DfE data alone (01), in one parallel batch."""
    out = tmp_path_factory.mktemp("reports")
    default = report.plan(out=out)
    surrey = report.plan(["Surrey"], ["2016-17"], dfe_dir=shared_data / "dfe" / "cin_2022", out=out)
    themes = [NOTEBOOKS / "01_trends.ipynb", NOTEBOOKS / "02_demographics.ipynb"]
    outcomes = report.execute(default, themes, jobs=2, progress=False)
    outcomes += report.execute(surrey, themes[:1], jobs=1, progress=False)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    return {o.run.la_code: o.run.out_dir for o in outcomes}


def _value(results: pd.DataFrame, measure: str, source: str, code: str = "825",
           period: str = "2016-17", breakdown: str = "total") -> float:
    rows = results[(results["measure"] == measure) & (results["source"] == source)
                   & (results["geography_code"] == code) & (results["period"] == period)
                   & (results["breakdown"] == breakdown)]
    # Several themes may state the same figure (e.g. 01 and 02 the report's count): they agree.
    rows = rows.drop_duplicates("value")
    assert len(rows) == 1, (measure, source, code, period, breakdown, len(rows))
    return float(rows["value"].iloc[0])


@pytest.mark.slow
def test_default_results_hold_the_report_s_figures_beside_dfe_s(real_runs):
    folder = real_runs["825"]
    assert folder.parts[-2:] == ("buckinghamshire", "2016-17")
    results = pd.read_csv(folder / "results.csv", dtype={"geography_code": str, "period": str})
    # The report, as transcribed (seed report: Child Protection Data, Performance, Staffing).
    assert _value(results, "cp_plans_at_31_march", "report") == 564
    assert _value(results, "cp_change_pct", "report") == 25
    assert _value(results, "cp_change_pct", "report", period="2015-16") == 35
    assert _value(results, "cp_rate_per_10k", "report") == 46.7
    assert _value(results, "cp_rate_per_10k", "report", "E92000001", "2015-16") == 43.1
    assert _value(results, "review_conferences_in_timescale_pct", "report") == 96
    assert _value(results, "children_per_chair_fte", "report", period="2017-03-31") == 97
    for key, value in {"neglect": 279, "emotional_abuse": 243, "sexual_abuse": 26,
                       "physical_abuse": 16, "multiple": 0}.items():
        assert _value(results, "cp_by_category", "report", breakdown=f"category={key}") == value
    for key, value in {"male": 290, "female": 263, "unborn": 11}.items():
        assert _value(results, "cp_by_gender", "report", breakdown=f"gender={key}") == value
    for key, value in {"unborn": 11, "under_1": 41, "1_4": 146, "5_9": 172, "10_15": 157,
                       "16_plus": 37}.items():
        assert _value(results, "cp_by_age_band", "report", breakdown=f"age_band={key}") == value
    for key, value in {"under_4_weeks": 47, "3_to_6_months": 134, "6_to_12_months": 139,
                       "2_to_3_years": 3}.items():
        assert _value(results, "cp_by_duration_report", "report", breakdown=f"duration={key}") == value
    # What DfE later published for the same year (2022 release, d1 and d6).
    assert _value(results, "cp_plans_at_31_march", "dfe") == 553
    assert _value(results, "cp_rate_per_10k", "dfe") == 45.2
    assert _value(results, "cp_reviews_in_timescale_pct", "dfe") == 84.6
    # The unique key of the Results contract holds.
    key = ["theme", "measure", "geography_code", "period", "breakdown", "source"]
    assert not results.duplicated(key).any()
    # The prose states the difference between the two counts without guessing its cause.
    notebook = nbformat.read(folder / "01_trends.ipynb", as_version=4)
    headline = _headline(notebook)
    assert "**564**" in headline and "**553**" in headline
    assert "(+11 in the report)" in headline and "cannot be told" in headline
    assert "on the day" not in headline
    for name in ("index.html", "tables.xlsx", "01_trends.html", "02_demographics_with_code.html"):
        assert (folder / name).is_file(), name
    assert list((folder / "figures").glob("01_*.png")) and list((folder / "tables").glob("02_*.csv"))


def _headline(notebook) -> str:
    cells = [c for c in notebook.cells if "headline" in c.metadata.get("tags", [])]
    assert cells, "no cell tagged headline"
    return "\n".join(o["data"]["text/markdown"] for o in cells[0].outputs
                     if "text/markdown" in o.get("data", {}))


@pytest.mark.slow
def test_another_la_s_headline_sentences_match_its_results(real_runs, cin_2022):
    folder = real_runs["936"]
    results = pd.read_csv(folder / "results.csv", dtype={"geography_code": str, "period": str})
    # Surrey's count as DfE published it (d1, read here without cpstats).
    d1 = pd.read_csv(cin_2022 / "d1_child_protection_plans_2013_to_2022.csv", dtype=str,
                     encoding="utf-8-sig")
    published = d1[(d1["old_la_code"] == "936") & (d1["time_period"] == "2017")]
    count = _value(results, "cp_plans_at_31_march", "dfe", "936")
    assert count == float(published["CPP_At31"].iloc[0])
    change = _value(results, "cp_change_pct", "derived", "936")
    england = _value(results, "cp_plans_at_31_march", "dfe", "E92000001")
    headline = _headline(nbformat.read(folder / "01_trends.ipynb", as_version=4))
    assert f"**{count:,.0f}** children in Surrey" in headline
    assert f"{change:+.1f}%" in headline
    assert f"England had {england:,.0f}" in headline
    # Without a report or a CIN Census return the notebook says what it left out.
    assert not (results["source"] == "report").any()
    text = (folder / "01_trends.html").read_text(encoding="utf-8")
    assert "Left out of this run" in text and "report" in text


# -- what the runner and the notebooks share: parameter resolution, periods, holidays
def test_parameters_resolve_from_none_to_the_embedded_default():
    from cpstats.errors import ParameterError
    from cpstats.inputs import resolve

    default = resolve()
    assert (default.la_code, default.year, default.year_label) == ("825", 2017, "2016-17")
    assert default.uses_synthetic
    other = resolve("Surrey", "2016-17")
    assert (other.la_code, other.year, other.uses_synthetic) == ("936", 2017, False)
    with pytest.raises(ParameterError, match="--cin-census"):
        resolve(cin_census="no_such_return.xml")


def test_period_helpers_tell_years_months_and_quarters_apart():
    from cpstats.periods import as_at, is_month, is_year, period_year

    periods = pd.Series(["2016-17", "2017-03", "2017-04", "2016-17 Q4", "2017-03-31", "2017-18"])
    assert period_year(periods).tolist() == [2017, 2017, 2018, 2017, 2017, 2018]
    assert is_year(periods).tolist() == [True, False, False, False, False, True]
    assert is_month(periods).tolist() == [False, True, True, False, False, False]
    facts = pd.DataFrame({"period": periods, "value": range(6)})
    assert as_at(facts, 2017)["period"].tolist() == ["2016-17", "2017-03", "2016-17 Q4", "2017-03-31"]


def test_age_bands_harmonise_without_losing_children():
    from cpstats.codes import harmonise_age_bands

    report_bands = pd.Series({"unborn": 11, "under_1": 41, "1_4": 146, "5_9": 172, "10_15": 157,
                              "16_plus": 37})
    harmonised = harmonise_age_bands(report_bands)
    assert harmonised.to_dict() == {"unborn": 11, "0_4": 187, "5_9": 172, "10_17": 194}
    assert harmonised.sum() == 564
    with pytest.raises(KeyError, match="15_17"):
        harmonise_age_bands(pd.Series({"15_17": 3}))


def test_school_holidays_are_approximate_and_replaceable(tmp_path):
    from cpstats import school_holidays
    from cpstats.errors import InputError

    table = school_holidays.load()
    assert table["start"].min().year == 2012 and table["end"].max().year >= 2023
    assert (table["end"] >= table["start"]).all()
    # Summer 2016 holiday covers August; Christmas 2016 covers 25 December.
    spans = school_holidays.between("2016-04-01", "2017-03-31")
    covers = lambda day: ((spans["start"] <= day) & (spans["end"] >= day)).any()  # noqa: E731
    assert covers(pd.Timestamp("2016-08-15")) and covers(pd.Timestamp("2016-12-27"))
    assert not covers(pd.Timestamp("2016-11-15"))
    share = school_holidays.weekday_share_by_month("2016-04-01", "2017-03-31")
    assert share["2016-08"] == 1.0 and share["2016-11"] == 0.0
    own = tmp_path / "council.csv"
    own.write_text("holiday,start,end\nsummer,2016-07-22,2016-09-05\nbad,2016-13-01,2016-12-02\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as error:
        school_holidays.load(own)
    assert "row 3" in str(error.value) and "'start'" in str(error.value)


def _executed(path: Path, heading: str, printed: str) -> Path:
    """A notebook as the runner leaves it: a heading, a code cell and its printed output."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cell = new_code_cell(f"print({printed!r})", execution_count=1,
                         outputs=[new_output("stream", name="stdout", text=f"{printed}\n")])
    nbformat.write(new_notebook(cells=[new_markdown_cell(f"# {heading}"), cell]), path)
    return path


def test_pages_from_the_exporter_kept_per_process_are_those_a_fresh_exporter_writes(tmp_path):
    notebooks = [_executed(tmp_path / "01_first.ipynb", "First page", "alpha-7"),
                 _executed(tmp_path / "02_second.ipynb", "Second page", "beta-8")]

    def pages(fresh: bool) -> dict[str, bytes]:
        written = {}
        for notebook in notebooks:
            if fresh:
                report._html_exporter.cache_clear()
            for path in report.export_notebook_html(notebook):
                written[path.name] = path.read_bytes()
        return written

    fresh = pages(fresh=True)
    assert pages(fresh=False) == fresh  # nothing of one page leaks into the next
    assert b"Second page" in fresh["02_second.html"] and b"alpha-7" not in fresh["02_second.html"]
    assert b">print<" in fresh["01_first_with_code.html"] and b">print<" not in fresh["01_first.html"]
