"""Layers: gradients against finite differences, Keras defaults, shapes and configs."""

import numpy as np
import pytest

import unafraid as uf
from unafraid import initializers
from unafraid.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    LayerNormalization,
    Reshape,
    Softmax,
)

rng = np.random.default_rng(0)


def _with_weights(layer, names):
    """f(x, *weights) that runs ``layer`` with the given arrays as its weights."""

    def f(x, *ws):
        for name, w in zip(names, ws, strict=True):
            object.__setattr__(layer, name, w)
        out = layer.call(x, training=True) if layer._call_has_training else layer.call(x)
        return uf.sum(uf.tanh(out))  # a nonlinear scalar so second derivatives are non-trivial

    return f


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax", "gelu", "elu"])
def test_dense_gradients_match_finite_differences(activation):
    layer = Dense(3, activation=activation, dtype="float64")
    layer.build((4, 5))
    x = rng.normal(size=(4, 5))
    f = _with_weights(layer, ["kernel", "bias"])
    uf.check_grad(f, x, layer.kernel.data.copy(), layer.bias.data.copy(), order=2)


def test_batchnorm_training_gradients_and_statistics():
    layer = BatchNormalization(dtype="float64")
    layer.build((6, 3))
    x = rng.normal(2.0, 3.0, size=(6, 3))
    gamma = rng.normal(size=3) + 1
    beta = rng.normal(size=3)
    uf.check_grad(_with_weights(layer, ["gamma", "beta"]), x, gamma, beta, order=2)
    layer2 = BatchNormalization(momentum=0.5, dtype="float64")
    y = layer2(x, training=True).numpy()
    # hand-worked: (x - mean) / sqrt(var + 1e-3), moving = 0.5 * init + 0.5 * batch
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(layer2.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer2.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-12)
    # inference uses the moving statistics
    y_inf = layer2(x, training=False).numpy()
    expected = (x - layer2.moving_mean.numpy()) / np.sqrt(layer2.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y_inf, expected, rtol=1e-10)
    assert [w.name.split("/")[1] for w in layer2.trainable_weights] == ["gamma", "beta"]
    assert len(layer2.non_trainable_weights) == 2


def test_layernorm_gradients_and_values():
    layer = LayerNormalization(dtype="float64")
    layer.build((4, 6))
    x = rng.normal(size=(4, 6))
    uf.check_grad(_with_weights(layer, ["gamma", "beta"]), x, rng.normal(size=6),
                  rng.normal(size=6), order=2)
    y = LayerNormalization(dtype="float64")(x).numpy()
    np.testing.assert_allclose(y, (x - x.mean(1, keepdims=True)) /
                               np.sqrt(x.var(1, keepdims=True) + 1e-3), rtol=1e-10)


@pytest.mark.parametrize("layer", [Flatten(), Reshape((3, 4)), Softmax(), Activation("tanh")])
def test_weightless_layers_gradients(layer):
    layer.dtype = "float64"
    x = rng.normal(size=(2, 12))
    uf.check_grad(lambda x: uf.sum(uf.tanh(layer(x))), x, order=2)


def test_dropout_only_in_training_and_scaled():
    layer = Dropout(0.5)
    x = np.ones((1000, 10), np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: identity
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.45 < (y == 0).mean() < 0.55


def test_dense_keras_defaults_and_shapes():
    layer = Dense(512)
    assert isinstance(layer.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(layer.bias_initializer, initializers.Zeros)
    y = layer(np.ones((2, 784), np.float32))
    assert y.shape == (2, 512) and y.dtype == np.float32
    limit = np.sqrt(6 / (784 + 512))
    assert np.abs(layer.kernel.numpy()).max() <= limit
    assert np.abs(layer.kernel.numpy()).max() > 0.9 * limit
    np.testing.assert_array_equal(layer.bias.numpy(), 0)
    assert [w.name for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]


def test_dense_wrong_features_names_layer_and_suggests_flatten():
    layer = Dense(4, name="dense_one")
    layer(np.ones((2, 784), np.float32))
    with pytest.raises(ValueError, match=r"dense_one.*784 features.*\(2, 28, 28\).*Flatten"):
        layer(np.ones((2, 28, 28), np.float32))


@pytest.mark.parametrize("name, scale, mode, dist", [
    ("he_normal", 2.0, "fan_in", "normal"), ("he_uniform", 2.0, "fan_in", "uniform"),
    ("glorot_normal", 1.0, "fan_avg", "normal"), ("lecun_normal", 1.0, "fan_in", "normal"),
    ("glorot_uniform", 1.0, "fan_avg", "uniform")])
def test_variance_scaling_initializers_have_the_paper_variance(name, scale, mode, dist):
    fan_in, fan_out = 400, 600
    w = initializers.get(name)((fan_in, fan_out))
    n = fan_in if mode == "fan_in" else (fan_in + fan_out) / 2
    assert w.dtype == np.float32
    assert abs(w.var() / (scale / n) - 1) < 0.03
    if dist == "normal":  # truncated at two standard deviations of the untruncated normal
        assert np.abs(w).max() <= 2 * np.sqrt(scale / n) / 0.87962566103423978 + 1e-6


def test_simple_initializers():
    assert np.all(initializers.get("ones")((2, 2)) == 1)
    assert np.all(initializers.get("zeros")((2,)) == 0)
    w = initializers.RandomNormal(stddev=0.05)((300, 300))
    assert abs(w.std() - 0.05) < 0.002
    u = initializers.get("random_uniform")((300, 300))
    assert -0.05 <= u.min() and u.max() <= 0.05
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")


def test_unknown_activation_suggests_closest():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        Dense(3, activation="reul")


def test_nn_functions_work_on_arrays_and_tensors():
    x = np.array([-1.0, 0.5], np.float32)
    np.testing.assert_array_equal(uf.nn.relu(x).numpy(), [0, 0.5])
    np.testing.assert_array_equal(uf.nn.relu(uf.Tensor(x)).numpy(), [0, 0.5])
    p = uf.nn.softmax(np.array([[0.0, np.log(3.0)]])).numpy()
    np.testing.assert_allclose(p, [[0.25, 0.75]], rtol=1e-6)


def test_layer_config_round_trip_holds_no_code():
    layer = Dense(7, activation="relu", kernel_regularizer="l2", name="d")
    config = layer.get_config()
    import json
    json.dumps(config)  # JSON only
    again = Dense.from_config(config)
    assert again.units == 7 and again.get_config() == config


def test_custom_activation_cannot_be_saved():
    layer = Dense(2, activation=lambda x: x)
    with pytest.raises(ValueError, match="custom activation"):
        layer.get_config()


def test_symbolic_input_and_output_shapes():
    x = Input(shape=(28, 28))
    h = Flatten()(x)
    assert h.shape == (None, 784)
    assert Dense(10)(h).shape == (None, 10)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)


def test_unknown_layer_keyword_is_refused():
    with pytest.raises(TypeError, match="unexpected keyword.*activaton"):
        Dense(3, activaton="relu")
