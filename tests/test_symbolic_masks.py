"""Masks on symbolic tensors (issue 17 follow-up): a ``KerasTensor`` made by a masking layer
carries its mask symbolically (``backend.get_keras_mask``), merge layers combine the masks, and a
functional model returns them. Keras 3 on JAX is the oracle."""

import numpy as np
import pytest

from tests.oracles.keras_jax import keras_jax
from unafraid import keras

layers, backend = keras.layers, keras.backend

X1 = np.array([[[0, 0], [1, 2], [0, 0], [3, 4]]], "float32")
X2 = np.array([[[0, 0], [0, 0], [1, 2], [3, 4]]], "float32")


def _mask(lib, t):
    """``backend.get_keras_mask`` (Keras 3 keeps it in ``keras.src.backend``)."""
    if lib is keras:
        return backend.get_keras_mask(t)
    from keras.src.backend import get_keras_mask
    return get_keras_mask(t)


def _concat_mask_model(lib, axis):
    i1, i2 = lib.Input((4, 2)), lib.Input((4, 2))
    out = lib.layers.Concatenate(axis=axis)([lib.layers.Masking()(i1), i2])
    return lib.Model([i1, i2], _mask(lib, out))


@pytest.mark.parametrize("axis", [1, -1])
def test_concatenate_with_mask_symbolic(axis):
    """merging_test.test_concatenate_with_mask_symbolic (axis=1), and the last axis."""
    k = keras_jax()
    ours = np.asarray(_concat_mask_model(keras, axis)([X1, X2]).numpy())
    theirs = np.asarray(_concat_mask_model(k, axis)([X1, X2]))
    assert ours.dtype == bool
    np.testing.assert_array_equal(ours, theirs)
    if axis == 1:  # Keras's own expected value
        np.testing.assert_array_equal(ours, [[0, 1, 0, 1, 1, 1, 1, 1]])


def _embedding_model(lib, mask_zero):
    ids = lib.Input((5,), dtype="int32")
    h = lib.layers.Dense(3)(lib.layers.Embedding(10, 4, mask_zero=mask_zero)(ids))
    return ids, h


def test_embedding_mask_passes_through_dense_symbolically():
    k = keras_jax()
    ids = np.array([[3, 0, 2, 0, 0], [1, 1, 0, 4, 0]], "int32")
    outs = []
    for lib in (keras, k):
        inp, h = _embedding_model(lib, True)
        mask = _mask(lib, h)
        assert tuple(mask.shape) == (None, 5)
        outs.append(np.asarray(lib.Model(inp, mask)(ids)))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], ids != 0)


def test_no_mask_without_a_masking_layer():
    k = keras_jax()
    for lib in (keras, k):
        _, h = _embedding_model(lib, False)
        assert _mask(lib, h) is None
        assert _mask(lib, lib.Input((3,))) is None


def test_add_of_two_masked_inputs_or_s_the_masks():
    """Merge layers: the ``or`` of the inputs' masks, as Keras computes it."""
    k = keras_jax()
    outs = []
    for lib in (keras, k):
        i1, i2 = lib.Input((4, 2)), lib.Input((4, 2))
        out = lib.layers.Add()([lib.layers.Masking()(i1), lib.layers.Masking()(i2)])
        outs.append(np.asarray(lib.Model([i1, i2], _mask(lib, out))([X1, X2])))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], [[False, True, True, True]])


def test_model_returns_values_and_their_mask_and_round_trips_its_config():
    inp = keras.Input((4, 2))
    y = layers.Dense(3)(layers.Masking()(inp))
    model = keras.Model(inp, [y, backend.get_keras_mask(y)])
    values, mask = model(X1)
    np.testing.assert_array_equal(mask.numpy(), [[False, True, False, True]])
    np.testing.assert_array_equal(mask.numpy(), backend.get_keras_mask(values).numpy())
    again = keras.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    values2, mask2 = again(X1)
    np.testing.assert_array_equal(mask2.numpy(), mask.numpy())
    np.testing.assert_array_equal(values2.numpy(), values.numpy())


def test_the_same_symbolic_mask_each_time():
    y = layers.Masking()(keras.Input((4, 2)))
    assert backend.get_keras_mask(y) is backend.get_keras_mask(y)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_recurrent_layer_keeps_or_drops_the_symbolic_mask(return_sequences):
    """An RNN passes the mask on with return_sequences=True, and drops it otherwise (Keras)."""
    k = keras_jax()
    ids = np.array([[3, 0, 2, 0], [1, 1, 0, 4]], "int32")
    found = []
    for lib in (keras, k):
        inp = lib.Input((4,), dtype="int32")
        h = lib.layers.Embedding(10, 3, mask_zero=True)(inp)
        h = lib.layers.SimpleRNN(2, return_sequences=return_sequences)(h)
        mask = _mask(lib, h)
        found.append(None if mask is None else np.asarray(lib.Model(inp, mask)(ids)))
    if return_sequences:
        np.testing.assert_array_equal(found[0], found[1])
        np.testing.assert_array_equal(found[0], ids != 0)
    else:
        assert found == [None, None]


def test_set_keras_mask_on_a_symbolic_tensor():
    x = keras.Input((4, 2))
    m = backend.get_keras_mask(layers.Masking()(x))
    y = layers.Dense(3)(x)
    backend.set_keras_mask(y, m)
    assert backend.get_keras_mask(y) is m
    backend.set_keras_mask(y, None)
    assert backend.get_keras_mask(y) is None
    with pytest.raises(TypeError, match="symbolic tensor"):
        backend.set_keras_mask(y, np.ones((1, 4), bool))


def test_a_model_returning_a_mask_saves_and_loads(tmp_path):
    inp = keras.Input((4, 2))
    model = keras.Model(inp, backend.get_keras_mask(layers.Masking()(inp)))
    model.save(tmp_path / "mask.safetensors")
    again = keras.models.load_model(tmp_path / "mask.safetensors")
    np.testing.assert_array_equal(again(X1).numpy(), [[False, True, False, True]])
