"""Simulated UMI counts: a negative-binomial cells x genes matrix with cell types, built sparse.

For scale tests and examples where no real data set is large enough. Cell ``i`` of type
``t_i`` with library size ``l_i`` has, for gene ``g``::

    mu_ig  = l_i * p_{t_i g}                        p_t: the type's expression profile (sums to 1)
    x_ig   ~ NB(mean mu_ig, inverse dispersion theta_g)   = Poisson(mu_ig * Gamma(theta_g, 1/theta_g))

The profiles share a log-normal baseline; each type multiplies its own marker genes (a random
``marker_fraction`` of the genes) by ``marker_fold``. Library sizes are log-normal around
``median_library``. Rows are drawn a block at a time and stored as float32 CSR, so the dense
matrix never exists; everything comes from one seeded generator.

>>> from unafraid.cells.simulate import simulate_counts
>>> X, types = simulate_counts(300, 50, n_types=3, seed=0)
>>> X.shape, X.format, types[:5].tolist()
((300, 50), 'csr', [1, 1, 1, 1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random

__all__ = ["simulate_counts"]

BLOCK_ROWS = 2048  # cells drawn at a time (a dense block of BLOCK_ROWS x n_genes float64)


def simulate_counts(n_cells: int, n_genes: int, n_types: int = 5, median_library: float = 2000.0,
                    library_sdlog: float = 0.5, marker_fraction: float = 0.05,
                    marker_fold: float = 4.0, theta_range: tuple[float, float] = (0.5, 10.0),
                    seed: int = 0) -> tuple[Any, np.ndarray]:
    """Negative-binomial counts with ``n_types`` cell types, as a scipy CSR matrix.

    Parameters
    ----------
    n_cells, n_genes : int
    n_types : int, default 5
        Cell types, drawn uniformly for each cell.
    median_library : float, default 2000
        Median total counts per cell (library sizes are log-normal, ``library_sdlog``).
    marker_fraction, marker_fold : float
        Each type multiplies this fraction of the genes (its markers) by this fold.
    theta_range : (float, float)
        Per-gene inverse dispersions, log-uniform in this range (smaller: more overdispersed).
    seed : int

    Returns
    -------
    X : scipy.sparse.csr_matrix, float32, shape (n_cells, n_genes)
        Integer counts.
    types : ndarray of int64, shape (n_cells,)
    """
    from scipy import sparse

    rng = _random.make_generator(seed)
    base = rng.lognormal(0.0, 1.0, n_genes)
    profiles = np.tile(base, (n_types, 1))
    for t in range(n_types):
        markers = rng.choice(n_genes, max(1, int(marker_fraction * n_genes)), replace=False)
        profiles[t, markers] *= marker_fold
    profiles /= profiles.sum(axis=1, keepdims=True)
    theta = np.exp(rng.uniform(np.log(theta_range[0]), np.log(theta_range[1]), n_genes))
    types = rng.integers(0, n_types, n_cells)
    library = median_library * rng.lognormal(0.0, library_sdlog, n_cells)
    data, indices, counts_per_row = [], [], []
    for start in range(0, n_cells, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_cells)
        mu = library[start:stop, None] * profiles[types[start:stop]]
        block = rng.poisson(mu * rng.gamma(theta, 1.0 / theta, mu.shape))
        rows, cols = np.nonzero(block)
        data.append(block[rows, cols].astype(np.float32))
        indices.append(cols.astype(np.int32))
        counts_per_row.append(np.bincount(rows, minlength=stop - start))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts_per_row))]).astype(np.int64)
    X = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                          shape=(n_cells, n_genes))
    return X, types.astype(np.int64)
