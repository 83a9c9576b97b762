"""Compiled loops for Adam's update, used when numba is installed.

Imported only by ``unafraid.optimizers_fast.kernels()`` (never by ``import unafraid``), and
only when numba is importable. Each kernel does in one pass over memory what the NumPy
update (``unafraid.optimizers.Adam.update_step``) does in twelve, with *the same float
operations in the same order*: every intermediate is rounded to the array's dtype exactly
as NumPy rounds it (no fused multiply-add, no ``fastmath``), so the weights come out bit
for bit the same with or without numba. ``tests/test_optimizers.py`` checks this.

Arguments: 1-D C-contiguous arrays of one dtype, and scalars of that dtype
(``c1 = 1 - beta_1``, ``c2 = 1 - beta_2``, ``alpha`` the bias-corrected step size).
"""

import numba
import numpy as np

_JIT = dict(nopython=True, nogil=True, cache=True, boundscheck=False, error_model="numpy")


@numba.jit(**_JIT)
def adam(g, w, m, v, c1, c2, alpha, eps):  # pragma: no cover  (compiled; tested for bits)
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1              # m += (g - m)(1 - beta_1)
        vi = v[i] + (gi * gi - v[i]) * c2         # v += (g^2 - v)(1 - beta_2)
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vi) + eps)


@numba.jit(**_JIT)
def adam_amsgrad(g, w, m, v, v_hat, c1, c2, alpha, eps):  # pragma: no cover
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        m[i] = mi
        v[i] = vi
        vh = np.maximum(v_hat[i], vi)             # the running maximum of v (NaN wins)
        v_hat[i] = vh
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vh) + eps)
