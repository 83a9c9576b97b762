"""Activity regularization as Keras 3.15.1 computes it: ``regularizer(output) / batch_size`` for
each output (keras-team/keras#22021). Oracles: a hand-worked value, and Keras 3 on JAX where it is
installed (each layer's penalty, and the weights after training with a partial last batch)."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from tests.oracles.keras_jax import keras_jax
from unafraid import regularizers
from unafraid.engine import Tensor
from unafraid.layers.base import activity_loss


def test_penalty_is_divided_by_the_batch_size_by_hand():
    y = Tensor(np.full((4, 3), 2.0, np.float32))
    # L1(0.1) + L2(0.01): 0.1 * 12 * 2 + 0.01 * 12 * 4 = 2.88, over a batch of 4
    penalty = activity_loss(regularizers.L1L2(l1=0.1, l2=0.01), y)
    assert float(penalty.data) == pytest.approx(0.72, rel=1e-6)
    scalar = Tensor(np.array(3.0, np.float32))  # a 0-d output has no batch: not divided
    assert float(activity_loss(regularizers.L2(0.5), scalar).data) == pytest.approx(4.5)
    layer = uf.keras.layers.ActivityRegularization(l1=0.2, l2=0.3)
    layer(np.full((5, 1), 2.0, np.float32))
    assert float(layer.losses[0].data) == pytest.approx((0.2 * 2 + 0.3 * 4) * 5 / 5)


LAYERS = [
    ("Dense", dict(units=3), (4, 5)),
    ("Conv1D", dict(filters=2, kernel_size=2), (4, 6, 3)),
    ("EinsumDense", dict(equation="ab,bc->ac", output_shape=3), (4, 5)),
    ("ActivityRegularization", dict(l1=0.1, l2=0.2), (4, 3)),
]


@pytest.mark.parametrize("name, kwargs, shape", LAYERS)
def test_each_layer_penalty_matches_keras_on_jax(name, kwargs, shape):
    keras = keras_jax()
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    extra = {} if name == "ActivityRegularization" else {"activity_regularizer": "l2"}
    theirs = getattr(keras.layers, name)(**kwargs, **extra)
    theirs(x)
    ours = getattr(uf.keras.layers, name)(**kwargs, **extra)
    ours.build(shape)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    ours(x)
    want = [float(v) for v in theirs.losses]
    assert [float(np.asarray(v.data)) for v in ours.losses] == pytest.approx(want, rel=1e-5)


def test_recurrent_output_and_states_each_divided_by_the_batch_size():
    # Keras 3.15.1's SimpleRNN drops activity_regularizer (its losses stay empty); unafraid applies
    # it to every output, as Keras's base layer does to any layer's outputs: 0.01 sum(o^2) / batch
    x = np.random.default_rng(1).normal(size=(3, 4, 2)).astype(np.float32)
    layer = uf.keras.layers.SimpleRNN(2, return_state=True, activity_regularizer="l2")
    output, state = layer(x)
    want = [0.01 * np.sum(o.numpy().astype(np.float64) ** 2) / 3 for o in (output, state)]
    assert [float(v.data) for v in layer.losses] == pytest.approx(want, rel=1e-5)


def test_training_with_a_partial_last_batch_matches_keras_on_jax():
    # 5 samples in batches of 2: the last batch has 1 sample and its penalty is divided by 1
    keras = keras_jax()
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    y = np.random.default_rng(3).normal(size=(5, 1)).astype(np.float32)
    weights = []
    for lib in (keras, uf.keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(
            1, kernel_initializer="ones", activity_regularizer=lib.regularizers.L2(0.1))])
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss="mse")
        model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
        weights.append([np.asarray(w) for w in model.get_weights()])
    for ours, theirs in zip(weights[1], weights[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_any_layer_takes_activity_regularizer_as_keras_does():
    keras = keras_jax()
    x = np.random.default_rng(4).normal(size=(4, 3)).astype(np.float32)
    theirs = keras.layers.Identity(activity_regularizer="l1")
    theirs(x)
    ours = uf.keras.layers.Identity(activity_regularizer="l1")
    ours(x)
    assert [float(v.data) for v in ours.losses] == pytest.approx([float(v) for v in theirs.losses],
                                                                 rel=1e-6)
    assert float(ours.losses[0].data) == pytest.approx(0.01 * np.abs(x).sum() / 4, rel=1e-6)
    config = ours.get_config()
    assert config["activity_regularizer"]["class_name"] == "L1"
    revived = uf.keras.layers.Identity.from_config(config)
    revived(x)
    assert float(revived.losses[0].data) == pytest.approx(float(ours.losses[0].data))
    assert ours.compute_dtype == "float32" and "activity_regularizer" not in (
        uf.keras.layers.Identity().get_config())
