"""Every page of a report as a reader's browser shows it (headless Chromium).

The default report and a DfE-only report for another LA (Surrey 2016-17) are generated once;
each page is opened from disk and must make no request outside its folder, log no console
error, load every image, link only to files that exist, show no "NaN" or "<NA>", carry a real
title, use no snake_case table header and leave no heading empty. One screenshot per page is
kept in the report's ``checks/`` folder for a person to look at. Needs Debian's ``chromium``
and ``chromium-driver`` (``.ci/run`` installs them): skipped without them, failed under CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
SEED_PHRASES = ("target of 85", "The report shows")
FIRST_SCREEN = (1280, 800)


def _need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        message = (f"headless Chromium not installed ({', '.join(missing)} missing): "
                   "apt-get install chromium chromium-driver")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def _report(out: Path, *args: str) -> Path:
    command = [sys.executable, "-m", "cpstats.cli", "report", "--no-progress", "--jobs", "2",
               "--out", str(out), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return next(p.parent for p in out.rglob("index.html"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory, cin_2022) -> dict[str, Path]:
    """The default report and Surrey 2016-17 from the DfE release alone."""
    _need_browser()
    root = tmp_path_factory.mktemp("browser")
    return {"default": _report(root / "default"),
            "surrey": _report(root / "surrey", "--la", "Surrey", "--year", "2016-17",
                              "--dfe-dir", str(cin_2022))}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--allow-file-access-from-files",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                 f"--window-size={FIRST_SCREEN[0]},{FIRST_SCREEN[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


_PAGE_FACTS = """
const visible = document.body.innerText;
const images = Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)
  .map(i => i.getAttribute('src').slice(0, 80));
const noAlt = Array.from(document.images).filter(i => !(i.getAttribute('alt') || '').trim()
  || i.alt === 'No description has been provided for this image').length;
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
const headers = Array.from(document.querySelectorAll('th')).map(t => t.innerText.trim());
const flow = Array.from(document.querySelectorAll('h1,h2,h3,h4,p,li,table,img,pre'));
const empty = [];
flow.forEach((el, i) => {
  const m = /^H(\\d)$/.exec(el.tagName);
  if (!m) return;
  const next = flow[i + 1];
  const n = next ? /^H(\\d)$/.exec(next.tagName) : null;
  if (!next || (n && Number(n[1]) <= Number(m[1]))) empty.push(el.innerText.trim());
});
return {title: document.title, visible, images, noAlt, links, headers, empty};
"""


def _requests(driver) -> list[str]:
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _check_page(driver, folder: Path, page: Path) -> list[str]:
    """Open one page; return what is wrong with it (and keep its screenshot)."""
    driver.get("about:blank")
    driver.get_log("performance")  # drop what earlier pages (and the start page) logged
    driver.get_log("browser")
    driver.get(page.as_uri())
    facts = driver.execute_script(_PAGE_FACTS)
    problems = []
    here = folder.as_uri()
    for url in _requests(driver):
        # The browser's own pages (chrome://) are not the report's requests.
        if not url.startswith((here, "data:", "blob:", "about:", "chrome:")):
            problems.append(f"request leaving the folder: {url[:100]}")
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"console error: {entry['message'][:200]}")
    problems += [f"image did not load: {src}" for src in facts["images"]]
    if facts["noAlt"]:
        problems.append(f"{facts['noAlt']} images without alt text")
    for link in facts["links"]:
        parsed = urlparse(link)
        if parsed.scheme != "file":
            problems.append(f"link leaving the folder: {link}")
        elif not Path(unquote(parsed.path)).exists():
            problems.append(f"broken link: {link}")
    for word in ("NaN", "<NA>"):
        if re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", facts["visible"]):
            problems.append(f"visible text shows {word}")
    if facts["title"].strip() in ("", "Notebook"):
        problems.append(f"title {facts['title']!r}")
    problems += [f"snake_case table header: {h}" for h in facts["headers"] if SNAKE.match(h)]
    problems += [f"empty heading: {h}" for h in facts["empty"]]
    checks = folder / "checks"
    checks.mkdir(exist_ok=True)
    driver.save_screenshot(str(checks / f"{page.stem}.png"))
    return [f"{page.name}: {p}" for p in problems]


def _pages(folder: Path) -> list[Path]:
    return [folder / "index.html", *sorted(p for p in folder.glob("*.html")
                                           if p.name != "index.html")]


@pytest.mark.parametrize("which", ["default", "surrey"])
def test_every_page_reads_cleanly_in_a_browser(which, reports, browser):
    folder = reports[which]
    pages = _pages(folder)
    assert len(pages) >= 12, [p.name for p in pages]  # index, appendix, 5 themes x 2
    problems = [p for page in pages for p in _check_page(browser, folder, page)]
    assert not problems, "\n".join(problems[:40])
    assert len(list((folder / "checks").glob("*.png"))) == len(pages)


def test_the_first_screen_of_the_default_report_is_the_summary_without_synthetic_figures(
        reports, browser):
    folder = reports["default"]
    width, height = FIRST_SCREEN
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    browser.get((folder / "index.html").as_uri())
    inner = browser.execute_script("return window.innerHeight")
    table = browser.find_element("css selector", "table.cpstats")
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", table)
    assert bottom <= inner, f"the summary ends at {bottom}px, below the first screen ({inner}px)"
    first_screen = browser.execute_script("""
        return Array.from(document.querySelectorAll('body *'))
          .filter(e => e.children.length === 0 && e.getBoundingClientRect().top < innerHeight)
          .map(e => e.innerText || '').join(' ');""")
    assert "Children on a plan per 10,000" in first_screen
    assert "synthetic" not in first_screen.lower()
    (folder / "checks").mkdir(exist_ok=True)
    browser.save_screenshot(str(folder / "checks" / "index_first_screen.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_workbook_matches_the_csvs_and_says_what_is_synthetic(reports):
    from openpyxl import load_workbook

    for which, folder in reports.items():
        book = load_workbook(folder / "tables.xlsx")
        csvs = sorted(p.stem for p in (folder / "tables").glob("*.csv"))
        assert book.sheetnames == ["contents", "notes", *csvs], which
        notes = {r[0].value: str(r[1].value) for r in book["notes"].iter_rows(min_row=2)}
        assert {"Source and vintage", "Synthetic data", "Suppression"} <= set(notes)
        assert notes["Synthetic data"].startswith("Yes" if which == "default" else "No")
        contents = {r[0]: r[2] for r in book["contents"].iter_rows(values_only=True)}
        synthetic = [s for s in csvs if contents[s] == "synthetic"]
        assert bool(synthetic) == (which == "default")
        for sheet in synthetic:
            assert "SYNTHETIC" in str(book[sheet]["A1"].value)
        for sheet in csvs:
            ws = book[sheet]
            assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
            # Text in data cells: labels and markers, never a number stored as text.
            stray = [c.coordinate for row in ws.iter_rows(min_row=3) for c in row
                     if isinstance(c.value, str) and re.fullmatch(r"-?[\d,.]+%?", c.value)]
            assert not stray, (which, sheet, stray[:5])


def test_another_council_carries_none_of_the_seed_report(reports):
    folder = reports["surrey"]
    results = pd.read_csv(folder / "results.csv", dtype=str)
    assert not (results["source"] == "report").any()
    for page in _pages(folder):
        text = page.read_text(encoding="utf-8")
        for phrase in SEED_PHRASES:
            assert phrase not in text, (page.name, phrase)


def test_no_build_path_reaches_the_outputs(reports):
    for folder in reports.values():
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".ipynb", ".csv"):
                text = path.read_text(encoding="utf-8", errors="replace")
                assert str(folder.parent) not in text and ".tmp" not in text, path.name


def test_checks_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "reports/x/2016-17/checks/a.png"],
                             cwd=Path(__file__).resolve().parents[1])
    assert ignored.returncode == 0 or shutil.which("git") is None
