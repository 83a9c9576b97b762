"""How many BLAS threads ``fit``, ``evaluate`` and ``predict`` use: speed machinery, apart
from the math.

OpenBLAS splits every matrix product over all cores. On the small products of the models
scientists fit (a batch of 32 through a 784 x 512 Dense layer) a second thread gains little,
and while another program keeps a core busy the threads wait for each other, which can make a
training run many times slower. So a model whose largest matrix product per batch is small
(below ``SMALL_GEMM`` multiply-adds) runs on one BLAS thread; larger products, and models with
convolution kernels, keep BLAS's own setting. Threads are set once per call of ``fit``,
``evaluate`` or ``predict`` and put back afterwards, never per operation: changing them costs
microseconds, and they would be changed thousands of times a second.

``UNAFRAID_BLAS_THREADS`` overrides the choice: a number of threads, or ``default`` to leave
BLAS as it is. Without threadpoolctl (a dependency of unafraid) nothing is changed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from .engine.blas import held

SMALL_GEMM = 32 * 1024 * 1024  # multiply-adds of one product: 32 x 1024 x 1024

_CONTROLLER: list[tuple[int, Any]] = []  # (len(sys.modules) when made, the controller)


def blas_threads_for(weights: list[Any], batch_size: int) -> int | None:
    """The number of BLAS threads for a model with these weights at this batch size, or None
    to leave BLAS's own setting (large products, convolutions, or the user's override).

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import Variable
    >>> blas_threads_for([Variable(np.zeros((784, 512), "float32"))], 32)
    1
    """
    chosen = os.environ.get("UNAFRAID_BLAS_THREADS", "").strip().lower()
    if chosen == "default":
        return None
    if chosen:
        return _threads_from_env(chosen)
    shapes = [w.shape for w in weights]
    if any(len(s) > 2 for s in shapes):  # convolution kernels: their products are larger
        return None
    largest = max((batch_size * s[0] * s[1] for s in shapes if len(s) == 2), default=0)
    return 1 if largest < SMALL_GEMM else None


@contextlib.contextmanager
def limited(threads: int | None) -> Iterator[None]:
    """Run the block with BLAS limited to ``threads`` (None: unchanged), then put it back."""
    controller = _controller() if threads is not None else None
    if controller is None:
        yield
        return
    with controller.limit(limits=threads, user_api="blas"), held(threads):
        yield  # held: the engine's narrow products then need not ask BLAS (engine/blas.py)


def _controller() -> Any:
    """A controller of the BLAS libraries loaded now. It is made again whenever Python has
    imported modules since (one made before, say, scipy loaded its own OpenBLAS would leave that
    library unlimited); making one takes about a millisecond."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    if not _CONTROLLER or _CONTROLLER[0][0] != len(sys.modules):
        _CONTROLLER[:] = [(len(sys.modules), ThreadpoolController())]
    return _CONTROLLER[0][1]


def _threads_from_env(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"UNAFRAID_BLAS_THREADS={value!r}: give a number of threads (e.g. 1) or "
                         f"'default' to leave BLAS's own setting.")
    return int(value)
