"""Keras 3's activations (issue 17 item 4): values against Keras's own test cases, first and second
derivatives against central finite differences, names, layers and save/load.

The value tests port ``keras/src/activations/activations_test.py`` (``ActivationsTest``) and
``keras/src/layers/activations/*_test.py``: each names the Keras test it comes from, and the
expected numbers are Keras's (its NumPy reference functions or its literal arrays), never
unafraid's output. Keras draws its inputs with ``np.random``; here they come from a seeded
generator over the same ranges. Derivatives are checked at points away from the kinks (relu at
its threshold, clip bounds, the shrink thresholds), where they are undefined.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

import unafraid as uf
from unafraid import activations

RNG = np.random.default_rng(17)


def close(result, expected, rtol=1e-5, atol=1e-6):
    """Keras's ``assertAllClose`` (rtol 1e-6 and atol 1e-6 by default, rtol given by each test)."""
    out = result.numpy() if isinstance(result, uf.Tensor) else np.asarray(result)
    assert out.shape == np.shape(expected)
    assert_allclose(out, expected, rtol=rtol, atol=atol)


def uniform(low, high, shape):
    return RNG.uniform(low, high, shape)


# ---- Keras's NumPy references (activations_test.py) --------------------------------------------
def _ref_softplus(x):
    return np.log(np.ones_like(x) + np.exp(x))


def _ref_relu6(x):
    return min(max(0, x), 6)


def _ref_silu(x):
    return x / (1 + np.exp(-x))


def _ref_hard_sigmoid(x):
    x = (x / 6.0) + 0.5
    return 0.0 if x <= 0 else (1.0 if x >= 1 else x)


def _ref_log_sigmoid(x):
    return -1 * _ref_softplus(-x)


def _ref_hard_silu(x):
    return x * np.minimum(np.maximum(0.0, x + 3.0), 6.0) * (1.0 / 6.0)


def _ref_softsign(x):
    return np.divide(x, np.ones_like(x) + np.absolute(x))


# Keras's ranges for the random inputs of its element-wise tests, per activation
RANGES = [(0, 1, (2, 5)), (-10, 10, (5,)), (-10, 10, (3, 3, 3))]


# ---- ActivationsTest: values -------------------------------------------------------------------
def test_selu():  # ActivationsTest.test_selu
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    positive = np.array([[1, 2]], dtype="float32")
    close(activations.selu(positive[np.newaxis, :])[0], positive * scale)
    negative = np.array([[-1, -2]], dtype="float32")
    close(activations.selu(negative[np.newaxis, :])[0], (np.exp(negative) - 1) * scale * alpha,
          rtol=1e-6)


@pytest.mark.parametrize("low, high, shape", [*RANGES, (-1e-7, 1e-7, (2, 5)), (10, 100, (2, 5)),
                                              (-100, -10, (2, 5))])
def test_softsign(low, high, shape):  # ActivationsTest.test_softsign
    x = uniform(low, high, shape)
    close(activations.softsign(x), np.vectorize(_ref_softsign)(x))


@pytest.mark.parametrize("low, high, shape", [*RANGES, (5, 10, (2, 5))])
def test_hard_sigmoid(low, high, shape):  # ActivationsTest.test_hard_sigmoid
    x = uniform(low, high, shape)
    close(activations.hard_sigmoid(x), np.vectorize(_ref_hard_sigmoid)(x))


@pytest.mark.parametrize("low, high, shape", [*RANGES, (10, 100, (2, 5)), (-100, -10, (2, 5))])
def test_sparse_sigmoid(low, high, shape):  # ActivationsTest.test_sparse_sigmoid
    x = uniform(low, high, shape)
    close(activations.sparse_sigmoid(x), np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1))))


@pytest.mark.parametrize("low, high, shape", [*RANGES, (10, 100, (2, 5)), (-100, -10, (2, 5))])
def test_log_sigmoid(low, high, shape):  # ActivationsTest.test_log_sigmoid
    x = uniform(low, high, shape)
    close(activations.log_sigmoid(x), np.vectorize(_ref_log_sigmoid)(x))


@pytest.mark.parametrize("low, high, shape", [(-3, 3, (2, 5)), (-10, 10, (5,)), (-10, 10, (3, 3, 3))])
def test_hard_silu(low, high, shape):  # ActivationsTest.test_hard_silu
    x = uniform(low, high, shape).astype("float32")
    close(activations.hard_silu(x), np.vectorize(_ref_hard_silu)(x))
    assert activations.hard_swish is activations.hard_silu


def test_hard_silu_saturates():  # ActivationsTest.test_hard_silu (values beyond +-3)
    above = uniform(5, 10, (2, 5)).astype("float32")
    close(activations.hard_silu(above), above)
    below = uniform(-10, -5, (2, 5)).astype("float32")
    close(activations.hard_silu(below), np.zeros_like(below))


@pytest.mark.parametrize("x, kwargs, expected", [
    ([-10, -5, 0.0, 5, 10], {"negative_slope": 0.5}, [-5.0, -2.5, 0.0, 5.0, 10.0]),
    ([-10, -5, 0.0, 5, 10], {"max_value": 5.0}, [0.0, 0.0, 0.0, 5.0, 5.0]),
    ([-10, -5, 0.0, 5, 10], {"threshold": 5.0}, [-0.0, -0.0, 0.0, 0.0, 10.0]),
    ([-10, -5, 0.0, 5, 10], {"threshold": 5.0, "max_value": 5.0}, [0.0, 0.0, 0.0, 0.0, 5.0]),
    ([-10, -5, 0.0, 5, 10], {"negative_slope": 0.5, "max_value": 5.0, "threshold": 5.0},
     [-7.5, -5.0, -2.5, 0.0, 5.0]),
    ([-10, -5, 0.0, 5, 10, 12], {"max_value": 6.0}, [0.0, 0.0, 0.0, 5.0, 6.0, 6.0]),
], ids=["test_relu_negative_slope", "test_relu_max_value", "test_relu_threshold",
        "test_relu_combined_threshold_and_max_value", "test_relu_combined_all_parameters",
        "test_relu_to_trigger_relu6"])
def test_relu_options(x, kwargs, expected):  # ActivationsTest.<id>
    close(activations.relu(np.array(x), **kwargs), np.array(expected))


def test_relu_to_trigger_leaky():  # ActivationsTest.test_relu_to_trigger_leaky
    close(activations.relu(np.array([-10, -5, 0.0, 5, 10]), negative_slope=0.5),
          np.array([-5.0, -2.5, 0.0, 5.0, 10.0]))


@pytest.mark.parametrize("low, high", [(0, 5.9), (6.1, 10), (-1, 0)])
def test_relu6(low, high):  # ActivationsTest.test_relu6
    x = uniform(low, high, (2, 5))
    close(activations.relu6(x[np.newaxis, :])[0], np.vectorize(_ref_relu6)(x))


@pytest.mark.parametrize("low, high", [(0, 5.9), (-1, 1), (-5.9, 0)])
def test_silu(low, high):  # ActivationsTest.test_silu
    x = uniform(low, high, (2, 5))
    close(activations.silu(x[np.newaxis, :])[0], np.vectorize(_ref_silu)(x))
    assert activations.swish is activations.silu


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_celu(alpha):  # ActivationsTest.test_celu
    x = RNG.random((2, 5))
    expected = np.maximum(x, 0.0) + alpha * np.expm1(np.minimum(x, 0.0) / alpha)
    close(activations.celu(x[np.newaxis, :], alpha=alpha)[0], expected)


@pytest.mark.parametrize("axis", [-1, -2])
def test_glu(axis):  # ActivationsTest.test_glu
    x = RNG.random((2, 4))
    x1, x2 = np.split(x, 2, axis)
    close(activations.glu(x[np.newaxis, :], axis=axis)[0], x1 * (1 / (1 + np.exp(-x2))))


@pytest.mark.parametrize("name, reference", [
    ("tanh_shrink", lambda x: x - np.tanh(x)),                       # test_tanh_shrink
    ("hard_tanh", lambda x: np.clip(x, -1.0, 1.0)),                  # test_hard_tanh
    ("hard_shrink", lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),    # test_hard_shrink
    ("squareplus", lambda x: (x + np.sqrt(x**2 + 4)) / 2),           # test_squareplus
    ("soft_shrink", lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0))),
    ("sparse_plus", lambda x: np.where(x <= -1, np.zeros_like(x),
                                       np.where(x < 1, (1 / 4) * (x + 1) ** 2, x))),
])
def test_elementwise_on_zero_to_one(name, reference):  # ActivationsTest.test_<name>
    x = RNG.random((2, 5))
    close(getattr(activations, name)(x[np.newaxis, :])[0], reference(x))


def test_threshold():  # ActivationsTest.test_threshold
    x = RNG.random((2, 5))
    close(activations.threshold(x[np.newaxis, :], 0, 0)[0], np.where(x > 0, x, 0.0))


@pytest.mark.parametrize("low, high, shape", [(0, 1, (2, 5)), (-10, 10, (2, 5)), (-10, 10, (5,)),
                                              (-10, 10, (3, 3, 3)), (0, 10, (2, 5)),
                                              (-10, 0, (2, 5)), (-1e-7, 1e-7, (2, 5))])
def test_exponential(low, high, shape):  # ActivationsTest.test_exponential
    x = uniform(low, high, shape)
    close(activations.exponential(x), np.exp(x))


def test_exponential_of_large_values_overflows_as_numpy():  # ActivationsTest.test_exponential
    x = uniform(1e4, 1e5, (2, 5))
    with np.errstate(over="ignore"):
        assert np.all(np.isinf(activations.exponential(x).numpy()))
        assert np.all(np.isinf(np.exp(x)))


@pytest.mark.parametrize("low, high, shape", [(0, 1, (2, 5)), (-10, 10, (2, 5)), (-10, 10, (5,)),
                                              (-10, 10, (3, 3, 3)), (0, 10, (2, 5)),
                                              (-10, 0, (2, 5)), (-1e-7, 1e-7, (2, 5)),
                                              (1e4, 1e5, (2, 5))])
def test_mish(low, high, shape):  # ActivationsTest.test_mish
    x = uniform(low, high, shape)
    with np.errstate(over="ignore"):
        expected = x * np.tanh(_ref_softplus(x))
    close(activations.mish(x), expected)


@pytest.mark.parametrize("shape, axis, hot", [
    ((12,), -1, (-1,)), ((6, 2), -1, (slice(None), -1)), ((4, 1, 3), -1, (slice(None), slice(None), -1)),
    ((6, 2), -2, (-1, slice(None))), ((4, 1, 3), -2, None), ((4, 1, 3), -3, (-1, slice(None), slice(None))),
    ((6, 1, 1, 2), -3, None)])
def test_sparsemax(shape, axis, hot):  # ActivationsTest.test_sparsemax
    x = np.linspace(1, 12, num=12).reshape(shape)
    expected = np.ones_like(x) if hot is None else np.zeros_like(x)
    if hot is not None:
        expected[hot] = 1.0
    close(activations.sparsemax(x, axis=axis), expected)


def test_sparsemax_from_ops_test():  # keras/src/ops/nn_test.py NNOpsCorrectnessTest.test_sparsemax
    close(activations.sparsemax(np.array([-0.5, 0, 1, 2, 3], dtype=np.float32)),
          [0.0, 0.0, 0.0, 0.0, 1.0])


def test_sparsemax_with_a_larger_support_by_hand():
    # Martins & Astudillo (2016), Algorithm 1: z = (0.1, 0.7, 0.8): support {0.8, 0.7}
    # (1 + 2 * 0.7 > 1.5, 1 + 3 * 0.1 < 1.6), tau = (1.5 - 1) / 2 = 0.25, p = (0, 0.45, 0.55);
    # z = (0.1, 0.5, 0.6): all three (1 + 3 * 0.1 > 1.2), tau = 0.2 / 3.
    close(activations.sparsemax(np.array([[0.1, 0.7, 0.8]])), [[0.0, 0.45, 0.55]], rtol=1e-12)
    close(activations.sparsemax(np.array([0.1, 0.5, 0.6])), np.array([0.1, 0.5, 0.6]) - 0.2 / 3,
          rtol=1e-12)
    close(activations.sparsemax(np.array([1.0, 1.0])), [0.5, 0.5], rtol=1e-12)


def test_get_method():  # ActivationsTest.test_get_method
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    with pytest.raises(ValueError):
        activations.get("typo")


# ---- the same functions on known points, by hand -----------------------------------------------
def test_hand_worked_values():
    close(activations.softsign([3.0]), [0.75])
    close(activations.hard_sigmoid([-3.0, 0.0, 1.5, 3.0]), [0.0, 0.5, 0.75, 1.0])
    close(activations.celu([-2.0], alpha=2.0), [2.0 * (np.exp(-1.0) - 1)])
    close(activations.squareplus([0.0], b=9.0), [1.5])
    close(activations.sparse_plus([-2.0, 0.0, 2.0]), [0.0, 0.25, 2.0])
    close(activations.threshold([1.0, 3.0], threshold=2.0, default_value=-7.0), [-7.0, 3.0])
    close(activations.soft_shrink([-2.0, 0.2, 2.0], threshold=1.0), [-1.0, 0.0, 1.0])
    close(activations.hard_shrink([-2.0, 0.2, 2.0], threshold=1.0), [-2.0, 0.0, 2.0])
    close(activations.glu([[3.0, 5.0, 0.0, 0.0]]), [[1.5, 2.5]])
    close(activations.relu6([-1.0, 3.0, 7.0]), [0.0, 3.0, 6.0])
    # relu with slope and threshold: a (x - t) below t, as in Keras's ReLU layer formula
    close(activations.relu([1.0, 3.0], negative_slope=0.5, threshold=2.0), [-0.5, 3.0])


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match="even length"):
        activations.glu(np.ones((2, 3)))


# ---- derivatives: first and second order, against finite differences ---------------------------
def away_from(points, kinks, gap=0.05):
    """Nudge points that sit within ``gap`` of a kink."""
    points = np.array(points, np.float64)
    for k in kinks:
        near = np.abs(points - k) < gap
        points[near] = k + np.where(points[near] >= k, gap, -gap) * 2
    return points


SMOOTH = {
    "selu": [0.0], "silu": [], "swish": [], "mish": [], "softsign": [0.0], "hard_sigmoid": [-3, 3],
    "hard_silu": [-3, 3], "log_sigmoid": [], "celu": [0.0], "exponential": [], "hard_tanh": [-1, 1],
    "tanh_shrink": [], "hard_shrink": [-0.5, 0.5], "soft_shrink": [-0.5, 0.5], "squareplus": [],
    "sparse_plus": [-1, 1], "relu6": [0, 6], "sparse_sigmoid": [-1, 1],
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_first_and_second_derivatives(name):
    fn = activations.get(name)
    x = away_from(np.random.default_rng(3).uniform(-4, 7, (3, 4)), SMOOTH[name])
    reports = uf.check_grad(fn, x, order=2)
    assert [r.order for r in reports] == [1, 2]


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.3}, {"max_value": 2.5},
                                    {"threshold": 1.0}, {"negative_slope": 0.5, "max_value": 5.0,
                                                         "threshold": 2.0}, {}])
def test_relu_options_derivatives(kwargs):
    kinks = [0.0, kwargs.get("threshold", 0.0), kwargs.get("max_value") or 0.0]
    x = away_from(np.random.default_rng(4).uniform(-4, 7, (3, 4)), kinks)
    uf.check_grad(lambda v: activations.relu(v, **kwargs), x, order=2)


def test_threshold_celu_squareplus_glu_derivatives():
    rng = np.random.default_rng(5)
    x = away_from(rng.uniform(-3, 3, (2, 6)), [0.5])
    uf.check_grad(lambda v: activations.threshold(v, 0.5, 2.0), x, order=2)
    uf.check_grad(lambda v: activations.celu(v, alpha=0.7), away_from(x, [0.0]), order=2)
    uf.check_grad(lambda v: activations.squareplus(v, b=0.5), x, order=2)
    uf.check_grad(lambda v: activations.glu(v, axis=-1), x, order=2)
    uf.check_grad(lambda v: activations.glu(v, axis=0), x, order=2)


def test_sparsemax_derivatives():
    # support of each row has two or more entries, none at the boundary: the Jacobian is the
    # paper's diag(s) - s s^T / |S|, the second derivative zero
    x = np.array([[0.1, 0.5, 0.6, -1.0], [2.0, 1.7, 1.55, 0.0], [0.3, 0.2, 0.1, 0.25]])
    uf.check_grad(activations.sparsemax, x, order=2)
    uf.check_grad(lambda v: activations.sparsemax(v, axis=0), x, order=2)


# ---- names, layers, saving ---------------------------------------------------------------------
NEW = ["selu", "silu", "swish", "mish", "relu6", "softsign", "hard_sigmoid", "hard_silu",
       "hard_swish", "log_sigmoid", "celu", "glu", "exponential", "hard_tanh", "tanh_shrink",
       "hard_shrink", "soft_shrink", "squareplus", "sparse_plus", "sparsemax", "sparse_sigmoid"]


@pytest.mark.parametrize("name", NEW)
def test_names_resolve_and_save_by_name(name):
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert activations.get(activations.serialize(fn)) is fn


def test_dense_with_a_new_activation_saves_and_loads(tmp_path):
    model = uf.keras.Sequential([uf.keras.Input((4,)), uf.keras.layers.Dense(6, activation="mish"),
                                 uf.keras.layers.Dense(3, activation="hard_swish")])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    model.save(tmp_path / "m.safetensors")
    again = uf.keras.models.load_model(tmp_path / "m.safetensors")
    assert again.layers[0].activation is activations.mish
    assert again.layers[1].activation is activations.hard_silu  # swish names are aliases
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_relu_layer_correctness():  # ReLUTest.test_{normal,leaky,threshold}_relu_correctness
    x = np.array([-10, -5, 0.0, 5, 10])
    close(uf.keras.layers.ReLU(max_value=10, negative_slope=0.0, threshold=0)(x),
          [0.0, 0.0, 0.0, 5.0, 10.0])
    close(uf.keras.layers.ReLU(max_value=10, negative_slope=0.5, threshold=0)(x),
          [-5.0, -2.5, 0.0, 5.0, 10.0])
    close(uf.keras.layers.ReLU(max_value=8, negative_slope=0.0, threshold=5)(
        np.array([6.0, 7.0, 0.0, 5, 10])), [6.0, 7.0, 0.0, 0.0, 8.0])


def test_relu_layer_more_cases():  # ReLUTest.test_default_relu_no_args, ..._unlimited, ...zeros
    close(uf.keras.layers.ReLU()(np.array([-3.0, -1.0, 0.0, 1.0, 3.0])), [0.0, 0.0, 0.0, 1.0, 3.0])
    big = np.array([0.0, 100.0, 1000.0, 99999.0])
    close(uf.keras.layers.ReLU(max_value=None)(big), big)
    close(uf.keras.layers.ReLU()(np.zeros((3, 4))), np.zeros((3, 4)))
    close(uf.keras.layers.ReLU()(np.array([[-1.0, 2.0], [3.0, -4.0]])), [[0.0, 2.0], [3.0, 0.0]])
    assert uf.keras.layers.ReLU().compute_output_shape((4, 5, 6)) == (4, 5, 6)


@pytest.mark.parametrize("kwargs, message", [
    ({"max_value": -10}, "max_value of a ReLU layer cannot be a negative value"),
    ({"negative_slope": -10}, "negative_slope of a ReLU layer cannot be None or a negative value"),
    ({"threshold": -10}, "threshold of a ReLU layer cannot be None or a negative value"),
    ({"negative_slope": None}, "negative_slope of a ReLU layer cannot be None or a negative value"),
    ({"threshold": None}, "threshold of a ReLU layer cannot be None or a negative value"),
])
def test_relu_layer_invalid_usage(kwargs, message):  # ReLUTest.test_invalid_usage, ..._none_raises
    with pytest.raises(ValueError, match=message):
        uf.keras.layers.ReLU(**kwargs)


def test_relu_layer_config():  # ReLUTest.test_get_config*, test_from_config
    layer = uf.keras.layers.ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (5.0, 0.2, 1.0)
    again = uf.keras.layers.ReLU.from_config(config)
    assert (again.max_value, again.negative_slope, again.threshold) == (5.0, 0.2, 1.0)
    default = uf.keras.layers.ReLU().get_config()
    assert default["max_value"] is None and default["negative_slope"] == 0.0
    assert default["threshold"] == 0.0


def test_leaky_relu_layer():  # LeakyReLUTest.test_leaky_relu_correctness, test_invalid_usage
    close(uf.keras.layers.LeakyReLU(negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10])),
          [-5.0, -2.5, 0.0, 5.0, 10.0])
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        uf.keras.layers.LeakyReLU(negative_slope=None)


@pytest.mark.parametrize("alpha", [1.0, 0.7])
def test_elu_layer(alpha):  # ELUTest.test_correctness
    x = RNG.random((2, 2, 5))
    layer = uf.keras.layers.ELU() if alpha == 1.0 else uf.keras.layers.ELU(alpha=alpha)
    close(layer(x), (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1))
    negative = -x
    close(layer(negative), alpha * (np.exp(negative) - 1))


def test_prelu_correctness():  # PReLUTest.test_prelu_correctness
    inputs = np.random.default_rng(1).normal(size=(2, 10, 5, 3))
    layer = uf.keras.layers.PReLU(alpha_initializer="glorot_uniform", alpha_regularizer="l1",
                                  alpha_constraint="non_neg", shared_axes=(1, 2))
    layer.build(inputs.shape)
    weights = np.random.default_rng(2).random((1, 1, 3))
    layer.alpha.assign(weights)
    expected = (inputs > 0) * inputs + (inputs <= 0) * weights * inputs
    close(layer(inputs), expected)


def test_prelu_learns_its_slope_and_keeps_its_constraint():
    layer = uf.keras.layers.PReLU(alpha_initializer=uf.keras.initializers.Constant(0.25),
                                  alpha_constraint="non_neg")
    x = uf.constant([[-2.0, 3.0]])
    layer(x)
    with uf.GradientTape() as tape:
        y = uf.sum(layer(x))
    (g,) = tape.gradient(y, [layer.alpha])
    # d/d alpha of -alpha * relu(-x) = -relu(-x) = (-2, 0) by hand
    close(g, [-2.0, 0.0])
    opt = uf.optimizers.SGD(learning_rate=1.0)
    opt.apply([np.array([1.0, 0.0], np.float32)], [layer.alpha])  # 0.25 - 1 < 0: clipped to 0
    close(layer.alpha, [0.0, 0.25])


def test_prelu_layers_save_and_load(tmp_path):
    model = uf.keras.Sequential([uf.keras.Input((4,)), uf.keras.layers.Dense(3),
                                 uf.keras.layers.PReLU(alpha_initializer="ones",
                                                       alpha_constraint="non_neg"),
                                 uf.keras.layers.ReLU(max_value=2.0, negative_slope=0.1),
                                 uf.keras.layers.ELU(alpha=0.5)])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    model.save(tmp_path / "m.safetensors")
    again = uf.keras.models.load_model(tmp_path / "m.safetensors")
    assert np.array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert again.layers[2].max_value == 2.0
    assert isinstance(again.layers[1].alpha_constraint, uf.constraints.NonNeg)


def test_gelu_reference_matches_keras():  # ActivationsTest.test_gelu (existing gelu, Keras's oracle)
    x = RNG.random((2, 5))
    close(activations.gelu(x[np.newaxis, :])[0], x * norm.cdf(x))


# ---- ActivationsTest cases of the activations unafraid had before (softmax, softplus...) ---------
def _ref_softmax(values):
    m = np.max(values)
    e = np.exp(values - m)
    return e / np.sum(e)


def _ref_log_softmax(values):
    stabilized = values - np.max(values)
    return stabilized - np.log(np.sum(np.exp(stabilized)))


@pytest.mark.parametrize("fn, ref", [("softmax", _ref_softmax), ("log_softmax", _ref_log_softmax)])
def test_softmax_family_over_axes(fn, ref):
    # ActivationsTest.test_{softmax,log_softmax}_2d_axis_0, _3d_axis_tuple, _1d, _higher_dim,
    # _higher_dim_multiple_axes, _negative_axis, test_temporal_{softmax,log_softmax}, test_softmax
    f = getattr(activations, fn)
    x = RNG.random((2, 5))
    close(f(x[np.newaxis, :], axis=1)[0], np.stack([ref(x[:, i]) for i in range(5)], axis=1))
    close(f(x, axis=-1), np.stack([ref(x[i, :]) for i in range(2)]))
    close(f(x[np.newaxis, :])[0][0], ref(x[0]))
    x1 = RNG.random(5)
    close(f(x1), ref(x1))
    x3 = RNG.random((2, 3, 5))
    close(f(x3, axis=(1, 2)), np.stack([ref(x3[i]) for i in range(2)]))
    x4 = RNG.random((2, 3, 4, 5))
    close(f(x4, axis=(2, 3)), np.array([[ref(x4[i, j]) for j in range(3)] for i in range(2)]))
    x5 = RNG.random((2, 3, 4, 5, 6))
    close(f(x5, axis=(2, 3, 4)), np.array([[ref(x5[i, j]) for j in range(3)] for i in range(2)]))
    xt = RNG.random((2, 2, 3)) * 10
    close(f(xt[np.newaxis, :])[0][0, 0], ref(xt[0, 0]))


@pytest.mark.parametrize("name, ref", [
    ("softplus", lambda x: np.log(np.ones_like(x) + np.exp(x))),           # test_softplus
    ("sigmoid", lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),   # test_sigmoid
                                   np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))),
    ("tanh", np.tanh),                                                     # test_tanh
    ("relu", lambda x: np.maximum(0, x)),                                  # test_relu
    ("linear", lambda x: x),                                               # test_linear
])
@pytest.mark.parametrize("low, high, shape", [(0, 1, (2, 5)), (-10, 10, (5,)), (-10, 10, (3, 3, 3)),
                                              (-1e-7, 1e-7, (2, 5)), (10, 100, (2, 5)),
                                              (-100, -10, (2, 5))])
def test_existing_elementwise(name, ref, low, high, shape):  # ActivationsTest.test_<name>
    x = uniform(low, high, shape)
    with np.errstate(over="ignore"):
        expected = ref(x)
    close(getattr(activations, name)(x), expected)


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_leaky_relu(slope):  # ActivationsTest.test_leaky_relu
    for x in (RNG.random((2, 5)), RNG.uniform(-1, 0, (2, 5))):
        close(activations.leaky_relu(x[np.newaxis, :], negative_slope=slope)[0],
              np.where(x > 0, x, slope * x))


def test_elu():  # ActivationsTest.test_elu
    x = RNG.random((2, 5))
    close(activations.elu(x[np.newaxis, :])[0], x)
    negative = np.array([[-1, -2]], dtype="float32")
    close(activations.elu(negative[np.newaxis, :])[0], np.exp(negative) - 1)
