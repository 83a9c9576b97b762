"""The layers of issue 17 in Keras 3 '.keras' files, both ways, checked against real Keras 3 (JAX
backend): merge layers in models with two inputs, Embedding, Masking, constraints, the
activation, noise and reshaping layers, and the preprocessing layers.

Each model is built the same way in unafraid and in Keras (``K`` is ``unafraid.keras`` or
``keras``); a model saved by one side must predict the same values when the other side opens it.

Keras, JAX and h5py are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")

import unafraid as tf  # noqa: E402
from unafraid.io.keras_format import keras_layers  # noqa: E402
from unafraid.io.saving import load_model  # noqa: E402

RNG = np.random.default_rng(7)
X4 = RNG.normal(size=(6, 4)).astype(np.float32)
X4B = RNG.normal(size=(6, 4)).astype(np.float32)
SEQ = RNG.normal(size=(6, 5, 3)).astype(np.float32)
SEQ[:, 3, :] = 0.0  # one masked step
SEQ[0, 1, :] = 0.0
TOKENS = RNG.integers(0, 10, size=(6, 5)).astype(np.int32)
TOKENS[:, -1] = 0  # padding, masked when mask_zero=True


def two_inputs(K, merge, width=3):
    """``a, b -> Dense(width) each -> merge -> Dense(2)``: a functional model with two inputs."""
    a, b = K.Input((4,), name="a"), K.Input((4,), name="b")
    h = merge(K.layers.Dense(width, name="da")(a), K.layers.Dense(width, name="db")(b))
    return K.Model([a, b], K.layers.Dense(2, name="out")(h))


def one_input(K, shape, *layers, dtype="float32"):
    x = inputs = K.Input(shape, dtype=dtype)
    for layer in layers:
        x = layer(K)(x)
    return K.Model(inputs, x)


# name -> (builder of the model from K, its inputs)
MODELS = {
    "Concatenate": (lambda K: two_inputs(K, lambda a, b: K.layers.Concatenate()([a, b])), [X4, X4B]),
    "Concatenate_axis": (lambda K: two_inputs(
        K, lambda a, b: K.layers.Concatenate(axis=1)([a, K.layers.Dense(2)(b)])), [X4, X4B]),
    "Add": (lambda K: two_inputs(K, lambda a, b: K.layers.Add()([a, b])), [X4, X4B]),
    "Multiply": (lambda K: two_inputs(K, lambda a, b: K.layers.Multiply()([a, b])), [X4, X4B]),
    "Average": (lambda K: two_inputs(K, lambda a, b: K.layers.Average()([a, b])), [X4, X4B]),
    "Maximum": (lambda K: two_inputs(K, lambda a, b: K.layers.Maximum()([a, b])), [X4, X4B]),
    "Minimum": (lambda K: two_inputs(K, lambda a, b: K.layers.Minimum()([a, b])), [X4, X4B]),
    "Subtract": (lambda K: two_inputs(K, lambda a, b: K.layers.Subtract()([a, b])), [X4, X4B]),
    "Dot": (lambda K: two_inputs(K, lambda a, b: K.layers.Dot(axes=1)([a, b])), [X4, X4B]),
    "Dot_normalize": (lambda K: two_inputs(
        K, lambda a, b: K.layers.Dot(axes=-1, normalize=True)([a, b])), [X4, X4B]),
    "Embedding": (lambda K: one_input(
        K, (5,), lambda K: K.layers.Embedding(10, 3), lambda K: K.layers.Flatten(),
        lambda K: K.layers.Dense(2), dtype="int32"), TOKENS),
    "Embedding_mask_zero": (lambda K: one_input(
        K, (5,), lambda K: K.layers.Embedding(10, 3, mask_zero=True), lambda K: K.layers.Dense(2),
        dtype="int32"), TOKENS),
    "Masking": (lambda K: one_input(
        K, (5, 3), lambda K: K.layers.Masking(0.0), lambda K: K.layers.Dense(4)), SEQ),
}


def classes(layers):
    return [type(layer).__name__ for layer in layers]


def predictions(model, x):
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


def same(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_unafraid_model_opens_in_keras_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    model = build(tf.keras)
    model.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    assert classes(k.layers) == classes(keras_layers(model))
    same(predictions(model, x), predictions(k, x))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_keras_model_opens_in_unafraid_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    keras.utils.set_random_seed(1)
    k = build(keras)
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert classes(keras_layers(model)) == classes(k.layers)
    same(predictions(k, x), predictions(model, x))
