"""``unafraid doctor``: where things live, BLAS threads, Jupyter kernels, load, and the data cache.

Each check is a small function returning facts (for tests) and, where something is
wrong, one warning that says what to do. :func:`run_doctor` prints them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["blas_info", "numpy_blas_pool", "jupyter_kernels", "kernel_runs_this_python",
           "busy_warning", "source_tree_warning", "run_doctor"]

#: Bare interpreter names that Jupyter replaces with the Python it runs from
#: (jupyter_client's ``KernelManager.format_kernel_cmd``).
_PYTHON_NAMES = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")


# ---- BLAS -----------------------------------------------------------------------------------
def numpy_blas_pool(pools: list[dict[str, Any]]) -> dict[str, Any]:
    """NumPy's own BLAS among those loaded (SciPy, numba or torch may load another one).

    ``threadpool_info`` lists libraries in the order the dynamic loader found them, which
    changes from run to run; NumPy's is the one under ``numpy/`` or its wheel's ``numpy.libs/``.
    """
    np_dir = Path(np.__file__).parent
    homes = (str(np_dir) + os.sep, str(np_dir.parent / "numpy.libs") + os.sep)
    mine = [p for p in pools if str(p.get("filepath", "")).startswith(homes)]
    return (mine or sorted(pools, key=lambda p: str(p.get("filepath", ""))))[0]


def blas_info() -> dict[str, Any]:
    """NumPy's BLAS: library, version, CPU kernel and threads (from threadpoolctl)."""
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return {"library": "none found by threadpoolctl", "threads": None}
    p = numpy_blas_pool(pools)
    return {"library": p.get("internal_api"), "version": p.get("version"),
            "kernel": p.get("architecture"), "threads": p.get("num_threads")}


def busy_warning(threads: int | None, load: float | None = None,
                 cores: int | None = None) -> str | None:
    """A warning when other programs keep the CPUs busy and BLAS would run several threads.

    Busy means the 1-minute load average is at least the number of cores minus one half
    (``os.getloadavg``; unavailable on Windows, where nothing is said). Several BLAS threads
    then wait for each other behind the other programs' work: training can be many times
    slower than with one thread.
    """
    cores = cores or os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows
            return None
    if load < cores - 0.5 or (threads is not None and threads <= 1):
        return None
    return (f"the machine is busy (load average {load:.1f} on {cores} cores) and BLAS runs "
            f"{threads or 'several'} threads: they will wait for the other programs and can make "
            f"training many times slower. Use one BLAS thread: start Python (or Jupyter) with "
            f"OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1, or in your code "
            f"`from threadpoolctl import threadpool_limits; threadpool_limits(1, 'blas')`.")


# ---- where unafraid comes from --------------------------------------------------------------
def _installed_location() -> tuple[Path | None, bool]:
    """Where pip installed unafraid (its package folder), and whether it is an editable install."""
    from importlib import metadata

    try:
        dist = metadata.distribution("unafraid")
    except metadata.PackageNotFoundError:
        return None, False
    direct = dist.read_text("direct_url.json")
    info = json.loads(direct) if direct else {}
    if info.get("dir_info", {}).get("editable") and info.get("url", "").startswith("file://"):
        from urllib.parse import unquote, urlparse
        return Path(unquote(urlparse(info["url"]).path)) / "unafraid", True
    return Path(str(dist.locate_file("unafraid"))), False


def source_tree_warning(imported: Path | None = None) -> str | None:
    """A warning when ``import unafraid`` found a source tree instead of the installed copy.

    That happens when Python runs from a clone's root (the current folder comes first on
    ``sys.path``): the code run is then the clone's, whatever pip installed.
    """
    import unafraid

    here = (imported or Path(unafraid.__file__).parent).resolve()
    installed, editable = _installed_location()
    if installed is not None and installed.resolve() == here:
        return None
    fix = ("Run from another folder (the current folder comes first on Python's path), or "
           "install this tree with `pip install -e .` from its root.")
    if installed is None:
        return (f"unafraid is imported from {here}, but it is not installed in this Python "
                f"({sys.executable}): it works only from that folder. Install it with "
                f"`{sys.executable} -m pip install .` (or -e . to develop).")
    kind = "an editable install of" if editable else "the installed copy in"
    return (f"unafraid is imported from the source tree {here}, not from {kind} "
            f"{installed}. {fix}")


# ---- Jupyter kernels ------------------------------------------------------------------------
def _kernel_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path(sys.prefix) / "share/jupyter/kernels", home / ".local/share/jupyter/kernels",
            home / "Library/Jupyter/kernels", Path("/usr/local/share/jupyter/kernels"),
            Path("/usr/share/jupyter/kernels")]
    if os.environ.get("APPDATA"):
        dirs.append(Path(os.environ["APPDATA"]) / "jupyter/kernels")
    if os.environ.get("JUPYTER_PATH"):
        dirs += [Path(p) / "kernels" for p in os.environ["JUPYTER_PATH"].split(os.pathsep) if p]
    return dirs


def jupyter_kernels() -> list[dict[str, str]]:
    """Installed Jupyter kernels: name, ``argv[0]`` (the Python they run), and the spec's path."""
    found, seen = [], set()
    for d in _kernel_dirs():
        if not d.is_dir():
            continue
        for spec in sorted(d.glob("*/kernel.json")):
            if spec.resolve() in seen:
                continue
            seen.add(spec.resolve())
            try:
                argv = json.loads(spec.read_text()).get("argv", [])
            except (OSError, ValueError):
                continue
            found.append({"name": spec.parent.name, "python": argv[0] if argv else "",
                          "spec": str(spec)})
    return found


def _environment(path: str | Path) -> tuple[str, str]:
    """The environment an interpreter belongs to: its virtual environment, else the file itself.

    A virtual environment's ``bin/python`` is a symlink to the base interpreter, so resolving
    the file alone would call every environment built on it the same Python.
    """
    p = Path(path)
    if (p.parent.parent / "pyvenv.cfg").is_file():
        return "venv", os.path.realpath(p.parent.parent)
    return "base", os.path.realpath(p)


def _same_python(path: str) -> bool:
    """Whether the interpreter at ``path`` is this one (same file, same environment)."""
    p = Path(path)
    return p.is_absolute() and p.exists() and _environment(p) == _environment(sys.executable)


def kernel_runs_this_python(kernel: dict[str, str]) -> bool:
    """Whether the kernel's ``argv[0]`` resolves to this Python.

    A bare ``python``/``python3``/``python3.X`` is replaced by Jupyter with the Python Jupyter
    itself runs from; in a spec inside this environment (``sys.prefix/share/jupyter/kernels``,
    where ``pip install ipykernel`` puts one) that is this environment's Python, which is how
    JupyterLab and VS Code use it. Other bare names are looked up on ``PATH``.
    """
    argv0 = kernel.get("python", "")
    if not argv0:
        return False
    if os.path.dirname(argv0) == "":
        spec_dir = Path(kernel.get("spec", "")).resolve().parent.parent
        if _PYTHON_NAMES.match(argv0) and \
                spec_dir == (Path(sys.prefix) / "share/jupyter/kernels").resolve():
            return True
        found = shutil.which(argv0)
        return found is not None and _same_python(found)
    return _same_python(argv0)


def kernel_advice(kernels: list[dict[str, str]]) -> tuple[str, bool]:
    """The Jupyter line of the report, and whether a kernel runs this Python."""
    mine = [k for k in kernels if kernel_runs_this_python(k)]
    if mine:
        names = ", ".join(f"'{k['name']}'" for k in mine)
        return (f"kernels that run this Python: {names} (notebooks using them can import "
                f"unafraid)"), True
    in_venv = sys.prefix != sys.base_prefix
    name = Path(sys.prefix).name if in_venv else "unafraid"
    if name.lstrip(".") in ("venv", "env"):  # .venv says nothing: use the project folder
        name = f"{Path(sys.prefix).parent.name}-venv"
    others = ", ".join(f"{k['name']} ({k['python'] or '?'})" for k in kernels) or "none found"
    return (f"NO kernel runs this Python (kernels: {others}). A notebook on another kernel cannot "
            f"import unafraid. Add one with:\n    {sys.executable} -m pip install ipykernel && "
            f"{sys.executable} -m ipykernel install --user --name {name} --display-name "
            f"\"Python ({name})\"\n  then pick \"Python ({name})\" in the notebook's kernel menu."), False


# ---- the report -----------------------------------------------------------------------------
def run_doctor(args: Any = None) -> int:
    """Print the report; warnings come last, each with its fix. Returns 0."""
    import unafraid

    from . import optimizers_fast
    from .datasets import cache_dir, cached
    from .datasets._fetch import data_env_report

    in_venv = sys.prefix != sys.base_prefix
    lines = [("Python", f"{platform.python_version()} at {sys.executable}"),
             ("Environment", (f"virtual environment {sys.prefix}" if in_venv else
                              f"no virtual environment (system Python at {sys.prefix})")),
             ("unafraid", f"{unafraid.__version__} at {Path(unafraid.__file__).parent}"),
             ("NumPy", f"{np.__version__} at {Path(np.__file__).parent}")]
    blas = blas_info()
    lines.append(("BLAS", ", ".join(f"{k} {v}" for k, v in blas.items() if v is not None)))
    lines.append(("CPU cores", str(os.cpu_count())))
    try:
        one, five, fifteen = os.getloadavg()
        lines.append(("Load average", f"{one:.1f} {five:.1f} {fifteen:.1f} (1, 5, 15 minutes)"))
    except (AttributeError, OSError):
        pass
    lines.append(("Accelerator", optimizers_fast.status()))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "OPENBLAS_CORETYPE"):
        if os.environ.get(var):
            lines.append((var, os.environ[var]))
    jupyter, _ = kernel_advice(jupyter_kernels())
    lines.append(("Jupyter", jupyter))
    for ds in ("mnist", "fashion_mnist"):
        lines.append((f"Data: {ds}", data_env_report(ds) or (
            f"cached in {cache_dir(ds)}" if cached(ds) else
            f"not cached (downloads on first use to {cache_dir(ds)}; offline: set "
            f"UNAFRAID_DATA to a folder holding the four .gz files)")))
    warnings = [w for w in (busy_warning(blas.get("threads")), source_tree_warning()) if w]
    lines += [("WARNING", w) for w in warnings]
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"{k:<{width}}  {v}")
    return 0
