"""Models: Sequential, functional, subclassed; training, evaluation, errors, reproducibility."""

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import unafraid as tf
from unafraid.keras import layers

rng = np.random.default_rng(0)


def blobs(n=300, d=5, k=3, seed=0):
    """Separable Gaussian blobs: k classes in d dimensions."""
    r = np.random.default_rng(seed)
    centers = r.normal(0, 3, size=(k, d))
    y = r.integers(0, k, n)
    return (centers[y] + r.normal(size=(n, d))).astype(np.float32), y


def mlp(d=5, k=3, hidden=16, activation="softmax"):
    return tf.keras.Sequential([layers.Dense(hidden, activation="relu", input_shape=(d,)),
                                layers.Dense(k, activation=activation)])


def test_sequential_fit_learns_and_history_keys_match_keras():
    x, y = blobs()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, validation_split=0.2)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == list(range(20))
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == acc
    p = model.predict(x)
    assert isinstance(p, np.ndarray) and p.shape == (300, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


def test_fit_continues_training_like_keras():
    x, y = blobs()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    w1 = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer.iterations == 2 * int(np.ceil(300 / 32))
    assert not all(np.array_equal(a, b) for a, b in zip(w1, model.get_weights(), strict=True))


def test_model_call_returns_tensor_with_numpy():
    model = mlp()
    out = model(np.ones((1, 5), np.float32))
    assert isinstance(out.numpy(), np.ndarray) and out.shape == (1, 3)


def test_functional_model_with_two_inputs_and_two_outputs():
    a = tf.keras.Input(shape=(3,), name="a")
    b = tf.keras.Input(shape=(2,), name="b")
    h = layers.Dense(8, activation="tanh")(a)
    g = layers.Dense(8, activation="tanh")(b)
    merged = layers.Dense(4)(h)
    out1 = layers.Dense(1, name="reg")(merged)
    out2 = layers.Dense(2, activation="softmax", name="cls")(g)
    model = tf.keras.Model([a, b], [out1, out2])
    xa, xb = rng.normal(size=(64, 3)).astype(np.float32), rng.normal(size=(64, 2)).astype(np.float32)
    y1, y2 = xa.sum(1, keepdims=True), (xb[:, 0] > 0).astype(int)
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"])
    h = model.fit([xa, xb], [y1, y2], epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    p1, p2 = model.predict([xa, xb])
    assert p1.shape == (64, 1) and p2.shape == (64, 2)


def test_subclassed_model_and_model_as_layer():
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = mlp(hidden=8)
            self.head = layers.Dense(3, activation="softmax")

        def call(self, x, training=False):
            return self.head(self.inner(x, training=training))

    net = Net()
    x, y = blobs()
    net.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(x, y, epochs=2, verbose=0)
    assert len(net.trainable_weights) == 6  # inner: 2 Dense layers; head: 1
    assert net.predict(x[:4]).shape == (4, 3)


def test_get_layer_and_set_weights_errors():
    model = mlp()
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    with pytest.raises(ValueError, match="No layer named"):
        model.get_layer("nope")
    weights = model.get_weights()
    with pytest.raises(ValueError, match="has 4 weight arrays"):
        model.set_weights(weights[:2])
    bad = [w.T if w.ndim == 2 else w for w in weights]
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.get_weights()[0], weights[0])  # nothing changed


def test_summary_counts_parameters_like_keras(capsys):
    model = tf.keras.Sequential([layers.Flatten(input_shape=(28, 28)),
                                 layers.Dense(512, activation="relu"),
                                 layers.Dense(10, activation="softmax")])
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 784)" in text and "401,920" in text and "5,130" in text
    assert "Total params: 407,050" in text  # 784*512 + 512 + 512*10 + 10


def test_errors_that_teach():
    x, y = blobs()
    model = mlp()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="x has 300.*y has 299"):
        model.fit(x, y[:-1], verbose=0)
    x_nan = x.copy()
    x_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*\(3, 1\)"):
        model.fit(x_nan, y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        model.fit(x, y, epochs=0, verbose=0)
    with pytest.raises(ValueError, match="Flatten"):
        tf.keras.Sequential([layers.Dense(4, input_shape=(784,))]).predict(
            np.ones((2, 28, 28), np.float32))


def test_unscaled_uint8_images_warn():
    x = rng.integers(0, 256, size=(64, 4, 4)).astype(np.uint8)
    y = rng.integers(0, 2, 64)
    model = tf.keras.Sequential([layers.Flatten(input_shape=(4, 4)),
                                 layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="255"):
        model.fit(x, y, verbose=0)


def test_validation_split_is_stratified_and_seeded():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.r_[np.zeros(90, int), np.ones(10, int)]  # the last rows are one whole class
    model = tf.keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(1,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    seen = {}

    class Spy(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.update(logs)

    model.fit(x, y, validation_split=0.2, verbose=0, callbacks=[Spy()])
    from unafraid.models.data import stratified_split
    tr, va = stratified_split(y, 100, 0.2, np.random.default_rng(0))
    assert (y[va] == 1).sum() == 2 and (y[va] == 0).sum() == 18
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    assert "val_loss" in seen


def test_same_script_twice_gives_identical_bits(tmp_path):
    script = textwrap.dedent("""
        import json, sys, hashlib
        import numpy as np
        import unafraid as tf
        r = np.random.default_rng(1)
        x = r.normal(size=(200, 6)).astype(np.float32)
        y = (x[:, 0] > 0).astype(int)
        model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(6,)),
                                     tf.keras.layers.Dropout(0.3),
                                     tf.keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
        digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
        pred = hashlib.sha256(model.predict(x).tobytes()).hexdigest()
        print(json.dumps({"w": digest, "p": pred, "h": h.history}))
    """)
    path = tmp_path / "run.py"
    path.write_text(script)
    outs = [json.loads(subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(2)]
    assert outs[0] == outs[1]


def test_set_random_seed_changes_and_repeats_initial_weights():
    tf.set_random_seed(5)
    a = mlp().get_weights()
    tf.set_random_seed(5)
    b = mlp().get_weights()
    tf.keras.utils.set_random_seed(6)
    c = mlp().get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_nan_loss_stops_training_and_keeps_finite_weights():
    x, y = blobs()
    model = tf.keras.Sequential([layers.Dense(3, input_shape=(5,))])
    model.compile(tf.keras.optimizers.SGD(learning_rate=1e6), "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x * 1e3, np.ones((300, 3), np.float32) * 1e3, epochs=5, verbose=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any("Training stopped" in m and "at epoch 1, batch" in m and "learning rate" in m
               for m in messages)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_nan_guard_lets_its_last_full_copy_go_before_taking_the_next(monkeypatch):
    """fit's NaN guard keeps a full copy of the state (weights, the optimizer's m and v) every
    200 steps; holding the last one while making the next would double that memory for a moment
    (three times the model's weights, once more)."""
    from unafraid import callbacks

    held_during_copy = []
    full_state = callbacks.NaNGuard._full_state

    def spy(self):
        held_during_copy.append(self.full)
        return full_state(self)

    monkeypatch.setattr(callbacks.NaNGuard, "_full_state", spy)
    x, y = blobs()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)  # 300 steps: copies at steps 1 and 201
    assert len(held_during_copy) == 2 and held_during_copy == [None, None]


def test_class_weight_and_sample_weight_change_the_loss():
    x, y = blobs()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0)
    weighted = model.evaluate(x, y, sample_weight=np.full(300, 2.0, np.float32), verbose=0)
    assert np.isclose(weighted, 2 * base, rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight has no weight for classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_finiteness_checks_take_huge_float64_values_and_still_find_nan():
    from unafraid.losses import _check_finite
    from unafraid.models.data import check_finite

    huge = np.array([1e308, 1e308])  # finite, but their float64 sum overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from the checks themselves
        with pytest.raises(ValueError, match="2 values too large for float32"):
            check_finite(huge, "x")  # finite, but inf once cast to float32 for training
        check_finite(np.array([3e38, -3e38]), "x")
        _check_finite(huge, "mse")
    with pytest.raises(ValueError, match="1 non-finite"):
        check_finite(np.array([1.0, np.nan], np.float32), "x")
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        _check_finite(np.array([[1.0, np.inf]], np.float32), "mse")


def test_autoencoder_fit_checks_and_gathers_x_once(monkeypatch):
    """fit(x, x): x is checked for NaN once (as an input), and each batch is copied once."""
    from unafraid.models import data, model

    x = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    from unafraid import losses

    checked = []  # every whole-array finiteness check, from the data and the loss modules
    real = data.check_finite, losses._check_finite
    monkeypatch.setattr(data, "check_finite", lambda a, what: (checked.append(a), real[0](a, what)))
    monkeypatch.setattr(losses, "_check_finite",
                        lambda a, who: (checked.append(a) if a.size == x.size else None,
                                        real[1](a, who)))
    seen = []
    step = model.Model.train_step
    monkeypatch.setattr(model.Model, "train_step",
                        lambda self, data: (seen.append(data[0] is data[1]), step(self, data))[1])
    ae = tf.keras.Sequential([layers.Input((6,)), layers.Dense(2), layers.Dense(6)])
    ae.compile("adam", "mse", jit_compile=False)
    ae.fit(x, x, batch_size=16, verbose=0)
    assert sum(a is x for a in checked) == 1
    assert seen == [True] * 4
    y = x.copy()  # a different array is checked and gathered on its own
    checked.clear(), seen.clear()
    ae.fit(x, y, batch_size=16, verbose=0)
    assert sum(a is y for a in checked) == 1 and seen == [False] * 4
