"""SwapEMAWeights (Keras 3's callback) and ``Optimizer.moving_averages()``: evaluation and
prediction with the optimizer's moving averages, the raw weights back afterwards. Oracles:
hand-worked values, and Keras 3 on JAX where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from tests.oracles.keras_jax import keras_jax
from unafraid.callbacks import SwapEMAWeights
from unafraid.optimizers import SGD, MultiOptimizer, OptimizerMap

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 1.0]], np.float32)
Y = np.array([[1.0], [2.0], [0.0], [-1.0]], np.float32)


def ema_model(optimizer):
    model = uf.keras.Sequential([uf.keras.Input((2,)), uf.keras.layers.Dense(
        1, kernel_initializer="ones", use_bias=False)])
    model.compile(optimizer=optimizer, loss="mse")
    model.train_on_batch(X, Y)  # builds the optimizer and its averages
    return model


def test_evaluate_and_predict_use_the_averages_then_restore_the_weights():
    model = ema_model(SGD(learning_rate=0.1, use_ema=True))
    kernel = model.layers[0].kernel
    kernel.assign(np.array([[2.0], [2.0]], np.float32))
    [(var, average)] = model.optimizer.moving_averages()
    assert var is kernel
    average[...] = np.array([[1.0], [-1.0]], np.float32)
    # MSE at the averaged kernel (1, -1): predictions x1 - x2 = -1, 4, 0, -3
    want = np.mean((np.array([-1.0, 4.0, 0.0, -3.0]) - Y[:, 0]) ** 2)
    swap = SwapEMAWeights()
    assert model.evaluate(X, Y, verbose=0, callbacks=[swap]) == pytest.approx(want)
    np.testing.assert_array_equal(model.predict(X, verbose=0, callbacks=[swap])[:, 0],
                                  [-1.0, 4.0, 0.0, -3.0])
    np.testing.assert_array_equal(kernel.numpy(), [[2.0], [2.0]])  # raw weights back
    np.testing.assert_array_equal(average, [[1.0], [-1.0]])       # and the averages


def test_multi_optimizer_swaps_only_the_variables_of_its_ema_optimizer():
    model = uf.keras.Sequential([
        uf.keras.Input((1,)),
        uf.keras.layers.Dense(2, kernel_initializer="ones", use_bias=False, name="dense_1"),
        uf.keras.layers.Dense(1, kernel_initializer="ones", use_bias=False, name="dense_2")])
    ema, plain = SGD(learning_rate=0.1, use_ema=True), SGD(learning_rate=0.1)
    model.compile(loss="mse", optimizer=MultiOptimizer(OptimizerMap(
        default_optimizer=plain, optimizer_map={".*dense_1/.*": ema})))
    model.train_on_batch(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32))
    first, second = model.layers[0].kernel, model.layers[1].kernel
    first.assign(np.full((1, 2), 2.0, np.float32))
    second.assign(np.full((2, 1), 3.0, np.float32))
    [(var, average)] = model.optimizer.moving_averages()
    assert var is first
    average[...] = 9.0
    swap = SwapEMAWeights()
    swap.set_model(model)
    swap.on_test_begin()
    assert (first.numpy() == 9.0).all() and (average == 2.0).all() and (second.numpy() == 3.0).all()
    swap.on_test_end()
    assert (first.numpy() == 2.0).all() and (average == 9.0).all() and (second.numpy() == 3.0).all()


def test_without_use_ema_the_callback_refuses_with_keras_message():
    swap = SwapEMAWeights()
    swap.set_model(ema_model(SGD(learning_rate=0.1)))
    with pytest.raises(ValueError, match=r"must be used when `use_ema=True` is set on the "
                                         r"optimizer. Received: use_ema=False"):
        swap.on_test_begin()
    swap.set_model(ema_model(MultiOptimizer(OptimizerMap(default_optimizer=SGD(0.1)))))
    with pytest.raises(ValueError, match="all inner optimizers having `use_ema=False`"):
        swap.on_test_begin()


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_fit_validation_loss_and_final_weights_match_keras_on_jax(swap_on_epoch):
    keras = keras_jax()
    vx, vy = X[:2], Y[:2]
    results = []
    for lib in (keras, uf.keras):
        model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1, kernel_initializer="ones",
                                                                   bias_initializer="zeros")])
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05, use_ema=True,
                                                   ema_momentum=0.5), loss="mse")
        history = model.fit(X, Y, batch_size=2, epochs=3, shuffle=False, verbose=0,
                            validation_data=(vx, vy),
                            callbacks=[lib.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)])
        results.append((history.history["val_loss"], [np.asarray(w) for w in model.get_weights()]))
    (k_val, k_weights), (u_val, u_weights) = results
    np.testing.assert_allclose(u_val, k_val, rtol=1e-5)
    for ours, theirs in zip(u_weights, k_weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
