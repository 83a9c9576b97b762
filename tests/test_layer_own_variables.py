"""Keras 3's ``save_own_variables`` / ``load_own_variables`` (numbered stores) and the refusal of
Keras's weight-quantization dtype policies. Oracle: Keras 3 on JAX where it is installed (the
store it writes for the same layer), and hand-made stores."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from tests.oracles.keras_jax import keras_jax


def test_load_own_variables_from_a_numbered_store():
    store = {"0": np.arange(6, dtype=np.float32).reshape(3, 2), "1": np.array([1.0, -1.0])}
    layer = uf.keras.layers.Dense(2)
    layer.build((None, 3))
    layer.load_own_variables(store)
    np.testing.assert_array_equal(layer.kernel.numpy(), store["0"])
    np.testing.assert_array_equal(layer.bias.numpy(), [1.0, -1.0])
    assert layer.bias.numpy().dtype == np.float32
    saved: dict = {}
    layer.save_own_variables(saved)
    assert sorted(saved) == ["0", "1"] and np.array_equal(saved["0"], store["0"])
    with pytest.raises(ValueError, match=r"expected 2 variables, but received 1 variables"):
        layer.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match="has shape"):
        layer.load_own_variables({"0": np.zeros((2, 2)), "1": np.zeros(2)})
    np.testing.assert_array_equal(layer.kernel.numpy(), store["0"])  # nothing changed


@pytest.mark.parametrize("make", [
    lambda lib: lib.layers.Dense(4), lambda lib: lib.layers.Embedding(7, 4),
    lambda lib: lib.layers.BatchNormalization()])
def test_the_store_has_keras_layout(make):
    keras = keras_jax()
    x = np.random.default_rng(0).integers(0, 7, size=(2, 3)).astype(np.float32)
    theirs = make(keras)
    theirs(x)
    store: dict = {}
    theirs.save_own_variables(store)
    ours = make(uf.keras)
    ours(x)
    ours.load_own_variables(store)  # Keras's store, read by unafraid, and written back the same
    back: dict = {}
    ours.save_own_variables(back)
    assert sorted(back) == sorted(store)
    for key in store:
        np.testing.assert_array_equal(back[key], np.asarray(store[key]))
    np.testing.assert_allclose(ours(x).numpy(), np.asarray(theirs(x)), rtol=1e-6, atol=1e-6)


def test_quantization_dtype_policies_are_refused_with_their_name():
    with pytest.raises(ValueError, match="'int8_from_float32'.*weight-quantization"):
        uf.keras.layers.Dense(2, dtype="int8_from_float32")
    assert uf.keras.layers.Dense(2, dtype="float64").dtype == "float64"
