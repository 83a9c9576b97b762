"""ONNX export of convolution, pooling, spatial reshaping and spatial dropout layers, checked by
running the file in ONNX Runtime (an independent implementation of Conv, ConvTranspose, MaxPool,
AveragePool...) against ``model.predict``.

onnx and onnxruntime are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extra; "
                                                "pip install -e '.[test]'")
onnx = pytest.importorskip("onnx", reason="onnx is in the test extra; pip install -e '.[test]'")

from conv_models import BUILDERS, data, simple_mnist_convnet  # noqa: E402

import unafraid as tf  # noqa: E402

L = tf.keras.layers
ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")


def run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def mnist_test_images(n):
    """The first ``n`` MNIST test images, (n, 28, 28, 1) float32 in [0, 1] (read from the IDX file)."""
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    return (x[:n] / 255.0).astype(np.float32)


def convnet():
    model = simple_mnist_convnet(L, tf.keras.Input, tf.keras.Sequential)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


@needs_mnist
def test_simple_mnist_convnet_on_mnist_test_images(tmp_path):
    """Seeded random weights on 1,000 test images, and batches of other sizes (dynamic batch)."""
    x = mnist_test_images(1000)
    model = convnet()
    model.export(tmp_path / "convnet.onnx")
    loaded = onnx.load(str(tmp_path / "convnet.onnx"))
    assert loaded.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {"Conv", "MaxPool", "Transpose"} <= {node.op_type for node in loaded.graph.node}
    expected = model.predict(x, batch_size=250, verbose=0)
    assert np.abs(run(tmp_path / "convnet.onnx", x) - expected).max() <= 1e-5
    for n in (1, 7):
        assert np.abs(run(tmp_path / "convnet.onnx", x[:n]) - expected[:n]).max() <= 1e-5


@pytest.mark.slow
@needs_mnist
def test_trained_mnist_convnet_on_mnist_test_images(tmp_path):
    (x_train, y_train), (_, y_test) = tf.keras.datasets.mnist.load_data(path=MNIST)
    x = mnist_test_images(2000)
    tf.set_random_seed(0)  # the same weights whichever tests ran before in this process
    model = convnet()
    model.fit(x_train[:2048, :, :, None] / 255.0, y_train[:2048], batch_size=128, epochs=1, verbose=0)
    model.export(tmp_path / "convnet.onnx")
    out = run(tmp_path / "convnet.onnx", x)
    assert np.abs(out - model.predict(x, batch_size=500, verbose=0)).max() <= 1e-5
    assert (out.argmax(1) == y_test[:2000]).mean() > 0.5  # trained (chance is 0.1): real predictions


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_conv_layer_with_a_dynamic_batch(tmp_path, kind):
    build, shape = BUILDERS[kind]
    x, y = data(shape, 40)
    model = build(L, tf.keras.Input, tf.keras.Sequential)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.export(tmp_path / "m.onnx")
    for n in (1, 9, 40):
        np.testing.assert_allclose(run(tmp_path / "m.onnx", x[:n]), model.predict(x[:n], verbose=0),
                                   atol=1e-6)


@pytest.mark.parametrize("layer, shape", [
    (L.Conv2DTranspose(3, 3, strides=3, padding="valid"), (5, 4, 2)),  # span == stride
    (L.Conv2DTranspose(3, 2, strides=3, padding="valid"), (5, 4, 2)),  # span < stride: zeros after
    (L.Conv2DTranspose(3, (4, 3), strides=(2, 3), padding="same", dilation_rate=1), (5, 4, 2)),
    (L.Conv1DTranspose(2, 3, strides=2, padding="same", output_padding=1, dilation_rate=1), (6, 2)),
    (L.Conv1DTranspose(2, 3, dilation_rate=2, padding="same"), (6, 2)),
    (L.Conv2D(4, 3, strides=2, padding="same"), (7, 6, 2)),  # odd and even sizes, 'same'
    (L.Conv2D(4, (2, 3), strides=(3, 2), dilation_rate=1), (8, 9, 2)),  # 'valid', unread inputs
    (L.Conv3D(2, 2, strides=2, padding="same", groups=2), (5, 4, 3, 2)),
    (L.MaxPooling2D(3, strides=2, padding="same"), (8, 7, 2)),
    (L.AveragePooling2D((3, 2), strides=(2, 3), padding="same"), (7, 8, 2)),
    (L.AveragePooling1D(4, strides=3), (11, 2)),
    (L.DepthwiseConv2D(2, strides=2, depth_multiplier=3, padding="same", dilation_rate=1), (5, 5, 2)),
    (L.SeparableConv2D(3, 3, dilation_rate=2, padding="same", use_bias=False), (7, 7, 2)),
    (L.Cropping2D(((0, 2), (1, 0))), (5, 5, 2)),
    (L.GlobalMaxPooling3D(), (2, 3, 2, 2)),
], ids=lambda v: type(v).__name__ if not isinstance(v, tuple) else "x".join(map(str, v)))
def test_geometry_edge_cases(tmp_path, layer, shape):
    """Paddings and strides where the ONNX pads differ from the obvious ones."""
    model = tf.keras.Sequential([tf.keras.Input(shape), layer])
    rng = np.random.default_rng(6)
    for w in model.weights:  # non-zero biases too
        w.assign(rng.normal(size=w.shape).astype(np.float32))
    x = rng.normal(size=(3, *shape)).astype(np.float32)
    model.export(tmp_path / "m.onnx")
    np.testing.assert_allclose(run(tmp_path / "m.onnx", x), model.predict(x, verbose=0), atol=1e-5)


def test_unknown_spatial_sizes_are_refused_by_name(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((None, None, 1)), L.Conv2D(2, 3, name="edges"),
                                 L.GlobalMaxPooling2D()])
    with pytest.raises(ValueError, match=r"layer 'edges' \(Conv2D\).*spatial sizes \(None, None\).*"
                                         r"Input\(\(28, 28, 1\)\)"):
        model.export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
