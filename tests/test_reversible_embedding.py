"""ReversibleEmbedding (Keras 3's ``keras.layers.ReversibleEmbedding``): the lookup, the reverse
projection with tied or separate tables and the logit soft cap, the mask, gradients, and the
``.keras`` crossing. Oracles: hand-worked numbers, float64 finite differences in NumPy, and Keras 3 on
JAX where it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import unafraid as uf
from tests.oracles.keras_jax import keras_jax
from unafraid import layers

TABLE = np.array([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]], np.float32)


def layer_with_table(**kwargs):
    layer = layers.ReversibleEmbedding(input_dim=3, output_dim=2, **kwargs)
    layer.build()
    layer.embeddings.assign(TABLE)
    return layer


def test_lookup_and_reverse_by_hand():
    layer = layer_with_table()
    np.testing.assert_array_equal(layer(np.array([2, 1, 0])).numpy(), [[3, 3], [2, 2], [0, 0]])
    # [1, 1] @ TABLE.T = [0 + 0, 2 + 2, 3 + 3]
    np.testing.assert_array_equal(layer(np.array([[1.0, 1.0]]), reverse=True).numpy(), [[0, 4, 6]])
    assert len(layer.trainable_weights) == 1


def test_logit_soft_cap_by_hand():
    capped = layer_with_table(logit_soft_cap=5)(np.array([[1.0, 1.0]]), reverse=True).numpy()
    # 5 tanh(logit / 5) for the logits 0, 4, 6
    np.testing.assert_allclose(capped, [[0.0, 5 * math.tanh(0.8), 5 * math.tanh(1.2)]], rtol=1e-6)


def test_untied_weights_use_their_own_table():
    layer = layers.ReversibleEmbedding(3, 2, tie_weights=False)
    layer.build()
    assert layer.reverse_embeddings.shape == (2, 3) and len(layer.trainable_weights) == 2
    reverse = np.arange(6, dtype=np.float32).reshape(2, 3)  # [[0, 1, 2], [3, 4, 5]]
    layer.reverse_embeddings.assign(reverse)
    # [1, 2] @ reverse = [0 + 6, 1 + 8, 2 + 10]
    np.testing.assert_array_equal(layer(np.array([[1.0, 2.0]]), reverse=True).numpy(), [[6, 9, 12]])


def test_mask_belongs_to_the_lookup_only():
    layer = layer_with_table(mask_zero=True)
    mask = uf.keras.backend.get_keras_mask(layer(np.array([2, 1, 0])))
    np.testing.assert_array_equal(np.asarray(mask.numpy()), [True, True, False])
    assert uf.keras.backend.get_keras_mask(layer(np.array([[1.0, 2.0], [0.0, 0.0]]),
                                                 reverse=True)) is None


def test_reverse_dtype_and_shapes():
    layer = layers.ReversibleEmbedding(100, 16, reverse_dtype="float16")
    out = layer(np.ones((4, 10, 16), np.float32), reverse=True)
    assert out.shape == (4, 10, 100) and out.dtype == np.float16
    assert layer.compute_output_shape((None, 10, 16), reverse=True) == (None, 10, 100)
    assert layer.compute_output_shape((None, 10)) == (None, 10, 16)
    with pytest.raises(ValueError, match="reverse=True needs vectors of output_dim=16"):
        layer(np.ones((4, 10, 8), np.float32), reverse=True)
    with pytest.raises(ValueError, match="logit_soft_cap must be a positive number"):
        layers.ReversibleEmbedding(3, 2, logit_soft_cap=0)


def test_tied_gradient_matches_finite_differences():
    # loss(T) = sum(w * c tanh((T[ids] @ T.T) / c)): the table is read twice, by the lookup and by
    # the reverse projection; both contributions must add up
    rng = np.random.default_rng(0)
    table = rng.normal(size=(5, 3))
    ids, w, cap = np.array([[1, 4], [0, 1]]), rng.normal(size=(2, 2, 5)), 2.0
    layer = layers.ReversibleEmbedding(5, 3, logit_soft_cap=cap, dtype="float64")
    layer.build()
    layer.embeddings.assign(table)
    with uf.GradientTape() as tape:
        loss = uf.ops.sum(uf.ops.multiply(layer(layer(ids), reverse=True), w))
    grad = tape.gradient(loss, layer.embeddings).numpy()

    def numpy_loss(t):
        return np.sum(w * cap * np.tanh((t[ids] @ t.T) / cap))

    eps, numeric = 1e-6, np.zeros_like(table)
    for i in np.ndindex(table.shape):
        step = np.zeros_like(table)
        step[i] = eps
        numeric[i] = (numpy_loss(table + step) - numpy_loss(table - step)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_config_round_trip():
    layer = layers.ReversibleEmbedding(7, 4, tie_weights=False, reverse_dtype="float32",
                                       logit_soft_cap=30.0, mask_zero=True)
    config = layer.get_config()
    assert {k: config[k] for k in ("tie_weights", "reverse_dtype", "logit_soft_cap")} == {
        "tie_weights": False, "reverse_dtype": "float32", "logit_soft_cap": 30.0}
    assert layers.ReversibleEmbedding.from_config(config).get_config() == config


@pytest.mark.parametrize("tie_weights", [True, False])
def test_matches_keras_on_jax_and_crosses_in_keras_files(tmp_path, tie_weights):
    keras = keras_jax()
    ids = np.random.default_rng(1).integers(0, 20, size=(3, 4))
    theirs = keras.layers.ReversibleEmbedding(20, 6, tie_weights=tie_weights, logit_soft_cap=3.0)
    hidden = np.random.default_rng(2).normal(size=(3, 4, 6)).astype(np.float32)
    want_lookup, want_logits = np.asarray(theirs(ids)), np.asarray(theirs(hidden, reverse=True))
    ours = layers.ReversibleEmbedding(20, 6, tie_weights=tie_weights, logit_soft_cap=3.0)
    ours.build()
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    np.testing.assert_array_equal(ours(ids).numpy(), want_lookup)
    np.testing.assert_allclose(ours(hidden, reverse=True).numpy(), want_logits, rtol=1e-5,
                               atol=1e-6)
    # a Sequential of it, saved by unafraid and read by Keras, gives the same lookups
    model = uf.keras.Sequential([ours])
    model(ids)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(ids)), want_lookup)
    np.testing.assert_allclose(np.asarray(loaded.layers[0](hidden, reverse=True)), want_logits,
                               rtol=1e-5, atol=1e-6)
