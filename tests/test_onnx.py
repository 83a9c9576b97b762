"""ONNX export, checked by running the file in ONNX Runtime (an independent implementation).

onnx and onnxruntime are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extra; "
                                                "pip install -e '.[test]'")
onnx = pytest.importorskip("onnx", reason="onnx is in the test extra; pip install -e '.[test]'")

import unafraid as tf  # noqa: E402

L = tf.keras.layers
ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")


def seed_model():
    """The seed tutorial's model."""
    model = tf.keras.models.Sequential([
        L.Flatten(input_shape=(28, 28)),
        L.Dense(512, activation=tf.nn.relu),
        L.Dropout(0.2),
        L.Dense(10, activation=tf.nn.softmax)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(path, feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def mnist_test_images():
    """The 10,000 MNIST test images in [0, 1] and their labels (read from the IDX files directly)."""
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return (x / 255.0).astype(np.float32), y


@needs_mnist
def test_seed_model_on_mnist_test_images(tmp_path):
    """Random (seeded) weights on 2,000 test images; the slow test below trains and uses all."""
    x = mnist_test_images()[0][:2000]
    model = seed_model()
    model.export(tmp_path / "m.onnx")
    (out,) = run(tmp_path / "m.onnx", {"input": x})
    assert out.shape == (2000, 10)
    assert np.abs(out - model.predict(x, batch_size=500, verbose=0)).max() <= 1e-5


@pytest.mark.slow
@needs_mnist
def test_trained_seed_model_on_mnist_test_images(tmp_path):
    (x_train, y_train), _ = tf.keras.datasets.mnist.load_data(path=MNIST)
    x, y = mnist_test_images()
    model = seed_model()
    model.fit(x_train[:9600] / 255.0, y_train[:9600], batch_size=32, epochs=1, verbose=0)  # 300 steps
    model.export(tmp_path / "m.onnx")
    (out,) = run(tmp_path / "m.onnx", {"input": x})
    assert out.shape == (10000, 10)
    assert np.abs(out - model.predict(x, batch_size=1000, verbose=0)).max() <= 1e-5
    assert (out.argmax(1) == y).mean() > 0.85  # trained, so the comparison is on real predictions


def every_layer_model():
    return tf.keras.Sequential([
        tf.keras.Input((6, 4)), L.Flatten(), L.Dense(8, activation="gelu"), L.BatchNormalization(),
        L.LayerNormalization(), L.Dropout(0.3), L.Reshape((2, 4)), L.LayerNormalization(axis=[1, 2]),
        L.BatchNormalization(axis=1), L.Flatten(), L.Activation("tanh"), L.Dense(8, activation="elu"),
        L.Dense(8, activation="sigmoid"), L.Dense(8, activation="leaky_relu"),
        L.Dense(8, activation="softplus"), L.Dense(5, use_bias=False), L.Activation("log_softmax"),
        L.Softmax()])


def test_every_layer_and_activation_with_a_dynamic_batch(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6, 4)).astype(np.float32)
    model = every_layer_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, np.arange(40) % 5, epochs=2, verbose=0)  # moving statistics away from 0 and 1
    model.export(tmp_path / "m.onnx")
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    assert loaded.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (1, 7, 40):
        (out,) = run(tmp_path / "m.onnx", {"input": x[:n]})
        np.testing.assert_allclose(out, model.predict(x[:n], verbose=0), atol=1e-6)


def test_functional_model_with_two_outputs(tmp_path):
    inputs = tf.keras.Input((6,), name="features")
    h = L.Dense(5, activation="relu")(inputs)
    model = tf.keras.Model(inputs, [L.Dense(3, activation="softmax")(L.Dense(4)(h)),
                                    L.Dense(2)(inputs)])
    model.export(tmp_path / "f.onnx")
    x = np.random.default_rng(4).random((9, 6), dtype=np.float32)
    for ours, theirs in zip(model.predict(x, verbose=0), run(tmp_path / "f.onnx", {"features": x}),
                            strict=True):
        np.testing.assert_allclose(theirs, ours, atol=1e-6)


def test_unsupported_layers_are_named(tmp_path):
    class Doubler(tf.keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(2), Doubler(name="twice")])
    with pytest.raises(ValueError, match=r"Cannot export layer 'twice' \(Doubler\) to ONNX.*"
                                         r"translates .*Dense"):
        model.export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_unbuilt_subclassed_and_other_formats_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"has not been built.*input_shape"):
        tf.keras.Sequential([L.Dense(2)]).export(tmp_path / "m.onnx")

    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"subclassed model.*Sequential or functional"):
        net.export(tmp_path / "n.onnx")
    with pytest.raises(ValueError, match=r"format='tf_saved_model' is not available.*'\.keras'"):
        seed_model().export(tmp_path / "s", format="tf_saved_model")
