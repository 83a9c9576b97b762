"""Muon and ScheduleFreeAdamW (issue 17): Keras's literal numbers, hand-worked steps, and
trajectories checked against Keras 3 itself (JAX backend) where it is installed.

The oracles: Keras's test values (``keras/src/optimizers/muon_test.py``), steps worked out by hand
in the comments, the singular value decomposition (Newton-Schulz approximates ``U V^T``), and
Keras 3's own optimizers run on the same gradients.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid.optimizers import Muon, ScheduleFreeAdamW


def var(values, name="variable"):
    return uf.Variable(np.array(values, np.float32), name=name)


# ---- ScheduleFreeAdamW ----------------------------------------------------------------------------
def test_schedule_free_first_step_by_hand():
    # t = 1: v = 0.001 g^2, so sqrt(v / (1 - 0.999)) = |g|; z = w - lr g / (|g| + 1e-8) = w - lr sign(g);
    # x_0 = (y_0 - 0.1 z_0) / 0.9 = w (z_0 = y_0 = w); x_1 = (1 - 1) x_0 + 1 z_1 = z_1; y_1 = z_1.
    w = var([1.0, 2.0, 3.0, 4.0])
    opt = ScheduleFreeAdamW(learning_rate=0.5)
    opt.apply([np.array([1.0, -6.0, 7.0, 2.0], np.float32)], [w])
    assert_allclose(w.data, [0.5, 2.5, 2.5, 3.5], rtol=1e-6)
    assert_allclose(opt.state_dict()["0/momentum"], [0.5, 2.5, 2.5, 3.5], rtol=1e-6)


def test_schedule_free_second_step_by_hand():
    # Step 2 with g = 1 twice, lr 0.1, beta_1 0.9, beta_2 0.5, epsilon 0: v_1 = 0.5, v_2 = 0.75,
    # 1 - 0.5^2 = 0.75, so the denominator is 1 and z_2 = z_1 - 0.1 = 0.8 (z_1 = 0.9, y_1 = 0.9).
    # x_1 = (0.9 - 0.1 * 0.9) / 0.9 = 0.9; x_2 = 0.5 * 0.9 + 0.5 * 0.8 = 0.85;
    # y_2 = 0.1 * 0.8 + 0.9 * 0.85 = 0.845.
    w = var([1.0])
    opt = ScheduleFreeAdamW(learning_rate=0.1, beta_2=0.5, epsilon=0.0)
    for _ in range(2):
        opt.apply([np.ones(1, np.float32)], [w])
    assert_allclose(w.data, [0.845], rtol=1e-6)


def test_schedule_free_warmup_scales_the_learning_rate():
    # warmup_steps=10: the first step's lr is 0.5 * 1/10, so z moves by 0.05 instead of 0.5.
    w = var([1.0, 2.0])
    ScheduleFreeAdamW(learning_rate=0.5, warmup_steps=10).apply([np.ones(2, np.float32)], [w])
    assert_allclose(w.data, [0.95, 1.95], rtol=1e-6)


def test_schedule_free_config_round_trip_and_registry():
    opt = ScheduleFreeAdamW(learning_rate=0.005, beta_1=0.95, beta_2=0.99, epsilon=1e-6,
                            warmup_steps=100)
    again = uf.optimizers.deserialize(uf.optimizers.serialize(opt))
    assert type(again) is ScheduleFreeAdamW and again.get_config() == opt.get_config()
    assert isinstance(uf.optimizers.get("schedulefreeadamw"), ScheduleFreeAdamW)
    with pytest.raises(ValueError, match="warmup_steps"):
        ScheduleFreeAdamW(warmup_steps=-1)


# ---- Muon -----------------------------------------------------------------------------------------
def test_newton_schulz_keras_value_and_svd():
    x = np.array([[0.2499, 0.9105], [0.2655, 0.8824]], np.float32)
    out = Muon().zeropower_via_newtonschulz5(x, 5)
    assert_allclose(out, [[-0.4422, 0.6457], [0.7285, 0.2968]], rtol=1e-3, atol=1e-3)  # Keras's
    # Newton-Schulz approximates U V^T of x = U S V^T: same singular vectors, singular values
    # pushed into about [0.7, 1.2] (Jordan et al.'s quintic does not converge to exactly 1).
    u, s, vt = np.linalg.svd(x.astype(np.float64))
    s_out = np.linalg.svd(out.astype(np.float64), compute_uv=False)
    assert np.all((s_out > 0.6) & (s_out < 1.25)), s_out
    assert_allclose(u.T @ out @ vt.T, np.diag(np.diag(u.T @ out @ vt.T)), atol=1e-5)


def test_newton_schulz_zero_steps_normalizes_and_tall_matrices_transpose():
    x = np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]], np.float32)   # tall: runs on x.T
    assert_allclose(Muon().zeropower_via_newtonschulz5(x, 0), x / (5.0 + 1e-7), rtol=1e-6)
    out = Muon().zeropower_via_newtonschulz5(x, 5)
    assert out.shape == (3, 2)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Muon().zeropower_via_newtonschulz5(np.ones(3, np.float32), 5)


def test_muon_single_steps_keras_values():
    # Keras's test_adamw_single_step: a 1-D variable takes Adam's step, lr sign(g) at t = 1.
    opt = Muon()
    v = var([1.0, 2.0, 3.0, 4.0], name="test_vars")
    opt.build([v])
    opt.update_step(np.array([1.0, 6.0, 7.0, 2.0], np.float32), v, 0.5)
    assert_allclose(v.data, [0.5, 1.5, 2.5, 3.5], rtol=1e-4, atol=1e-4)
    # Keras's test_muon_single_step (its tolerance 1e-2)
    opt = Muon(learning_rate=0.5, weight_decay=0)
    v = var([[1.0, 2.0], [3.0, 4.0]])
    opt.build([v])
    opt.update_step(np.array([[1.0, 6.0], [7.0, 2.0]], np.float32), v, 0.5)
    assert_allclose(v.data, [[0.988775, 1.887053], [2.873428, 3.97035]], rtol=1e-2, atol=1e-2)


def test_muon_step_by_hand_with_ns_steps_zero():
    # ns_steps=0 leaves the Frobenius-normalised update; nesterov: u = g + 0.95 m, m = g, so
    # u = 1.95 g; u / ||u|| = g / ||g|| = g / 5 for g = [[3, 0], [0, 4]]; lr_adjust multiplies by
    # sqrt(2) * 0.2; w = 1 - 0.1 * (g / 5) * sqrt(2) * 0.2.
    opt = Muon(learning_rate=0.1, weight_decay=None, ns_steps=0)
    v = var(np.ones((2, 2)))
    opt.apply([np.array([[3.0, 0.0], [0.0, 4.0]], np.float32)], [v])
    g = np.array([[3.0, 0.0], [0.0, 4.0]])
    assert_allclose(v.data, 1 - 0.1 * (g / 5) * np.sqrt(2) * 0.2, rtol=1e-6)


def test_muon_which_variables_take_adam():
    opt = Muon(exclude_layers=["var"])
    assert opt._should_use_adamw(var([[1.0, 2.0], [3.0, 4.0]]))
    embedding = uf.layers.Embedding(2, 2)
    embedding.build()
    assert opt._should_use_adamw(embedding.weights[0])
    opt = Muon()
    assert not opt._should_use_adamw(var([[1.0, 2.0], [3.0, 4.0]]))
    assert opt._should_use_adamw(var([1.0, 2.0]))
    dense = uf.layers.Dense(2)
    dense.build((None, 2))
    assert not opt._should_use_adamw(dense.weights[0])
    opt.build(dense.weights)
    assert sorted(opt.state_dict()) == ["0/momentum", "1/momentum", "1/velocity", "iterations"]


def test_muon_weight_decay_per_kind_and_lr_adjust():
    # weight_decay for Muon's variables, adam_weight_decay for Adam's; lr 1: w - w * decay.
    w2, w1 = var([[1.0, 2.0], [3.0, 4.0]]), var([2.0])
    Muon(learning_rate=1.0, weight_decay=0.01, adam_weight_decay=0.1)._apply_weight_decay([w2, w1])
    assert_allclose(w2.data, [[0.99, 1.98], [2.97, 3.96]], rtol=1e-6)
    assert_allclose(w1.data, [1.8], rtol=1e-6)
    assert_allclose(Muon(rms_rate=0.2).lr_adjust(np.ones((4, 2), np.float32)), 0.4 * np.ones((4, 2)))
    assert_allclose(Muon(rms_rate=None).lr_adjust(np.ones((4, 4), np.float32)), np.ones((4, 4)))


def test_muon_config_round_trip_and_fit():
    opt = Muon(learning_rate=0.5, epsilon=1e-5, exclude_layers=["last"])
    again = uf.optimizers.deserialize(uf.optimizers.serialize(opt))
    assert type(again) is Muon and again.get_config() == opt.get_config()
    model = uf.keras.Sequential([uf.keras.Input((10,)), uf.layers.Dense(5), uf.layers.Dense(1, name="last")])
    model.compile(optimizer=Muon(learning_rate=1e-3, exclude_layers=["last"]), loss="mse")
    history = model.fit(np.ones((4, 10), np.float32), np.ones((4, 1), np.float32), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert sorted(model.optimizer.state_dict())[:3] == ["0/momentum", "1/momentum", "1/velocity"]


# ---- against Keras 3 itself -----------------------------------------------------------------------
def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")


@pytest.mark.parametrize("make", [
    lambda k: (k.optimizers.ScheduleFreeAdamW(learning_rate=0.05, weight_decay=0.01, warmup_steps=3),
               ScheduleFreeAdamW(learning_rate=0.05, weight_decay=0.01, warmup_steps=3)),
    lambda k: (k.optimizers.Muon(learning_rate=0.05, exclude_layers=["bias"]),
               Muon(learning_rate=0.05, exclude_layers=["bias"])),
    lambda k: (k.optimizers.Muon(learning_rate=0.05, nesterov=False, rms_rate=None, adam_lr_ratio=0.5),
               Muon(learning_rate=0.05, nesterov=False, rms_rate=None, adam_lr_ratio=0.5)),
], ids=["schedule_free", "muon", "muon_options"])
def test_trajectory_matches_keras(make):
    keras = _keras()
    k_opt, ours_opt = make(keras)
    rng = np.random.default_rng(0)
    init = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32),
            rng.normal(size=(4,)).astype(np.float32)]
    names = ["kernel", "tall", "bias"]
    k_vars = [keras.Variable(a, name=n) for a, n in zip(init, names, strict=True)]
    u_vars = [uf.Variable(a.copy(), name=n) for a, n in zip(init, names, strict=True)]
    for _ in range(6):
        grads = [rng.normal(size=a.shape).astype(np.float32) for a in init]
        k_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], k_vars,
                                           strict=True))
        ours_opt.apply_gradients(zip(grads, u_vars, strict=True))
    for k, u in zip(k_vars, u_vars, strict=True):
        assert_allclose(u.data, np.asarray(k.numpy()), rtol=2e-5, atol=2e-6)
