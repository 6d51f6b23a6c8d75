"""Where a report is written while it runs, and how it leaves no trace when it fails.

A report ``<out>/<la>/<year>/`` is built in a sibling temporary folder ``.<year>.<random>.tmp``
and moved into place only when every notebook succeeded. While it runs, the writer holds an
exclusive lock (``.<year>.lock``, ``flock``), so a second run into the same folder is refused at
once, naming the run that holds it. Everything a run keeps on the side (the child-level
records read once for all its notebooks) lives inside that temporary folder, in a private
``.cache`` removed before the folder is installed, never in the system's temporary folder; so
do the temporary files of its worker processes and kernels (kernels' connection files among
them), in ``.cache/tmp`` (:func:`temporary_files_in`). A run killed outright (SIGKILL) leaves
its temporary folder behind: the next run into the same place holds the lock, so any such
folder is stale and is removed then.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cpstats.errors import ParameterError, display_path

CACHE = ".cache"
#: In a run's private cache: the temporary folder of its workers and kernels.
SCRATCH = "tmp"
#: Where Python (``tempfile``) and Jupyter (kernels' connection files) put temporary files.
TEMP_ENV = ("TMPDIR", "JUPYTER_RUNTIME_DIR")


class ReportLock:
    """An exclusive lock on one report folder (held from planning until it is installed)."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.with_name(f".{target.name}.lock")
        self._handle: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`ParameterError` naming the run that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 200).decode(errors="replace").strip() or "another run"
            os.close(handle)
            raise ParameterError("--out", display_path(self.target),
                                 f"a report folder no other cpstats run is writing; {holder} "
                                 "is writing it now (wait for it to finish)") from None
        os.ftruncate(handle, 0)
        os.write(handle, f"cpstats run {os.getpid()} started "
                         f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
        self._handle = handle

    def release(self) -> None:
        """Drop the lock and its file, and the LA's folder when the run left it empty."""
        if self._handle is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._handle)
        self._handle = None
        remove_if_empty(self.target.parent)

    def __enter__(self) -> ReportLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def remove_stale(target: Path) -> list[Path]:
    """Remove temporary folders of earlier runs into ``target`` that never finished (call only
    while holding its :class:`ReportLock`: then no live run owns them). Returns what went."""
    stale = [p for p in target.parent.glob(f".{target.name}.*.tmp") if p.is_dir()]
    stale += [p for p in target.parent.glob(f".{target.name}.old-*") if p.is_dir()]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def new_temporary(target: Path) -> Path:
    """A private temporary folder beside ``target`` for a run to build its report in, with
    its private cache inside."""
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    (temp / CACHE).mkdir(mode=0o700)
    return temp


def cache_of(temp: Path) -> Path:
    """The private cache folder of a run's temporary folder."""
    return temp / CACHE


@contextlib.contextmanager
def temporary_files_in(folder: Path | None) -> Iterator[None]:
    """Put this process's temporary files, and those of the processes it starts meanwhile
    (kernels), in ``folder`` while the block runs; as before when ``folder`` is ``None``.

    A worker killed with its run never removes the connection files of its kernels (written
    where ``tempfile`` says): made in the run's own folder, they go with it, when the next run
    removes it as stale.
    """
    if folder is None:
        yield
        return
    folder.mkdir(mode=0o700, exist_ok=True)
    saved = {name: os.environ.get(name) for name in TEMP_ENV}
    saved_tempdir = tempfile.tempdir  # tempfile keeps the folder it found first
    os.environ.update(dict.fromkeys(TEMP_ENV, str(folder)))
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` when nothing is left in it (a failed first run of an LA)."""
    try:
        folder.rmdir()
    except OSError:
        pass


def check_writable(root: Path) -> None:
    """Refuse an output root that cannot hold report folders, before anything runs: an existing
    file, a name too long for the file system, or a place where nothing can be written.

    Raises
    ------
    ParameterError
        Naming ``--out`` and what is wrong.
    """
    shown = display_path(root)
    limit = 255  # bytes in one name on the usual Linux file systems
    if any(len(part.encode()) > limit for part in root.parts) or len(str(root).encode()) > 4000:
        raise ParameterError("--out", shown[:80] + "...", f"folder names of at most {limit} bytes")
    if root.exists() and not root.is_dir():
        raise ParameterError("--out", shown, "a folder (this is an existing file)")
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError("--out", shown, f"a folder path ({display_path(existing)} is a file)")
    try:
        probe = Path(tempfile.mkdtemp(prefix=".cpstats-probe-", dir=existing))
        probe.rmdir()
    except OSError as error:
        raise ParameterError("--out", shown, f"a folder cpstats can write to "
                             f"({error.strerror or error})") from None


def new_published_cache(root: Path) -> Path:
    """A folder under the output root for the published facts a batch shares (no child-level
    data), named by this process (:func:`published_cache`); those of processes that no longer
    run are removed first."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(".cpstats-published.*.tmp"):
        pid = old.name.split(".")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = published_cache(root)
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def published_cache(root: Path) -> Path:
    """The name of this process's folder of published facts under ``root`` (made or not)."""
    return root / f".cpstats-published.{os.getpid()}.tmp"


@contextlib.contextmanager
def interrupt_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that lands in the block until the block has ended, then raise
    it (:class:`KeyboardInterrupt`): what the block sets up, swaps or removes is done whole.

    Only in the main thread and while Python's own handler is in place (a SIGINT ignored by
    the shell that started the run stays ignored).
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda number, _frame: held.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
