"""model.add_loss(<symbolic tensor>) and model.add_metric(<symbolic tensor>, name=...) on a functional
model (tf.keras 2): computed on every forward pass, added to the loss / logged as a metric."""

import numpy as np
import pytest

import unafraid as tf
from unafraid import keras
from unafraid.models.training import CompiledTrainStep


def linear_model(w0=1.0):
    x = keras.Input((1,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant(w0))
    y = dense(x)
    return keras.Model(x, y), x, y, dense


def test_model_losses_lists_the_symbolic_penalty_after_a_call():
    model, x, y, _ = linear_model(2.0)
    model.add_loss(0.5 * tf.reduce_sum(tf.square(y)))
    model(np.array([[1.0], [2.0]], "float32"))
    # 0.5 (2^2 + 4^2) = 10, recomputed (not accumulated) on the next call
    assert [float(v) for v in model.losses] == [10.0]
    model(np.array([[1.0]], "float32"))
    assert [float(v) for v in model.losses] == [2.0]


def test_fit_minimises_the_penalty_hand_worked():
    # P(w) = 0.5 sum_i (w x_i)^2 = 2.5 w^2 for x = (1, 2); dP/dw = 5 w; SGD(0.1): 1 -> 0.5 -> 0.25
    model, x, y, dense = linear_model(1.0)
    model.add_loss(0.5 * tf.reduce_sum(tf.square(y)))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(np.array([[1.0], [2.0]], "float32"), epochs=2, batch_size=2, shuffle=False,
                        verbose=0)
    np.testing.assert_allclose(history.history["loss"], [2.5, 0.625], rtol=1e-6)
    np.testing.assert_allclose(dense.get_weights()[0], [[0.25]], rtol=1e-6)


def test_the_penalty_adds_to_the_compiled_loss_hand_worked():
    # mse with zero targets: mean((w x)^2) = 2.5 w^2; plus P = 2.5 w^2: 5 w^2, gradient 10 w;
    # SGD(0.05) from w = 1: w = 0.5, logged loss 5
    model, x, y, dense = linear_model(1.0)
    model.add_loss(0.5 * tf.reduce_sum(tf.square(y)))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(np.array([[1.0], [2.0]], "float32"), np.zeros((2, 1), "float32"), epochs=1,
                        batch_size=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [5.0], rtol=1e-6)
    np.testing.assert_allclose(dense.get_weights()[0], [[0.5]], rtol=1e-6)


def test_add_metric_of_a_symbolic_tensor_is_logged_hand_worked():
    model, x, y, _ = linear_model(1.0)
    model.add_metric(tf.reduce_mean(x), name="mean_input")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    data = np.array([[1.0], [3.0], [5.0], [7.0]], "float32")
    history = model.fit(data, np.zeros((4, 1), "float32"), epochs=1, batch_size=2, shuffle=False,
                        verbose=0)
    assert history.history["mean_input"] == [4.0]    # the mean of the batch means 2 and 6
    assert "mean_input" in [m.name for m in model.metrics]


def guide_model(metric=False):
    """The built-in-methods guide's model with model.add_loss(tf.reduce_sum(x1) * 0.1)."""
    tf.set_random_seed(3)
    inputs = keras.Input(shape=(6,))
    x1 = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(3)(keras.layers.Dense(8, activation="relu")(x1))
    model = keras.Model(inputs, outputs)
    model.add_loss(tf.reduce_sum(x1) * 0.1)
    if metric:
        model.add_metric(keras.backend.std(x1), name="std_of_activation", aggregation="mean")
    return model


def fit_guide_model(jit, metric=False):
    model = guide_model(metric)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    rng = np.random.default_rng(0)
    x, y = rng.random((100, 6)).astype("float32"), rng.integers(0, 3, 100)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model, history.history


def test_the_compiled_step_replays_a_symbolic_add_loss_with_the_eager_bits():
    eager, h_eager = fit_guide_model(False)
    compiled, h_compiled = fit_guide_model(True)
    assert h_eager == h_compiled
    for a, b in zip(eager.get_weights(), compiled.get_weights(), strict=True):
        assert np.array_equal(a, b)
    step = compiled.make_train_function()
    assert isinstance(step, CompiledTrainStep) and step.replayed_signatures == 2  # 32 and the last 4


def test_a_symbolic_add_metric_keeps_the_step_eager_and_exact():
    eager, h_eager = fit_guide_model(False, metric=True)
    compiled, h_compiled = fit_guide_model(True, metric=True)
    assert h_eager == h_compiled and "std_of_activation" in h_compiled
    step = compiled.make_train_function()
    assert step.replayed_signatures == 0
    assert step.eager_reasons and all("add_metric" in r for r in step.eager_reasons)


def test_symbolic_add_loss_outside_a_functional_model_is_refused():
    x = keras.Input((2,))
    layer = keras.layers.Dense(1)
    with pytest.raises(ValueError, match="add_loss of a symbolic tensor .* only on a functional model"):
        layer.add_loss(tf.reduce_sum(x))
    with pytest.raises(ValueError, match="add_metric of a symbolic tensor .* only on a functional"):
        layer.add_metric(tf.reduce_sum(x), name="s")


def test_a_tensor_from_other_inputs_is_refused_and_the_model_still_works():
    model, x, y, _ = linear_model(1.0)
    other = keras.Input((1,))
    with pytest.raises(ValueError, match="not computed from this model's inputs"):
        model.add_loss(tf.reduce_sum(other))
    assert model.losses == [] and model(np.ones((1, 1), "float32")).shape == (1, 1)
    assert model.losses == []


def test_a_model_with_symbolic_add_loss_and_add_metric_saves_and_loads(tmp_path):
    model = guide_model(metric=True)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "m.safetensors")
    back = keras.models.load_model(tmp_path / "m.safetensors")
    data = np.random.default_rng(1).random((5, 6)).astype("float32")
    assert np.array_equal(model(data).numpy(), back(data).numpy())
    assert [float(v) for v in model.losses] == [float(v) for v in back.losses] != []
    logs = back.evaluate(data, np.zeros(5, "int64"), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "std_of_activation"}
