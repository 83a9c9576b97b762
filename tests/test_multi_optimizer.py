"""MultiOptimizer and OptimizerMap (Keras 3's ``keras/src/optimizers/multi_optimizer_test.py``):
the same cases, with variables named by their path ("dense_1/kernel") where Keras's use
``backend.name_scope``. Expected numbers are SGD steps worked by hand (``w - lr g``)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid import callbacks
from unafraid.optimizers import SGD, Adam, MultiOptimizer, OptimizerMap, RMSprop


def var(values, name):
    return uf.Variable(np.array(values, np.float32), name=name)


def test_optimizer_map_matching_and_conflicts():
    w_dense, w_conv, w_other = var([[1.0]], "dense/kernel"), var([[1.0]], "conv/kernel"), var([[1.0]], "bias")
    adam, sgd, default = Adam(1e-3), SGD(1e-2), RMSprop()
    opt_map = OptimizerMap(default_optimizer=default)
    opt_map["^dense/.*"] = adam
    opt_map["^conv/.*"] = sgd
    assert opt_map(w_dense) is adam and opt_map(w_conv) is sgd and opt_map(w_other) is default
    conflict = OptimizerMap(default_optimizer=default)
    conflict[".*kernel.*"] = adam
    conflict[".*dense.*"] = sgd
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable dense/kernel"):
        conflict(w_dense)
    with pytest.raises(ValueError, match="already exists"):
        conflict[".*dense.*"] = adam
    with pytest.raises(ValueError, match="optimizer cannot be MultiOptimizer"):
        conflict["x"] = MultiOptimizer(OptimizerMap(default_optimizer=SGD()))
    with pytest.raises(TypeError, match="default_optimizer must be"):
        OptimizerMap(default_optimizer="sgd")


def test_build_assigns_each_variable_and_lists_the_optimizers():
    adam, sgd, default = Adam(1e-3), SGD(1e-2), RMSprop(1e-4)
    opt_map = OptimizerMap(default_optimizer=default)
    opt_map["^dense_1/.*"] = adam
    opt_map["^dense_2/.*"] = sgd
    multi = MultiOptimizer(opt_map)
    w1, w2, w3 = var([[1.0]], "dense_1/kernel"), var([[1.0]], "dense_2/kernel"), var([[1.0]], "other/kernel")
    multi.build([w1, w2, w3])
    assert multi.optimizers == [adam, sgd, default]
    assert [multi.optimizers[multi._var_to_optimizer_idx[multi._var_key(w)]] for w in (w1, w2, w3)] \
        == [adam, sgd, default]
    with pytest.raises(AttributeError, match="Learning rate cannot be accessed on a MultiOptimizer"):
        multi.learning_rate  # noqa: B018
    with pytest.raises(AttributeError, match="Learning rate cannot be set"):
        multi.learning_rate = 0.1


def test_apply_dispatches_and_counts_iterations():
    w1, w2, w3 = var([[2.0, 2.0]], "dense_1/kernel"), var([[3.0, 3.0]], "dense_2/kernel"), \
        var([[4.0, 4.0]], "other/kernel")
    sgd_1, sgd_2, default = SGD(0.1), SGD(1.0), SGD(0.0)
    opt_map = OptimizerMap(default_optimizer=default)
    opt_map["^dense_1/.*"] = sgd_1
    opt_map["^dense_2/.*"] = sgd_2
    multi = MultiOptimizer(opt_map)
    multi.apply([np.ones((1, 2), np.float32)] * 3, [w1, w2, w3])
    assert_allclose(w1.numpy(), [[1.9, 1.9]])   # 2 - 0.1
    assert_allclose(w2.numpy(), [[2.0, 2.0]])   # 3 - 1.0
    assert_allclose(w3.numpy(), [[4.0, 4.0]])   # lr 0
    assert int(multi.iterations) == 1 and [int(o.iterations) for o in multi.optimizers] == [1, 1, 1]
    with pytest.warns(RuntimeWarning, match="skipped update"):
        multi.apply([np.full((1, 2), np.nan, np.float32), np.ones((1, 2), np.float32), None],
                    [w1, w2, w3])
    assert_allclose(w2.numpy(), [[2.0, 2.0]])   # nothing moved
    assert int(multi.iterations) == 1 and multi.skipped_updates == 1


def test_callable_map_and_loss_scale_factor_override():
    adam, sgd = Adam(1e-3), SGD(1e-2, loss_scale_factor=4.0)
    multi = MultiOptimizer(lambda v: adam if "dense_1" in v.name else sgd, loss_scale_factor=5.0)
    w1, w2 = var([[1.0]], "dense_1/kernel"), var([[1.0]], "dense_2/kernel")
    multi.build([w1, w2])
    assert multi.optimizers == [adam, sgd]
    assert sgd.loss_scale_factor == 5.0 and adam.loss_scale_factor == 5.0
    assert float(multi.scale_loss(2.0)) == 10.0
    multi.apply([np.array([[5.0]], np.float32), np.array([[5.0]], np.float32)], [w1, w2])
    assert_allclose(w2.numpy(), [[0.99]])       # gradient 5 / 5 = 1; 1 - 0.01
    with pytest.raises(ValueError, match="function, which cannot be saved"):
        multi.get_config()


def test_config_round_trip_keeps_the_map():
    opt_map = OptimizerMap(default_optimizer=RMSprop(1e-4))
    opt_map["^dense_1/.*"] = Adam(1e-3)
    opt_map["^dense_2/.*"] = SGD(1e-2)
    multi = MultiOptimizer(opt_map)
    again = uf.optimizers.deserialize(uf.optimizers.serialize(multi))
    w1, w2, w3 = var([[1.0]], "dense_1/kernel"), var([[1.0]], "dense_2/kernel"), var([[1.0]], "x")
    again.build([w1, w2, w3])
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD", "RMSprop"]
    assert type(again.optimizers[again._var_to_optimizer_idx[again._var_key(w1)]]).__name__ == "Adam"
    assert again.optimizers[1].learning_rate == pytest.approx(1e-2)


def model_and_multi():
    multi = MultiOptimizer(OptimizerMap(
        default_optimizer=SGD(0.1),
        optimizer_map={".*dense_1/.*": SGD(1e-3), ".*dense_2/.*": SGD(1e-2)}))
    model = uf.keras.Sequential([
        uf.keras.Input((1,)),
        uf.keras.layers.Dense(2, kernel_initializer="ones", use_bias=False, name="dense_1"),
        uf.keras.layers.Dense(1, kernel_initializer="ones", use_bias=False, name="dense_2")])
    model.compile(loss="mse", optimizer=multi)
    return model, multi


def test_fit_updates_each_layer_with_its_optimizer():
    # x = 1, y = 0: h = [1, 1], out = 2; dL/dout = 2 * 2 = 4; dL/dW2 = h * 4 = [4, 4];
    # dL/dW1 = x * (W2 * 4) = [4, 4]. W1 = 1 - 1e-3 * 4 = 0.996; W2 = 1 - 1e-2 * 4 = 0.96.
    model, multi = model_and_multi()
    model.fit(np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32), batch_size=1, epochs=1,
              verbose=0)
    assert_allclose(model.layers[0].kernel.numpy(), [[0.996, 0.996]], rtol=1e-6)
    assert_allclose(model.layers[1].kernel.numpy(), [[0.96], [0.96]], rtol=1e-6)
    assert int(multi.iterations) == 1
    assert [int(o.iterations) for o in multi.optimizers] == [1, 1, 0]


def test_saved_model_keeps_every_sub_optimizers_state(tmp_path):
    model, multi = model_and_multi()
    x, y = np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32)
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.safetensors")
    again = uf.keras.models.load_model(tmp_path / "m.safetensors")
    assert isinstance(again.optimizer, MultiOptimizer)
    saved, loaded = multi.state_dict(), again.optimizer.state_dict()
    assert sorted(saved) == sorted(loaded)
    for key in saved:
        np.testing.assert_array_equal(saved[key], loaded[key])


def test_learning_rate_callbacks_change_every_sub_optimizer():
    model, multi = model_and_multi()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    scheduler.set_model(model)
    scheduler.on_epoch_begin(epoch=1)
    assert [o.learning_rate for o in multi.optimizers] == pytest.approx([5e-4, 5e-3, 0.05])
    logs = {}
    scheduler.on_epoch_end(1, logs)
    assert sorted(logs) == sorted(f"learning_rate_{o.name}" for o in multi.optimizers)
    reduce = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    reduce.set_model(model)
    reduce.on_train_begin()
    reduce.on_epoch_end(0, {"val_loss": 1.0})
    reduce.on_epoch_end(1, {"val_loss": 1.0})
    assert [o.learning_rate for o in multi.optimizers] == pytest.approx([2.5e-4, 2.5e-3, 0.025])


def test_each_sub_optimizers_learning_rate_is_logged():  # TensorBoard writes these logs
    opt_1, opt_2 = SGD(0.1, name="SGD"), SGD(0.01, name="SGD_1")
    multi = MultiOptimizer(OptimizerMap(default_optimizer=opt_2, optimizer_map={".*dense_1/.*": opt_1}))
    logs = callbacks.log_learning_rates(multi, {})
    assert logs == pytest.approx({"learning_rate_SGD": 0.1, "learning_rate_SGD_1": 0.01})
