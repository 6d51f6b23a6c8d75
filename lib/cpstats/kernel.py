"""The Jupyter kernel the runner and ``cpstats notebooks refresh`` execute notebooks with.

A kernel named ``cpstats`` is used only when it runs this very interpreter
(``sys.executable``): a ``cpstats`` kernelspec left by another environment would run the
notebooks against other packages, or fail. When there is none (a plain ``pip install -e .``
or a conda environment: nothing registered it), one is registered in the environment's own
prefix (``sys.prefix/share/jupyter/kernels``), as ``make`` does with
``ipykernel install --sys-prefix``. When a foreign ``cpstats`` kernelspec shadows that one
(``JUPYTER_PATH`` or the user's folder come first), a kernel named
``cpstats-<hash of the interpreter path>`` is registered and used instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

#: The kernel the stored notebooks name in their metadata.
KERNEL = "cpstats"
DISPLAY_NAME = "Python (cpstats)"
#: One BLAS/OpenMP thread per kernel: deterministic floats and no oversubscription.
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def kernel_python(name: str) -> str | None:
    """The interpreter (``argv[0]``, as an absolute path where it can be found) of the kernel
    ``name`` as Jupyter would find it now; ``None`` when there is no such kernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return None
    if not spec.argv:
        return None
    program = spec.argv[0]
    if os.sep not in program:  # "python": looked up on PATH when the kernel starts
        program = shutil.which(program) or program
    return os.path.abspath(program)


def runs_this_python(program: str | None, executable: str | None = None) -> bool:
    """True when ``program`` is this interpreter: the same file, reached through the same
    folder. (A venv's ``bin/python`` is a link to the base interpreter, shared by every venv
    made from it, so the folder counts, not only the file it resolves to.)"""
    if not program:
        return False
    here = os.path.abspath(executable or sys.executable)
    if os.path.normcase(program) == os.path.normcase(here):
        return True
    return (os.path.dirname(program) == os.path.dirname(here)
            and os.path.realpath(program) == os.path.realpath(here))


def ensure_kernel(name: str = KERNEL, *, prefix: str | None = None) -> str:
    """The name of a kernel that runs this interpreter, registering one if need be.

    Parameters
    ----------
    name
        The kernel wanted (``cpstats``). Used as it is when it runs ``sys.executable``.
    prefix
        Where to register a missing kernel; default ``sys.prefix`` (the environment's own
        ``share/jupyter/kernels``). When that is not writable, the user's Jupyter data folder.

    Returns
    -------
    str
        ``name``, or ``<name>-<hash>`` when a kernel ``name`` for another interpreter comes
        first on Jupyter's path.
    """
    if runs_this_python(kernel_python(name)):
        return name
    _register(name, prefix)
    if runs_this_python(kernel_python(name)):
        return name
    # Another interpreter's kernel of that name comes first on Jupyter's path: keep it, and
    # use one named for this interpreter.
    own = f"{name}-{hashlib.sha256(sys.executable.encode()).hexdigest()[:8]}"
    if not runs_this_python(kernel_python(own)):
        _register(own, prefix)
    if not runs_this_python(kernel_python(own)):
        raise RuntimeError(f"could not register a Jupyter kernel for {sys.executable}")
    return own


def _register(name: str, prefix: str | None) -> None:
    """Install a kernelspec for ``sys.executable`` named ``name`` in ``prefix``; when that is
    read-only, in the user's Jupyter folder unless a kernel of that name is already there
    (another environment's, left alone)."""
    from jupyter_core.paths import jupyter_data_dir

    target = prefix or sys.prefix
    try:
        Path(target, "share", "jupyter", "kernels").mkdir(parents=True, exist_ok=True)
        _install(name, prefix=target)
    except PermissionError:
        if not Path(jupyter_data_dir(), "kernels", name).exists():
            _install(name, user=True)
    except OSError:  # another process registering the same kernel at the same moment
        pass


def _install(name: str, *, prefix: str | None = None, user: bool = False) -> None:
    """What ``ipykernel.kernelspec.install`` does, staged in a folder this function owns and
    removes: ``install`` stages the spec in a ``tmp*_kernels`` folder of the system's temporary
    folder and removes only the spec inside it, leaving one empty folder per registration."""
    import platform
    import tempfile

    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    # As install() does on CPython: no frozen modules, so the debugger can step into them.
    arguments = ["-Xfrozen_modules=off"] if platform.python_implementation() == "CPython" else None
    with tempfile.TemporaryDirectory(prefix="cpstats-kernelspec-") as staging:
        spec = write_kernel_spec(Path(staging, name), overrides={"display_name": DISPLAY_NAME},
                                 python_arguments=arguments)
        KernelSpecManager().install_kernel_spec(spec, kernel_name=name, user=user, prefix=prefix)
