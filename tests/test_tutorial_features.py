"""Issue 16's tutorial features: Normalization in '.keras' files, Sequential.inputs and
layer.output, keras.utils.plot_model, and saving models of your own classes.

Oracles: Keras 3.15 (JAX backend, in the `test` extra) reading and writing the same files;
forward passes worked out in NumPy from the weights; graphs listed by hand.
"""

import os
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")

import unafraid as tf  # noqa: E402
from unafraid.keras.plot import model_graph  # noqa: E402

L = tf.keras.layers
RNG = np.random.default_rng(7)
FEATURES = (RNG.normal(size=(64, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]).astype("float32")


def relu(a):
    return np.maximum(a, 0)


# ---- Normalization in '.keras' files -------------------------------------------------------------
def adapted_unafraid_model():
    norm = L.Normalization(axis=-1)
    norm.adapt(FEATURES)
    model = tf.keras.Sequential([tf.keras.Input((3,)), norm, L.Dense(4, activation="relu"), L.Dense(1)])
    model.compile("adam", "mse")
    return model


def test_adapted_normalization_saved_by_unafraid_is_read_by_keras(tmp_path):
    model = adapted_unafraid_model()
    model.save(tmp_path / "m.keras")
    theirs = keras.models.load_model(tmp_path / "m.keras")
    norm = theirs.layers[0]
    # Keras's own statistics of the data (its adapt is the oracle for the file's values)
    np.testing.assert_allclose(np.asarray(norm.adapt_mean), FEATURES.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(norm.adapt_variance), FEATURES.var(0), rtol=1e-4)
    dense, out = model.layers[1].get_weights(), model.layers[2].get_weights()
    by_hand = relu(((FEATURES - FEATURES.mean(0)) / FEATURES.std(0)) @ dense[0] + dense[1]) @ out[0] + out[1]
    np.testing.assert_allclose(theirs.predict(FEATURES, verbose=0), by_hand, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.predict(FEATURES, verbose=0), by_hand, rtol=1e-4, atol=1e-4)


def test_adapted_normalization_saved_by_keras_is_read_by_unafraid(tmp_path):
    K = keras.layers
    norm = K.Normalization(axis=-1)
    norm.adapt(FEATURES)
    theirs = keras.Sequential([keras.Input((3,)), norm, K.Dense(2)])
    theirs.save(tmp_path / "k.keras")
    mine = tf.keras.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(mine.layers[0].mean.numpy().ravel(), FEATURES.mean(0), rtol=1e-5)
    np.testing.assert_allclose(mine.predict(FEATURES, verbose=0), theirs.predict(FEATURES, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_normalization_with_given_statistics_has_no_weights_in_keras(tmp_path):
    mean, variance = [1.0, 2.0, 3.0], [4.0, 9.0, 16.0]
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Normalization(mean=mean, variance=variance)])
    model.save(tmp_path / "m.keras")
    theirs = keras.models.load_model(tmp_path / "m.keras")
    assert theirs.layers[0].weights == []
    expected = (FEATURES - np.array(mean)) / np.sqrt(variance)
    np.testing.assert_allclose(theirs.predict(FEATURES, verbose=0), expected, rtol=1e-5, atol=1e-5)
    again = tf.keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(FEATURES, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_normalization_over_two_kept_axes_round_trips_through_keras(tmp_path):
    data = RNG.normal(size=(20, 2, 3)).astype("float32") * 3 + 1
    K = keras.layers
    norm = K.Normalization(axis=(1, 2))
    norm.adapt(data)
    keras.Sequential([keras.Input((2, 3)), norm]).save(tmp_path / "k.keras")
    mine = tf.keras.models.load_model(tmp_path / "k.keras")
    expected = (data - data.mean(0)) / data.std(0)
    np.testing.assert_allclose(mine.predict(data, verbose=0), expected, rtol=1e-4, atol=1e-4)
    mine.save(tmp_path / "back.keras")
    back = keras.models.load_model(tmp_path / "back.keras")
    np.testing.assert_allclose(back.predict(data, verbose=0), expected, rtol=1e-4, atol=1e-4)


# ---- Sequential.inputs, layer.output ------------------------------------------------------------
def test_feature_extractor_from_a_sequential_model():
    model = tf.keras.Sequential([tf.keras.Input((5,)), L.Dense(4, activation="relu"),
                                 L.Dense(3, activation="relu", name="middle"), L.Dense(2)])
    extractor = tf.keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = RNG.normal(size=(6, 5)).astype("float32")
    w = [layer.get_weights() for layer in model.layers]
    h1 = relu(x @ w[0][0] + w[0][1])
    h2 = relu(h1 @ w[1][0] + w[1][1])
    h3 = h2 @ w[2][0] + w[2][1]
    for got, want in zip(extractor(x), [h1, h2, h3], strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)
    middle = tf.keras.Model(model.inputs, model.get_layer(name="middle").output)
    np.testing.assert_allclose(np.asarray(middle(x)), h2, rtol=1e-5, atol=1e-6)
    assert model.outputs[0].shape == (None, 2) and model.inputs[0].shape == (None, 5)
    assert model.layers[0].input is model.inputs[0]


def test_added_layers_extend_the_graph():
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(4)])
    model.add(L.Dense(2))
    assert model.output.shape == (None, 2) and model.layers[-1].input is model.layers[0].output


def test_sequential_without_input_shape_has_no_inputs_yet():
    model = tf.keras.Sequential([L.Dense(2)])
    with pytest.raises(AttributeError, match="no defined inputs yet.*keras.Input"):
        _ = model.inputs
    with pytest.raises(AttributeError, match="dense.* has never been called.*no defined output"):
        _ = L.Dense(2).output


# ---- plot_model ------------------------------------------------------------------------------------
def branching_model():
    inputs = tf.keras.Input((8,), name="x")
    h = L.Dense(4, name="h")(inputs)
    a, b = L.Dense(4, name="a")(h), L.Dense(4, name="b")(h)
    out = L.Dense(1, name="out")(L.add([a, b], name="sum"))
    return tf.keras.Model(inputs, out)


def test_the_graph_plotted_is_the_models():
    boxes = model_graph(branching_model())
    names = [b.layer.name for b in boxes]
    edges = {(names[p], names[i]) for i, b in enumerate(boxes) for p in b.parents}
    assert edges == {("x", "h"), ("h", "a"), ("h", "b"), ("a", "sum"), ("b", "sum"), ("sum", "out")}
    assert {b.layer.name: b.depth for b in boxes} == {"x": 0, "h": 1, "a": 2, "b": 2, "sum": 3, "out": 4}
    assert boxes[names.index("sum")].in_shape == [(None, 4), (None, 4)]


def test_plot_model_writes_png_and_dot(tmp_path):
    model = branching_model()
    tf.keras.utils.plot_model(model, tmp_path / "m.png", show_shapes=True, show_layer_names=True)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tf.keras.utils.plot_model(model, tmp_path / "m.dot", show_layer_names=True)
    dot = (tmp_path / "m.dot").read_text()
    assert dot.startswith("digraph G {") and dot.count("->") == 6 and '"sum (Add)"' in dot
    sequential = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(2)])
    tf.keras.utils.plot_model(sequential, tmp_path / "s.pdf", rankdir="LR")
    assert (tmp_path / "s.pdf").read_bytes()[:4] == b"%PDF"


def test_plot_model_without_matplotlib_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib.*'model.dot'"):
        tf.keras.utils.plot_model(branching_model(), tmp_path / "m.png")
    tf.keras.utils.plot_model(branching_model(), tmp_path / "m.dot")  # needs nothing
    assert (tmp_path / "m.dot").exists() and not (tmp_path / "m.png").exists()


def test_plot_model_refuses_unbuilt_models_and_unknown_arguments(tmp_path):
    with pytest.raises(ValueError, match="not yet been built"):
        tf.keras.utils.plot_model(tf.keras.Sequential([L.Dense(2)]), tmp_path / "m.dot")
    with pytest.raises(ValueError, match="unrecognized keyword arguments: \\['colour'\\]"):
        tf.keras.utils.plot_model(branching_model(), tmp_path / "m.dot", colour="red")


# ---- models of your own classes --------------------------------------------------------------------
class Stack(tf.keras.Model):
    """The serialization guide's CustomModel."""

    def __init__(self, hidden_units, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.dense_layers = [L.Dense(u) for u in hidden_units]

    def call(self, inputs):
        x = inputs
        for layer in self.dense_layers:
            x = layer(x)
        return x

    def get_config(self):
        return {"hidden_units": self.hidden_units}


def saved_stack(path):
    model = Stack([4, 3])
    x = RNG.normal(size=(2, 5)).astype("float32")
    model(x)
    model.save(path)
    (w1, b1), (w2, b2) = [layer.get_weights() for layer in model.dense_layers]
    return x, (x @ w1 + b1) @ w2 + b2


def test_subclassed_model_loads_with_custom_objects(tmp_path):
    x, by_hand = saved_stack(tmp_path / "m")
    loaded = tf.keras.models.load_model(tmp_path / "m", custom_objects={"Stack": Stack})
    assert type(loaded) is Stack and loaded.hidden_units == [4, 3]
    np.testing.assert_allclose(np.asarray(loaded(x)), by_hand, rtol=1e-5, atol=1e-6)
    with tf.keras.utils.custom_object_scope({"Stack": Stack}):
        np.testing.assert_allclose(np.asarray(tf.keras.models.load_model(tmp_path / "m")(x)), by_hand,
                                   rtol=1e-5, atol=1e-6)


def test_subclassed_model_without_its_class_is_revived_with_a_warning_naming_the_fix(tmp_path):
    x, by_hand = saved_stack(tmp_path / "m")   # Stack's call runs Dense layers only: traced
    with pytest.warns(UserWarning, match="your own class 'Stack'.*custom_objects=\\{'Stack': Stack\\}"):
        revived = tf.keras.models.load_model(tmp_path / "m")
    assert type(revived) is not Stack
    np.testing.assert_allclose(np.asarray(revived(x)), by_hand, rtol=1e-5, atol=1e-6)


def test_registered_class_is_saved_under_its_package_name(tmp_path):
    @tf.keras.saving.register_keras_serializable(package="TestPkg")
    class Doubler(tf.keras.layers.Layer):
        def call(self, x):
            return 2 * x

    try:
        assert tf.keras.saving.get_registered_name(Doubler) == "TestPkg>Doubler"
        model = tf.keras.Sequential([tf.keras.Input((2,)), Doubler(), L.Dense(1)])
        model.save(tmp_path / "m")
        loaded = tf.keras.models.load_model(tmp_path / "m")  # found by its registered name
        x = np.array([[1.0, -2.0]], "float32")
        w, b = model.layers[1].get_weights()
        np.testing.assert_allclose(loaded.predict(x, verbose=0), (2 * x) @ w + b, rtol=1e-6)
        with pytest.raises(ValueError, match="already been registered"):
            tf.keras.saving.register_keras_serializable(package="TestPkg", name="Doubler")(Stack)
    finally:
        tf.keras.saving.get_custom_objects().pop("TestPkg>Doubler", None)


def test_custom_class_whose_config_lacks_init_arguments_is_refused_at_save(tmp_path):
    class NoConfig(tf.keras.Model):
        def __init__(self, units):
            super().__init__()
            self.d = L.Dense(units)

        def call(self, x):
            return self.d(x)

    model = NoConfig(3)
    model(np.zeros((1, 2), "float32"))
    with pytest.raises(ValueError, match=r"__init__ needs \['units'\].*def get_config"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_normalization_with_given_statistics_cannot_be_adapted():
    fixed = L.Normalization(mean=[1.0], variance=[4.0])
    with pytest.raises(ValueError, match="given mean= and variance=.*adapt"):
        fixed.adapt(np.ones((3, 1)))


# ---- tf.keras 2 compatibility: add_metric, compiled_loss, compiled_metrics ----------------------------
class Spread(tf.keras.layers.Layer):
    def call(self, x):
        self.add_metric(tf.math.reduce_std(x), name="std_of_activation", aggregation="mean")
        return x


def test_add_metric_is_the_mean_over_batches_of_real_calls_only():
    inputs = tf.keras.Input((2,))
    spread = Spread()
    model = tf.keras.Model(inputs, L.Dense(1)(spread(inputs)))  # shape inference: not counted
    assert tf.keras.compat.added_metrics(model) == []
    model(np.array([[0.0, 2.0]], "float32"))   # std 1
    model(np.array([[1.0, 7.0]], "float32"))   # std 3
    (metric,) = tf.keras.compat.added_metrics(model)
    assert metric.name == "std_of_activation" and float(metric.result()) == pytest.approx(2.0)


def test_the_first_add_metric_of_a_process_is_found(monkeypatch):
    """added_metrics does not look through the layers while no layer of the process has called
    add_metric (fit asks at every step); the first call must make it look, as in a fresh
    process."""
    from unafraid.layers import base

    monkeypatch.setattr(base, "_METRICS_ADDED", [False])
    inputs = tf.keras.Input((2,))
    model = tf.keras.Model(inputs, L.Dense(1)(Spread()(inputs)))
    assert tf.keras.compat.added_metrics(model) == [] and model.metrics == []
    model(np.array([[0.0, 2.0]], "float32"))
    assert [m.name for m in tf.keras.compat.added_metrics(model)] == ["std_of_activation"]


def test_fit_logs_and_resets_the_add_metric_values_each_epoch():
    tf.set_random_seed(0)
    inputs = tf.keras.Input((2,))
    model = tf.keras.Model(inputs, L.Dense(1)(Spread()(inputs)))
    model.compile("sgd", "mse")
    x = np.array([[0.0, 2.0], [1.0, 7.0], [0.0, 0.0], [3.0, 3.0]], "float32")  # stds 1, 3, 0, 0
    history = model.fit(x, np.zeros((4, 1), "float32"), batch_size=2, epochs=2, shuffle=False,
                        verbose=0)
    # one std per batch, over the whole batch: std([0, 2, 1, 7]) and std([0, 0, 3, 3]); their
    # mean is each epoch's value, the same in both epochs (the metric is reset in between)
    expected = (np.std([0.0, 2, 1, 7]) + np.std([0.0, 0, 3, 3])) / 2
    assert history.history["std_of_activation"] == pytest.approx([expected, expected], rel=1e-6)
    assert model.metrics_names == ["loss", "std_of_activation"]
    # compiled with jit_compile=True, the step is recorded; add_metric keeps it eager
    model.compile("sgd", "mse", jit_compile=True)
    history = model.fit(x, np.zeros((4, 1), "float32"), batch_size=2, epochs=3, shuffle=False,
                        verbose=0)
    assert history.history["std_of_activation"] == pytest.approx([expected] * 3, rel=1e-6)
    step = model.make_train_function()
    assert step.replayed_signatures == 0
    assert "add_metric" in " ".join(step.eager_reasons)


def test_add_metric_refuses_what_it_cannot_honour():
    layer = L.Dense(1)
    with pytest.raises(ValueError, match="needs name="):
        layer.add_metric(1.0)
    with pytest.raises(ValueError, match="aggregation='sum'.*only 'mean'"):
        layer.add_metric(1.0, name="m", aggregation="sum")
    with pytest.raises(ValueError, match="symbolic tensor.*only on a functional model.*call\\(\\)"):
        layer.add_metric(tf.keras.Input((2,)), name="m")


def compiled_model():
    model = tf.keras.Sequential([tf.keras.Input((2,)), L.Dense(1, kernel_regularizer="l2")])
    model.compile("sgd", loss="mse", metrics=["mae"])
    return model


def test_compiled_loss_is_the_compiled_loss_plus_the_regularization_losses_given():
    model = compiled_model()
    y, y_pred = np.array([[1.0], [3.0]], "float32"), tf.constant([[2.0], [1.0]])
    compiled_loss = tf.keras.compat.CompiledLoss(model)
    assert float(compiled_loss(y, y_pred)) == pytest.approx((1 + 4) / 2)   # mse by hand
    kernel = model.layers[0].kernel.numpy()
    l2 = 0.01 * float((kernel ** 2).sum())                                 # Keras's l2 default
    total = compiled_loss(y, y_pred, regularization_losses=model.losses)
    assert float(total) == pytest.approx(2.5 + l2, rel=1e-5)
    assert model.metrics[0].name == "loss"
    assert float(model.metrics[0].result()) == pytest.approx((2.5 + 2.5 + l2) / 2, rel=1e-5)


def test_compiled_loss_gradient_matches_the_hand_worked_one():
    model = compiled_model()
    x, y = np.array([[1.0, 2.0]], "float32"), np.array([[0.0]], "float32")
    with tf.GradientTape() as tape:
        loss = tf.keras.compat.CompiledLoss(model)(y, model(x))
    (grad_kernel, _) = tape.gradient(loss, [model.layers[0].kernel, model.layers[0].bias])
    w, b = model.layers[0].get_weights()
    residual = (x @ w + b) - y                                             # d mse / d w = 2 r x
    np.testing.assert_allclose(grad_kernel.numpy(), 2 * x.T @ residual, rtol=1e-5)


def test_compiled_metrics_update_the_compiled_metrics():
    model = compiled_model()
    compiled_metrics = tf.keras.compat.CompiledMetrics(model)
    compiled_metrics.update_state(np.array([[1.0], [3.0]]), np.array([[2.0], [1.0]]))
    assert [m.name for m in compiled_metrics.metrics] == ["mae"]
    assert compiled_metrics.result()["mae"] == pytest.approx(1.5)         # (1 + 2) / 2
    compiled_metrics.reset_state()
    assert compiled_metrics.result()["mae"] == 0.0
    with pytest.raises(RuntimeError, match="call model.compile"):
        tf.keras.compat.CompiledLoss(tf.keras.Sequential([L.Dense(1)]))


def test_layer_metrics_list_attribute_metrics_and_added_ones():
    class Endpoint(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.accuracy_fn = tf.keras.metrics.BinaryAccuracy()

        def call(self, targets, logits):
            self.add_metric(self.accuracy_fn(targets, logits), name="accuracy")
            return logits

    layer = Endpoint()
    layer(np.array([[1.0, 0.0]], "float32"), np.array([[0.9, 0.8]], "float32"))  # 1 of 2 right
    assert [m.name for m in layer.metrics] == ["binary_accuracy", "accuracy"]
    assert float(layer.metrics[1].result()) == pytest.approx(0.5)


def test_keras_2_backend_and_optimizer_lr_names():
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
    assert float(optimizer.lr) == pytest.approx(0.1)
    tf.keras.backend.set_value(optimizer.lr, 0.025)
    assert float(tf.keras.backend.get_value(optimizer.learning_rate)) == pytest.approx(0.025)
    optimizer.lr = 0.5
    assert float(optimizer.learning_rate) == 0.5
    x = np.array([[1.0, 3.0], [2.0, 6.0]], "float32")
    np.testing.assert_allclose(np.asarray(tf.keras.backend.std(x, axis=1)), [1.0, 2.0])   # by hand
    np.testing.assert_allclose(np.asarray(tf.keras.backend.mean(x, axis=0)), [1.5, 4.5])
    with pytest.raises(TypeError, match="set_value needs a Variable"):
        tf.keras.backend.set_value(1.0, 2.0)
