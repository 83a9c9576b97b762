"""examples/cells_gan_paper_port.py: the paper script's min-max scaling (against scikit-learn's
MinMaxScaler), its noise prior, its network sizes, and two training steps on pbmc68k_reduced."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("cells_gan_paper_port",
                                              ROOT / "examples" / "cells_gan_paper_port.py")
port = importlib.util.module_from_spec(spec)
spec.loader.exec_module(port)


def test_min_max_scaling_matches_sklearn_and_inverts():
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.default_rng(0)
    train, other = rng.random((20, 5)) * 7, rng.random((6, 5)) * 7
    train[:, 2] = 3.0  # a constant gene: sklearn also divides by 1 there
    low, span = port.fit_min_max(train)
    scaler = MinMaxScaler().fit(train)
    np.testing.assert_allclose(port.min_max_scale(other, low, span), scaler.transform(other),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(port.min_max_unscale(port.min_max_scale(other, low, span), low, span),
                               other, rtol=1e-5, atol=1e-5)


def test_noise_prior_is_non_negative_seeded_and_sized():
    a = port.noise_prior(np.random.default_rng(1), 4000, data_max_value=10.0)
    b = port.noise_prior(np.random.default_rng(1), 4000, data_max_value=10.0)
    assert a.shape == (4000, port.NOISE_INPUT_SIZE) and a.min() >= 0 and np.array_equal(a, b)
    # |N(0, 1) + Poisson(1)| has mean about 1.2 (E|Y| > E Y = 1)
    assert 1.0 < a.mean() < 1.5


def test_network_sizes_are_the_papers():
    generator, critic = port.build(n_genes=50)
    assert [tuple(w.shape) for w in generator.trainable_weights][::2] == [(100, 600), (600, 600),
                                                                         (600, 50)]
    assert [tuple(w.shape) for w in critic.trainable_weights][::2] == [(50, 200), (200, 200),
                                                                      (200, 1)]


@pytest.mark.slow
def test_two_steps_on_pbmc(monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(ROOT.parent / "shared" / "data"))
    result = port.main(["--steps", "2", "--n-critic", "1"])
    assert result["cells"].shape == (175, 765) and result["cells"].min() >= 0
    assert np.isfinite(result["d_loss"]) and np.isfinite(result["g_loss"])
