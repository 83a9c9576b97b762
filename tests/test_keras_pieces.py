"""Keras pieces the TensorFlow tutorials use: add_loss, layer(a, b), metric variables, Normalization."""

import numpy as np
import pytest

import unafraid as tf
from unafraid.data import Dataset


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


keras = tf.keras


class ActivityPenalty(keras.layers.Layer):
    def call(self, x):
        self.add_loss(0.5 * tf.reduce_sum(tf.square(x)))
        return x


def test_add_loss_collects_one_penalty_per_forward_pass():
    layer = ActivityPenalty()
    model = keras.Sequential([keras.layers.Dense(2, kernel_initializer="ones"), layer])
    x = np.array([[1.0, 2.0]], np.float32)
    model(x)
    model(x)  # a second pass replaces the first pass's penalty
    assert len(model.losses) == 1 and len(layer.losses) == 1
    assert float(model.losses[0]) == pytest.approx(0.5 * (3.0 ** 2 + 3.0 ** 2))  # Dense out = [3, 3]
    with tf.GradientTape() as tape:
        model(x)
        penalty = tf.add_n(model.losses)
    grads = tape.gradient(penalty, model.trainable_variables)
    # d/dW 0.5 * sum((x W)^2) = x^T (x W): rows x_i * 3
    np.testing.assert_allclose(grads[0].numpy(), [[3.0, 3.0], [6.0, 6.0]])


class Endpoint(keras.layers.Layer):
    """A layer called with two tensors, as in Keras's LogisticEndpoint example."""

    def call(self, targets, logits, sample_weights=None):
        self.add_loss(tf.reduce_mean(tf.square(targets - logits)))
        return tf.nn.softmax(logits)


def test_layer_called_with_two_tensors_eagerly_and_in_a_functional_model():
    t, logits = np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)
    layer = Endpoint()
    out = layer(t, logits)
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)
    assert float(layer.losses[0]) == 1.0
    inputs, targets = keras.Input((4,)), keras.Input((3,))
    dense = keras.layers.Dense(3)
    model = keras.Model([inputs, targets], Endpoint()(targets, dense(inputs)))
    x = np.ones((5, 4), np.float32)
    y = model([x, np.zeros((5, 3), np.float32)])
    assert y.shape == (5, 3) and len(model.losses) == 1
    h = x @ dense.kernel.numpy() + dense.bias.numpy()
    assert float(model.losses[0]) == pytest.approx(float(np.mean(h ** 2)), rel=1e-5)


class TruePositives(keras.metrics.Metric):
    def __init__(self, name="true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.seen = self.add_weight(name="seen", shape=(), initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = tf.logical_and(tf.equal(y_true, 1), tf.greater(y_pred, 0.5))
        self.tp.assign_add(tf.reduce_sum(tf.cast(hits, tf.float32)))
        self.seen.assign_add(float(np.size(y_true)))

    def result(self):
        return self.tp


def test_metric_subclass_with_variables():
    m = TruePositives()
    m.update_state(np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.7]))
    assert float(m.result()) == 2.0 and float(m.seen) == 4.0
    m.update_state(np.array([1]), np.array([0.6]))
    assert float(m.result()) == 3.0 and len(m.variables) == 2
    m.reset_state()
    assert float(m.result()) == 0.0 and float(m.seen) == 0.0
    assert "true_positives" in repr(m)


def test_normalization_adapt_matches_numpy_and_streams():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(101, 4)).astype(np.float32)
    norm = keras.layers.Normalization()
    norm.adapt(x)
    np.testing.assert_allclose(norm.mean.numpy().ravel(), x.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(norm.variance.numpy().ravel(), x.astype(np.float64).var(0),
                               rtol=1e-5)
    expected = (x - x.mean(0)) / x.std(0)
    np.testing.assert_allclose(norm(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    streamed = keras.layers.Normalization()
    streamed.adapt(Dataset.from_tensor_slices(x).batch(7))  # batches combined exactly
    np.testing.assert_allclose(streamed.variance.numpy(), norm.variance.numpy(), rtol=1e-6)
    scalar = keras.layers.Normalization(axis=None)
    scalar.adapt(x[:, 0])
    assert scalar.mean.numpy().size == 1
    np.testing.assert_allclose(float(scalar.mean.numpy().ravel()[0]), x[:, 0].mean(), rtol=1e-6)
    fixed = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0], invert=True)
    np.testing.assert_allclose(fixed(np.array([[1.0, 1.0]])).numpy(), [[3.0, 3.0]])
    with pytest.raises(ValueError, match="both mean= and variance="):
        keras.layers.Normalization(mean=[1.0])


def test_normalization_is_saved_with_the_model(tmp_path):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    norm = keras.layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((2,)), norm, keras.layers.Dense(1)])
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(loaded.layers[0].mean.numpy().ravel(), x.mean(0))


def test_model_checkpoint_every_n_batches(tmp_path):
    x, y = np.ones((10, 2), np.float32), np.zeros((10, 1), np.float32)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    pattern = str(tmp_path / "ckpt_e{epoch}_b{batch}.safetensors")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False,
              callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_freq=2)])
    # 5 batches per epoch, a save after batches 2, 4, 6, 8, 10 (counted across epochs)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"ckpt_e{e}_b{b}.safetensors" for e, b in [(1, 2), (1, 4), (2, 1), (2, 3), (2, 5)])
    with pytest.raises(ValueError, match="positive number of batches"):
        keras.callbacks.ModelCheckpoint(pattern, save_freq=0)


def _scalars(folder):
    """(tag, step, value) of every scalar in the TensorBoard event files under ``folder``."""
    import struct

    from tensorboardX.proto import event_pb2

    out = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        while data:  # TFRecord: length (8 bytes), its CRC (4), the record, its CRC (4)
            (n,) = struct.unpack("<Q", data[:8])
            event = event_pb2.Event.FromString(data[12:12 + n])
            data = data[16 + n:]
            out += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
    return out


def test_tensorboard_writes_epoch_scalars(tmp_path):
    x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path)])
    train = _scalars(tmp_path / "train")
    assert [(tag, step) for tag, step, _ in train] == [  # Keras writes the learning rate too
        ("epoch_loss", 0), ("epoch_learning_rate", 0), ("epoch_loss", 1), ("epoch_learning_rate", 1)]
    np.testing.assert_allclose([v for *_, v in train[::2]], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for *_, v in train[1::2]], [0.01, 0.01], rtol=1e-6)  # SGD's default
    val = _scalars(tmp_path / "validation")
    np.testing.assert_allclose([v for *_, v in val], history.history["val_loss"], rtol=1e-6)


def test_schedules_on_arrays_dense_defaults_and_constant_arrays():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose(schedule(np.array([0, 10, 20])), [0.1, 0.05, 0.025], rtol=1e-6)
    assert schedule(10) == pytest.approx(0.05)
    dense = keras.layers.Dense(3, kernel_initializer=None, bias_initializer=None)
    dense.build((None, 2))
    assert np.all(dense.bias.numpy() == 0) and np.abs(dense.kernel.numpy()).max() > 0
    init = keras.initializers.Constant(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(init((2, 3)), [[1, 2, 3], [1, 2, 3]])
    layer = keras.layers.Dense(3, bias_initializer=init)
    layer.build((None, 4))
    np.testing.assert_array_equal(layer.bias.numpy(), [1, 2, 3])
    assert keras.initializers.get(keras.initializers.serialize(init))((3,)).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="cannot fill"):
        init((2, 4))


def test_saved_model_save_and_load_use_a_folder(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    tf.saved_model.save(model, tmp_path / "exported")
    assert (tmp_path / "exported" / "model.safetensors").is_file()
    restored = tf.saved_model.load(str(tmp_path / "exported"))
    np.testing.assert_array_equal(restored(x).numpy(), model(x).numpy())
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ValueError, match="TensorFlow SavedModel"):
        tf.saved_model.load(tmp_path / "tf")
    with pytest.raises(TypeError, match="holds no code"):
        tf.saved_model.save(lambda v: v, tmp_path / "f")


def test_keras_utils_set_random_seed_seeds_python_numpy_and_unafraid_as_keras_does():
    """keras.utils.set_random_seed: "Sets all random seeds (Python, NumPy, and backend
    framework)". Oracle: random.seed / np.random.seed with the same seed."""
    import random

    from unafraid.keras import utils
    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), np.random.rand(3))
    utils.set_random_seed(11)
    assert tf.random.get_seed() == 11
    assert random.random() == expected[0]
    np.testing.assert_array_equal(np.random.rand(3), expected[1])
    tf.set_random_seed(1337)  # the library default again
