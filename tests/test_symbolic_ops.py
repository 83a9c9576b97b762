"""Operations on symbolic tensors (tf.keras 2's TFOpLambda, Keras 3's ops on KerasTensors): operators
and tf.* / keras.ops functions applied to keras.Input's tensors become layers of the functional model."""

import os

import numpy as np
import pytest

import unafraid as tf
from unafraid import keras
from unafraid.layers import KerasTensor, OpLayer
from unafraid.models.functional import Functional


def dense_weights(layer):
    w, b = layer.get_weights()
    return lambda x: x @ w + b


def test_operators_and_functions_give_symbolic_tensors_of_the_right_shape():
    x = keras.Input((3,))
    assert isinstance(x + 1, KerasTensor) and (x + 1).shape == (None, 3)
    assert (2.0 * x).shape == (None, 3) and (1 - x).shape == (None, 3) and (-x).shape == (None, 3)
    assert (x / 2).shape == (None, 3) and (2 / x).shape == (None, 3) and (x ** 2).shape == (None, 3)
    assert x[:, 0].shape == (None,) and x[:, 1:].shape == (None, 2) and abs(x).shape == (None, 3)
    assert (x @ np.ones((3, 5), "float32")).shape == (None, 5)
    assert tf.reduce_mean(x).shape == ()                       # the batch axis is reduced too
    assert tf.reduce_sum(x, axis=1, keepdims=True).shape == (None, 1)
    assert tf.concat([x, x], axis=1).shape == (None, 6)
    assert tf.math.reduce_std(x, axis=0).shape == (3,)
    assert keras.ops.mean(x, axis=-1).shape == (None,)
    assert keras.backend.std(x).shape == ()
    assert tf.nn.relu(x).shape == (None, 3) and tf.nn.softmax(x).shape == (None, 3)
    assert tf.exp(x).dtype == "float32" and tf.cast(x, "int64").dtype == "int64"
    parts = tf.unstack(x, axis=1)                              # several outputs
    assert [p.shape for p in parts] == [(None,), (None,), (None,)]


def test_ops_on_real_tensors_are_unchanged():
    a = np.array([[1.0, 2.0]], np.float32)
    assert isinstance(tf.exp(a), tf.Tensor)
    np.testing.assert_allclose(tf.reduce_mean(tf.square(a)).numpy(), 2.5)
    assert tf.reduce_mean.__name__ == "reduce_mean" and "mean" in (tf.reduce_mean.__doc__ or "").lower()


def vae_penalty_model():
    x = keras.Input((3,))
    z = keras.layers.Dense(2, name="z")(x)
    m = keras.layers.Dense(2, name="m")(x)
    kl = -0.5 * tf.reduce_mean(z - tf.square(m) - tf.exp(z) + 1)
    return keras.Model(x, [z, kl]), z.node.layer, m.node.layer


def test_a_model_through_ops_computes_the_expression_on_real_tensors():
    model, zl, ml = vae_penalty_model()
    data = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    z_out, kl_out = model(data)
    z, m = dense_weights(zl)(data), dense_weights(ml)(data)
    expected = -0.5 * np.mean(z - m ** 2 - np.exp(z) + 1)     # NumPy, the oracle
    np.testing.assert_allclose(kl_out.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(z_out.numpy(), z, rtol=1e-5)
    # square, -, exp, -, + 1, reduce_mean, * -0.5: one layer each
    assert sum(isinstance(layer, OpLayer) for layer in model.layers) == 7


def test_fit_predict_and_summary_through_ops():
    x = keras.Input((3,))
    h = keras.layers.Dense(4)(x)
    y = keras.layers.Dense(1)(tf.concat([h, tf.maximum(h, 0.0) * 2.0 - 1.0], axis=1))
    model = keras.Model(x, y)
    model.compile(keras.optimizers.SGD(0.05), "mse")
    rng = np.random.default_rng(1)
    data = rng.normal(size=(64, 3)).astype("float32")
    target = data @ np.array([[1.0], [-2.0], [0.5]], "float32")
    history = model.fit(data, target, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.predict(data[:7], verbose=0).shape == (7, 1)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "OpLayer" in text and "(None, 8)" in text


def test_keras_ops_and_backend_std_on_symbolic_tensors_match_numpy():
    x = keras.Input((4,))
    out = keras.ops.mean(keras.ops.square(x), axis=1) + keras.backend.std(x)
    model = keras.Model(x, out)
    data = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_allclose(model(data).numpy(), (data ** 2).mean(1) + data.std(), rtol=1e-6)


def ops_model():
    x = keras.Input((3,))
    z = keras.layers.Dense(2)(x)
    m = keras.layers.Dense(2)(x)
    kl = -0.5 * tf.reduce_mean(z - tf.square(m) - tf.exp(z) + 1)
    mixed = tf.concat([z[:, :1], 1.0 - m, keras.ops.mean(z, axis=1, keepdims=True),
                       x[..., ::2] @ np.array([[1.0], [2.0]], "float32"), tf.cast(z, tf.float64)], axis=1)
    return keras.Model(x, [keras.layers.Dense(1)(mixed), kl])


def test_a_model_with_op_layers_saves_as_data_and_loads_the_same(tmp_path):
    model = ops_model()
    model.save(tmp_path / "m.safetensors")
    back = keras.models.load_model(tmp_path / "m.safetensors")
    data = np.random.default_rng(2).random((4, 3)).astype("float32")
    for a, b in zip(model(data), back(data), strict=True):
        assert np.array_equal(a.numpy(), b.numpy())
    ops_in_file = [layer.get_config()["op"] for layer in back.layers if isinstance(layer, OpLayer)]
    assert {"tf.reduce_mean", "keras.ops.mean", "tf.__operators__.getitem", "tf.linalg.matmul",
            "tf.cast"} <= set(ops_in_file)
    getitem = next(layer for layer in model.layers if layer.get_config().get("op") ==
                   "tf.__operators__.getitem" and "ellipsis" in str(layer.get_config()))
    assert getitem.get_config()["args"] == [{"input": 0}, {"tuple": [{"ellipsis": True},
                                                                      {"slice": [None, None, 2]}]}]


def test_an_op_whose_constant_is_not_data_is_refused_by_name(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1)(x * tf.Variable(2.0)))
    op_layer = next(layer for layer in model.layers if isinstance(layer, OpLayer))
    with pytest.raises(ValueError, match=f"Cannot save layer '{op_layer.name}' \\(tf.math.multiply\\): "
                                         f"one of its constant arguments is a Variable.*Layer subclass"):
        model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=r"Layer '\w+' \(OpLayer\) cannot be written to a \.keras file"):
        ops_model().save(tmp_path / "m.keras")                # Keras 3's format has no such layer
    assert not os.listdir(tmp_path)                            # nothing half-written


def test_a_file_naming_an_op_outside_the_table_is_refused():
    config = ops_model().get_config()
    spec = next(s for s in config["layers"] if s["class_name"] == "OpLayer")
    spec["config"]["op"] = "os.system"
    with pytest.raises(ValueError, match="'os.system' that is not one of unafraid's ops"):
        Functional.from_config(config)
    spec["config"]["op"] = "tf.reduce_mean"
    spec["config"]["args"] = [{"input": 0}, {"code": "print(1)"}]
    with pytest.raises(ValueError, match="Malformed op argument"):
        Functional.from_config(config)


def test_an_op_that_fails_on_symbolic_tensors_names_itself():
    x = keras.Input((3,))
    with pytest.raises(ValueError, match=r"tf.reshape on symbolic tensors of shapes \[\(None, 3\)\]"):
        tf.reshape(x, (-1, 7, 5))


def test_iterating_a_symbolic_tensor():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match=r"Cannot iterate over a symbolic tensor of shape \(None, 3\)"):
        list(x)
    per_feature = tf.transpose(x)                              # (3, None): a first axis of length 3
    a, b, c = per_feature
    assert a.shape == (None,)
    model = keras.Model(x, b)
    np.testing.assert_array_equal(model(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")).numpy(),
                                  [2.0, 5.0])
