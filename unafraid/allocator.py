"""Keep freed memory in the process while a convnet trains: speed machinery, apart from the math.

A training step of a convolutional network allocates and frees tens of MiB of arrays (patch
matrices, activations and their gradients). glibc's ``malloc`` hands freed memory at the top
of its heap back to the operating system once more than its *trim threshold* is free (by
default twice the largest block freed so far, at most 64 MiB), so the next step asks for it
again and the kernel faults in and zeroes every page anew. For Keras's MNIST convnet at batch
128 that was 4,400 page faults per step (9,000 once each convolution keeps its patch matrix for
the backward pass), about a fifth of the step's CPU time; with the memory kept, almost none.

:func:`keep_freed_memory` sets glibc's trim threshold to ``TRIM_BYTES`` and its mmap threshold
to ``MMAP_BYTES`` (the largest value glibc's own adaptive rule reaches; blocks above it are
still mapped and unmapped one by one). It is process-wide and stays set: up to ``TRIM_BYTES``
of freed memory stays with the process for reuse instead of going back to the system. ``fit``
calls it for models with convolution kernels (weights of more than two axes).

``UNAFRAID_MALLOC=default`` leaves malloc alone; ``UNAFRAID_MALLOC=keep`` applies it for any
model. Nothing is done where the C library is not glibc (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

TRIM_BYTES = 256 * 1024 * 1024  # freed heap memory kept for reuse
MMAP_BYTES = 32 * 1024 * 1024  # blocks at least this large are mapped on their own
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)

_APPLIED: list[bool] = []  # once set, whether it worked (it is never undone)


def keep_freed_memory(weights: list[Any]) -> bool:
    """Make glibc keep freed memory for reuse when ``weights`` include a convolution kernel.

    Parameters
    ----------
    weights : list of Variable or arrays
        The model's weights; a weight of more than two axes marks a convolutional model.

    Returns
    -------
    bool
        Whether malloc is (now, or already) set to keep freed memory.

    Examples
    --------
    >>> import numpy as np
    >>> keep_freed_memory([np.zeros((784, 10), "float32")])  # a dense model: left alone
    False
    """
    chosen = os.environ.get("UNAFRAID_MALLOC", "").strip().lower()
    if chosen not in ("", "default", "keep"):
        raise ValueError(f"UNAFRAID_MALLOC={chosen!r}: give 'keep' (keep freed memory for reuse) "
                         f"or 'default' (leave malloc as it is).")
    if chosen == "default":
        return False
    if not chosen and not any(len(w.shape) > 2 for w in weights):
        return False
    if not _APPLIED:
        _APPLIED.append(_set_thresholds(TRIM_BYTES, MMAP_BYTES))
    return _APPLIED[0]


def _set_thresholds(trim: int, mmap: int) -> bool:
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim))


def _glibc() -> Any:
    """The process's C library if it is glibc (it has ``gnu_get_libc_version``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return libc
