"""Losses: hand-worked values, Keras's formulas written independently in NumPy, gradients, errors."""

import json
import math
import warnings

import numpy as np
import pytest

import unafraid as uf
from unafraid import losses as L

rng = np.random.default_rng(0)
EPS = 1e-7


def probs(n=6, c=4, seed=1):
    z = np.random.default_rng(seed).normal(size=(n, c))
    e = np.exp(z - z.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


def value(t):
    return np.asarray(t.data if isinstance(t, uf.Tensor) else t)


# ---- hand-worked values ------------------------------------------------------------------------------
def test_sparse_categorical_crossentropy_hand_worked():
    assert value(L.sparse_categorical_crossentropy([1], [[0.25, 0.75]])) == pytest.approx(
        [-math.log(0.75)], rel=1e-6)
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    logits = np.array([[2.0, 0.0], [0.0, 2.0]], np.float32)
    assert float(loss([0, 1], logits)) == pytest.approx(math.log(1 + math.exp(-2)), rel=1e-6)
    # (N, 1) labels are accepted, as in Keras
    assert float(loss(np.array([[0], [1]]), logits)) == pytest.approx(0.126928, rel=1e-5)


def test_categorical_crossentropy_hand_worked_and_label_smoothing():
    assert value(L.categorical_crossentropy([[0.0, 1.0]], [[0.25, 0.75]])) == pytest.approx(
        [-math.log(0.75)], rel=1e-6)
    smoothed = L.CategoricalCrossentropy(label_smoothing=0.2)([[0.0, 1.0]], [[0.25, 0.75]])
    want = -(0.1 * math.log(0.25) + 0.9 * math.log(0.75))  # t = [0, 1] * 0.8 + 0.2 / 2
    assert float(smoothed) == pytest.approx(want, rel=1e-6)


def test_probability_inputs_are_clipped_as_keras_does():
    # p(label) = 0: -log(1e-7) instead of inf
    assert value(L.sparse_categorical_crossentropy([0], [[0.0, 1.0]])) == pytest.approx(
        [-math.log(EPS)], rel=1e-4)
    assert np.isfinite(value(L.binary_crossentropy([[1.0]], [[0.0]])))
    # rows are renormalised before clipping (values above 1 warn: they look like logits)
    with pytest.warns(UserWarning, match="from_logits=True"):
        ce = L.categorical_crossentropy([[1.0, 0.0]], [[2.0, 2.0]])
    assert value(ce) == pytest.approx([math.log(2)], rel=1e-6)


def test_huge_logits_give_finite_losses():
    z = np.array([[1e30, -1e30, 0.0]], np.float32)
    assert np.isfinite(float(L.SparseCategoricalCrossentropy(from_logits=True)([1], z)))
    assert np.isfinite(float(L.CategoricalCrossentropy(from_logits=True)([[0, 1.0, 0]], z)))
    b = L.BinaryCrossentropy(from_logits=True)
    assert float(b([[1.0]], [[1e30]])) == 0.0
    assert float(b([[0.0]], [[-1e30]])) == 0.0
    assert float(b([[0.0]], [[1e30]])) == pytest.approx(1e30, rel=1e-6)


def test_softmax_outputs_use_their_logits():
    z = uf.Tensor(np.array([[1000.0, 0.0]], np.float32), requires_grad=True)
    p = uf.activations.softmax(z)  # p = [1, 0] exactly in float32
    # through the recorded logits: the exact loss 1000, not -log(1e-7) = 16.1
    assert float(L.SparseCategoricalCrossentropy()([1], p)) == pytest.approx(1000.0)
    q = probs()
    zq = uf.Tensor(np.log(q))
    y = np.arange(6) % 4
    np.testing.assert_allclose(value(L.sparse_categorical_crossentropy(y, uf.activations.softmax(zq))),
                               value(L.sparse_categorical_crossentropy(y, q)), rtol=1e-5)


def test_binary_crossentropy_matches_keras_formula():
    y = rng.integers(0, 2, (8, 3)).astype(np.float32)
    p = rng.uniform(0.01, 0.99, (8, 3)).astype(np.float32)
    want = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(value(L.binary_crossentropy(y, p)), want, rtol=1e-5)
    z = rng.normal(0, 5, (8, 3)).astype(np.float32)
    stable = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(-1)
    np.testing.assert_allclose(value(L.binary_crossentropy(y, z, from_logits=True)), stable,
                               rtol=1e-5)
    smooth = y * 0.9 + 0.05
    want = -(smooth * np.log(p) + (1 - smooth) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(value(L.binary_crossentropy(y, p, label_smoothing=0.1)), want,
                               rtol=1e-5)


def test_binary_crossentropy_accepts_1d_labels_for_one_output_unit():
    loss = L.BinaryCrossentropy()
    y, p = np.array([1.0, 0.0, 1.0]), np.array([[0.9], [0.2], [0.6]], np.float32)
    want = -np.mean([math.log(0.9), math.log(0.8), math.log(0.6)])
    assert float(loss(y, p)) == pytest.approx(want, rel=1e-5)


def test_regression_losses_match_keras_formulas():
    y = rng.normal(size=(5, 3)).astype(np.float32)
    p = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(value(L.mse(y, p)), ((y - p) ** 2).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(value(L.mae(y, p)), np.abs(y - p).mean(-1), rtol=1e-6)
    e = p - y
    hub = np.where(np.abs(e) <= 0.5, 0.5 * e ** 2, 0.5 * np.abs(e) - 0.5 * 0.25).mean(-1)
    np.testing.assert_allclose(value(L.huber(y, p, delta=0.5)), hub, rtol=1e-6)
    lam, counts = np.exp(p), rng.poisson(2.0, (5, 3)).astype(np.float32)
    np.testing.assert_allclose(value(L.poisson(counts, lam)),
                               (lam - counts * np.log(lam + EPS)).mean(-1), rtol=1e-5)
    t, q = probs(5, 3, seed=2), probs(5, 3, seed=3)
    np.testing.assert_allclose(value(L.kld(t, q)), (t * np.log(t / q)).sum(-1), rtol=1e-5,
                               atol=1e-7)


def test_hand_worked_regression_numbers():
    assert float(L.MeanSquaredError()([[0.0], [2.0]], [[1.0], [2.0]])) == 0.5
    assert float(L.MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 3.0]])) == 1.5
    assert float(L.Huber()([[0.0, 0.0]], [[0.5, 3.0]])) == pytest.approx((0.125 + 2.5) / 2)
    assert float(L.KLDivergence()([[0.5, 0.5]], [[0.5, 0.5]])) == 0.0


def test_results_are_float32_scalars():
    out = L.SparseCategoricalCrossentropy()([0, 1], probs(2, 3))
    assert isinstance(out, uf.Tensor) and out.shape == () and out.dtype == np.float32
    assert L.MeanSquaredError()(np.ones((2, 1)), np.zeros((2, 1), np.float32)).dtype == np.float32


# ---- sample weights and reductions -------------------------------------------------------------------
def test_sample_weight_and_reductions():
    y, p = np.array([[1.0], [2.0], [4.0]]), np.zeros((3, 1), np.float32)
    sw = np.array([1.0, 0.5, 0.0])
    per = np.array([1.0, 4.0, 16.0])
    assert float(L.MeanSquaredError()(y, p, sample_weight=sw)) == pytest.approx((1 + 2) / 3)
    assert float(L.MeanSquaredError(reduction="sum")(y, p, sw)) == pytest.approx(3.0)
    assert float(L.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, sw)) == \
        pytest.approx(3.0 / 1.5)
    none = L.MeanSquaredError(reduction=None)(y, p)
    assert none.shape == (3,)
    np.testing.assert_allclose(value(none), per)
    np.testing.assert_allclose(value(L.MeanSquaredError(reduction="none")(y, p, sw)), per * sw)
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="sample_weight of shape"):
        L.MeanSquaredError()(y, p, sample_weight=np.ones(4))


def test_ignore_class():
    loss = L.SparseCategoricalCrossentropy(ignore_class=-1)
    p = np.array([[0.25, 0.75], [0.5, 0.5], [0.9, 0.1]], np.float32)
    assert float(loss([1, -1, 0], p)) == pytest.approx(-(math.log(0.75) + math.log(0.9)) / 2,
                                                      rel=1e-5)


# ---- gradients ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss,y", [
    (L.SparseCategoricalCrossentropy(), np.array([0, 3, 1, 2, 2, 0])),
    (L.SparseCategoricalCrossentropy(from_logits=True), np.array([0, 3, 1, 2, 2, 0])),
    (L.CategoricalCrossentropy(label_smoothing=0.1), np.eye(4)[[0, 3, 1, 2, 2, 0]]),
    (L.CategoricalCrossentropy(from_logits=True), np.eye(4)[[0, 3, 1, 2, 2, 0]]),
    (L.MeanSquaredError(), rng.normal(size=(6, 4))),
    (L.MeanAbsoluteError(), rng.normal(size=(6, 4))),
    (L.Huber(delta=0.3), rng.normal(size=(6, 4))),
    (L.Poisson(), rng.poisson(2.0, (6, 4)).astype(float)),
    (L.KLDivergence(), probs(6, 4, seed=5)),
])
def test_gradients_match_finite_differences(loss, y):
    p = probs(6, 4).astype(np.float64)
    if getattr(loss, "from_logits", False):
        p = np.log(p) * 2.0
    sw = np.linspace(0.5, 1.5, 6)
    uf.check_grad(lambda q: loss(y, q, sample_weight=sw), p)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient_including_zero_logits(from_logits):
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    p = np.array([[0.3, 0.8], [0.5, 0.1], [0.6, 0.45]]) if not from_logits else \
        np.array([[0.0, 2.0], [-1.0, 0.0], [3.0, -0.5]])  # exact zeros: no kink allowed
    uf.check_grad(lambda q: L.BinaryCrossentropy(from_logits=from_logits)(y, q), p)


# ---- errors that teach -------------------------------------------------------------------------------
def test_sparse_loss_given_one_hot_labels():
    with pytest.raises(ValueError, match=r"one-hot.*CategoricalCrossentropy.*argmax"):
        L.SparseCategoricalCrossentropy()(np.eye(3), probs(3, 3))


def test_categorical_loss_given_integer_labels():
    with pytest.raises(ValueError, match=r"integer class indices.*SparseCategoricalCrossentropy"):
        L.CategoricalCrossentropy()(np.array([0, 1, 2]), probs(3, 3))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 3\).*3 output units.*from 1 to 3.*subtract 1"):
        L.SparseCategoricalCrossentropy()(np.array([1, 2, 3]), probs(3, 3))
    with pytest.raises(ValueError, match=r"\[0, 3\).*from -1 to 2"):
        L.SparseCategoricalCrossentropy(from_logits=True)(np.array([-1, 0, 2]), probs(3, 3))
    with pytest.raises(ValueError, match=r"Dense\(10\)"):
        L.SparseCategoricalCrossentropy()(np.array([0, 9, 2]), probs(3, 3))


def test_from_logits_on_probabilities_warns_about_double_softmax():
    with pytest.warns(UserWarning, match="softmax"):
        L.SparseCategoricalCrossentropy(from_logits=True)([0, 1, 2], probs(3, 3))
    with pytest.warns(UserWarning, match="softmax"):
        L.CategoricalCrossentropy(from_logits=True)(np.eye(3), probs(3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real logits: no warning
        L.SparseCategoricalCrossentropy(from_logits=True)([0, 1, 2], np.log(probs(3, 3)))


def test_logits_without_from_logits_warn_at_the_callers_line():
    with pytest.warns(UserWarning, match="from_logits=True") as record:
        L.SparseCategoricalCrossentropy()([0, 1], np.array([[3.0, -2.0], [0.5, 1.5]], np.float32))
    assert record[0].filename == __file__


@pytest.mark.parametrize("loss", [L.MeanSquaredError(), L.MeanAbsoluteError(), L.Huber(),
                                  L.Poisson()])
def test_regression_losses_refuse_n_vs_n1(loss):
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 1\).*reshape"):
        loss(np.ones(5), np.ones((5, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(5, 1\).*\(5,\).*reshape"):
        loss(np.ones((5, 1)), np.ones(5, np.float32))


def test_nan_targets_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        L.MeanSquaredError()(np.array([[1.0], [np.nan]]), np.zeros((2, 1), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        L.SparseCategoricalCrossentropy()(np.array([0.0, np.nan]), probs(2, 3))
    with pytest.raises(ValueError, match="NaN"):
        L.BinaryCrossentropy()(np.array([[np.inf]]), np.full((1, 1), 0.5, np.float32))


def test_check_targets_before_training():
    y = np.arange(6, dtype=np.float32)
    out = L.check_targets(L.get("mse"), y, (None, 1))
    assert out.shape == (6, 1)
    with pytest.raises(ValueError, match=r"output 'digits'.*\[0, 3\)"):
        L.check_targets(L.get("sparse_categorical_crossentropy"), np.array([0, 1, 5]), (2, 3),
                        output_name="digits")
    with pytest.raises(ValueError, match=r"labels in \[0, 1\].*from -1 to 1"):
        L.check_targets(L.get("binary_crossentropy"), np.array([-1.0, 1.0]), (2, 1))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        L.check_targets(L.get("mae"), np.ones((4, 2)), (2, 3))


# ---- lookup and config --------------------------------------------------------------------------------
def test_get_names_dicts_instances_and_callables():
    for name, cls in [("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
                      ("categorical_crossentropy", L.CategoricalCrossentropy),
                      ("binary_crossentropy", L.BinaryCrossentropy), ("mse", L.MeanSquaredError),
                      ("mean_squared_error", L.MeanSquaredError), ("MAE", L.MeanAbsoluteError),
                      ("huber", L.Huber), ("poisson", L.Poisson), ("kld", L.KLDivergence),
                      ("MeanSquaredError", L.MeanSquaredError)]:
        assert type(L.get(name)) is cls, name
    inst = L.Huber(delta=2.0)
    assert L.get(inst) is inst
    assert L.get(None) is None

    def cubic(y_true, y_pred):
        return uf.mean(uf.abs(y_pred - y_true) ** 3, axis=-1)

    wrapped = L.get(cubic)
    assert wrapped.name == "cubic"
    assert float(wrapped(np.ones((2, 1)), np.zeros((2, 1), np.float32), sample_weight=[1, 0])) == 0.5
    with pytest.raises(ValueError, match="Did you mean 'sparse_categorical_crossentropy'"):
        L.get("sparse_categorical_crossentropi")


def test_config_round_trip():
    for loss in (L.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                 L.CategoricalCrossentropy(label_smoothing=0.1), L.BinaryCrossentropy(),
                 L.Huber(delta=0.5, name="h"), L.MeanSquaredError(), L.Poisson()):
        config = json.loads(json.dumps(L.serialize(loss)))
        again = L.get(config)
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert L.Huber().name == "huber_loss" and L.KLDivergence().name == "kl_divergence"


def test_custom_loss_subclass():
    class Cubic(L.Loss):
        def call(self, y_true, y_pred):
            return uf.mean(uf.abs(y_pred - y_true) ** 3, axis=-1)

    loss = Cubic(name="cubic")
    assert float(loss(np.array([[2.0]]), np.zeros((1, 1), np.float32))) == 8.0
    uf.check_grad(lambda q: loss(np.ones((3, 2)), q), rng.normal(size=(3, 2)))
