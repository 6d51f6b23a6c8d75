"""``cpstats check``: every problem listed, exit 0 when clean and 2 when not."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cpstats import checks
from cpstats.commands import check as check_command
from cpstats.errors import InputError, Problem

D1 = "d1_child_protection_plans_2013_to_2022.csv"


def run_check(*paths: Path, options: tuple[str, ...] = ()) -> int:
    """Run the check subcommand through its own parser (as ``cpstats check`` does)."""
    parser = argparse.ArgumentParser(prog="cpstats")
    check_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["check", *options, *map(str, paths)])
    return args.func(args)


def test_release_is_clean_and_fully_recognised(cin_2022, capsys):
    assert run_check(cin_2022) == 0
    out = capsys.readouterr().out
    assert "28 file(s), 28 recognised, 0 problem(s)" in out
    assert "DfE CIN table d1 (Child protection plans), 1,638 rows -- ok" in out


def test_statistical_neighbours_file_is_clean(shared_data, capsys):
    assert run_check(shared_data / "dfe" / "statistical_neighbours_2021.csv") == 0
    assert "156 LAs" in capsys.readouterr().out


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _d1_with(cin_2022: Path, tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (cin_2022 / D1).read_text(encoding="utf-8-sig")
    assert old in text
    return _write(tmp_path / name, text.replace(old, new, 1))


@pytest.mark.parametrize("case, old, new, expected", [
    ("renamed", ",CPP_At31,", ",CPP_on_31_Mar,", "missing ['CPP_At31']"),
    ("bad_value", "Child Protection Plans,64390,", "Child Protection Plans,lots,",
     "row 2, column 'CPP_start': found 'lots'"),
    ("unknown_la", ",825,E06000060,", ",999,E06000060,", "column 'old_la_code': found '999'"),
])
def test_bad_dfe_files_exit_2(cin_2022, tmp_path, capsys, case, old, new, expected):
    path = _d1_with(cin_2022, tmp_path, f"{case}.csv", old, new)
    assert run_check(path) == 2
    out = capsys.readouterr().out
    assert f"{case}.csv" in out and expected in out


def test_empty_and_truncated_exit_2(cin_2022, tmp_path, capsys):
    # an empty .csv is unrecognisable, a truncated DfE table is recognised and rejected
    empty = _write(tmp_path / "empty.csv", "")
    data = (cin_2022 / D1).read_bytes()
    truncated = tmp_path / "truncated.csv"
    truncated.write_bytes(data[: len(data) - 40])
    assert run_check(empty) == 2
    assert run_check(truncated) == 2
    out = capsys.readouterr().out
    assert "empty.csv" in out and "the file is empty" in out
    assert "truncated.csv, row 1639" in out and "fields like the header" in out


def test_every_problem_is_listed(cin_2022, tmp_path, capsys):
    text = (cin_2022 / D1).read_text(encoding="utf-8-sig")
    text = text.replace(",553,45.2", ",553,??", 1).replace(",64390,", ",six,", 1)
    path = _write(tmp_path / "two_problems.csv", text)
    assert run_check(path) == 2
    out = capsys.readouterr().out
    assert "2 problem(s)" in out and "'??'" in out and "'six'" in out


def test_unrecognised_file_names_supported_formats(tmp_path, capsys):
    path = _write(tmp_path / "notes.csv", "x,y\n1,2\n")
    assert run_check(path) == 2
    captured = capsys.readouterr()
    assert "notes.csv" in captured.out and "dfe_cin" in captured.out
    assert "DfE 'Characteristics of children in need'" in captured.err


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="an existing file or folder"):
        run_check(tmp_path / "nope")


def test_registry_takes_new_formats(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))
    checks.register_checker(
        "demo", lambda p: p.suffix == ".demo",
        lambda p: [Problem(file=p.name, row=3, column="age", value="-1", expected="0 or more")],
        "a demo format")
    path = _write(tmp_path / "sample.demo", "anything")
    assert run_check(path) == 2
    assert "sample.demo, row 3, column 'age': found '-1'; expected 0 or more" in capsys.readouterr().out
    assert "demo" in checks.supported_formats()


def test_folder_walk_skips_docs_and_hidden(cin_2022, tmp_path, capsys):
    folder = tmp_path / "data"
    (folder / ".cache").mkdir(parents=True)
    (folder / "README.md").write_text("# notes")
    (folder / ".cache" / "junk.bin").write_text("x")
    (folder / "d1.csv").write_bytes((cin_2022 / D1).read_bytes())
    assert run_check(folder) == 0
    assert "1 file(s), 1 recognised" in capsys.readouterr().out


def test_a_broken_reader_does_not_disable_the_others(tmp_path, monkeypatch, capsys):
    import importlib
    import pkgutil

    real_import = importlib.import_module
    modules = list(pkgutil.iter_modules(__import__("cpstats.io").io.__path__))
    broken = pkgutil.ModuleInfo(modules[0].module_finder, "zz_broken", False)

    def fake_import(name, *args):
        if name == "cpstats.io.zz_broken":
            raise SyntaxError("half-written module")
        return real_import(name, *args)

    monkeypatch.setattr(checks, "_discovered", False)
    monkeypatch.setattr(checks, "_IMPORT_FAILURES", {})
    monkeypatch.setattr(checks.pkgutil, "iter_modules", lambda path: [*modules, broken])
    monkeypatch.setattr(checks.importlib, "import_module", fake_import)
    path = _write(tmp_path / "notes.csv", "x,y\n1,2\n")
    assert run_check(path) == 2
    assert "readers that failed to load: cpstats.io.zz_broken" in capsys.readouterr().out
    assert "dfe_cin" in [c.name for c in checks.checkers()]


def test_through_the_cpstats_command(cin_2022, tmp_path, capsys):
    from cpstats.cli import main

    assert main(["check", str(cin_2022 / D1)]) == 0
    assert main(["check", str(tmp_path / "nope")]) == 2
    assert "cpstats check:" in capsys.readouterr().err


def test_every_shipped_data_file_is_recognised_and_clean(capsys):
    from cpstats.paths import REFERENCE_DIR, SEED_DIR

    assert run_check(SEED_DIR, REFERENCE_DIR) == 0
    assert "4 file(s), 4 recognised, 0 problem(s)" in capsys.readouterr().out


def test_census_extract_total_must_be_the_sum_of_its_groups(tmp_path, capsys):
    from cpstats.reference import CENSUS_EXTRACT

    lines = CENSUS_EXTRACT.read_text().splitlines()
    fields = lines[1].split(",")
    fields[3] = str(int(fields[3]) + 1)  # total no longer the sum of the groups
    broken = tmp_path / CENSUS_EXTRACT.name
    broken.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    assert run_check(broken) == 2
    assert "row 2, column 'total'" in capsys.readouterr().out


# ----------------------------------------------------------------------------- --rules dfe
DFE = ("--rules", "dfe")


@pytest.fixture
def _secret(monkeypatch):
    monkeypatch.setenv("CPSTATS_SECRET", "cpstats-test-secret-0123456789")


def _rule_rows(out: str) -> dict[str, tuple[int, int]]:
    """rule code -> (children, records) from the printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[1] in ("error", "query") and parts[0][:4].isdigit():
            rows[parts[0]] = (int(parts[2].replace(",", "")), int(parts[3].replace(",", "")))
    return rows


def test_dfe_rules_on_the_d2i_fake_file(shared_data, capsys, _secret):
    path = shared_data / "cin_census" / "d2i_validator_fake_CIN_data.xml"
    assert run_check(path, options=DFE) == 2
    out = capsys.readouterr().out
    rows = _rule_rows(out)
    assert "332 children; DfE rules of collection year 2022 (22 rules)" in out
    assert rows["8831"][0] > 0 and rows["8620"][0] > 0  # NFA with activity, closures
    assert rows["4016"] == (0, 0) and len(rows) == 22
    assert "RND0" not in out  # no child identifier printed


def test_dfe_rules_pass_on_synthetic_returns(tmp_path, capsys, _secret):
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_returns

    county = synth.generate(seed=3, years=(2016, 2017), scale=0.05)
    write_returns(county.data, tmp_path, county.years, la_child_ids=county.la_child_ids,
                  upns=county.upns)
    assert run_check(tmp_path, options=DFE) == 0
    out = capsys.readouterr().out
    assert out.count("(19 rules)") == 2 and "children failing any rule: 0" in out
    assert set(_rule_rows(out).values()) == {(0, 0)}


def test_dfe_rules_refuse_broken_files_with_a_line(tmp_path, capsys, _secret):
    truncated = _write(tmp_path / "truncated.xml", "<Message>\n<Header>\n<Collection")
    wrong = _write(tmp_path / "wrong.xml", "<?xml version='1.0'?>\n\n<CINCensus/>\n")
    not_xml = _write(tmp_path / "notes.csv", "x,y\n1,2\n")
    assert run_check(truncated, wrong, not_xml, options=DFE) == 2
    out = capsys.readouterr().out
    assert "truncated.xml: unreadable" in out and "truncated.xml, line 3" in out
    assert "wrong.xml, line 3" in out and "root element <Message>" in out
    assert "notes.csv: not checked -- expected a CIN Census return, an .xml file" in out


def test_dfe_rules_name_cpstats_own_findings_too(tmp_path, capsys, _secret):
    text = (Path(__file__).parent / "data" / "cin" / "return_2017.xml").read_text()
    path = _write(tmp_path / "odd.xml", text.replace("<CPPreviewDate>2016-07-20",
                                                     "<CPPreviewDate>2016-02-30"))
    run_check(path, options=DFE)
    out = capsys.readouterr().out
    # The fixture breaks 8620 (a closure of 2015-09-30 in the 2016-17 return), not the date.
    assert _rule_rows(out)["8620"] == (1, 1)
    assert "cpstats' own checks: impossible-date 1 " in out  # no DfE rule catches it
