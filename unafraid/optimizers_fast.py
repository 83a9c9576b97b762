"""The fast path of ``unafraid.optimizers``: the same update rules, in place, without allocating.

``unafraid.optimizers`` writes each update rule once, in the notation of its paper
(``Adam.update_step``...), with plain NumPy expressions. That is the reference. This
module runs the same rules faster, and nothing here changes a number:

- **In-place kernels** (``sgd``, ``adam``, ``rmsprop``, ``adagrad``, ``weight_decay``):
  the operations of the plain rule, *in the same order*, written with NumPy ufuncs
  into preallocated scratch buffers (``out=``), so a step allocates nothing
  parameter-sized. Each float operation rounds exactly as the plain expression's does,
  so the results are the same bits (``tests/test_optimizers.py`` checks every optimizer
  and option, float32 and float64, with and without numba).
- **Scratch buffers** (``FastPath``): three per dtype, as large as the largest variable,
  shared by all variables (views of them). A caller that made the gradients for this update
  only (``fit``'s train step: ``Optimizer.apply(..., scratch_gradients=True)``) lets a kernel
  that reads ``g`` only before it writes ``s2`` (those in ``G_AS_SCRATCH``) use ``g`` itself as
  ``s2``: the same operations on the same values, with one array less passing through the
  caches (Adam: about 5% faster, ``docs/optimizers_losses_metrics.md``).
- **Two cores**: a step that updates at least ``PARALLEL_MIN_TOTAL`` numbers in all cuts
  each variable of at least ``PARALLEL_MIN_SIZE`` numbers in halves, and one persistent
  helper thread updates the first halves. The rules are elementwise, so this gives the
  bits of the one-core update. Only while a core is idle (``idle_core``): when another
  program keeps the cores busy, waiting for the helper thread costs more than it gains.
- **numba** (optional, ``pip install "unafraid[fast]"``): Adam's update in one compiled
  pass (``unafraid/optimizers_numba.py``), loaded on first use, never by
  ``import unafraid``; ``UNAFRAID_NUMBA=0`` switches it off.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .engine.blas import cores, helper_thread, idle_core

__all__ = ["FastPath", "sgd", "adam", "adam_numpy", "rmsprop", "adagrad", "weight_decay", "kernels", "status",
           "warm_up", "idle_core", "cores", "G_AS_SCRATCH", "PARALLEL_MIN_TOTAL", "PARALLEL_MIN_SIZE"]

State = dict[str, np.ndarray]
Kernel = Callable[..., None]   # kernel(g, w, state, s1, s2, **scalars): updates w and state in place

N_SCRATCH = 3  # two for the update, one for a clipped gradient

# A step updating at least PARALLEL_MIN_TOTAL elements in all runs on two cores, each variable
# of at least PARALLEL_MIN_SIZE elements cut in halves (see FastPath.run_on_two_cores).
PARALLEL_MIN_TOTAL = 1 << 18
PARALLEL_MIN_SIZE = 1 << 16


# ---- in-place kernels: the rules of unafraid.optimizers, operation for operation ------------------
def weight_decay(w: np.ndarray, s1: np.ndarray, *, decay: float, lr: float) -> None:
    """``w -= w * decay * lr`` (Keras 3's decoupled weight decay), through ``s1``."""
    np.multiply(w, decay, out=s1)
    s1 *= lr
    w -= s1


def sgd(g, w, state: State, s1, s2, *, lr: float, momentum: float, nesterov: bool) -> None:
    """``SGD.update_step`` in place."""
    np.multiply(g, lr, out=s1)                    # eta g
    if not momentum:
        w -= s1
        return
    m = state["m"]
    m *= momentum
    m -= s1                                       # m = mu m - eta g
    if nesterov:
        np.multiply(m, momentum, out=s2)
        s2 -= s1
        w += s2                                   # w += mu m - eta g
    else:
        w += m


def adam(g, w, state: State, s1, s2, *, one_minus_beta_1: float, one_minus_beta_2: float,
         alpha: float, epsilon: float) -> None:
    """``Adam.update_step`` in place: one compiled pass with numba, twelve NumPy passes without."""
    m, v, v_hat = state["m"], state["v"], state.get("v_hat")
    k = kernels()
    if k is not None and _contiguous(g, w, *state.values()):
        dt = w.dtype.type  # the compiled loop takes flat views and scalars of the arrays' dtype
        scalars = (dt(one_minus_beta_1), dt(one_minus_beta_2), dt(alpha), dt(epsilon))
        if v_hat is None:
            k.adam(g.reshape(-1), w.reshape(-1), m.reshape(-1), v.reshape(-1), *scalars)
        else:
            k.adam_amsgrad(g.reshape(-1), w.reshape(-1), m.reshape(-1), v.reshape(-1),
                           v_hat.reshape(-1), *scalars)
        return
    adam_numpy(g, w, state, s1, s2, one_minus_beta_1=one_minus_beta_1,
               one_minus_beta_2=one_minus_beta_2, alpha=alpha, epsilon=epsilon)


def adam_numpy(g, w, state: State, s1, s2, *, one_minus_beta_1: float, one_minus_beta_2: float,
               alpha: float, epsilon: float) -> None:
    """``Adam.update_step`` in place with NumPy ufuncs (twelve passes over memory)."""
    m, v, v_hat = state["m"], state["v"], state.get("v_hat")
    np.subtract(g, m, out=s1)
    s1 *= one_minus_beta_1
    m += s1                                       # m += (g - m)(1 - beta_1)
    np.square(g, out=s1)
    s1 -= v
    s1 *= one_minus_beta_2
    v += s1                                       # v += (g^2 - v)(1 - beta_2)
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    np.sqrt(v, out=s1)
    s1 += epsilon
    np.multiply(m, alpha, out=s2)
    s2 /= s1
    w -= s2                                       # w -= m alpha / (sqrt(v) + epsilon)


def rmsprop(g, w, state: State, s1, s2, *, lr: float, rho: float, momentum: float,
            epsilon: float) -> None:
    """``RMSprop.update_step`` in place."""
    v, mg = state["v"], state.get("mg")
    v *= rho
    np.square(g, out=s1)
    s1 *= 1 - rho
    v += s1                                       # v = rho v + (1 - rho) g^2
    if mg is not None:
        mg *= rho
        np.multiply(g, 1 - rho, out=s1)
        mg += s1                                  # mg = rho mg + (1 - rho) g
        np.square(mg, out=s1)
        np.subtract(v, s1, out=s1)
        s1 += epsilon                             # v - mg^2 + epsilon
    else:
        np.add(v, epsilon, out=s1)                # v + epsilon
    np.sqrt(s1, out=s1)
    np.multiply(g, lr, out=s2)
    np.divide(s2, s1, out=s1)                     # delta = eta g / sqrt(d)
    if momentum > 0:
        b = state["momentum"]
        b *= momentum
        b += s1
        w -= b
    else:
        w -= s1


def adagrad(g, w, state: State, s1, s2, *, lr: float, epsilon: float) -> None:
    """``Adagrad.update_step`` in place."""
    acc = state["accumulator"]
    np.square(g, out=s1)
    acc += s1                                     # G += g^2
    np.add(acc, epsilon, out=s1)
    np.sqrt(s1, out=s1)
    np.multiply(g, lr, out=s2)
    np.divide(s2, s1, out=s1)                     # eta g / sqrt(G + epsilon)
    w -= s1


# Kernels that read ``g`` only before their first write to ``s2``, so that ``g`` itself can be
# ``s2`` when the caller's gradients are scratch (FastPath.run). Adam's ``m * alpha`` is its first
# write to s2, after the last read of g (numba's one-pass kernel takes no scratch at all).
G_AS_SCRATCH: frozenset[Kernel] = frozenset({adam, adam_numpy})


# ---- scratch buffers and the step on one or two cores ----------------------------------------------
Update = tuple[np.ndarray, np.ndarray, State, np.ndarray, np.ndarray]  # g, w, state, s1, s2


class FastPath:
    """One optimizer's scratch buffers, and its updates run on one core or two.

    ``allocate(arrays)`` is called whenever the optimizer gains variables; ``scratch(i)``
    gives variable ``i``'s three scratch views (its shape and dtype).
    """

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []
        self._scratch: list[tuple[np.ndarray, ...]] = []
        self._helper_scratch: list[tuple[np.ndarray, ...]] | None = None

    def allocate(self, arrays: list[np.ndarray]) -> None:
        """Shared scratch buffers per dtype, each as large as the largest of ``arrays``."""
        self._arrays = list(arrays)
        self._scratch = self._views(self._buffers())
        self._helper_scratch = None  # a second set for the helper thread, made on first use

    @property
    def has_helper_scratch(self) -> bool:
        return self._helper_scratch is not None

    def scratch(self, i: int) -> tuple[np.ndarray, ...]:
        return self._scratch[i]

    def _buffers(self) -> dict[np.dtype, list[np.ndarray]]:
        sizes: dict[np.dtype, int] = {}
        for a in self._arrays:
            sizes[a.dtype] = max(sizes.get(a.dtype, 0), a.size)
        return {dt: [np.empty(n, dt) for _ in range(N_SCRATCH)] for dt, n in sizes.items()}

    def _views(self, buffers: dict[np.dtype, list[np.ndarray]]) -> list[tuple[np.ndarray, ...]]:
        return [tuple(b[:a.size].reshape(a.shape) for b in buffers[a.dtype]) for a in self._arrays]

    def run(self, kernel: Kernel, scalars: dict[str, Any],
            jobs: list[tuple[int, np.ndarray, np.ndarray, State]], g_is_scratch: bool = False
            ) -> None:
        """``kernel(g, w, state, s1, s2, **scalars)`` for each job ``(index, g, w, state)``;
        with ``g_is_scratch`` (the caller's gradients may be overwritten), ``s2`` is ``g``
        itself for the kernels of ``G_AS_SCRATCH``."""
        total = sum(w.size for _, _, w, _ in jobs)
        if total >= PARALLEL_MIN_TOTAL and helper_thread() is not None and idle_core():
            self.run_on_two_cores(kernel, scalars, jobs, g_is_scratch)
            return
        own_g = g_is_scratch and kernel in G_AS_SCRATCH
        for i, g, w, state in jobs:
            s = self._scratch[i]
            kernel(g, w, state, s[0], g if own_g else s[1], **scalars)

    def run_on_two_cores(self, kernel: Kernel, scalars: dict[str, Any],
                         jobs: list[tuple[int, np.ndarray, np.ndarray, State]],
                         g_is_scratch: bool = False) -> None:
        """Run one step's updates on both cores, with one hand-over to the helper thread.

        Each large variable is cut in two halves: the helper thread updates the
        first halves (with scratch buffers of its own), this thread the second
        halves and the small variables. Every update rule is elementwise, so the
        result has exactly the bits of the one-core update; NumPy releases the
        GIL inside its loops, so the halves really run at the same time.
        Handing work to a thread costs tens of microseconds, which is why only
        steps over ``PARALLEL_MIN_TOTAL`` elements in all take this path.
        """
        if self._helper_scratch is None:
            self._helper_scratch = self._views(self._buffers())
        theirs: list[Update] = []
        mine: list[Update] = []
        own_g = g_is_scratch and kernel in G_AS_SCRATCH
        for i, g, w, state in jobs:
            s, hs = self._scratch[i], self._helper_scratch[i]
            if w.size < PARALLEL_MIN_SIZE or not _contiguous(g, w, *state.values()):
                mine.append((g, w, state, s[0], g if own_g else s[1]))
                continue
            half = w.size // 2
            for part, scratch, out in ((slice(0, half), hs, theirs), (slice(half, None), s, mine)):
                out.append((_cut(g, part), _cut(w, part),
                            {k: _cut(a, part) for k, a in state.items()},
                            _cut(scratch[0], part), _cut(g if own_g else scratch[1], part)))
        future = helper_thread().submit(_run_updates, kernel, scalars, theirs, np.geterr())
        try:
            _run_updates(kernel, scalars, mine)
        finally:
            error = future.exception()  # always wait: the helper must not outlive the step
        if error is not None:
            raise error


def _contiguous(*arrays: np.ndarray) -> bool:
    for a in arrays:  # a loop, not all(...): called for every variable at every step
        if not a.flags.c_contiguous:
            return False
    return True


def _cut(a: np.ndarray, part: slice) -> np.ndarray:
    return a.reshape(-1)[part]


def _run_updates(kernel: Kernel, scalars: dict[str, Any], updates: list[Update],
                 errors: dict[str, str] | None = None) -> None:
    """Run the updates (in the helper thread, under the caller's ``np.errstate``)."""
    with np.errstate(**(errors or np.geterr())):
        for g, w, state, s1, s2 in updates:
            kernel(g, w, state, s1, s2, **scalars)


# ---- the optional numba kernels --------------------------------------------------------------------
_LOADED: list[ModuleType | None] = []


def _switched_off() -> bool:
    return os.environ.get("UNAFRAID_NUMBA", "1").strip().lower() in ("0", "false", "no", "off")


def kernels() -> ModuleType | None:
    """The compiled kernels module (``unafraid.optimizers_numba``), or None without numba."""
    if not _LOADED:
        module = None
        if not _switched_off():
            try:
                from . import optimizers_numba as module
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
