"""Simulated counts and the streaming memory bound of issue 19 (benchmarks/cells_scale.py at a reduced
size). Oracles: the negative-binomial's own moments (variance above the mean), the parameters the
simulation was given, and the process's peak resident memory read from the operating system."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from unafraid.cells import simulate_counts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_simulated_counts_are_sparse_overdispersed_integers_with_types_and_library_sizes():
    X, types = simulate_counts(3000, 200, n_types=4, median_library=1500, seed=1)
    assert X.format == "csr" and X.dtype == np.float32 and X.shape == (3000, 200)
    assert np.array_equal(X.data, np.round(X.data)) and X.data.min() > 0
    assert set(np.unique(types)) == {0, 1, 2, 3}
    library = np.asarray(X.sum(axis=1)).ravel()
    assert abs(np.median(library) / 1500 - 1) < 0.05
    assert np.std(np.log(library)) > 0.3  # log-normal library sizes (sdlog 0.5)
    dense = X[types == 0].toarray()
    depth = library[types == 0] / np.median(library[types == 0])
    scaled = dense / depth[:, None]  # the library size's spread removed
    mean, var = scaled.mean(0), scaled.var(0)
    busy = mean > 5
    assert busy.sum() > 10 and np.all(var[busy] > 1.5 * mean[busy])  # NB: var = mu + mu^2 / theta
    again, _ = simulate_counts(3000, 200, n_types=4, median_library=1500, seed=1)
    assert (X != again).nnz == 0  # seeded


@pytest.mark.slow
def test_one_epoch_on_a_sparse_matrix_stays_below_twice_its_size_plus_the_model():
    # 20,000 cells x 2,000 genes (about 135 MB as CSR): densified it would be 160 MB more
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "cells_scale.py"),
                          "--cells", "20000", "--batch-size", "128", "--json"],
                         capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": ROOT})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sparse_bytes"] > 100e6
    assert result["ratio"] < 2  # the matrix and the epoch: below twice the matrix plus the model
    assert result["epoch_extra"] < result["dense_bytes"]  # never the whole matrix densified
