"""The optional accelerator: numba-compiled optimizer updates, when numba is installed.

``pip install "unafraid[fast]"`` installs numba; nothing else changes. With it,
Adam and AdamW update each variable in one compiled pass instead of ten NumPy
passes, giving exactly the same bits (see ``unafraid/_numba_kernels.py``). Without
it, or with the environment variable ``UNAFRAID_NUMBA=0``, the NumPy code runs.

numba is imported on first use (``Model.compile`` or an optimizer's first
step), never by ``import unafraid``. Compiled kernels are cached on disk by
numba, so only the first process on a machine pays for compiling them.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

import numpy as np

_LOADED: list[ModuleType | None] = []


def _switched_off() -> bool:
    return os.environ.get("UNAFRAID_NUMBA", "1").strip().lower() in ("0", "false", "no", "off")


def kernels() -> ModuleType | None:
    """The compiled kernels module, or None when numba is missing or switched off."""
    if not _LOADED:
        module = None
        if not _switched_off():
            try:
                from . import _numba_kernels as module
            except ImportError:  # numba not installed (or not importable): the NumPy path runs
                module = None
            except RuntimeError as error:  # e.g. numba found no writable folder for its cache
                warnings.warn(
                    f"numba is installed but its kernels could not be loaded ({error}); unafraid "
                    f"uses its NumPy updates, which give the same numbers more slowly. If numba "
                    f"cannot write its cache, set NUMBA_CACHE_DIR to a writable folder; to "
                    f"silence this, set UNAFRAID_NUMBA=0.", RuntimeWarning, stacklevel=2)
                module = None
        _LOADED.append(module)
    return _LOADED[0]


def status() -> str:
    """One line for ``unafraid doctor``: whether the accelerator runs, and how to get it."""
    module = kernels()
    if module is not None:
        return f"numba {module.numba.__version__}: optimizer updates compiled (same bits as NumPy)"
    if _switched_off():
        return "off (UNAFRAID_NUMBA=0): NumPy updates"
    return "not installed: NumPy updates (optional: pip install \"unafraid[fast]\")"


def warm_up() -> None:
    """Load (or compile) the float32 kernels now, so that the first training step does not."""
    module = kernels()
    if module is None:
        return
    a = [np.zeros(1, np.float32) for _ in range(5)]
    s = np.float32(0.5)
    module.adam(a[0], a[1], a[2], a[3], s, s, s, s)
    module.adam_amsgrad(a[0], a[1], a[2], a[3], a[4], s, s, s, s)
