"""BLAS threads per matrix product: speed machinery beside the engine's math.

OpenBLAS splits every product over all cores. A product with a side of ``NARROW`` or less
(a convnet's first layer, with 9 = 3 x 3 x 1 inputs per row; a Dense layer with 10 outputs)
gains nothing from a second thread, and on a busy machine the threads wait for each other: one
such product took 8 ms on two threads beside other work and 0.08 ms on one. So the convolution
and ``Linear`` primitives run their narrow products on one thread, and leave BLAS's setting
for the others. Switching is a call into the BLAS library (microseconds), skipped when the
count is already right. ``fit`` of a small model sets one thread for the whole loop and says so
(``held``): then a narrow product asks the library nothing at all (asking costs a few
microseconds per product, a tenth of a small network's step).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

NARROW = 32  # a product with a side this small or smaller runs on one thread

_BLAS: list[Any] = []  # threadpoolctl's controllers of the BLAS libraries loaded, once looked up
_HELD: list[int | None] = []  # thread counts callers hold BLAS at (``held``), innermost last
_AS_IS = contextlib.nullcontext()


def narrow_threads(*sides: int) -> int | None:
    """1 if a side of a product (rows, inner size, columns) is ``NARROW`` or less, else None
    (BLAS's own setting)."""
    return 1 if min(sides) <= NARROW else None


@contextlib.contextmanager
def held(n: int | None) -> Iterator[None]:
    """Say that the caller holds BLAS at ``n`` threads for the block (``None``: it does not).

    ``threads.limited`` (``fit``, ``evaluate``, ``predict``) sets the libraries itself and then
    says so here, so that ``blas_threads(n)`` inside the block has nothing to look up. Code that
    changes BLAS's threads inside such a block (a callback calling threadpoolctl) is not seen.
    """
    _HELD.append(n)
    try:
        yield
    finally:
        _HELD.pop()


def blas_threads(n: int | None) -> contextlib.AbstractContextManager[None]:
    """Run the block on ``n`` BLAS threads (``None``: as configured). Uses threadpoolctl
    (a dependency of unafraid); where it cannot be imported the block runs as configured.

    Every BLAS library loaded when first called is set (NumPy's, and scipy's if it was
    loaded first: which of them NumPy uses is not told apart). Inside ``held(n)`` with the
    same ``n`` nothing is looked up or set.
    """
    if n is None or (_HELD and _HELD[-1] == n):
        return _AS_IS
    return _switched(n)


@contextlib.contextmanager
def _switched(n: int) -> Iterator[None]:
    """``n`` BLAS threads for the block, unless every library has that many already."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController().select(user_api="blas").lib_controllers)
        except ImportError:
            _BLAS.append([])
    libs = _BLAS[0]
    previous = [lib.get_num_threads() for lib in libs]
    if all(p == n for p in previous):
        yield
        return
    for lib in libs:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, p in zip(libs, previous, strict=True):
            lib.set_num_threads(p)
