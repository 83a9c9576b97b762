"""BLAS threads: how many ``fit``, ``evaluate`` and ``predict`` use, and how many each matrix
product of the engine uses. Speed machinery beside the engine's math.

OpenBLAS splits every matrix product over all cores.

**Per call.** On the small products of the models scientists fit (a batch of 32 through a
784 x 512 Dense layer) a second BLAS thread gains little, and while another program keeps a
core busy the threads wait for each other, which can make a training run many times slower. So
a model whose largest matrix product per batch is small (below ``SMALL_GEMM`` multiply-adds)
runs on one BLAS thread (``blas_threads_for``, ``limited``); larger products, and models with
convolution kernels, keep BLAS's own setting. Threads are set once per call of ``fit``,
``evaluate`` or ``predict`` and put back afterwards, never per operation: changing them costs
microseconds, and they would be changed thousands of times a second.
``UNAFRAID_BLAS_THREADS`` overrides the choice: a number of threads, or ``default`` to leave
BLAS as it is. Without threadpoolctl (a dependency of unafraid) nothing is changed.

**Per product.** A product with a side of ``NARROW`` or less
(a convnet's first layer, with 9 = 3 x 3 x 1 inputs per row; a Dense layer with 10 outputs)
gains nothing from a second thread, and on a busy machine the threads wait for each other: one
such product took 8 ms on two threads beside other work and 0.08 ms on one. So the convolution
and ``Linear`` primitives run their narrow products on one thread, and leave BLAS's setting
for the others. A side of 32 (a batch of 32; a convolution's 32 channels) is not narrow: such
products ran faster on two threads (a 32 x 784 x 512 product 263 us against 421 us on one; with
the MNIST convnet's input gradient, nine 15,488 x 64 x 32 products, on two, a training step took
about 7% less time: ``benchmarks/blas_products.py``), and where ``fit`` holds BLAS at one thread
they are split by hand (``product``, below). Switching is a call into the BLAS library
(microseconds), skipped when the count is already right. ``fit`` of a small model sets one
thread for the whole loop and says so (``held``): then a narrow product asks the library
nothing at all (asking costs a few microseconds per product, a tenth of a small network's
step).

The same block that holds BLAS at one thread (a small model's ``fit``, ``evaluate`` and
``predict``) still uses a second core for its large products: ``product(a, b)`` computes a
product of at least ``SPLIT_MIN`` multiply-adds as two halves of ``a``'s rows, the first in a
helper thread while a core is idle (``idle_core``) where that has been faster for products of
that shape (``_Ways``, timed over the first few), and otherwise one after the other. Each half
is the same one-thread BLAS product either way, so the bits depend on the shapes only, never on
the machine's load (``tests/test_blas_threads.py``). BLAS's own second thread would give other
bits, and while another program keeps the cores busy its threads spin waiting for each other.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

NARROW = 16  # a product with a side this small or smaller runs on one thread

_BLAS: list[Any] = []  # threadpoolctl's controllers of the BLAS libraries loaded, once looked up
_HELD: list[int | None] = []  # thread counts callers hold BLAS at (``held``), innermost last
_AS_IS = contextlib.nullcontext()

SPLIT_MIN = 1 << 22  # multiply-adds from which ``product`` computes two row halves (4 M)
LOAD_CHECK_SECONDS = 1.0  # idle_core reads the load average at most this often
PRODUCT_TRIALS = 5  # products of a shape timed each way before ``product`` keeps the faster
_WORKER: list[ThreadPoolExecutor | None] = []
_LOAD_SEEN: list[float] = [-1e9, 0.0]  # when the load average was last read, and what it was
_CORES: list[int] = []  # os.cpu_count(), read once: it reads /sys and costs tens of us per call


# ---- per call: fit, evaluate, predict -----------------------------------------------------------
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
        yield  # held: the engine's narrow products then need not ask BLAS (below)


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


# ---- per product ---------------------------------------------------------------------------------
def narrow_threads(*sides: int) -> int | None:
    """1 if a side of a product (rows, inner size, columns) is ``NARROW`` or less, else None
    (BLAS's own setting)."""
    return 1 if min(sides) <= NARROW else None


@contextlib.contextmanager
def held(n: int | None) -> Iterator[None]:
    """Say that the caller holds BLAS at ``n`` threads for the block (``None``: it does not).

    ``limited`` (``fit``, ``evaluate``, ``predict``) sets the libraries itself and then
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


def product(a: Any, b: Any) -> Any:
    """``a @ b`` for 2-D arrays, on two cores while BLAS is held at one thread.

    Inside ``held(1)``, a product of at least ``SPLIT_MIN`` multiply-adds with at least two rows
    is computed as ``a[:h] @ b`` and ``a[h:] @ b`` (``h`` = half the rows) into one output: the
    first half in the helper thread while a core is idle and that is faster here (``_Ways``),
    else both here, one after the other. The halves are the same products either way: the same
    bits (not those of one whole product: BLAS blocks a smaller matrix differently). Anything
    else (Tensors, other shapes, BLAS not held at one thread) is ``a @ b``.

    Examples
    --------
    >>> import numpy as np
    >>> product(np.ones((2, 3)), np.ones((3, 4))).shape
    (2, 4)
    """
    if not _in_halves(a, b):
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    h = a.shape[0] // 2
    helper = helper_thread() if idle_core() else None
    key = (a.shape, b.shape, out.dtype.str)
    use_helper = helper is not None and _WAYS.use_helper(key)
    start = time.perf_counter()
    if use_helper:
        first = helper.submit(np.matmul, a[:h], b, out=out[:h])
        try:
            np.matmul(a[h:], b, out=out[h:])
        finally:
            error = first.exception()  # always wait: the helper must not write into a freed array
        if error is not None:
            raise error
    else:
        np.matmul(a[:h], b, out=out[:h])
        np.matmul(a[h:], b, out=out[h:])
    if helper is not None:
        _WAYS.note(key, use_helper, time.perf_counter() - start)
    return out


class _Ways:
    """For each product shape, whether handing a half to the helper thread is faster here than
    computing both halves in the calling thread (the same bits either way).

    The first ``2 * PRODUCT_TRIALS`` products of a shape made while a core is idle take the two
    ways in turn, timed; then the way with the lower median is kept for the process. A second
    core usually pays (on a 2-core AMD EPYC VM the seed model's epoch took 14% less time with
    it), but on some machines handing work to a thread costs more than half a product saves:
    on a 2-core Intel Xeon VM a 32 x 784 x 512 product took 726 us with the helper against
    485 us without it (``benchmarks/blas_products.py --mode products``, docs/benchmarks.md,
    2026-12-03 afternoon).
    """

    def __init__(self) -> None:
        self.times: dict[Any, tuple[list[float], list[float]]] = {}  # (with helper, without)
        self.chosen: dict[Any, bool] = {}

    def use_helper(self, key: Any) -> bool:
        chosen = self.chosen.get(key)
        if chosen is not None:
            return chosen
        with_helper, without = self.times.setdefault(key, ([], []))
        return len(with_helper) <= len(without)  # take turns, the helper first

    def note(self, key: Any, used_helper: bool, seconds: float) -> None:
        entry = self.times.get(key)
        if entry is None or key in self.chosen:  # chosen already (perhaps by another thread)
            return
        with_helper, without = entry
        (with_helper if used_helper else without).append(seconds)
        if len(without) >= PRODUCT_TRIALS:
            self.chosen[key] = statistics.median(with_helper) < statistics.median(without)
            self.times.pop(key, None)


_WAYS = _Ways()


def _in_halves(a: Any, b: Any) -> bool:
    """Whether ``product`` computes ``a @ b`` as two row halves: BLAS held at one thread, two
    2-D arrays (not Tensors), at least two rows, at least ``SPLIT_MIN`` multiply-adds."""
    return (bool(_HELD) and _HELD[-1] == 1 and type(a) is np.ndarray and type(b) is np.ndarray
            and a.ndim == 2 and b.ndim == 2 and a.shape[0] >= 2
            and a.shape[0] * a.shape[1] * b.shape[1] >= SPLIT_MIN)


def idle_core() -> bool:
    """Whether the machine has a core to spare for the helper thread.

    True while the 1-minute load average (this process included) stays a quarter of a core
    below the number of cores, read at most once every ``LOAD_CHECK_SECONDS``. Measured on 2
    cores (docs/benchmarks.md): the optimizer's two-core update made one epoch of the seed MLP
    14% faster on a quiet machine and up to 18% slower beside one CPU-bound program. True where
    the load average is unknown (Windows).
    """
    now = time.monotonic()
    if now - _LOAD_SEEN[0] >= LOAD_CHECK_SECONDS:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
        _LOAD_SEEN[:] = [now, load]
    return _LOAD_SEEN[1] <= cores() - 0.25


def cores() -> int:
    """The number of logical CPUs, read once per process (``os.cpu_count()`` reads /sys on
    Linux: about 35 us, too much for every optimizer step)."""
    if not _CORES:
        _CORES.append(os.cpu_count() or 1)
    return _CORES[0]


def helper_thread() -> ThreadPoolExecutor | None:
    """One persistent helper thread (the optimizers' two-core update and ``product``
    share it), created on first use; None on a single-core machine."""
    if not _WORKER:
        _WORKER.append(ThreadPoolExecutor(1, thread_name_prefix="unafraid-helper")
                       if cores() > 1 else None)
    return _WORKER[0]
