"""The report runner: papermill executes every theme notebook for each (LA, year)
into a temporary folder, which replaces ``reports/<la>/<year>/`` only when every
notebook succeeded.

Stages for one run: execute the notebooks (in parallel worker processes, one
kernel each), export HTML (for readers without code, for analysts with it),
then assemble ``results.csv``, ``tables.xlsx`` and ``index.html`` and move the
folder into place. Every parameter is checked before any notebook starts.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cpstats import runfolder
from cpstats.errors import ParameterError, display_path
from cpstats.kernel import DISPLAY_NAME, KERNEL, THREAD_ENV, ensure_kernel
from cpstats.paths import NOTEBOOKS_DIR, REPORTS_DIR

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: Kernels keep no history: parameters (paths of a council's returns) never reach IPython's
#: history database.
KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]


@dataclass(frozen=True, eq=False)
class Run:
    """One report to produce: an LA, a year, its folder and the notebooks' parameters."""

    la_code: str
    la_name: str
    year: int
    out_dir: Path
    parameters: dict[str, object]
    force: bool = False
    #: Already complete for the same inputs (``--resume``): planned but not run again.
    done: bool = False
    #: The child-level records read and checked by :func:`plan`, handed to the notebooks
    #: through the run's cache (never read twice, never after a notebook has started).
    child_level: object = field(default=None, repr=False)

    @property
    def label(self) -> str:
        from cpstats.periods import year_label

        return f"{self.la_name} ({self.la_code}) {year_label(self.year)}"


@dataclass
class Outcome:
    """What happened to one run."""

    run: Run
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def usable_cores() -> int:
    """Cores this process may use (respects CPU affinity, unlike ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def find_notebooks(notebooks_dir: Path | None = None) -> list[Path]:
    """The theme notebooks (``NN_name.ipynb``), in order."""
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    found = sorted(folder.glob(NOTEBOOK_GLOB))
    if not found:
        raise ParameterError("notebooks", display_path(folder), f"a folder with {NOTEBOOK_GLOB}")
    return found


# -- planning: every check happens here, before any notebook starts ---------------------------
def plan(las: Sequence[str] | None = None, years: Sequence[str | int] | None = None, *,
         dfe_dir: str | Path | None = None, cin_census: Sequence[str | Path] | None = None,
         population_dir: str | Path | None = None, service: str | Path | None = None,
         annex_a: str | Path | None = None, out: str | Path | None = None, force: bool = False,
         resume: bool = False) -> list[Run]:
    """Resolve and check the parameters of a report (or a batch) without running anything.

    Parameters
    ----------
    las
        LA numbers or names, or ``["all"]``; ``None`` for the default (Buckinghamshire).
    years
        Years ending 31 March (``2017`` or ``"2016-17"``), or ``["all"]`` for every year the
        data hold for each LA; ``None`` for the default (2016-17).
    dfe_dir, cin_census, population_dir
        Inputs; ``None`` uses the data shipped in ``data/``.
    service
        A service settings CSV (chair FTE, caseload target) for the LA.
    annex_a
        An Ofsted Annex A workbook for the LA, read and checked here; without ``years`` the
        report is for the year holding its extract date.
    out
        Root folder of the reports (default ``reports/``); each run writes ``<out>/<la>/<year>/``.
    force
        Replace an existing report folder.
    resume
        Plan an existing folder that is complete for the same inputs (:func:`inputs_stamp`) as
        ``done``: it is kept, not run again.

    Returns
    -------
    list of Run

    Raises
    ------
    ParameterError
        For an unknown LA, a year without data, a missing input or an existing report without
        ``force``.
    """
    from cpstats import geography, inputs
    from cpstats.defaults import DEFAULT_LA
    from cpstats.periods import parse_year, period_year, year_label

    if (cin_census or annex_a) and las and (len(las) != 1 or str(las[0]).lower() == "all"):
        raise ParameterError("--la", ",".join(map(str, las)),
                             "one LA when --cin-census or --annex-a is given")
    one = las and str(las[0]).lower() != "all"
    la_code = geography.la_code(las[0]) if one else DEFAULT_LA
    base = inputs.resolve(la_code, None, dfe_dir, cin_census, population_dir, service, annex_a)
    if base.annex_a is not None:  # read and checked now: bad input stops before any notebook
        base.annex_a = base.annex_a.resolve()
        inputs.read_annex_a(base.annex_a, la_code)
    records = None
    if base.cin_census:  # the same: a bad return is exit 2 here, not a notebook failing later
        base.cin_census = [p.resolve() for p in base.cin_census]
        records = inputs.load_child_level(base)
    every_year = bool(years) and any(str(y).lower() == "all" for y in years)
    year_list = (sorted({parse_year(y) for y in years}) if years and not every_year
                 else [base.year])
    base.dfe_dir = base.dfe_dir.resolve() if base.dfe_dir else None
    base.population_dir = base.population_dir.resolve() if base.population_dir else None
    facts = inputs.all_published(base.dfe_dir, base.population_dir)
    stock = facts[(facts["measure"] == "cp_plans_at_31_march") & (facts["breakdown"] == "total")
                  & (facts["geography_level"] == "local_authority")]
    stock = stock.assign(_year=period_year(stock["period"]))
    available = stock.groupby("geography_code")["_year"].agg(lambda s: sorted(set(s.dropna())))
    if every_year:
        year_list = sorted({int(y) for years_had in available for y in years_had})
    if las and any(str(la).lower() == "all" for la in las):
        codes = sorted(available.index)
    else:
        codes = [geography.la_code(la) for la in (las or [DEFAULT_LA])]
    root = Path(out) if out else REPORTS_DIR
    runfolder.check_writable(root)
    runs: list[Run] = []
    for code in dict.fromkeys(codes):
        name = geography.la_name(code)
        for year in year_list:
            have = available.get(code, [])
            if not have and not (las and str(las[0]).lower() == "all"):
                where = (display_path(base.dfe_dir) if base.dfe_dir else
                         "the shipped reference extract (Buckinghamshire, its region and "
                         "statistical neighbours)")
                raise ParameterError("--la", f"{name} ({code})",
                                     f"an LA with published figures in {where}; pass --dfe-dir "
                                     "with a DfE release for other LAs")
            if year not in have:
                if every_year or (las and str(las[0]).lower() == "all"):
                    continue
                shown = ", ".join(year_label(int(y)) for y in have) or "none"
                raise ParameterError("--year", year_label(year),
                                     f"a year with published figures for {name} ({code}): {shown}")
            folder = root / geography.la_slug(code) / year_label(year)
            done = resume and folder.exists() and stamp(folder) == inputs_stamp(parameters_of(
                code, year, base))
            if folder.exists() and not force and not done:
                raise ParameterError("--out", display_path(folder),
                                     "a folder that does not exist yet (use --force to replace it)")
            runs.append(Run(code, name, year, folder.resolve(), parameters_of(code, year, base),
                            force, done, records))
    if not runs:
        raise ParameterError("--year", ",".join(year_label(y) for y in year_list),
                             "a year with published figures for at least one LA")
    return runs


def parameters_of(code: str, year: int, base: object) -> dict[str, object]:
    """The notebooks' parameters for one LA and year from the resolved inputs ``base``."""
    from cpstats.periods import year_label

    parameters: dict[str, object] = {"la": code, "year": year_label(year)}
    for key in ("dfe_dir", "population_dir", "service", "annex_a"):
        value = getattr(base, key)
        if value is not None:
            parameters[key] = str(Path(value).resolve())
    if base.cin_census:  # type: ignore[attr-defined]
        parameters["cin_census"] = [str(p.resolve()) for p in base.cin_census]  # type: ignore[attr-defined]
    return parameters


#: In a finished report folder: what it was built from (hashes only, no path), for --resume.
STAMP_FILE = ".cpstats-inputs"


def inputs_stamp(parameters: dict[str, object]) -> str:
    """A hash of everything a report is built from: LA, year, the bytes of every input file
    (:func:`cpstats.release_cache.release_key`, which covers cpstats' code too), the service
    settings and CIN Census returns."""
    import hashlib

    from cpstats import release_cache

    dfe, population = (Path(str(parameters[k])) if k in parameters else None
                       for k in ("dfe_dir", "population_dir"))
    digest = hashlib.sha256(f"{parameters['la']}|{parameters['year']}|".encode())
    digest.update(release_cache.release_key(dfe, population).encode())
    extra = [parameters.get("service"), *parameters.get("cin_census", [])]  # type: ignore[misc]
    for path in filter(None, extra):
        files = [Path(path)] if Path(path).is_file() else sorted(Path(path).rglob("*"))
        for file in (f for f in files if f.is_file()):
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def write_stamp(folder: Path, run: Run) -> None:
    """Mark a finished report folder with its LA, year and :func:`inputs_stamp` (JSON)."""
    import json

    (folder / STAMP_FILE).write_text(json.dumps({
        "la": run.la_code, "year": str(run.parameters["year"]),
        "inputs": inputs_stamp(run.parameters)}) + "\n", encoding="utf-8")


def read_stamp(folder: Path) -> dict[str, str]:
    """What :func:`write_stamp` left in ``folder`` (empty when there is none)."""
    import json

    try:
        return json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stamp(folder: Path) -> str | None:
    """The inputs stamp a finished report folder carries, if any."""
    return read_stamp(folder).get("inputs")


# -- executing notebooks in worker processes ------------------------------------------------
def _execute(notebook: str, output: str, parameters: dict[str, object], kernel: str,
             export_html: bool, cache: str | None = None,
             published: str | None = None) -> dict[str, float]:
    """Worker: execute one notebook with papermill (retrying a kernel that fails to start once),
    then export its HTML. ``cache`` is the run's shared cache folder, passed to the kernel in
    its environment. Returns stage timings in seconds."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from cpstats.inputs import PUBLISHED_CACHE_ENV, RUN_CACHE_ENV

    os.environ.update(THREAD_ENV)
    for name, value in ((RUN_CACHE_ENV, cache), (PUBLISHED_CACHE_ENV, published)):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    _quiet_kernels()
    timings: dict[str, float] = {}
    scratch = Path(cache) / runfolder.SCRATCH if cache else None
    with runfolder.temporary_files_in(scratch):  # kernels' connection files go with the run
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                # Written once at the end, not after every cell: a notebook of charts is a
                # megabyte or more, and saving it twice per cell cost seconds per report. A
                # failed run's notebook is thrown away with its folder anyway.
                papermill.execute_notebook(notebook, output, parameters=parameters,
                                           kernel_name=kernel, progress_bar=False,
                                           log_output=False, cwd=str(Path(notebook).parent),
                                           request_save_on_cell_execute=False,
                                           start_timeout=120, extra_arguments=KERNEL_ARGUMENTS)
                break
            except PapermillExecutionError:
                raise
            except Exception as error:  # a kernel that failed to start or died: retry once
                if attempt == 2 or not _kernel_failure(error):
                    raise
        timings["execute"] = time.perf_counter() - started
        scrub_parameters(Path(output))
        if export_html:
            started = time.perf_counter()
            export_notebook_html(Path(output))
            timings["html"] = time.perf_counter() - started
    return timings


def scrub_parameters(executed: Path) -> None:
    """Keep no local path in an executed notebook: the parameters papermill injected (input
    files, the build folder) are shown by file or folder name only, in the cell and in the
    notebook's metadata."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    papermill = notebook.metadata.get("papermill", {})
    # output_dir is the build's temporary folder: the report folder itself once installed.
    shown = {k: "." if k == "output_dir" else _shown(v)
             for k, v in papermill.get("parameters", {}).items()}
    for key in ("input_path", "output_path"):
        if key in papermill:
            papermill[key] = _shown(papermill[key])
    papermill["parameters"] = shown
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = "# Parameters of this run (local paths shown by name only)\n" + "\n".join(
                f"{k} = {v!r}" for k, v in shown.items())
    nbformat.write(notebook, executed)


def _page_title(executed: Path) -> str:
    """A theme page's title: its first heading, then the LA and year of the run."""
    import nbformat

    from cpstats import geography, pages

    heading = pages.notebook_heading(executed)
    parameters = nbformat.read(executed, as_version=4).metadata.get("papermill", {}).get(
        "parameters", {})
    if parameters.get("la") and parameters.get("year"):
        return f"{heading} - {geography.la_name(str(parameters['la']))} {parameters['year']}"
    return heading


def _shown(value: object) -> object:
    """A parameter as an output may show it: a path by its last part, ``None`` for the build
    folder (``output_dir``)."""
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, str) and os.sep in value:
        return Path(value).name
    return value


def _quiet_kernels() -> None:
    """Send this worker's stderr (and so its kernels' start-up chatter) to the null device: the
    run's one progress bar owns the terminal, and cell errors come back as exceptions."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _kernel_failure(error: BaseException) -> bool:
    text = f"{type(error).__name__}: {error}".lower()
    return any(word in text for word in ("kernel", "timeout", "zmq", "died"))


def export_notebook_html(executed: Path) -> list[Path]:
    """``<name>.html`` without code (for readers) and ``<name>_with_code.html`` (for analysts):
    self-contained pages (no CDN) titled by the notebook's first heading, with the report's
    navigation bar, a banner when built from synthetic records, and alt text on every chart."""
    import nbformat

    from cpstats import pages

    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata["title"] = _page_title(executed)
    item = pages.read_meta(executed.parent, "page").get(executed.stem)
    links = pages.page_links([p.stem for p in find_notebooks()])
    written = []
    for suffix, hide in (("", True), ("_with_code", False)):
        shown = pages.without_empty_sections(copy.deepcopy(notebook)) if hide else notebook
        body, _ = _html_exporter(hide).from_notebook_node(shown, resources={
            "cpstats_css": pages.NAV_CSS,
            "cpstats_nav": pages.nav_bar(links, f"{executed.stem}.html" if hide else ""),
            "cpstats_banner": pages.synthetic_banner() if item and item.synthetic else ""})
        path = executed.with_name(f"{executed.stem}{suffix}.html")
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written


@functools.cache
def _html_exporter(hide: bool):  # noqa: ANN202 -- nbconvert's HTMLExporter (import kept lazy)
    """The page exporter, with code (``hide`` false) or without: made once per process, so its
    templates are compiled once rather than for every page."""
    from nbconvert import HTMLExporter

    template = Path(__file__).parent / "resources" / "cpstats_page.html.j2"
    return HTMLExporter(exclude_input=hide, exclude_input_prompt=hide, exclude_output_prompt=hide,
                        template_file=template.name, extra_template_paths=[str(template.parent)])


def _describe(error: BaseException, notebook: Path) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        cell = error.exec_count if error.exec_count is not None else error.cell_index
        return f"notebook {notebook.name} failed in cell {cell}: {error.ename}: {error.evalue}"
    return f"notebook {notebook.name} could not run: {type(error).__name__}: {error}"


def execute(runs: Sequence[Run], notebooks: Sequence[Path], jobs: int | None = None,
            progress: bool = True, kernel: str = KERNEL, executor: str = "local",
            scheduler: str | None = None) -> list[Outcome]:
    """Execute every notebook of every run, then assemble and install each run's folder.

    A run whose notebooks all succeeded replaces its folder; a failed run leaves any earlier
    report untouched and no partial folder. Returns one :class:`Outcome` per run. ``kernel``
    is used when it runs this interpreter; otherwise one that does is found or registered
    (:func:`cpstats.kernel.ensure_kernel`). ``executor`` is ``local`` (a process pool of
    ``jobs`` workers) or ``dask`` (the scheduler at ``scheduler``, or a ``LocalCluster`` of
    ``jobs`` workers): :mod:`cpstats.executors`. The longest notebooks start first.
    """
    from tqdm import tqdm

    from cpstats import executors

    executors.check(executor, scheduler)
    every = list(runs)
    runs = [run for run in every if not run.done]
    if not runs:
        return [Outcome(run) for run in every]
    os.environ.update(THREAD_ENV)
    kernel = ensure_kernel(kernel)
    jobs = jobs or usable_cores()
    outcomes = {run: Outcome(run) for run in every}
    temps: dict[Run, Path] = {}
    caches: dict[Run, Path] = {}
    locks: list[runfolder.ReportLock] = []
    root = runs[0].out_dir.parent.parent
    bar = tqdm(total=len(runs) * len(notebooks), desc="cpstats report", unit="notebook",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    # From here on an interrupt (Ctrl-C) or a failure leaves no lock or temporary folder behind.
    try:
        with runfolder.interrupt_deferred():  # set up whole (then interrupted, if it was)
            locks += _lock_all(runs)
            for run in runs:
                runfolder.remove_stale(run.out_dir)
                temps[run] = runfolder.new_temporary(run.out_dir)
                # Private (mode 0700), inside the run's own folder: it may hold child-level
                # records.
                caches[run] = runfolder.cache_of(temps[run])
                if run.child_level is not None:  # read by plan(): the notebooks take it here
                    from cpstats.inputs import store_cached

                    store_cached(caches[run], "child_level", run.child_level)
            published = runfolder.new_published_cache(root)

        def finish(run: Run, timings: dict[str, float], error: str | None) -> None:
            outcome = outcomes[run]
            outcome.timings.update(timings)
            outcome.error = outcome.error or error
            shutil.rmtree(caches[run], ignore_errors=True)
            _complete(outcome, temps[run], notebooks)
            if not outcome.ok and len(every) > 1:  # said now: a batch's summary is hours away
                bar.write(f"FAILED  {run.label}: {outcome.error}", file=sys.stderr)

        batch = executors.Batch(runs, longest_first(notebooks), kernel, temps, caches,
                                published, finish, lambda: bar.update(1), _execute, _export,
                                _describe)
        _write_published(runs, published)
        warm_assembly()
        executors.run(executor, batch, jobs, scheduler)
    finally:
        with runfolder.interrupt_deferred():  # a second Ctrl-C does not stop the clean-up
            bar.close()
            _clean_up([*temps.values(), runfolder.published_cache(root)], locks)
    record_durations([outcomes[run] for run in runs if outcomes[run].ok])
    return [outcomes[run] for run in every]


#: What :func:`assemble` imports (nbformat alone builds dozens of grammars for jsonschema).
ASSEMBLY_MODULES = ("nbformat", "openpyxl", "openpyxl.styles", "openpyxl.worksheet.hyperlink",
                    "cpstats.comparison", "cpstats.pages", "cpstats.themes.base",
                    "cpstats.workbook")


def warm_assembly() -> None:
    """Import :data:`ASSEMBLY_MODULES` in a background thread while the notebooks run: this
    process only waits for them then, and the first report's assembly (after its last
    notebook, so on every report's critical path) no longer starts with seconds of imports."""
    import importlib
    import threading

    def load() -> None:
        for name in ASSEMBLY_MODULES:
            try:
                importlib.import_module(name)
            except ImportError:  # assemble() says so itself, with its own message
                return

    threading.Thread(target=load, name="cpstats-warm-assembly", daemon=True).start()


#: Seconds each notebook took in the last successful runs (``execute:<stem>``), in the cache
#: folder: the runner starts the longest first, so the last to finish is not a long one.
DURATIONS_FILE = "notebook_seconds.json"


def longest_first(notebooks: Sequence[Path]) -> list[Path]:
    """The notebooks, longest first by the durations recorded; unknown ones first of all, then
    in name order."""
    import json

    from cpstats.release_cache import cache_root

    try:
        seconds = json.loads((cache_root() / DURATIONS_FILE).read_text())
    except (OSError, ValueError):
        seconds = {}
    return sorted(notebooks, key=lambda n: (n.stem in seconds, -float(seconds.get(n.stem, 0))))


def record_durations(outcomes: Sequence[Outcome]) -> None:
    """Keep each notebook's mean execution time over ``outcomes`` for :func:`longest_first`."""
    import json

    from cpstats.release_cache import cache_root

    times: dict[str, list[float]] = {}
    for outcome in outcomes:
        for key, seconds in outcome.timings.items():
            if key.startswith("execute:"):
                times.setdefault(key.split(":", 1)[1], []).append(seconds)
    if not times:
        return
    try:
        cache_root().mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=cache_root(), suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump({k: round(sum(v) / len(v), 2) for k, v in times.items()}, out)
        os.replace(tmp, cache_root() / DURATIONS_FILE)
    except OSError:
        pass  # no cache folder: notebooks run in name order


def _lock_all(runs: Sequence[Run]) -> list[runfolder.ReportLock]:
    """Lock every run's folder, or none: a folder another run is writing is refused at once,
    and so is one that appeared since planning (unless ``--force``)."""
    locks: list[runfolder.ReportLock] = []
    try:
        for run in runs:
            lock = runfolder.ReportLock(run.out_dir)
            lock.acquire()
            locks.append(lock)
            if run.out_dir.exists() and not run.force:
                raise ParameterError("--out", display_path(run.out_dir),
                                     "a folder that does not exist yet (use --force to replace it)")
    except BaseException:
        _clean_up([], locks)
        raise
    return locks


def _clean_up(folders: Sequence[Path] | object, locks: Sequence[runfolder.ReportLock]) -> None:
    for folder in folders:  # type: ignore[attr-defined]
        shutil.rmtree(folder, ignore_errors=True)
    for lock in locks:
        lock.release()


def _write_published(runs: Sequence[Run], folder: Path) -> None:
    """Leave the published facts each distinct set of inputs gives (already read by
    :func:`plan`) in ``folder`` for the notebooks."""
    from cpstats import inputs as run_inputs

    seen = set()
    for run in runs:
        inputs = tuple(Path(run.parameters[k]) if k in run.parameters else None
                       for k in ("dfe_dir", "population_dir"))
        if inputs in seen:
            continue
        seen.add(inputs)
        path = run_inputs.published_cache_path(folder, *inputs)
        run_inputs.all_published(*inputs).to_pickle(path)


def _export(executed: str) -> dict[str, float]:
    """HTML of an executed notebook (on a thread of the runner's own process: nbconvert writes
    no temporary file); returns its timing."""
    started = time.perf_counter()
    export_notebook_html(Path(executed))
    return {"html": time.perf_counter() - started}


def _complete(outcome: Outcome, temp: Path, notebooks: Sequence[Path]) -> None:
    """Assemble a finished run and move it into place; on any failure leave the old folder."""
    if outcome.ok:
        started = time.perf_counter()
        try:
            assemble(temp, outcome.run, notebooks)
            write_stamp(temp, outcome.run)
            install(temp, outcome.run.out_dir)
        except Exception as error:  # noqa: BLE001 -- becomes the run's message
            outcome.error = f"assembling the report failed: {type(error).__name__}: {error}"
        outcome.timings["assemble"] = time.perf_counter() - started
    shutil.rmtree(temp, ignore_errors=True)


def install(temp: Path, target: Path) -> None:
    """Move a finished report folder into place, replacing ``target`` only at the last moment."""
    from cpstats.results import current_umask

    os.chmod(temp, 0o777 & ~current_umask())  # mkdtemp's 0700 would hide it from colleagues
    backup = None
    with runfolder.interrupt_deferred():  # never the earlier report set aside and no new one
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        try:
            os.replace(temp, target)
        except OSError:
            if backup is not None:
                os.replace(backup, target)
            raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# -- assembling a report folder ------------------------------------------------------------
def assemble(folder: Path, run: Run, notebooks: Sequence[Path]) -> None:
    """Write ``results.csv``, ``tables.xlsx`` and ``index.html`` from what the notebooks wrote."""
    from cpstats import pages, workbook
    from cpstats.results import merge, read_results, write_csv_atomic

    parts = sorted((folder / "results").glob("*.csv"))
    results = merge(read_results(p) for p in parts)
    write_csv_atomic(results, folder / "results.csv")
    shutil.rmtree(folder / "results", ignore_errors=True)
    context = pages.write_pages(folder, run, results, notebooks)
    workbook.write_workbook(
        sorted((folder / "tables").glob("*.csv")), folder / "tables.xlsx",
        notes=workbook.notes(context),
        info={k: workbook.SheetInfo(i.title.rstrip(":"), i.synthetic)
              for k, i in pages.read_meta(folder, "table").items()})
    shutil.rmtree(folder / "meta", ignore_errors=True)


def summary(outcomes: Sequence[Outcome]) -> str:
    """One line per run: where it went, or why it failed."""
    lines = []
    for outcome in outcomes:
        if outcome.ok and outcome.run.done:
            lines.append(f"kept    {outcome.run.label}: complete for the same inputs (--resume)")
        elif outcome.ok:
            lines.append(f"ok      {outcome.run.label}: {display_path(outcome.run.out_dir)}")
        else:
            lines.append(f"FAILED  {outcome.run.label}: {outcome.error}")
    failed = sum(not o.ok for o in outcomes)
    if len(outcomes) > 1 or failed:
        lines.append(f"{len(outcomes) - failed} of {len(outcomes)} reports written"
                     + (f", {failed} failed" if failed else ""))
    return "\n".join(lines)


def refresh_notebook(notebook: Path, kernel: str = KERNEL) -> float:
    """Re-execute a stored notebook in place with its default parameters (what nbval compares).

    Runs in the notebook's folder, like nbval; records no timings, so an unchanged notebook
    gives an unchanged file. The stored metadata names the ``cpstats`` kernel whichever kernel
    for this interpreter ran it (:func:`cpstats.kernel.ensure_kernel`). Returns the seconds taken.

    Raises
    ------
    ParameterError
        Naming the notebook and cell when a cell fails (the stored file is left as it was).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    os.environ.update(THREAD_ENV)
    started = time.perf_counter()
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": DISPLAY_NAME,
                                 "language": "python"}
    client = NotebookClient(nb, kernel_name=ensure_kernel(kernel), timeout=1800, record_timing=False,
                            resources={"metadata": {"path": str(Path(notebook).parent)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise ParameterError("notebook", Path(notebook).name,
                             f"to run cleanly; it failed: {str(error).splitlines()[-1]}") from None
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    handle, tmp = tempfile.mkstemp(dir=Path(notebook).parent, suffix=".ipynb.tmp")
    os.close(handle)
    nbformat.write(nb, tmp)
    os.replace(tmp, notebook)
    return time.perf_counter() - started
