"""``cpstats forecast``: children on child protection plans next year (every LA) and
next quarter (one LA's child-level records), with prediction intervals."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from cpstats.errors import InputError, ParameterError, Problem, display_path
from cpstats.paths import shared_data_dir
from cpstats.periods import parse_year, quarter_label
from cpstats.stats import forecast as fc
from cpstats.stats.backtest import origin_label

#: Columns of ``cpstats forecast annual``'s CSV (the contract in design.md).
ANNUAL_COLUMNS = ("old_la_code", "la_name", "year", "model", "point", "lower_80", "upper_80",
                  "lower_95", "upper_95")


def _default_dfe_dir() -> Path:
    return shared_data_dir() / "dfe" / "cin_2022"


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ParameterError(name, value, "a whole number of at least 1")
    return value


def _read_dfe(folder: Path) -> pd.DataFrame:
    from cpstats.io.dfe import read_release

    if not folder.is_dir():
        raise InputError(Problem(file=display_path(folder),
                                 expected="a folder of DfE 'Characteristics of children in need' "
                                          "CSVs (--dfe-dir)"))
    return read_release(folder)


def annual_forecasts(facts: pd.DataFrame, origin: int, horizon: int,
                     models: tuple[str, ...] = fc.ANNUAL_MODELS,
                     progress: bool = False, jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecasts of children on plans at 31 March for every LA, in the CLI's CSV layout.

    Parameters
    ----------
    facts
        DfE's published figures (:func:`cpstats.io.dfe.read_release`).
    origin
        The last year ending 31 March the models may see (e.g. 2022).
    horizon
        Years ahead.
    models
        Models besides ``default`` (always added: :data:`cpstats.stats.forecast.ANNUAL_DEFAULT`).
    progress, jobs
        A progress bar on stderr; processes to fit the LAs in.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The CSV table (:data:`ANNUAL_COLUMNS`, one row per LA, year and model, sorted)
        and the full forecasts (with ``fitted`` and ``note``: which models fell back).
    """
    panel = fc.annual_panel(facts)
    years = sorted({p.year for y, _ in panel.values() for p in y.dropna().index})
    if origin not in years[2:]:
        raise ParameterError("--origin", origin, f"a year with at least 3 years of data before "
                                                 f"it, {years[2]}-{years[-1]}" if len(years) > 2
                             else "a year with data (the release has too few years)")
    wanted = tuple(dict.fromkeys((*models, fc.ANNUAL_DEFAULT)))
    forecasts = fc.forecast_panel(panel, wanted, origin, horizon, progress=progress, jobs=jobs)
    chosen = forecasts[forecasts["model"] == fc.ANNUAL_DEFAULT].assign(model="default")
    forecasts = pd.concat([forecasts[forecasts["model"].isin(models)], chosen], ignore_index=True)
    names = fc.la_names(facts)
    out = forecasts.assign(
        old_la_code=forecasts["series"].astype("string"),
        la_name=forecasts["series"].map(names).astype("string"),
        year=[p.year for p in forecasts["period"]],
    )
    bounds = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
    out[bounds] = out[bounds].round(1)
    return out.sort_values(["old_la_code", "year", "model"], kind="stable",
                           ignore_index=True)[list(ANNUAL_COLUMNS)], forecasts


def _fallback_summary(forecasts: pd.DataFrame) -> str:
    fell = forecasts[(forecasts["step"] == 1) & (forecasts["fitted"] != forecasts["model"])
                     & ~forecasts["fitted"].str.startswith("mean(")
                     & ~forecasts["fitted"].str.startswith("combo(")]
    if fell.empty:
        return ""
    counts = fell.groupby(["model", "fitted"]).size()
    parts = [f"{model} -> {fitted} for {n} LA(s)" for (model, fitted), n in counts.items()]
    return "series too short for some models, fell back: " + "; ".join(parts)


def run_annual(args: argparse.Namespace) -> int:
    from cpstats.results import write_csv_atomic

    horizon = _positive("--horizon", args.horizon)
    origin = parse_year(args.origin)
    if args.out.is_dir():
        raise ParameterError("--out", args.out, "a CSV file path, not a folder")
    facts = _read_dfe(Path(args.dfe_dir) if args.dfe_dir else _default_dfe_dir())
    jobs = args.jobs or len(os.sched_getaffinity(0))
    table, forecasts = annual_forecasts(facts, origin, horizon, tuple(args.models),
                                        progress=not args.quiet, jobs=jobs)
    write_csv_atomic(table, args.out)
    note = _fallback_summary(forecasts)
    if note and not args.quiet:
        print(note, file=sys.stderr)
    print(f"wrote {len(table):,} forecasts ({table['old_la_code'].nunique()} LAs, "
          f"{horizon} year(s) after {origin}, default = {fc.ANNUAL_DEFAULT}) to "
          f"{display_path(args.out)}", file=sys.stderr)
    return 0


#: Columns of ``cpstats forecast quarterly --out``.
QUARTERLY_COLUMNS = ("series", "geography_code", "source", "period", "model", "fitted", "point",
                     "lower_80", "upper_80", "lower_95", "upper_95")


def _quarter(text: str | None) -> str | None:
    """``2016-17 Q4`` or ``2017Q4`` -> ``2017Q4`` (the Q-MAR label)."""
    if text is None:
        return None
    cleaned = text.strip().replace(" ", "")
    if len(cleaned) == 9 and cleaned[4] == "-" and cleaned[7] == "Q":  # 2016-17Q4
        return f"{parse_year(cleaned[:7])}Q{cleaned[-1]}"
    if len(cleaned) == 6 and cleaned[4] == "Q" and cleaned[-1] in "1234":
        return cleaned
    raise ParameterError("--origin", text, "a financial quarter such as 2016-17 Q4")


def _child_level(args: argparse.Namespace) -> tuple[object, int | None, str | None]:
    """The records, the first full year, and the default origin (None: the last quarter)."""
    first = parse_year(args.first_year) if args.first_year else None
    if args.annex_a:
        data, origin = _with_annex_a(args)
        return data, first, origin
    if args.cin_census:
        from cpstats.io.cin_census import read_returns

        return read_returns(args.cin_census), first, None
    from cpstats import synth

    return synth.generate().data, first, None


def _with_annex_a(args: argparse.Namespace) -> tuple[object, str]:
    """The CIN Census returns brought up to the Annex A's extract date, and its last whole
    quarter (the default origin)."""
    from cpstats.annex_a_measures import last_whole_quarter, splice
    from cpstats.io.annex_a import read_annex_a
    from cpstats.io.cin_census import read_returns

    if not args.cin_census:
        raise ParameterError("--annex-a", args.annex_a, "--cin-census returns as well: an Annex "
                             "A's window (6 or 12 months) is too short to fit and backtest the "
                             "quarterly models, so it brings CIN Census history up to date")
    cin = read_returns(args.cin_census)
    annex = read_annex_a(args.annex_a, la_code=cin.la_code)
    data = splice(cin, annex)
    icpc_from = annex.coverage().icpc_from.date()
    if icpc_from > cin.reference_date:
        print(f"note: ICPCs from {cin.reference_date} to {icpc_from} may be undercounted (an "
              "ICPC is listed in Annex A only with an s47 begun in its window)", file=sys.stderr)
    return data, str(last_whole_quarter(annex.extract_date))


def _table(outlook, series: str, code: str, source: str) -> pd.DataFrame:
    labels = [quarter_label(p.qyear, p.quarter) for p in outlook.forecasts["period"]]
    rows = outlook.forecasts.assign(series=series, geography_code=code, source=source,
                                    period=labels)
    return rows[list(QUARTERLY_COLUMNS)]


def _describe(outlook, what: str, unit: str) -> list[str]:
    default = outlook.forecasts[outlook.forecasts["model"] == "default"]
    lines = [f"{what}: default model {outlook.study.default} ({outlook.study.note})."]
    for row in default.itertuples():
        label = quarter_label(row.period.qyear, row.period.quarter)
        lines.append(f"  {label}: {row.point:,.0f} {unit} (80% {row.lower_80:,.0f}-"
                     f"{row.upper_80:,.0f}; 95% {row.lower_95:,.0f}-{row.upper_95:,.0f})")
    scores = outlook.study.scores
    report = " to ".join(origin_label(o) for o in (outlook.study.report_on[0],
                                                    outlook.study.report_on[-1]))
    lines.append(f"  backtest on origins {report} (not used to choose), step 1:")
    step1 = scores[scores["step"] == 1].sort_values("mase", kind="stable")
    lines += [f"    {r.model:<18} MASE {r.mase:5.2f}  bias {r.bias:+8.1f}  80% cover "
              f"{r.coverage_80:4.0%}  95% cover {r.coverage_95:4.0%}  (n={r.n})"
              for r in step1.itertuples()]
    return lines + _coverage_warning(step1)


#: Backtest 80% coverage outside this range gets a warning beside the forecast.
FAIR_COVERAGE = (0.70, 0.90)


def _coverage_warning(step1: pd.DataFrame) -> list[str]:
    """A warning when the default's 80% interval held the outcome far from 80% of the time."""
    row = step1[step1["model"] == "default"]
    if row.empty or row["coverage_80"].between(*FAIR_COVERAGE).all():
        return []
    cover, n = float(row["coverage_80"].iloc[0]), int(row["n"].iloc[0])
    side = "narrower" if cover < FAIR_COVERAGE[0] else "wider"
    return [f"  WARNING: the default's 80% interval held the outcome in {cover:.0%} of {n} backtest "
            f"forecasts: it is probably {side} than it should be; read it as rough."]


def _scenario_lines(scenario: pd.DataFrame, pct: float) -> list[str]:
    return [f"  scenario, referrals {pct:+g}% (stock_flow_hazard, new plans in proportion): "
            f"{quarter_label(row.period.qyear, row.period.quarter)}: {row.point:,.0f} children "
            f"(80% {row.lower_80:,.0f}-{row.upper_80:,.0f})" for row in scenario.itertuples()]


def _chair_settings(args: argparse.Namespace, la_code: str, year: int
                    ) -> tuple[float | None, float | None]:
    """Chair FTE and caseload target: ``--fte``/``--target``, else the ``--service`` file's,
    else ``None`` (no council's figures are assumed for another)."""
    fte, target = args.fte, args.target
    if args.service is not None:
        from cpstats.io.local import read_service_settings

        given = read_service_settings(args.service, la_code, year).set_index("measure")["value"]
        fte = given.get("conference_chairs_fte") if fte is None else fte
        target = given.get("children_per_chair_fte_target") if target is None else target
    return fte, target


def _chair_lines(chairs: pd.DataFrame, fte: float, target: float) -> list[str]:
    return [f"  chairs at the end of {quarter_label(row.period.qyear, row.period.quarter)}: "
            f"{row.per_fte:.1f} children per FTE chair (80% {row.per_fte_lower_80:.1f}-"
            f"{row.per_fte_upper_80:.1f}) against {target:g} with {fte:g} FTE; "
            f"{row.fte_needed:.1f} FTE needed ({row.fte_needed_upper_80:.1f} at the upper 80% "
            f"bound)" for row in chairs.itertuples()]


def run_quarterly(args: argparse.Namespace) -> int:
    from cpstats.results import write_csv_atomic
    from cpstats.stats.backtest import next_quarter, next_quarter_referrals

    horizon = _positive("--horizon", args.horizon)
    for name, value in (("--fte", args.fte), ("--target", args.target)):
        if value is not None and value <= 0:
            raise ParameterError(name, value, "a positive number")
    if args.service is not None and not Path(args.service).is_file():
        raise ParameterError("--service", args.service, "an existing service settings CSV file")
    folder = Path(args.dfe_dir) if args.dfe_dir else _default_dfe_dir()
    if args.dfe_dir and not folder.is_dir():
        _read_dfe(folder)  # the clear error, before the long child-level work
    change = None if args.referrals_change is None else args.referrals_change / 100
    if change is not None and change <= -1:
        raise ParameterError("--referrals-change", args.referrals_change, "a change above -100")
    cin, first, last = _child_level(args)
    plans = next_quarter(cin, first, _quarter(args.origin) or last, horizon,
                         referrals_change=change)
    lines = _describe(plans, f"Children on CP plans, LA {cin.la_code} ({cin.source})", "children")
    if plans.scenario is not None:
        lines += _scenario_lines(plans.scenario, args.referrals_change)
    fte, target = _chair_settings(args, cin.la_code, plans.origin.qyear)
    if fte is None or target is None:
        lines.append("  chairs: left out (give --fte and --target, or --service FILE)")
    else:
        lines += _chair_lines(fc.chair_capacity(
            plans.forecasts[plans.forecasts["model"] == "default"], fte, target), fte, target)
        if plans.scenario is not None:
            lines += [line.replace("  chairs", f"  scenario chairs ({args.referrals_change:+g}% "
                                   "referrals)") for line in
                      _chair_lines(fc.chair_capacity(plans.scenario, fte, target), fte, target)]
    tables = [_table(plans, "cp_plans_at_end", cin.la_code, cin.source)]
    if args.no_referrals:
        pass
    elif args.dfe_dir or folder.is_dir():
        la = str(args.la or cin.la_code)
        referrals = next_quarter_referrals(_read_dfe(folder), la)
        lines += _describe(referrals, f"Referrals, LA {la} (DfE, by month summed to quarters)",
                           "referrals")
        tables.append(_table(referrals, "referrals", la, "dfe"))
    else:
        lines.append(f"(no DfE release at {display_path(folder)}: referrals skipped)")
    if args.out:
        out = pd.concat(tables, ignore_index=True)
        bounds = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
        out[bounds] = out[bounds].round(1)
        write_csv_atomic(out, args.out)
        lines.append(f"wrote {len(out)} forecasts to {display_path(args.out)}")
    print("\n".join(lines))
    return 0


def _models(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    known = (*fc.MODELS, *fc.PANEL_MODELS, *fc.PANEL_COMBOS)
    unknown = [m for m in names if m not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {unknown}; choose from {', '.join(known)}")
    return names


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cpstats forecast annual`` and ``cpstats forecast quarterly``."""
    parser = subparsers.add_parser(
        "forecast", help="forecast children on child protection plans, with intervals",
        description="Forecast the number of children on child protection plans: next years' "
                    "31 March figures for every LA from DfE's published tables (annual), or next "
                    "quarter from child-level records (quarterly). Every forecast carries 80% and "
                    "95% prediction intervals; docs/forecasting.md gives the backtest behind them.")
    commands = parser.add_subparsers(dest="forecast_command", metavar="KIND", required=True)

    annual = commands.add_parser(
        "annual", help="children on plans at 31 March, every LA, from a DfE release",
        description="For every LA in a DfE 'Characteristics of children in need' release, forecast "
                    "children on CP plans at 31 March for the years after --origin, using only "
                    "data up to and including --origin. Writes one row per LA, year and model "
                    "(old_la_code, la_name, year, model, point, lower_80, upper_80, lower_95, "
                    "upper_95); 'default' is the model the backtest recommends.")
    annual.add_argument("--dfe-dir", type=Path, default=None,
                        help="folder of the release's CSVs (default: ../shared/data/dfe/cin_2022)")
    annual.add_argument("--origin", default="2022",
                        help="last year ending 31 March the models see, 2022 or 2021-22 "
                             "(default 2022)")
    annual.add_argument("--horizon", type=int, default=3, help="years ahead (default 3)")
    annual.add_argument("--out", type=Path, required=True, help="CSV file to write")
    annual.add_argument("--models", type=_models, default=list(fc.ANNUAL_MODELS),
                        help="comma-separated models besides 'default' "
                             f"(default: {','.join(fc.ANNUAL_MODELS)})")
    annual.add_argument("--jobs", type=int, default=None,
                        help="processes to fit the LAs in (default: the usable cores)")
    annual.add_argument("--quiet", action="store_true", help="no progress bar")
    annual.set_defaults(func=run_annual)

    quarterly = commands.add_parser(
        "quarterly", help="children on plans next quarter from child-level records, and chairs",
        description="From one LA's child-level CIN Census records (the synthetic county by "
                    "default) forecast children on CP plans at the end of the next quarter(s), "
                    "with a backtest whose default model is chosen on early origins and scored "
                    "on later ones, and what the forecast means for conference chairs (children "
                    "per FTE chair against the target, FTE needed; from --fte and --target or "
                    "--service, left out without them). Also forecasts next quarter's referrals "
                    "for the LA from DfE's referrals by month.")
    quarterly.add_argument("--cin-census", type=Path, nargs="+", default=None, metavar="PATH",
                           help="CIN Census return(s) (XML files or CSV folders); default: the "
                                "synthetic county")
    quarterly.add_argument("--annex-a", type=Path, default=None, metavar="FILE",
                           help="an Ofsted Annex A workbook extracted after the last return, "
                                "whose window starts by the day after it: brings the returns up "
                                "to its extract date, and the default origin to its last whole "
                                "quarter (needs --cin-census)")
    quarterly.add_argument("--first-year", default=None,
                           help="first year ending 31 March the returns cover in full "
                                "(default: the year after the earliest event, at most 5 years "
                                "before the latest return)")
    quarterly.add_argument("--origin", default=None,
                           help="last quarter to use, e.g. 2016-17 Q4 (default: the last quarter)")
    quarterly.add_argument("--horizon", type=int, default=1, help="quarters ahead (default 1)")
    quarterly.add_argument("--fte", type=float, default=None,
                           help="FTE conference chairs in post (with --target, what the forecast "
                                "means for chairs; left out without them)")
    quarterly.add_argument("--target", type=float, default=None,
                           help="children per FTE chair aimed for")
    quarterly.add_argument("--service", type=Path, default=None, metavar="FILE",
                           help="service settings CSV (columns setting,value; settings chair_fte "
                                "and caseload_target), instead of --fte/--target")
    quarterly.add_argument("--dfe-dir", type=Path, default=None,
                           help="DfE release for referrals by month (default: "
                                "../shared/data/dfe/cin_2022; skipped if absent)")
    quarterly.add_argument("--la", default=None,
                           help="LA code for the referrals (default: the records' LA)")
    quarterly.add_argument("--referrals-change", type=float, default=None, metavar="PCT",
                           help="a scenario: referrals change by PCT per cent from the first "
                                "quarter ahead (e.g. 10); new plans change in proportion, and "
                                "its children on plans and chairs are printed beside the forecast")
    quarterly.add_argument("--no-referrals", action="store_true",
                           help="skip the referrals forecast from the DfE release")
    quarterly.add_argument("--out", type=Path, default=None, help="also write the forecasts as CSV")
    quarterly.set_defaults(func=run_quarterly)
