"""Where a batch of reports runs: ``local`` (a process pool on this machine, the default) or
``dask`` (Dask distributed: a scheduler given by address, or a ``LocalCluster`` started here).

Both run the release-level work (:func:`prepare_years`: what is the same for
every LA of a release) as one task first, unless the cache already holds it, and hand each
finished report to :attr:`Batch.finish`, which assembles it and moves it into place on this
(the client's) side. Nothing is installed for a report unless every one of its notebooks
succeeded.

- ``local`` runs each notebook as its own task (so one report uses every core) and exports
  its HTML on a thread of this process (which only waits otherwise: the workers go straight on
  to the next notebook, and nbconvert's templates are compiled once, not in every worker);
  the notebooks of the themes with release-level work wait for the release task.
- ``dask`` runs each report as one task (its notebooks one after another in a private folder
  on the worker) depending on the release task; the worker sends the report's files back, and
  a task whose worker died is retried (:data:`DASK_RETRIES`) or reported, never half-written.
  Workers must see the input files at the same paths as the client (the same machine or a
  shared file system) and have cpstats installed.

Either way the DfE release is read once per batch, by the client while planning: the release
task and every notebook take the published facts from the batch's folder of them
(:attr:`Batch.published`; a worker that cannot see it reads the release itself).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from pathlib import Path

from cpstats.errors import ParameterError

NAMES = ("local", "dask")
#: Times a Dask report task is run again after its worker died (then it is reported as failed).
DASK_RETRIES = 2
#: Themes whose notebooks wait for the release-level task.
RELEASE_THEMES = ("forecasting", "pipeline")


@dataclass
class Batch:
    """Everything an executor needs: the runs and notebooks, the kernel, each run's temporary
    folder and private cache, the published-facts folder, and what to call per run.

    Attributes
    ----------
    finish
        ``finish(run, timings, error)`` once per run, when its last task ended: records the
        timings and error, then assembles and installs the report (or not, on error).
    tick
        Called once per notebook done (the progress bar).
    execute, export, describe
        The runner's workers (:func:`cpstats.report._execute`, ``_export``, ``_describe``),
        handed in so this module never imports the runner that imports it; ``export`` runs in
        this process.
    """

    runs: Sequence
    notebooks: Sequence[Path]
    kernel: str
    temps: dict
    caches: dict
    published: Path
    finish: Callable[[object, dict[str, float], str | None], None]
    tick: Callable[[], None]
    execute: Callable[..., dict[str, float]]
    export: Callable[[str], dict[str, float]]
    describe: Callable[[BaseException, Path], str]


def check(name: str, scheduler: str | None) -> None:
    """Refuse an unknown executor, a scheduler without Dask, or Dask not installed.

    Raises
    ------
    ParameterError
        Naming ``--executor`` or ``--scheduler``.
    """
    if name not in NAMES:
        raise ParameterError("--executor", name, f"one of {', '.join(NAMES)}")
    if scheduler and name != "dask":
        raise ParameterError("--scheduler", scheduler, "used with --executor dask only")
    if name == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ParameterError("--executor", name, "Dask installed: pip install -e '.[dask]' "
                                 "(with -c constraints.txt)") from None


def waits_for_release(notebook: Path) -> bool:
    """The notebook renders a theme with release-level work."""
    from cpstats.themes import NOTEBOOKS

    return any(notebook.stem == NOTEBOOKS[t] for t in RELEASE_THEMES)


def release_inputs(runs: Sequence) -> list[tuple[str | None, str | None, tuple[int, ...], str]]:
    """Release-level work still to do: (dfe_dir, population_dir, years, any LA) per release whose
    cache lacks a year of the batch."""
    from cpstats import release_cache

    todo: dict[tuple, tuple[set[int], str]] = {}
    for run in runs:
        key = (run.parameters.get("dfe_dir"), run.parameters.get("population_dir"))
        todo.setdefault(key, (set(), run.la_code))[0].add(run.year)
    jobs = []
    for (dfe, population), (years, la) in todo.items():
        missing = tuple(sorted(y for y in years if not release_cache.is_prepared(
            _path(dfe), _path(population), y)))
        if missing:
            jobs.append((dfe, population, missing, la))
    return jobs


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def prepare_years(dfe_dir: Path | None, population_dir: Path | None, years: Iterable[int],
                  la_code: str) -> dict[str, float]:
    """Compute the release-level work of every theme for ``years`` into the cache (the one task
    a batch's reports depend on). ``la_code`` is any LA of the release: the work does not
    depend on it. Returns seconds per year. (Here rather than in :mod:`cpstats.release_cache`,
    which the themes import.)"""
    from cpstats import release_cache
    from cpstats.inputs import resolve
    from cpstats.themes import benchmarking, forecasting, pipeline
    from cpstats.themes.base import ThemeData

    timings = {}
    for year in sorted(set(years)):
        started = time.perf_counter()
        data = ThemeData(resolve(la_code, year, dfe_dir=dfe_dir, population_dir=population_dir))
        for theme in (forecasting, pipeline, benchmarking):
            try:
                theme.release_level(data)
            except Exception:  # noqa: BLE001 -- each report computes it again and says why
                continue
        release_cache.mark_prepared(dfe_dir, population_dir, year)
        timings[str(year)] = time.perf_counter() - started
    return timings


def prepare_release(jobs: Sequence[tuple], published: str | None = None) -> dict[str, float]:
    """Task: the release-level work of :func:`release_inputs` into the cache; seconds taken.
    ``published`` is the batch's folder of published facts (:attr:`Batch.published`): the
    release is read from it rather than again."""
    from cpstats.inputs import PUBLISHED_CACHE_ENV
    from cpstats.kernel import THREAD_ENV

    os.environ.update(THREAD_ENV)
    if published:
        os.environ[PUBLISHED_CACHE_ENV] = published
    started = time.perf_counter()
    for dfe, population, years, la in jobs:
        try:
            prepare_years(_path(dfe), _path(population), years, la)
        except Exception:  # noqa: BLE001 -- never fails its reports: each computes what it lacks
            continue
    return {"release": time.perf_counter() - started}


# -- local: a process pool, one task per notebook -----------------------------------------------
def run_local(batch: Batch, jobs: int) -> None:
    """Run the batch on a process pool of ``jobs`` workers (each starts one kernel at a time).

    Notebooks are handed to the pool a few at a time in report order (each report's longest
    first), so reports finish one after another through a long batch rather than all at its
    end; the notebooks that use the release-level work wait for its task; a report that failed
    runs none of its remaining notebooks."""
    # spawn, not forkserver: a forkserver listens on a socket in a pymp-* folder of the system's
    # temporary folder, left there when the run is killed; spawned workers need no such file.
    context = multiprocessing.get_context("spawn")
    remaining = {run: 2 * len(batch.notebooks) for run in batch.runs}
    timings: dict = {run: {} for run in batch.runs}
    errors: dict = {run: None for run in batch.runs}
    queue = [(run, notebook) for run in batch.runs for notebook in batch.notebooks]
    with contextlib.ExitStack() as stack:
        exporter = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="cpstats-html"))
        # Interrupted or failed: the page being written is finished, no page waiting is begun.
        stack.callback(exporter.shutdown, wait=False, cancel_futures=True)
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs, mp_context=context))
        pending: dict[Future, tuple[str, object, Path | None]] = {}
        todo = release_inputs(batch.runs)
        waiting = bool(todo) and any(waits_for_release(n) for n in batch.notebooks)
        if waiting:
            pending[pool.submit(prepare_release, todo, str(batch.published))] = (
                "release", None, None)

        def fill() -> None:
            """Keep one notebook queued behind those running (exports run on their thread)."""
            while queue and sum(s == "execute" for s, _, _ in pending.values()) < jobs + 1:
                ready = next((i for i, (_, n) in enumerate(queue)
                              if not (waiting and waits_for_release(n))), None)
                if ready is None:
                    return
                run, notebook = queue.pop(ready)
                if errors[run] is not None:  # the report failed: the rest would be wasted
                    remaining[run] -= 2
                    batch.tick()
                    if remaining[run] == 0:
                        batch.finish(run, timings[run], errors[run])
                    continue
                parameters = {**run.parameters, "output_dir": str(batch.temps[run])}
                future = pool.submit(batch.execute, str(notebook),
                                     str(batch.temps[run] / notebook.name), parameters,
                                     batch.kernel, False, str(batch.caches[run]),
                                     str(batch.published))
                pending[future] = ("execute", run, notebook)

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                stage, run, notebook = pending.pop(future)
                if stage == "release":
                    future.exception()  # a failure here only means each report computes it
                    waiting = False
                    continue
                remaining[run] -= 1
                try:
                    for name, seconds in future.result().items():
                        timings[run][name] = timings[run].get(name, 0.0) + seconds
                        timings[run][f"{name}:{notebook.stem}"] = seconds
                except Exception as error:  # noqa: BLE001 -- reported per run
                    errors[run] = errors[run] or batch.describe(error, notebook)
                if stage == "execute" and errors[run] is None:
                    export = exporter.submit(batch.export,
                                             str(batch.temps[run] / notebook.name))
                    pending[export] = ("html", run, notebook)
                else:
                    batch.tick()
                    remaining[run] -= stage == "execute"  # its export will never run
                if remaining[run] == 0:
                    batch.finish(run, timings[run], errors[run])
            fill()


# -- dask: one task per report -------------------------------------------------------------------
def report_task(notebooks: Sequence[str], parameters: dict, kernel: str, execute: Callable,
                describe: Callable, release: object = None, published: str | None = None
                ) -> tuple[dict[str, bytes], dict[str, float]]:
    """Task: every notebook of one report, one after another, in a private folder on the worker,
    with their HTML; returns the report's files (relative path -> bytes) and stage timings.
    ``execute`` and ``describe`` are the runner's (:class:`Batch`); ``release`` is the release
    task's result (only there to order the tasks); ``published`` is the batch's folder of
    published facts (:attr:`Batch.published`, read once by the client), so no notebook reads
    the DfE release again.

    Raises
    ------
    RuntimeError
        Naming the notebook and cell that failed.
    """
    from cpstats import runfolder
    from cpstats.kernel import ensure_kernel

    del release
    kernel = ensure_kernel(kernel)
    folder = Path(tempfile.mkdtemp(prefix="cpstats-report-", dir=_scratch()))
    cache = runfolder.cache_of(folder)
    cache.mkdir(mode=0o700)
    timings: dict[str, float] = {}
    try:
        for notebook in map(Path, notebooks):
            try:
                stages = execute(str(notebook), str(folder / notebook.name),
                                         {**parameters, "output_dir": str(folder)}, kernel, True,
                                         str(cache), published)
            except Exception as error:
                raise RuntimeError(describe(error, notebook)) from None
            for name, seconds in stages.items():
                timings[name] = timings.get(name, 0.0) + seconds
                timings[f"{name}:{notebook.stem}"] = seconds
        shutil.rmtree(cache)
        files = {str(p.relative_to(folder)): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        return files, timings
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch() -> str | None:
    """The Dask worker's own scratch folder (removed with the worker), else the default."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def run_dask(batch: Batch, jobs: int, scheduler: str | None) -> None:
    """Run the batch on Dask: the scheduler at ``scheduler``, or a ``LocalCluster`` of ``jobs``
    single-threaded worker processes started (and stopped) here."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # any free port, no warning
        client = Client(cluster)
    try:
        todo = release_inputs(batch.runs)
        if not any(waits_for_release(n) for n in batch.notebooks):
            todo = []  # no notebook of these reports uses it
        release = (client.submit(prepare_release, todo, str(batch.published), pure=False)
                   if todo else None)
        notebooks = [str(n) for n in batch.notebooks]
        futures = {client.submit(report_task, notebooks, run.parameters, batch.kernel,
                                 batch.execute, batch.describe, release, str(batch.published),
                                 pure=False,
                                 retries=DASK_RETRIES, key=_task_key(run)): run
                   for run in batch.runs}
        for future in as_completed(futures):
            run = futures[future]
            try:
                files, timings = future.result()
            except Exception as error:  # noqa: BLE001 -- a failed notebook or a lost worker
                for _ in batch.notebooks:
                    batch.tick()
                batch.finish(run, {}, _dask_error(error))
                continue
            for name, data in files.items():
                path = batch.temps[run] / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            for _ in batch.notebooks:
                batch.tick()
            batch.finish(run, timings, None)
        if release is not None:
            release.cancel()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _task_key(run: object) -> str:
    import uuid

    return f"cpstats-report-{run.la_code}-{run.year}-{uuid.uuid4().hex[:8]}"


def _dask_error(error: BaseException) -> str:
    if isinstance(error, RuntimeError) and str(error).startswith("notebook "):
        return str(error)
    name = type(error).__name__
    if name == "KilledWorker":
        return (f"its Dask worker died {DASK_RETRIES + 1} times running it "
                f"(KilledWorker); nothing of it was written")
    return f"the Dask task failed: {name}: {error}"


def run(name: str, batch: Batch, jobs: int, scheduler: str | None = None) -> None:
    """Run ``batch`` on the executor ``name`` (:data:`NAMES`)."""
    if name == "dask":
        run_dask(batch, jobs, scheduler)
    else:
        run_local(batch, jobs)
