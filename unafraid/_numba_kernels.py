"""Compiled loops for the optimizers' updates, used when numba is installed.

Imported only by ``unafraid._accel`` (never by ``import unafraid``), and only when
numba is importable. Each kernel does in one pass over memory what the NumPy
update in ``unafraid.optimizers`` does in ten, with *the same float operations
in the same order*: every intermediate is rounded to the array's dtype exactly
as NumPy rounds it (no fused multiply-add, no ``fastmath``), so the weights come
out bit for bit the same with or without numba. ``tests/test_optimizers.py``
checks this.

Arguments: 1-D C-contiguous arrays of one dtype, and scalars of that dtype.
"""

import numba
import numpy as np

_JIT = dict(nopython=True, nogil=True, cache=True, boundscheck=False, error_model="numpy")


@numba.jit(**_JIT)
def adam(g, w, m, v, b1, b2, eps, step):  # pragma: no cover  (compiled; tested for bits)
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] * b1 + gi                       # M = beta_1 M + g
        vi = v[i] * b2 + gi * gi                  # V = beta_2 V + g^2
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi / (np.sqrt(vi) + eps)) * step


@numba.jit(**_JIT)
def adam_amsgrad(g, w, m, v, v_hat, b1, b2, eps, step):  # pragma: no cover
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] * b1 + gi
        vi = v[i] * b2 + gi * gi
        m[i] = mi
        v[i] = vi
        vh = np.maximum(v_hat[i], vi)             # the running maximum of V (NaN wins)
        v_hat[i] = vh
        w[i] = w[i] - (mi / (np.sqrt(vh) + eps)) * step
