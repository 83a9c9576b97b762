"""Optimizers and learning-rate schedules against updates written independently from the papers."""

import functools
import itertools
import json
import math
import tracemalloc
import warnings

import numpy as np
import pytest

import unafraid as uf
from unafraid import optimizers
from unafraid import optimizers_fast as fast
from unafraid.engine import blas
from unafraid.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from unafraid.optimizers import schedules as S

STEPS = 3


def problem(dtype=np.float64, seed=0):
    """Two variables and three steps of fixed gradients (float64 for exact formula checks)."""
    r = np.random.default_rng(seed)
    w0 = [r.normal(size=(3, 2)).astype(dtype), r.normal(size=(2,)).astype(dtype)]
    grads = [[r.normal(size=w.shape).astype(dtype) for w in w0] for _ in range(STEPS)]
    return w0, grads


def run(opt, dtype=np.float64, seed=0):
    """Apply ``opt`` for STEPS steps; return the final weights and the inputs used."""
    w0, grads = problem(dtype, seed)
    variables = [uf.Variable(w.copy(), name=f"v{i}") for i, w in enumerate(w0)]
    for g in grads:
        opt.apply([x.copy() for x in g], variables)
    return [v.data for v in variables], w0, grads


def reference(w0, grads, step_fn, state_init):
    """Apply ``step_fn(w, g, state, t)`` (t = 1, 2, ...) to each variable independently."""
    out = []
    for k, w in enumerate(w0):
        w, state = w.copy(), state_init(w)
        for t, g in enumerate(grads, start=1):
            w = step_fn(w, g[k], state, t)
        out.append(w)
    return out


def assert_close(got, want, rtol=1e-12, atol=1e-14):
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---- update rules ----------------------------------------------------------------------------------
def test_sgd_plain():
    got, w0, grads = run(SGD(learning_rate=0.1))
    assert_close(got, reference(w0, grads, lambda w, g, s, t: w - 0.1 * g, lambda w: {}))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_and_nesterov(nesterov):
    lr, mu = 0.1, 0.9

    def step(w, g, s, t):  # Sutskever et al. 2013, Keras sign convention
        s["v"] = mu * s["v"] - lr * g
        return w + mu * s["v"] - lr * g if nesterov else w + s["v"]

    got, w0, grads = run(SGD(learning_rate=lr, momentum=mu, nesterov=nesterov))
    assert_close(got, reference(w0, grads, step, lambda w: {"v": np.zeros_like(w)}))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_algorithm_1(amsgrad):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def step(w, g, s, t):
        # Kingma & Ba, Algorithm 1, with Keras's epsilon-hat: eps_hat = eps * sqrt(1 - b2^t)
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        if amsgrad:  # Reddi et al.: the running max of v (uncorrected), as Keras does
            s["vmax"] = np.maximum(s["vmax"], s["v"])
            v = s["vmax"]
        else:
            v = s["v"]
        m_hat = s["m"] / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - b2 ** t))

    got, w0, grads = run(Adam(learning_rate=lr, amsgrad=amsgrad))
    init = lambda w: {"m": np.zeros_like(w), "v": np.zeros_like(w), "vmax": np.zeros_like(w)}  # noqa: E731
    assert_close(got, reference(w0, grads, step, init), rtol=1e-10)


def test_adam_state_is_the_papers_m_and_v():
    """After two steps from zero, m and v are the paper's (and Keras's, PyTorch's) moment estimates."""
    g1, g2 = np.array([0.5, -2.0]), np.array([1.5, 4.0])
    w = uf.Variable(np.zeros(2))
    opt = Adam()
    opt.apply([g1], [w])
    opt.apply([g2], [w])
    state = opt.state_dict()
    np.testing.assert_allclose(state["0/m"], 0.9 * 0.1 * g1 + 0.1 * g2, rtol=1e-14)
    np.testing.assert_allclose(state["0/v"], 0.999 * 0.001 * g1 ** 2 + 0.001 * g2 ** 2, rtol=1e-14)


def test_adam_first_step_moves_every_weight_by_about_lr():
    w = uf.Variable(np.zeros(4, np.float32))
    Adam(learning_rate=0.001).apply([np.array([0.5, -5.0, 20.0, 1e4], np.float32)], [w])
    np.testing.assert_allclose(w.data, [-0.001, 0.001, -0.001, -0.001], rtol=1e-4)


def test_adamw_decays_weights_decoupled_then_adam():
    lr, wd, b1, b2, eps = 0.01, 0.1, 0.9, 0.999, 1e-7

    def step(w, g, s, t):  # Loshchilov & Hutter: decay by lr * wd, outside Adam's scaling
        w = w - lr * wd * w
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * s["m"] / (np.sqrt(s["v"]) + eps)

    got, w0, grads = run(AdamW(learning_rate=lr, weight_decay=wd))
    init = lambda w: {"m": np.zeros_like(w), "v": np.zeros_like(w)}  # noqa: E731
    assert_close(got, reference(w0, grads, step, init), rtol=1e-10)
    assert AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=None)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.0), (False, 0.5),
                                               (True, 0.5)])
def test_rmsprop_variants(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7

    def step(w, g, s, t):  # Hinton 2012; centered: Graves 2013; epsilon inside the sqrt (Keras)
        s["ms"] = rho * s["ms"] + (1 - rho) * g ** 2
        if centered:
            s["mg"] = rho * s["mg"] + (1 - rho) * g
            denom = s["ms"] - s["mg"] ** 2 + eps
        else:
            denom = s["ms"] + eps
        delta = lr * g / np.sqrt(denom)
        if momentum:
            s["b"] = momentum * s["b"] + delta
            return w - s["b"]
        return w - delta

    init = lambda w: {k: np.zeros_like(w) for k in ("ms", "mg", "b")}  # noqa: E731
    got, w0, grads = run(RMSprop(learning_rate=lr, rho=rho, momentum=momentum, centered=centered))
    assert_close(got, reference(w0, grads, step, init), rtol=1e-10)


def test_adagrad():
    lr, acc0, eps = 0.1, 0.1, 1e-7

    def step(w, g, s, t):  # Duchi et al. 2011, diagonal form, epsilon inside the sqrt (Keras)
        s["G"] = s["G"] + g * g
        return w - lr * g / np.sqrt(s["G"] + eps)

    got, w0, grads = run(Adagrad(learning_rate=lr, initial_accumulator_value=acc0))
    assert_close(got, reference(w0, grads, step, lambda w: {"G": np.full_like(w, acc0)}))


def test_keras_defaults():
    assert SGD().learning_rate == 0.01 and SGD().momentum == 0.0 and not SGD().nesterov
    a = Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999,
                                                                          1e-7, False)
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7,
                                                                          False)
    g = Adagrad()
    assert (g.learning_rate, g.initial_accumulator_value, g.epsilon) == (0.001, 0.1, 1e-7)
    uf.keras.backend.clear_session()  # Keras 3.15.1's auto-names (OptimizerTest.test_optimizer_auto_naming)
    assert [o.name for o in (SGD(), Adam(), AdamW(), RMSprop(), Adagrad(), Adam(), SGD())] == [
        "sgd", "adam", "adam_w", "rm_sprop", "adagrad", "adam_1", "sgd_1"]  # Keras snake-cases RMSprop so


# ---- clipping and weight decay ---------------------------------------------------------------------
def test_clipnorm_rescales_each_gradient_and_leaves_inputs_untouched():
    w = [uf.Variable(np.zeros(2)), uf.Variable(np.zeros(2))]
    g = [np.array([3.0, 4.0]), np.array([0.3, 0.4])]  # norms 5 and 0.5
    kept = [x.copy() for x in g]
    SGD(learning_rate=1.0, clipnorm=1.0).apply(g, w)
    np.testing.assert_allclose(w[0].data, [-0.6, -0.8])
    np.testing.assert_allclose(w[1].data, [-0.3, -0.4])
    assert all(np.array_equal(a, b) for a, b in zip(g, kept, strict=True))


def test_global_clipnorm_rescales_all_gradients_together():
    w = [uf.Variable(np.zeros(2)), uf.Variable(np.zeros(2))]
    SGD(learning_rate=1.0, global_clipnorm=1.0).apply([np.array([3.0, 0.0]),
                                                      np.array([0.0, 4.0])], w)
    np.testing.assert_allclose(w[0].data, [-0.6, 0.0])
    np.testing.assert_allclose(w[1].data, [0.0, -0.8])


def test_clipvalue_on_several_variables_of_one_shape():
    w = [uf.Variable(np.zeros(3)), uf.Variable(np.zeros(3))]
    SGD(learning_rate=1.0, clipvalue=0.5).apply([np.array([2.0, -0.1, -3.0]),
                                                np.array([0.2, 9.0, 0.0])], w)
    np.testing.assert_allclose(w[0].data, [-0.5, 0.1, 0.5])
    np.testing.assert_allclose(w[1].data, [-0.2, -0.5, 0.0])


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="Only one of"):
        SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_is_decoupled_and_uses_the_learning_rate():
    w = uf.Variable(np.array([1.0, -2.0]))
    SGD(learning_rate=0.1, weight_decay=0.5).apply([np.array([1.0, 1.0])], [w])
    # w <- w - lr*wd*w, then w <- w - lr*g
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * (1 - 0.05) - 0.1)


def test_exclude_from_weight_decay_by_name():
    k, b = uf.Variable(np.ones(2), name="dense/kernel"), uf.Variable(np.ones(2), name="dense/bias")
    opt = SGD(learning_rate=0.1, weight_decay=1.0)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.zeros(2), np.zeros(2)], [k, b])
    np.testing.assert_allclose(k.data, 0.9)
    np.testing.assert_allclose(b.data, 1.0)


# ---- learning rates ---------------------------------------------------------------------------------
def test_schedule_drives_the_learning_rate_from_step_zero():
    w = uf.Variable(np.zeros(1))
    opt = SGD(learning_rate=S.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    seen = []
    for _ in range(3):
        seen.append(opt.learning_rate)
        opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.025])
    np.testing.assert_allclose(w.data, [-0.175])
    assert opt.iterations == 3


def test_plain_callables_as_learning_rate():
    w = uf.Variable(np.zeros(1))
    opt = SGD(learning_rate=lambda step: 0.1 * (step + 1))
    opt.apply([np.ones(1)], [w])
    opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(w.data, [-0.3])
    assert SGD(learning_rate=lambda: 0.25).learning_rate == 0.25  # Keras's zero-argument form


def test_learning_rate_is_settable_and_answers_variable_idioms():
    opt = Adam()
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    opt.learning_rate.assign(0.25)
    assert float(opt.learning_rate.numpy()) == 0.25
    opt.learning_rate = S.PiecewiseConstantDecay([0], [1.0, 0.1])
    assert opt.learning_rate == 1.0
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "fast"


# ---- state ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9, nesterov=True),
                                  lambda: Adam(0.01, amsgrad=True), lambda: AdamW(0.01),
                                  lambda: RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda: Adagrad(0.1)])
def test_state_dict_round_trip_continues_bit_identically(make):
    w0, grads = problem(np.float32)
    a_vars = [uf.Variable(w.copy()) for w in w0]
    a = make()
    for g in grads:
        a.apply(g, a_vars)
    state = a.state_dict()
    assert state["iterations"].shape == () and state["iterations"].dtype == np.int64
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "iterations")
    b_vars = [uf.Variable(v.data.copy()) for v in a_vars]
    b = make()
    b.build(b_vars)
    b.load_state_dict(state)
    for g in grads:
        a.apply(g, a_vars)
        b.apply(g, b_vars)
    assert a.iterations == b.iterations == 2 * STEPS
    for x, y in zip(a_vars, b_vars, strict=True):
        assert np.array_equal(x.data, y.data)


# ---- the fast path equals the plain rule, to the bit ------------------------------------------------
RULES = {
    "sgd": lambda **kw: SGD(0.1, **kw),
    "sgd-momentum": lambda **kw: SGD(0.1, momentum=0.9, **kw),
    "sgd-nesterov": lambda **kw: SGD(0.1, momentum=0.9, nesterov=True, **kw),
    "adam": lambda **kw: Adam(0.01, **kw),
    "adam-amsgrad": lambda **kw: Adam(amsgrad=True, beta_2=0.99, **kw),
    "adamw": lambda **kw: AdamW(0.01, **{"weight_decay": 0.1, **kw}),
    "adamw-amsgrad": lambda **kw: AdamW(0.01, amsgrad=True, **{"weight_decay": 0.1, **kw}),
    "rmsprop": lambda **kw: RMSprop(0.01, **kw),
    "rmsprop-centered": lambda **kw: RMSprop(0.01, centered=True, **kw),
    "rmsprop-momentum": lambda **kw: RMSprop(0.01, momentum=0.5, **kw),
    "rmsprop-centered-momentum": lambda **kw: RMSprop(0.01, centered=True, momentum=0.5, **kw),
    "adagrad": lambda **kw: Adagrad(0.1, **kw),
}
EXTRAS = [{}, {"weight_decay": 0.05}, {"clipnorm": 0.5}, {"clipvalue": 0.1},
          {"global_clipnorm": 1.0}, {"weight_decay": 0.05, "clipnorm": 0.5}]


def odd_problem(dtype):
    """Three variables (one of them a strided view) and six steps of gradients spanning 11 decades,
    with zero, NaN, inf and -0.0 among them."""
    r = np.random.default_rng(5)
    shapes = [(64, 33), (33,), (7, 1, 3)]
    w0 = [r.normal(size=s).astype(dtype) for s in shapes]
    grads = [[(r.normal(size=s) * 10.0 ** r.integers(-8, 3)).astype(dtype) for s in shapes]
             for _ in range(6)]
    grads[3][0][0, :4] = [0.0, np.nan, np.inf, -0.0]
    grads[4][0] = np.asfortranarray(grads[4][0])       # a non-contiguous gradient
    return w0, grads


def train_bits(make, w0, grads, use_fast_path, scratch_gradients=False):
    opt, ws = make(), [uf.Variable(w.copy()) for w in w0]
    opt.use_fast_path = use_fast_path
    with np.errstate(all="ignore"):                    # inf / inf: NumPy warns, numba does not
        for g in grads:
            opt.apply([x.copy(order="K") for x in g], ws, scratch_gradients=scratch_gradients)
    return [w.data for w in ws], opt.state_dict()


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    bits = np.dtype(f"u{a.dtype.itemsize}")
    np.testing.assert_array_equal(a.view(bits), b.view(bits))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_fast_path_has_the_bits_of_the_plain_rule(rule, dtype, monkeypatch):
    """Every optimizer and option, one core and two, with and without numba: the same bits."""
    pytest.importorskip("numba")   # in the [test] extra, so CI runs every branch
    from concurrent.futures import ThreadPoolExecutor
    w0, grads = odd_problem(dtype)
    monkeypatch.setattr(blas, "_WORKER", [ThreadPoolExecutor(1)])   # even on one CPU
    monkeypatch.setattr(fast, "idle_core", lambda: True)             # even on a busy machine
    monkeypatch.setattr(fast, "_LOADED", [])
    monkeypatch.delenv("UNAFRAID_NUMBA", raising=False)
    compiled = fast.kernels()
    assert compiled is not None
    for extra in EXTRAS:
        make = functools.partial(RULES[rule], **extra)
        plain_w, plain_state = train_bits(make, w0, grads, use_fast_path=False)
        for kernels, min_total, scratch in itertools.product([None, compiled], [10 ** 9, 1],
                                                              [False, True]):
            monkeypatch.setattr(fast, "_LOADED", [kernels])
            monkeypatch.setattr(fast, "PARALLEL_MIN_TOTAL", min_total)
            monkeypatch.setattr(fast, "PARALLEL_MIN_SIZE", 16)   # halves of the small variables too
            fast_w, fast_state = train_bits(make, w0, grads, True, scratch_gradients=scratch)
            for a, b in zip(fast_w, plain_w, strict=True):
                assert_same_bits(a, b)
            assert sorted(fast_state) == sorted(plain_state)
            for key in plain_state:
                assert_same_bits(fast_state[key], plain_state[key])


@pytest.mark.parametrize("two_cores", [False, True])
def test_scratch_gradients_are_written_only_by_kernels_that_may(monkeypatch, two_cores):
    """Adam's NumPy kernel uses a scratch gradient as its second buffer (the same bits: above);
    SGD's is left alone, and so is every gradient without ``scratch_gradients``."""
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(fast, "_LOADED", [None])                     # NumPy kernels
    monkeypatch.setattr(blas, "_WORKER", [ThreadPoolExecutor(1)])
    monkeypatch.setattr(fast, "idle_core", lambda: True)
    monkeypatch.setattr(fast, "PARALLEL_MIN_TOTAL", 1 if two_cores else 10 ** 9)
    monkeypatch.setattr(fast, "PARALLEL_MIN_SIZE", 16)
    for make, scratch, written in [(Adam, True, True), (Adam, False, False), (SGD, True, False)]:
        w = uf.Variable(np.ones(100, np.float32))
        g = np.full(100, 0.5, np.float32)
        make().apply([g], [w], scratch_gradients=scratch)
        assert (not np.all(g == 0.5)) is written, (make, scratch)


def test_plain_rule_allocates_and_the_fast_path_takes_two_cores_for_large_steps(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(blas, "_WORKER", [ThreadPoolExecutor(1)])   # even on one CPU
    monkeypatch.setattr(fast, "idle_core", lambda: True)             # even on a busy machine
    calls = []
    original = fast.FastPath.run_on_two_cores
    monkeypatch.setattr(fast.FastPath, "run_on_two_cores",
                        lambda self, *a: calls.append(1) or original(self, *a))
    w = uf.Variable(np.ones(fast.PARALLEL_MIN_TOTAL, np.float32))
    opt = Adam()
    opt.apply([np.ones_like(w.data)], [w])
    assert calls == [1] and opt._fast.has_helper_scratch
    opt.apply([np.ones(3, np.float32)], [uf.Variable(np.ones(3, np.float32))])
    assert calls == [1]                                   # small steps stay on one core
    monkeypatch.setattr(fast, "idle_core", lambda: False)   # another program keeps the cores busy
    opt.apply([np.ones_like(w.data)], [w])
    assert calls == [1]                                   # so the large step stays on one core too


def test_two_core_update_waits_for_its_helper_and_reports_its_error(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(fast, "PARALLEL_MIN_TOTAL", 1)
    monkeypatch.setattr(blas, "_WORKER", [ThreadPoolExecutor(1)])  # even on one CPU
    monkeypatch.setattr(fast, "idle_core", lambda: True)
    import threading
    main = threading.get_ident()

    def kernel(g, w, state, s1, s2):
        if threading.get_ident() != main:
            raise FloatingPointError("from the helper")
    opt, w = Adam(), uf.Variable(np.ones(200_000, np.float32))
    monkeypatch.setattr(opt, "fast_update", lambda lr: (kernel, {}))
    with pytest.raises(FloatingPointError, match="from the helper"):
        opt.apply([np.ones(200_000, np.float32)], [w])


def test_numba_that_cannot_load_falls_back_to_numpy_and_says_why(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def failing_import(name, globals=None, locals=None, fromlist=(), level=0):
        if fromlist and "optimizers_numba" in fromlist:
            raise RuntimeError("cannot cache function 'adam': no locator available")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.delenv("UNAFRAID_NUMBA", raising=False)
    monkeypatch.setattr(fast, "_LOADED", [])
    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        assert fast.kernels() is None
    monkeypatch.setattr(builtins, "__import__", real_import)
    w = uf.Variable(np.ones(3, np.float32))
    Adam(0.1).apply([np.ones(3, np.float32)], [w])      # the NumPy path
    np.testing.assert_allclose(w.data, 0.9, rtol=1e-6)


def test_accelerator_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("UNAFRAID_NUMBA", "0")
    monkeypatch.setattr(fast, "_LOADED", [])
    assert fast.kernels() is None
    assert "UNAFRAID_NUMBA=0" in fast.status()
    w = uf.Variable(np.ones(3, np.float32))
    Adam(0.1).apply([np.ones(3, np.float32)], [w])      # the NumPy path
    np.testing.assert_allclose(w.data, 0.9, rtol=1e-6)


def test_a_rule_of_your_own_needs_only_update_step(monkeypatch):
    """Without a kernel, update_step runs whole: never cut in halves (it need not be elementwise)."""
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(fast, "PARALLEL_MIN_TOTAL", 1)
    monkeypatch.setattr(fast, "PARALLEL_MIN_SIZE", 2)
    monkeypatch.setattr(blas, "_WORKER", [ThreadPoolExecutor(1)])
    monkeypatch.setattr(fast, "idle_core", lambda: True)

    class NormalizedSGD(Optimizer):
        def update_step(self, g, w, state, lr):
            w -= lr * g / np.linalg.norm(g)
    w = uf.Variable(np.zeros(4))
    NormalizedSGD(0.5).apply([np.array([3.0, 0.0, 0.0, 4.0])], [w])
    np.testing.assert_array_equal(w.data, [-0.3, 0.0, 0.0, -0.4])


# ---- argument checks (the refusals at construction are in tests/test_misuse.py) ----------------------
def test_bad_learning_rate_is_refused_when_set_too():
    opt = Adam()
    with pytest.raises(ValueError, match="learning_rate.*got -1"):
        opt.learning_rate = -1
    opt.learning_rate = 0.0   # zero is allowed (a frozen step), as in Keras
    assert opt.learning_rate == 0.0


def test_state_dict_keys_and_copies():
    w = [uf.Variable(np.zeros((2, 2), np.float32)), uf.Variable(np.zeros(2, np.float32))]
    opt = Adam()
    opt.apply([np.ones((2, 2), np.float32), np.ones(2, np.float32)], w)
    state = opt.state_dict()
    assert sorted(state) == ["0/m", "0/v", "1/m", "1/v", "iterations"]
    state["0/m"][...] = 123.0
    assert not np.any(opt.state_dict()["0/m"] == 123.0)


def test_load_state_dict_errors_are_clear():
    w = [uf.Variable(np.zeros(3, np.float32), name="dense/bias")]
    opt = Adam()
    with pytest.raises(RuntimeError, match="build"):
        opt.load_state_dict({"iterations": np.array(1), "0/m": np.zeros(3, np.float32)})
    opt.build(w)
    good = opt.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['0/v'\]"):
        opt.load_state_dict({k: v for k, v in good.items() if k != "0/v"})
    with pytest.raises(ValueError, match="unexpected keys"):
        opt.load_state_dict({**good, "0/v_hat": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match=r"dense/bias.*shape \(4,\)"):
        opt.load_state_dict({**good, "0/m": np.zeros(4, np.float32)})
    with pytest.raises(ValueError, match="dtype float64"):
        opt.load_state_dict({**good, "0/m": np.zeros(3)})
    with pytest.raises(ValueError, match="iterations"):
        opt.load_state_dict({**good, "iterations": np.array([1, 2])})
    opt.load_state_dict(good)  # nothing changed by the failed attempts
    assert opt.iterations == 0


def test_float32_stays_float32():
    w = uf.Variable(np.ones(3, np.float32))
    for opt in (SGD(0.1, momentum=0.9), Adam(), AdamW(), RMSprop(centered=True, momentum=0.1),
                Adagrad()):
        opt.apply([np.ones(3, np.float64)], [w])  # even a float64 gradient
        assert w.data.dtype == np.float32
        assert all(a.dtype == np.float32 for a in opt.variables[1:])  # [0]: iterations


def test_updates_in_place_and_marks_the_weights_edited():
    w = uf.Variable(np.ones(3, np.float32))
    buffer = w.data
    loss = uf.sum(w * w)  # recorded before the updates change w
    opt = Adam()
    opt.apply([np.ones(3, np.float32)], [w])
    first = w._version
    opt.apply([np.ones(3, np.float32)], [w])
    assert w.data is buffer and w._version > first > 0 and opt.iterations == 2
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()  # its saved w is stale
    after = uf.sum(w * w)  # recorded after the updates: backward runs
    after.backward()
    np.testing.assert_allclose(w.grad, 2 * w.data)


def test_build_is_idempotent_and_extends_to_new_variables():
    a, b = uf.Variable(np.zeros(2, np.float32)), uf.Variable(np.zeros(3, np.float32))
    opt = Adam()
    opt.build([a])
    opt.apply([np.ones(2, np.float32)], [a])
    opt.build([a])  # no reset
    assert opt.state_dict()["0/m"].any()
    opt.apply([np.ones(2, np.float32), np.ones(3, np.float32)], [a, b])
    assert sorted(opt.state_dict()) == ["0/m", "0/v", "1/m", "1/v", "iterations"]


def test_none_gradients_are_skipped():
    a, b = uf.Variable(np.zeros(2)), uf.Variable(np.zeros(2), name="unused")
    opt = SGD(1.0)
    with pytest.warns(UserWarning, match="unused"):
        opt.apply([np.ones(2), None], [a, b])
    assert np.all(a.data == -1) and np.all(b.data == 0)
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None, None], [a, b])


def test_apply_gradients_pairs_and_shape_errors():
    w = uf.Variable(np.zeros((2, 3)), name="dense/kernel")
    opt = SGD(1.0)
    assert opt.apply_gradients([(np.ones((2, 3)), w)]) == 1
    with pytest.raises(ValueError, match=r"dense/kernel.*\(3, 2\).*\(2, 3\)"):
        opt.apply([np.ones((3, 2))], [w])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        opt.apply([np.ones((2, 3)), np.ones(1)], [w])


def test_no_parameter_sized_allocations_per_step():
    n = 1_000_000  # 4 MB per float32 array
    w = uf.Variable(np.zeros(n, np.float32))
    g = np.ones(n, np.float32)
    for opt in (Adam(amsgrad=True), RMSprop(momentum=0.9, centered=True),
                SGD(momentum=0.9, nesterov=True, clipnorm=0.1), Adagrad(), AdamW()):
        opt.apply([g], [w])  # build: state and scratch allocated here, once
        tracemalloc.start()
        for _ in range(3):
            opt.apply([g], [w])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 100_000, f"{type(opt).__name__} allocated {peak} bytes per step"


# ---- lookup and config -------------------------------------------------------------------------------
def test_get_resolves_names_dicts_and_instances():
    assert isinstance(optimizers.get("ADAM"), Adam)
    assert isinstance(optimizers.get("sgd"), SGD)
    assert isinstance(optimizers.get("AdamW"), AdamW)
    assert isinstance(optimizers.get("rmsprop"), RMSprop)
    assert isinstance(optimizers.get("adagrad"), Adagrad)
    opt = Adam(0.1)
    assert optimizers.get(opt) is opt
    again = optimizers.get(optimizers.serialize(opt))
    assert isinstance(again, Adam) and again.learning_rate == 0.1
    with pytest.raises(ValueError, match=r"Did you mean 'adam'\?.*adagrad, adam, adamax, adamw"):
        optimizers.get("adma")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(3)


def test_config_round_trip_is_json_and_keeps_schedules():
    lr = S.CosineDecay(0.1, decay_steps=100, warmup_target=0.2, warmup_steps=10)
    opt = RMSprop(learning_rate=lr, rho=0.8, momentum=0.1, centered=True, clipnorm=2.0)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    clone = RMSprop.from_config(config)
    assert isinstance(clone._learning_rate, S.CosineDecay)
    assert clone.get_config() == opt.get_config()
    assert clone.learning_rate == lr(0)


def test_unsupported_and_legacy_arguments():
    with pytest.raises(ValueError, match="not recognized"):
        Adam(betas=(0.9, 0.99))
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        assert Adam(lr=0.1).learning_rate == 0.1
    with pytest.raises(ValueError, match="ema_momentum"):
        Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=1.5)


# ---- schedules --------------------------------------------------------------------------------------
def test_exponential_and_inverse_time_decay():
    lr = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose([lr(0), lr(5), lr(10)], [0.1, 0.1 * 0.5 ** 0.5, 0.05])
    assert S.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.05)
    assert S.InverseTimeDecay(0.1, 1, 0.5)(2) == pytest.approx(0.05)
    assert S.InverseTimeDecay(0.1, 2, 0.5, staircase=True)(3) == pytest.approx(0.1 / 1.5)


def test_cosine_decay_with_and_without_warmup():
    lr = S.CosineDecay(0.1, decay_steps=100)
    np.testing.assert_allclose([lr(0), lr(50), lr(100), lr(200)], [0.1, 0.05, 0.0, 0.0],
                               atol=1e-15)
    assert S.CosineDecay(0.1, 100, alpha=0.1)(100) == pytest.approx(0.01)
    warm = S.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    np.testing.assert_allclose([warm(0), warm(5), warm(10), warm(60), warm(500)],
                               [0.0, 0.05, 0.1, 0.05, 0.0], atol=1e-15)


def test_piecewise_polynomial_and_restarts():
    lr = S.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    assert [lr(0), lr(100), lr(101), lr(200), lr(201)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    poly = S.PolynomialDecay(0.1, 10, end_learning_rate=0.0)
    np.testing.assert_allclose([poly(5), poly(20)], [0.05, 0.0])
    assert S.PolynomialDecay(0.1, 10, 0.0, cycle=True)(15) == pytest.approx(0.025)
    sgdr = S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    np.testing.assert_allclose([sgdr(0), sgdr(5), sgdr(10), sgdr(20)], [1.0, 0.5, 0.5, 0.25],
                               atol=1e-12)


def test_schedule_serialisation_and_errors():
    for lr in (S.ExponentialDecay(0.1, 10, 0.5, staircase=True), S.CosineDecay(0.1, 10),
               S.PiecewiseConstantDecay([5], [1.0, 0.1]), S.InverseTimeDecay(0.1, 1, 0.5),
               S.PolynomialDecay(0.1, 10), S.CosineDecayRestarts(0.1, 10)):
        again = S.deserialize(json.loads(json.dumps(S.serialize(lr))))
        assert type(again) is type(lr) and again.get_config() == lr.get_config()
        assert again(7) == lr(7)
    with pytest.raises(ValueError, match="decay_steps"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less than"):
        S.PiecewiseConstantDecay([1, 2], [1.0])
    with pytest.raises(ValueError, match="Did you mean 'CosineDecay'"):
        S.deserialize({"class_name": "CosineDeacy", "config": {}})


def test_custom_schedule_subclass():
    class Halving(S.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2 ** step

    w = uf.Variable(np.zeros(1))
    opt = SGD(learning_rate=Halving())
    for _ in range(2):
        opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(w.data, [-1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NotImplementedError, match="get_config"):
            opt.get_config()
