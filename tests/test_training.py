"""The training module: fit's loop, the public train_step, the compiled (replayed) step,
the NaN guard, Ctrl-C, and fit on datasets and generators.

The compiled step is checked against the eager step to the bit: weights, History and
predictions; the oracle for the eager step itself is the rest of the suite (finite
differences for gradients, Keras's numbers for optimizers and losses).
"""

from __future__ import annotations

import ast
import inspect
import os
import signal
import textwrap
import warnings

import numpy as np
import pytest

import unafraid as tf
from unafraid.engine import gradients
from unafraid.keras import layers
from unafraid.models.training import CompiledTrainStep, Trainer

rng = np.random.default_rng(7)
X = rng.random((300, 6, 6)).astype(np.float32)
Y = rng.integers(0, 4, 300)


def _train(build, jit, x=X, y=Y, epochs=2, **fit):
    tf.set_random_seed(1337)
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit)
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, **fit)
    xs = x if isinstance(x, list) else x[:50]
    pred = model.predict([a[:50] for a in x] if isinstance(x, list) else xs, verbose=0)
    return model, history.history, pred


def _same_bits(eager, compiled):
    (m1, h1, p1), (m2, h2, p2) = eager, compiled
    assert h1 == h2
    for a, b in zip(m1.get_weights(), m2.get_weights(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert np.array_equal(p1, p2)


def _proven(model):
    step = model.make_train_function()
    assert isinstance(step, CompiledTrainStep)
    assert step.replayed_signatures == sum(len(c.proven) for c in step.compiled.values())
    return step.replayed_signatures


def seed_model():
    return tf.keras.Sequential([layers.Flatten(input_shape=(6, 6)),
                                layers.Dense(16, activation="relu"),
                                layers.Dense(4, activation="softmax")])


def noisy_model():
    return tf.keras.Sequential([layers.Flatten(input_shape=(6, 6)),
                                layers.Dense(16, activation="relu"),
                                layers.Dropout(0.3), layers.BatchNormalization(),
                                layers.Dense(4, activation="softmax")])


def two_input_model():
    a, b = tf.keras.Input((6, 6)), tf.keras.Input((3,))
    h = layers.Concatenate()([layers.Flatten()(a), layers.Dense(5, activation="tanh")(b)]) \
        if hasattr(layers, "Concatenate") else None
    if h is None:  # without a Concatenate layer: add two branches of the same width
        h = tf.keras.layers.Dense(8)(layers.Flatten()(a))
        h = layers.Add()([h, layers.Dense(8)(b)]) if hasattr(layers, "Add") else h
    out = layers.Dense(4, activation="softmax")(layers.Dense(8, activation="relu")(h))
    return tf.keras.Model([a, b], out)


@pytest.mark.parametrize("build", [seed_model, noisy_model], ids=["seed", "dropout+batchnorm"])
def test_compiled_step_gives_the_eager_bits(build):
    eager = _train(build, False)
    compiled = _train(build, True)
    _same_bits(eager, compiled)
    assert _proven(compiled[0]) == 2  # full batches and the last, shorter one are replayed


@pytest.mark.parametrize("labels", [Y.astype(np.uint8), Y.astype(np.int32), Y.astype(np.float32),
                                    Y.reshape(-1, 1)], ids=["uint8", "int32", "float32", "(N, 1)"])
def test_compiled_step_replays_whatever_the_label_dtype(labels):
    # MNIST's labels are uint8: a conversion outside the engine's ops once kept every step eager.
    eager = _train(seed_model, False, y=labels)
    compiled = _train(seed_model, True, y=labels)
    _same_bits(eager, compiled)
    assert _proven(compiled[0]) == 2


def _registered_losses():
    import inspect

    from unafraid import registry
    return [(name, cls()) for name, cls in registry.names("loss").items() if inspect.isclass(cls)]


# Losses whose step stays eager by design (fit is exact either way, only slower).
EAGER_BY_DESIGN = {
    "CTC": "its alignment recursion runs over label lengths read from the batch's values",
    "Circle": "its positive/negative pair masks compare the batch's labels in NumPy",
}
INTEGER_LABELS = {"CategoricalGeneralizedCrossEntropy", "Circle"}  # besides the Sparse* losses


@pytest.mark.parametrize("name,loss", [
    *_registered_losses(),
    ("CategoricalCrossentropy(label_smoothing=0.1)",
     tf.keras.losses.CategoricalCrossentropy(label_smoothing=0.1)),
    ("BinaryCrossentropy(label_smoothing=0.1)", tf.keras.losses.BinaryCrossentropy(label_smoothing=0.1)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_every_builtin_loss_is_replayed_with_the_eager_bits(name, loss):
    # A loss that transforms its targets with NumPy instead of engine ops makes every recording
    # differ, and fit silently stays eager (binary cross-entropy's 1 - y once did).
    if name in EAGER_BY_DESIGN:
        return
    labels = rng.integers(0, 3, len(X))
    integer = name.startswith("Sparse") or name in INTEGER_LABELS
    targets = labels if integer else np.eye(3, dtype=np.float32)[labels]  # one-hot: 0/1 targets

    def build():
        return tf.keras.Sequential([layers.Flatten(input_shape=(6, 6)),
                                    layers.Dense(8, activation="relu"),
                                    layers.Dense(3, activation="softmax")])
    runs = []
    for jit in (False, True):
        tf.set_random_seed(1337)
        model = build()
        model.compile("adam", loss, jit_compile=jit)
        history = model.fit(X, targets, epochs=2, batch_size=32, verbose=0)
        runs.append((model, history.history, model.predict(X[:50], verbose=0)))
    _same_bits(*runs)
    assert _proven(runs[1][0]) == 2, name


def test_compiled_step_of_a_functional_model_with_two_inputs():
    x2 = [X, rng.random((300, 3)).astype(np.float32)]
    eager = _train(two_input_model, False, x=x2)
    compiled = _train(two_input_model, "auto", x=x2)
    _same_bits(eager, compiled)
    assert _proven(compiled[0]) >= 1


def test_auto_replays_builtin_models_only():
    model = seed_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.make_train_function(), CompiledTrainStep)
    custom = seed_model()
    custom.compile("adam", lambda y, p: tf.keras.losses.mean_squared_error(y, p))
    assert not isinstance(custom.make_train_function(), CompiledTrainStep)
    eager = seed_model()
    eager.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    assert not isinstance(eager.make_train_function(), CompiledTrainStep)


class NumpyNoise(layers.Layer):
    """Adds noise drawn with NumPy outside unafraid's ops: a recording cannot replay it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gen = np.random.default_rng(0)

    def call(self, x, training=False):
        if not training:
            return x
        return x + self.gen.normal(size=x.shape).astype(np.float32) * 0.01


def test_a_step_whose_recordings_differ_stays_eager_and_exact():
    def build():
        return tf.keras.Sequential([layers.Flatten(input_shape=(6, 6)), NumpyNoise(),
                                    layers.Dense(4, activation="softmax")])
    eager = _train(build, False)
    compiled = _train(build, True)
    _same_bits(eager, compiled)
    step = compiled[0].make_train_function()
    assert step.replayed_signatures == 0
    assert step.eager_reasons and all("differ" in r for r in step.eager_reasons)


def test_a_callback_that_edits_weights_is_seen_by_the_replay():
    class Shrink(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch % 3 == 0:
                w = self.model.layers[-1].weights[0]
                w.assign(w.data * 0.5)

    eager = _train(seed_model, False, callbacks=[Shrink()])
    compiled = _train(seed_model, True, callbacks=[Shrink()])
    _same_bits(eager, compiled)


def test_fit_is_a_short_loop():
    """fit (its signature and body, the docstring aside) stays under 60 lines."""
    source = textwrap.dedent(inspect.getsource(Trainer.fit))
    fn = ast.parse(source).body[0]
    docstring, *body = fn.body
    signature = docstring.lineno - fn.lineno
    lines = signature + body[-1].end_lineno - body[0].lineno + 1
    assert 20 < lines < 60, lines


# ---- customizing what happens in fit ------------------------------------------------------------
class CustomModel(tf.keras.Model):
    """Keras's guide "Customizing what happens in fit()": its own train_step and metrics."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)
        self.mae_tracker = tf.keras.metrics.Mean(name="mae")
        self.steps = 0

    def call(self, x, training=False):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = gradients(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.mae_tracker.update_state(np.abs(y_pred.numpy() - y).mean(axis=-1))
        self.steps += 1
        return {"loss": float(loss.numpy()), "mae": self.mae_tracker.result()}


def test_an_overridden_train_step_trains_and_reports_its_metrics():
    x = rng.normal(size=(128, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = CustomModel()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert model.steps == 15 * 8  # fit called it once per batch
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert model.make_train_function() == model.train_step  # an override runs as written


def test_metrics_are_listed_before_the_first_step():
    seen = []

    class Spy(tf.keras.Sequential):
        def train_step(self, data):
            seen.append(self.metrics_names)
            return super().train_step(data)

    model = Spy([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.ones((8, 4), np.float32), np.zeros(8, int), batch_size=8, verbose=0)
    assert seen == [["loss", "accuracy"]]


# ---- data sources -----------------------------------------------------------------------------
def test_fit_evaluate_predict_on_an_iterable_of_batches_match_arrays():
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    class Batches:  # re-iterable, like a tf.data.Dataset: every epoch starts again
        def __init__(self, with_y=True):
            self.with_y = with_y

        def __iter__(self):
            for i in range(0, 64, 16):
                yield (x[i:i + 16], y[i:i + 16]) if self.with_y else x[i:i + 16]

    batches = Batches()

    def model():
        tf.set_random_seed(3)
        m = tf.keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
        m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return m

    a, b = model(), model()
    ha = a.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    hb = b.fit(batches, epochs=3, verbose=0)
    assert ha.history == hb.history
    assert a.evaluate(x, y, batch_size=16, verbose=0) == b.evaluate(batches, verbose=0)
    assert np.array_equal(a.predict(x, batch_size=16), b.predict(Batches(with_y=False)))


def test_fit_on_a_generator_continues_it_across_epochs_with_steps_per_epoch():
    def endless():
        i = 0
        while True:
            xb = np.full((4, 2), i, np.float32)
            yield xb, np.zeros((4, 1), np.float32)
            i += 1

    model = tf.keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    seen = []
    spy = tf.keras.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b))
    model.fit(endless(), steps_per_epoch=3, epochs=2, verbose=0, callbacks=[spy])
    assert seen == [0, 1, 2, 0, 1, 2]


def test_an_infinite_dataset_without_steps_is_refused():
    class Forever:
        def __iter__(self):
            while True:
                yield np.ones((2, 2), np.float32), np.ones((2, 1), np.float32)

        def cardinality(self):
            return -1

    model = tf.keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="infinite dataset.*steps_per_epoch"):
        model.fit(Forever(), verbose=0)


def test_batches_and_separate_targets_are_refused_together():
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    gen = ((np.ones((2, 2), np.float32), np.ones((2, 1), np.float32)) for _ in range(2))
    with pytest.raises(ValueError, match=r"already yields.*\['y'\]"):
        model.fit(gen, np.ones(4), verbose=0)


def test_validation_freq_steps_and_batch_size():
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    calls = []
    real = model.evaluate
    model.evaluate = lambda *a, **k: (calls.append(k), real(*a, **k))[1]
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(x[:10], y[:10]),
                        validation_freq=2, validation_steps=1, validation_batch_size=5)
    assert len(calls) == 2 and all(k["steps"] == 1 and k["batch_size"] == 5 for k in calls)
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4
    # one batch of 5: the validation loss is that batch's mean squared error
    pred = model.predict(x[:5])
    assert np.isclose(history.history["val_loss"][-1],
                      float(np.mean((pred - y[:5]) ** 2)), rtol=1e-5)
    with pytest.raises(ValueError, match="validation_freq must be an integer"):
        model.fit(x, y, validation_freq=[1, 2], verbose=0)


def test_weighted_metrics_use_sample_weights_and_metrics_do_not():
    x = np.eye(4, dtype=np.float32)
    y = np.array([0, 1, 2, 3])
    model = tf.keras.Sequential([layers.Dense(4, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    model.build((None, 4))
    model.layers[0].set_weights([np.eye(4, dtype=np.float32)[[0, 1, 2, 0]].T * 0 + np.array(
        [[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [5, 0, 0, 0]], np.float32),
        np.zeros(4, np.float32)])
    w = np.array([1.0, 1.0, 1.0, 3.0], np.float32)  # the wrong example (the last) weighs 3
    logs = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(3 / 4)  # unweighted: 3 of 4 right
    assert logs["weighted_accuracy"] == pytest.approx(3 / 6)  # weighted: 3 of 6


def test_compile_refuses_what_it_cannot_do():
    model = seed_model()
    with pytest.raises(ValueError, match="steps_per_execution=4 is not supported"):
        model.compile("adam", "mse", steps_per_execution=4)
    with pytest.raises(ValueError, match="jit_compile must be 'auto', True or False"):
        model.compile("adam", "mse", jit_compile="xla")


# ---- the NaN guard and Ctrl-C ------------------------------------------------------------------
class StateBeforeEachStep(tf.keras.callbacks.Callback):
    """Keeps everything a step may change, before each step, to compare with afterwards."""

    def __init__(self):
        super().__init__()
        self.before = {}

    def state(self):
        model = self.model
        slots = model.optimizer.state_dict() if model.optimizer.built else {}
        return (model.get_weights(),  # BatchNormalization's statistics included
                {k: np.array(v, copy=True) for k, v in slots.items()},
                [g.bit_generator.state for g in model.random_generators()],
                model.get_metrics_result())

    def on_train_batch_begin(self, batch, logs=None):
        self.before[batch] = self.state()

    def assert_unchanged_since(self, batch):
        (w1, s1, g1, m1), (w0, s0, g0, m0) = self.state(), self.before[batch]
        assert all(np.array_equal(a, b) for a, b in zip(w1, w0, strict=True))
        assert s1.keys() == s0.keys() and all(np.array_equal(s1[k], s0[k]) for k in s1)
        assert g1 == g0 and m1 == m0


def test_a_nan_step_puts_back_batchnorm_statistics_generators_and_metrics():
    calls = []

    def poisoned(y_true, y_pred):  # NaN on the 6th step
        calls.append(1)
        factor = np.float32(np.nan if len(calls) == 6 else 1.0)
        return tf.keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * factor

    tf.set_random_seed(5)
    model = noisy_model()
    model.compile("adam", poisoned, metrics=["accuracy"])
    spy = StateBeforeEachStep()
    with pytest.warns(RuntimeWarning, match=r"epoch 1, batch 6\..*put back"):
        model.fit(X, Y, batch_size=32, epochs=1, verbose=0, callbacks=[spy])
    spy.assert_unchanged_since(5)
    assert np.isfinite(model.predict(X[:10])).all()


def test_step_generators_are_the_layers_not_the_shuffling_orders():
    """fit's NaN guard copies, before every step, the generators a step draws from (dropout
    masks), not the shuffling orders, which fit draws from between steps; the full copy and a
    saved file keep them all (random_generators)."""
    inner = tf.keras.Sequential([layers.Dense(8, input_shape=(36,)), layers.Dropout(0.5)])
    model = tf.keras.Sequential([layers.Flatten(input_shape=(6, 6)), inner, layers.Dropout(0.2),
                                 layers.Dense(4, activation="softmax")])
    dropouts = [inner.layers[1].generator, model.layers[2].generator]
    assert model.step_generators() == dropouts or model.step_generators() == dropouts[::-1]
    assert len(model.random_generators()) == 4  # two shuffling orders (model, inner) and those
    assert all(any(g is s for g in model.random_generators()) for s in model.step_generators())
    assert tf.keras.Sequential([layers.Dense(2, input_shape=(3,))]).step_generators() == []


def test_a_finite_loss_with_a_nan_gradient_stops_at_that_step_and_changes_nothing():
    calls = []

    def poisoned(y_true, y_pred):  # on the 6th step: a finite loss whose gradient is NaN
        calls.append(1)
        loss = tf.keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        if len(calls) == 6:  # sqrt(|p - p|) is 0, but its derivative at 0 is inf * 0 = NaN
            loss = loss + tf.reduce_sum(tf.sqrt(tf.abs(y_pred - y_pred)), axis=-1)
        return loss

    tf.set_random_seed(5)
    model = noisy_model()
    model.compile("adam", poisoned, metrics=["accuracy"])
    spy = StateBeforeEachStep()
    with pytest.warns(RuntimeWarning, match=r"loss was finite .* gradient was NaN.* epoch 1, batch 6\."), \
            np.errstate(divide="ignore", invalid="ignore"):
        model.fit(X, Y, batch_size=32, epochs=1, verbose=0, callbacks=[spy])
    spy.assert_unchanged_since(5)


def test_a_custom_train_step_applying_nan_gradients_stops_at_that_step_and_changes_nothing():
    class ApplyingWhateverItGets(tf.keras.Model):  # Keras's "customizing fit" step, no checks
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x, y, y_pred)
            grads = tape.gradient(loss, self.trainable_weights)
            if self.optimizer.iterations == 5:  # the 6th step: finite loss, one NaN gradient
                grads[0] = np.full_like(np.asarray(grads[0]), np.nan)
            self.optimizer.apply(grads, self.trainable_weights)
            return self.compute_metrics(x, y, y_pred)

    tf.set_random_seed(5)
    inputs = tf.keras.Input((6, 6))
    h = layers.Dropout(0.3)(layers.Dense(16, activation="relu")(layers.Flatten()(inputs)))
    outputs = layers.Dense(4, activation="softmax")(layers.BatchNormalization()(h))
    model = ApplyingWhateverItGets(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    spy = StateBeforeEachStep()
    with pytest.warns(RuntimeWarning) as said:
        model.fit(X, Y, batch_size=32, epochs=1, verbose=0, callbacks=[spy])
    text = " ".join(str(w.message) for w in said)
    assert "Adam skipped update 6" in text and "epoch 1, batch 6." in text, text
    spy.assert_unchanged_since(5)  # weights, BatchNormalization, Adam's m and v, generators
    assert model.optimizer.skipped_updates == 1 and model.optimizer.iterations == 5


def test_the_optimizer_leaves_everything_as_it_was_when_a_gradient_is_not_finite():
    w = tf.Variable(np.array([1.0, 2.0], np.float32))
    b = tf.Variable(np.array([0.5], np.float32))
    opt = tf.keras.optimizers.Adam(0.1)
    opt.apply([np.array([0.3, -0.2], np.float32), np.array([1.0], np.float32)], [w, b])
    before = ([w.numpy().copy(), b.numpy().copy()], opt.state_dict())
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.warns(RuntimeWarning, match=r"Adam skipped update 2: the gradient of \['"):
            opt.apply([np.array([0.3, bad], np.float32), np.array([1.0], np.float32)], [w, b])
        np.testing.assert_array_equal(w.numpy(), before[0][0])  # both variables untouched,
        np.testing.assert_array_equal(b.numpy(), before[0][1])  # the finite one's too
        after = opt.state_dict()
        assert after.keys() == before[1].keys()
        assert all(np.array_equal(after[k], before[1][k]) for k in after)
    assert opt.iterations == 1 and opt.skipped_updates == 3
    # finite, but squared it overflows float32: Adam's v would become inf and freeze w[0]
    with pytest.warns(RuntimeWarning, match="squared norm overflows float32"):
        opt.apply([np.array([3e19, -2e19], np.float32), np.array([1.0], np.float32)], [w, b])
    np.testing.assert_array_equal(w.numpy(), before[0][0])
    assert opt.iterations == 1 and opt.skipped_updates == 4
    with warnings.catch_warnings():  # large, but its square fits: applied
        warnings.simplefilter("error")
        opt.apply([np.array([1e18, -1e18], np.float32), np.array([1.0], np.float32)], [w, b])
    assert opt.iterations == 2 and np.isfinite(opt.state_dict()["0/v"]).all()
    assert w.numpy()[0] < before[0][0][0] and w.numpy()[1] > before[0][0][1]


def test_ctrl_c_during_validation_resumes_with_the_next_epoch(capsys):
    class CtrlCAtEpochEnd(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    x = rng.normal(size=(32, 3)).astype(np.float32)
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    # As at a terminal: a test worker (pytest-xdist) may have inherited SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        history = model.fit(x, x[:, :1], epochs=5, verbose=0, validation_split=0.25,
                            callbacks=[CtrlCAtEpochEnd()])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert history.epoch == [0, 1]
    said = capsys.readouterr().out
    assert "at the end of epoch 2" in said and "initial_epoch=2)" in said


def test_train_on_batch_returns_the_batch_loss():
    x = np.ones((4, 2), np.float32)
    y = np.full((4, 1), 3.0, np.float32)
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(2,), kernel_initializer="zeros")])
    model.compile("sgd", "mse")
    assert model.train_on_batch(x, y) == pytest.approx(9.0)  # (0 - 3)^2 before the step
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logs = model.test_on_batch(x, y, return_dict=True)
    assert logs["loss"] < 9.0


# ---- freezing (layer.trainable = False), as in Keras --------------------------------------------
def test_freezing_a_built_layer_stops_its_updates_at_once():
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    model = tf.keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(x, y, verbose=0)  # compiled and trained before freezing
    frozen = model.layers[0]
    frozen.trainable = False
    assert model.trainable_weights == model.layers[1].weights
    assert frozen.non_trainable_weights == frozen.weights
    before = frozen.get_weights()
    other = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen.get_weights(), before, strict=True))
    assert not np.array_equal(model.layers[1].get_weights()[0], other[0])
    frozen.trainable = True  # unfreezing: trained again
    model.fit(x, y, verbose=0)
    assert not np.array_equal(frozen.get_weights()[0], before[0])


def test_fine_tuning_a_frozen_base_model_trains_only_the_head():
    base = tf.keras.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                                layers.BatchNormalization()])
    base.build((None, 4))
    base.trainable = False
    inputs = tf.keras.Input((4,))
    outputs = layers.Dense(2, activation="softmax")(base(inputs, training=False))
    model = tf.keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    assert len(model.trainable_weights) == 2  # the head's kernel and bias
    before = base.get_weights()  # BN's moving statistics included
    x = rng.normal(size=(40, 4)).astype(np.float32) * 3 + 1
    model.fit(x, (x[:, 0] > 1).astype(int), epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(base.get_weights(), before, strict=True))


def test_a_frozen_batchnormalization_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = rng.normal(size=(16, 3)).astype(np.float32) * 4 + 2
    bn.build((None, 3))
    bn.trainable = False
    out = bn(x, training=True).numpy()
    # moving mean 0 and variance 1: y = x / sqrt(1 + epsilon), the inference formula
    np.testing.assert_allclose(out, x / np.sqrt(1 + bn.epsilon), rtol=1e-6)
    assert np.array_equal(bn.moving_mean.numpy(), np.zeros(3, np.float32))


def test_a_checkpoint_saved_after_freezing_loads_and_resumes(tmp_path):
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)

    def model():
        tf.set_random_seed(11)
        m = tf.keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
        m.compile("adam", "mse")
        m.fit(x, y, verbose=0, shuffle=False)  # the optimizer holds state for all four weights
        m.layers[0].trainable = False
        return m

    a = model()
    a.save(tmp_path / "frozen.safetensors")
    a.fit(x, y, epochs=2, verbose=0, shuffle=False)
    b = tf.keras.models.load_model(tmp_path / "frozen.safetensors")
    assert not b.layers[0].trainable  # saved in the layer's config
    b.fit(x, y, epochs=2, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert np.array_equal(wa, wb)


# ---- BLAS threads ---------------------------------------------------------------------------------
def test_small_models_train_on_one_blas_thread_and_put_it_back(monkeypatch):
    from threadpoolctl import threadpool_info

    from unafraid.engine import blas

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    seen = []
    spy = tf.keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(
        blas_threads()))
    model = tf.keras.Sequential([layers.Dense(4, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3), np.float32), np.ones((8, 4), np.float32), batch_size=4, verbose=0,
              callbacks=[spy])
    assert seen and all(t == [1] * len(before) for t in seen)
    assert blas_threads() == before
    big = [tf.Variable(np.zeros((4096, 4096), np.float32))]
    assert blas.blas_threads_for(big, 32) is None  # 32 x 4096 x 4096: BLAS's own threads
    monkeypatch.setenv("UNAFRAID_BLAS_THREADS", "default")
    assert blas.blas_threads_for(model.weights, 32) is None
    monkeypatch.setenv("UNAFRAID_BLAS_THREADS", "two")
    with pytest.raises(ValueError, match="UNAFRAID_BLAS_THREADS='two'"):
        blas.blas_threads_for(model.weights, 32)


def test_a_model_subclass_built_functionally_keeps_its_train_step():
    """Keras's guide builds its CustomModel as CustomModel(inputs, outputs)."""
    calls = []

    class Counting(tf.keras.Model):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    inputs = tf.keras.Input((3,))
    model = Counting(inputs, layers.Dense(1)(inputs))
    assert isinstance(model, tf.keras.Model) and model.layers
    model.compile("sgd", "mse")
    x = rng.normal(size=(16, 3)).astype(np.float32)
    model.fit(x, x[:, :1], batch_size=8, epochs=2, verbose=0)
    assert len(calls) == 4
    assert tf.keras.Model(inputs, layers.Dense(1)(inputs)).__class__.__name__ == "Functional"


def test_metrics_with_one_value_per_class_reach_history_evaluate_and_the_bar(capsys):
    """F1Score(average=None) and a list of thresholds give arrays, which Keras keeps in the logs."""
    y = np.eye(4, dtype=np.float32)[Y]
    model = seed_model()
    model.compile("adam", "categorical_crossentropy",
                  metrics=["f1_score", tf.keras.metrics.Precision(thresholds=[0.3, 0.5])])
    history = model.fit(X, y, epochs=2, batch_size=32, verbose=2)
    assert history.history["f1_score"][-1].shape == (4,)
    assert history.history["precision"][-1].shape == (2,)
    assert "f1_score: [" in capsys.readouterr().out
    scores = model.evaluate(X, y, verbose=0, return_dict=True)
    standalone = tf.keras.metrics.F1Score()
    standalone.update_state(y, model.predict(X, verbose=0))
    np.testing.assert_allclose(scores["f1_score"], standalone.result(), rtol=1e-6)


def test_the_blas_controller_sees_libraries_loaded_after_it(monkeypatch):
    """A controller cached before scipy loaded its own OpenBLAS left that one on all threads."""
    import sys
    import types

    from unafraid.engine import blas
    first = blas._controller()
    assert blas._controller() is first  # nothing imported since: the same one
    monkeypatch.setitem(sys.modules, "a_module_with_its_own_blas", types.ModuleType("m"))
    assert blas._controller() is not first


def test_fit_without_targets_when_the_loss_comes_from_add_loss():
    class SquaredOutput(layers.Layer):  # the loss is mean(output^2), added by the layer
        def call(self, x):
            self.add_loss(tf.reduce_mean(tf.square(x)))
            return x

    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [2.0, 0.0]], np.float32)
    model = tf.keras.Sequential([tf.keras.Input((2,)),
                                 layers.Dense(1, use_bias=False, kernel_initializer="ones"),
                                 SquaredOutput()])
    model.compile(tf.keras.optimizers.SGD(0.1))  # no loss: add_loss gives it, so fit needs no y
    history = model.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    w = np.ones((2, 1))
    out = x.astype(np.float64) @ w
    assert history.history["loss"][0] == pytest.approx(float(np.mean(out ** 2)), rel=1e-6)
    grad = 2 * x.T.astype(np.float64) @ out / len(x)  # d mean((x w)^2) / dw, by hand
    np.testing.assert_allclose(model.get_weights()[0], w - 0.1 * grad, rtol=1e-6)
    history = model.fit(x, batch_size=2, epochs=2, validation_split=0.5, verbose=0)
    assert len(history.history["val_loss"]) == 2

    model.compile("sgd", "mse")  # a compiled loss needs targets, and says how to do without
    with pytest.raises(ValueError, match="y is None.*add_loss.*compile\\(optimizer\\)"):
        model.fit(x, verbose=0)


def test_fit_runs_a_model_that_only_overrides_train_step():
    class Pair(tf.keras.Model):  # like Keras's GAN example: sub-models, train_step, no call
        def __init__(self):
            super().__init__()
            self.net = tf.keras.Sequential([tf.keras.Input((2,)),
                                            layers.Dense(1, use_bias=False, kernel_initializer="ones")])

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(self.net(x)))
            grads = tape.gradient(loss, self.net.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.net.trainable_weights, strict=True))
            return {"squared": loss}  # (a "loss" key would report the untouched tracker, as in Keras)

    x = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    model = Pair()
    model.compile(tf.keras.optimizers.SGD(0.1))
    seen = []
    spy = tf.keras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs))
    history = model.fit(tf.data.Dataset.from_tensor_slices(x).batch(2), epochs=1, verbose=0,
                        callbacks=[spy])
    assert [type(v) for v in seen[0].values()] == [float]  # callbacks get numbers, as in Keras
    out = x.astype(np.float64).sum(1, keepdims=True)  # x @ ones
    assert history.history["squared"][0] == pytest.approx(float(np.mean(out ** 2)), rel=1e-6)
    np.testing.assert_allclose(model.net.get_weights()[0],
                               np.ones((2, 1)) - 0.1 * 2 * x.T @ out / 2, rtol=1e-6)


def test_an_update_that_overflows_float32_puts_back_the_last_state_kept_in_memory():
    # finite gradients times a learning rate of 1e39 at the 4th update: the weights overflow to
    # inf, which no check before the update can see; the 5th step's loss is then NaN, and the
    # guard puts back the whole state it kept before batch 1 (it keeps one every 200 steps)
    def learning_rate(step):
        return 1e39 if step == 3 else 0.01  # above float32's largest, 3.4e38

    tf.set_random_seed(5)
    model = noisy_model()
    model.compile(tf.keras.optimizers.SGD(learning_rate, momentum=0.9),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    spy = StateBeforeEachStep()
    with pytest.warns(RuntimeWarning, match=r"batch 5\. The weights had become non-finite: "
                                            r"restored the whole state .* before batch 1\."), \
            np.errstate(over="ignore", invalid="ignore"):
        model.fit(X, Y, batch_size=32, epochs=1, verbose=0, callbacks=[spy])
    (w1, s1, g1, m1), (w0, _, g0, m0) = spy.state(), spy.before[0]
    assert all(np.array_equal(a, b) for a, b in zip(w1, w0, strict=True))  # BatchNorm's too
    assert g1 == g0 and m1 == m0  # the generators and the metrics as before batch 1
    # the optimizer was built at the first step: its momentum is back to its first value, 0
    assert s1.pop("iterations") == 0 and all(not v.any() for v in s1.values())
    assert np.isfinite(model.predict(X[:10])).all()


def test_batch_rows_are_the_rows_fancy_indexing_gives():
    from unafraid.models.batches import rows
    x = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)
    idx = np.array([4, 0, 2])
    assert rows(x, idx).tobytes() == x[idx].tobytes() and rows(x, idx).flags.c_contiguous
    assert np.shares_memory(rows(x, slice(1, 3)), x)         # a slice stays a view
    assert rows(np.arange(5), idx).tolist() == [4, 0, 2]


def test_fit_gives_its_gradients_as_scratch_only_to_unafraids_own_apply():
    """fit's step lets Adam write into its gradients (the same bits: tests/test_optimizers.py);
    an optimizer whose ``apply`` is its own (no ``scratch_gradients``) still trains, to the same
    bits, and sees gradients nobody wrote into."""
    seen = []

    class OwnApply(tf.keras.optimizers.Adam):
        def apply(self, grads, trainable_variables=None):
            seen.append([g.copy() for g in grads])
            super().apply(grads, trainable_variables)
            assert all(np.array_equal(a, g) for a, g in zip(seen[-1], grads, strict=True))

    results = []
    for make in (tf.keras.optimizers.Adam, OwnApply):
        tf.set_random_seed(1337)
        model = seed_model()
        model.compile(make(), "sparse_categorical_crossentropy", jit_compile=True)
        history = model.fit(X, Y, epochs=2, batch_size=32, verbose=0)
        results.append((history.history, model.get_weights()))
    assert seen and results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1], strict=True))
