"""Convnets in Keras 3 '.keras' files, both ways, checked against real Keras 3 (JAX backend):
Keras's "Simple MNIST convnet" on a slice of real MNIST, and small models that use every
convolution, pooling, spatial reshaping and spatial dropout layer in 1, 2 and 3 dimensions.

Keras, JAX and h5py are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")

from conv_models import BUILDERS, data, model_2d, simple_mnist_convnet  # noqa: E402

import unafraid as tf  # noqa: E402
from unafraid.io import keras_format  # noqa: E402
from unafraid.io.saving import ModelFileError, load_model  # noqa: E402

L = tf.keras.layers
ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")


@pytest.fixture(scope="module")
def mnist_slice():
    """512 training and 500 test images of real MNIST, (n, 28, 28, 1) in [0, 1], one-hot labels."""
    (x_train, y_train), (x_test, _) = tf.keras.datasets.mnist.load_data(path=MNIST)
    x = (x_train[:512, :, :, None] / 255.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[y_train[:512]]
    return x, y, (x_test[:500, :, :, None] / 255.0).astype(np.float32)


def keras_slots(model):
    return [np.asarray(v) for v in model.optimizer.variables]


@pytest.mark.slow
@needs_mnist
def test_unafraid_convnet_to_keras_same_predictions_and_trains_on(tmp_path, mnist_slice):
    x, y, x_test = mnist_slice
    model = simple_mnist_convnet(L, tf.keras.Input, tf.keras.Sequential)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)  # 4 steps
    model.save(tmp_path / "convnet.keras")

    k = keras.saving.load_model(tmp_path / "convnet.keras")
    assert [type(layer).__name__ for layer in k.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    theirs, ours = k.predict(x_test, verbose=0), model.predict(x_test, verbose=0)
    assert np.abs(theirs - ours).max() <= 1e-5
    for a, b in zip(keras_format.optimizer_arrays(model.optimizer)[1:], keras_slots(k)[1:],
                    strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-7)
    history = k.fit(x, y, batch_size=128, epochs=1, verbose=0)
    assert int(k.optimizer.iterations) == 8 and np.isfinite(history.history["loss"][0])


@pytest.mark.slow
@needs_mnist
def test_keras_convnet_to_unafraid_same_predictions_and_trains_on(tmp_path, mnist_slice):
    x, y, x_test = mnist_slice
    keras.utils.set_random_seed(0)
    k = simple_mnist_convnet(keras.layers, keras.Input, keras.Sequential)
    k.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    k.fit(x, y, batch_size=128, epochs=1, verbose=0)
    k.save(tmp_path / "convnet.keras")

    model = load_model(tmp_path / "convnet.keras")
    assert np.abs(model.predict(x_test, verbose=0) - k.predict(x_test, verbose=0)).max() <= 1e-5
    assert model.optimizer.iterations == 4
    for a, b in zip(keras_format.optimizer_arrays(model.optimizer)[1:], keras_slots(k)[1:],
                    strict=True):
        np.testing.assert_array_equal(a, b)
    history = model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    assert model.optimizer.iterations == 8 and np.isfinite(history.history["loss"][0])


# ---- every other layer, in small models built the same way in unafraid and in Keras --------------
def unafraid_to_keras(tmp_path, kind):
    """An unafraid model trained one epoch (3 steps), opened in Keras, with its predictions checked."""
    build, shape = BUILDERS[kind]
    x, y = data(shape)
    model = build(L, tf.keras.Input, tf.keras.Sequential)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(a).__name__ for a in k.layers] == [type(b).__name__ for b in model.layers]
    np.testing.assert_allclose(k.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    return k, x, y


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_conv_layer_unafraid_to_keras(tmp_path, kind):
    k, _, _ = unafraid_to_keras(tmp_path, kind)
    assert int(k.optimizer.iterations) == 3


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_conv_layer_trains_on_in_keras(tmp_path, kind):
    """Keras compiles a training step for the loaded model and continues from unafraid's Adam."""
    k, x, y = unafraid_to_keras(tmp_path, kind)
    history = k.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert int(k.optimizer.iterations) == 6 and np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_conv_layer_keras_to_unafraid(tmp_path, kind):
    """Keras's own initial weights (compiled, not trained: a Keras training step compiles for
    long; the slow MNIST test above crosses a trained Keras convnet)."""
    build, shape = BUILDERS[kind]
    x, y = data(shape)
    keras.utils.set_random_seed(1)
    k = build(keras.layers, keras.Input, keras.Sequential)
    k.compile(keras.optimizers.Adam(0.005), "sparse_categorical_crossentropy")
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert [type(a).__name__ for a in model.layers] == [type(b).__name__ for b in k.layers]
    np.testing.assert_allclose(model.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-6)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model.optimizer.iterations == 3 and np.isfinite(history.history["loss"][0])


def test_conv_layers_in_a_functional_model_cross_both_ways(tmp_path):
    """Two branches (a convolution tower and a pooled shortcut) meeting in two outputs."""
    inputs = tf.keras.Input((10, 10, 2), name="image")
    tower = L.Conv2D(3, 3, activation="relu")(inputs)
    tower = L.GlobalAveragePooling2D()(L.MaxPooling2D()(tower))
    shortcut = L.Flatten()(L.AveragePooling2D(5)(inputs))
    model = tf.keras.Model(inputs, [L.Dense(2)(tower), L.Dense(1)(shortcut)])
    x = data((10, 10, 2), 5)[0]
    model.save(tmp_path / "f.keras")
    k = keras.saving.load_model(tmp_path / "f.keras")
    for ours, theirs in zip(model.predict(x, verbose=0), k.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(theirs, ours, atol=1e-6)
    k.save(tmp_path / "k.keras")
    again = load_model(tmp_path / "k.keras")
    for ours, theirs in zip(again.predict(x, verbose=0), k.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_weight_groups_follow_keras_names(tmp_path):
    """The h5 groups Keras 3 reads the weights from: snake case of each class, numbered."""
    model = model_2d(L, tf.keras.Input, tf.keras.Sequential)
    model.save(tmp_path / "m.keras")
    keras.saving.load_model(tmp_path / "m.keras").save(tmp_path / "k.keras")
    import zipfile
    groups = []
    for name in ("m.keras", "k.keras"):
        with zipfile.ZipFile(tmp_path / name) as zf:
            zf.extract("model.weights.h5", tmp_path / name.split(".")[0])
        with h5py.File(tmp_path / name.split(".")[0] / "model.weights.h5") as h5:
            groups.append(sorted(h5["layers"]))
    assert groups[0] == groups[1]
    assert {"conv2d", "conv2d_1", "depthwise_conv2d", "separable_conv2d", "conv2d_transpose",
            "max_pooling2d", "up_sampling2d", "zero_padding2d", "spatial_dropout2d",
            "global_average_pooling2d"} <= set(groups[0])


def test_keras_channels_first_convnet_loads_with_keras_predictions(tmp_path):
    """Keras's own channels_first layers: unafraid moves the channels axis last inside each."""
    k = keras.Sequential([keras.Input((2, 6, 5)),
                          keras.layers.Conv2D(3, 3, padding="same", data_format="channels_first"),
                          keras.layers.MaxPooling2D(2, data_format="channels_first"),
                          keras.layers.ZeroPadding2D(1, data_format="channels_first"),
                          keras.layers.GlobalAveragePooling2D(data_format="channels_first",
                                                              keepdims=True)])
    k.save(tmp_path / "k.keras")
    x = np.random.default_rng(3).normal(size=(4, 2, 6, 5)).astype(np.float32)
    ours = load_model(tmp_path / "k.keras").predict(x, verbose=0)
    assert ours.shape == (4, 3, 1, 1)
    np.testing.assert_allclose(ours, k.predict(x, verbose=0), atol=1e-5)


def test_keras_conv_weight_constraint_loads_and_applies(tmp_path):
    k = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(2, 3, kernel_constraint="non_neg")])
    k.save(tmp_path / "k.keras")
    conv = load_model(tmp_path / "k.keras").layers[0]
    assert conv.get_config()["kernel_constraint"]["class_name"] == "NonNeg"
    assert type(conv.kernel_constraint).__name__ == "NonNeg"


@pytest.mark.parametrize("shape, layer, message", [
    ((2, 6), lambda: keras.layers.ZeroPadding1D(1, data_format="channels_first"),
     r"ZeroPadding1D\) sets data_format='channels_first', which unafraid does not support"),
])
def test_keras_conv_options_unafraid_lacks_are_refused_by_name(tmp_path, shape, layer, message):
    k = keras.Sequential([keras.Input(shape), layer()])
    k.save(tmp_path / "k.keras")
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_path / "k.keras")


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "lanczos3"])
def test_keras_interpolated_upsampling_crosses_both_ways(tmp_path, interpolation):
    x = np.random.default_rng(0).random((2, 5, 6, 2)).astype(np.float32)
    k = keras.Sequential([keras.Input((5, 6, 2)), keras.layers.UpSampling2D(
        (2, 3), interpolation=interpolation), keras.layers.Conv2D(2, 3)])
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert model.layers[0].interpolation == interpolation
    np.testing.assert_allclose(model.predict(x, verbose=0), k.predict(x, verbose=0), atol=2e-5)
    model.save(tmp_path / "u.keras")
    back = keras.saving.load_model(tmp_path / "u.keras")
    assert back.layers[0].interpolation == interpolation
    np.testing.assert_allclose(back.predict(x, verbose=0), k.predict(x, verbose=0), atol=2e-5)
