"""keras.applications.VGG16 / VGG19: Keras's architecture layer for layer (names, shapes, counts
of weights from the paper's table), the refusals, the feature extractor of the functional API
guide, and (slow) the same model as Keras 3's, crossing a '.keras' file with its weights."""

import os

import numpy as np
import pytest

import unafraid as tf
from unafraid.keras import applications
from unafraid.keras.applications import VGG16, VGG19


def expected_names(depths, include_top=True):
    names = []
    for block, depth in enumerate(depths, start=1):
        names += [f"block{block}_conv{i}" for i in range(1, depth + 1)] + [f"block{block}_pool"]
    return names + (["flatten", "fc1", "fc2", "predictions"] if include_top else [])


def vgg_params(depths, side, classes, include_top=True):
    """Weights counted from the architecture: 3x3 kernels and biases, then the dense top."""
    total, channels = 0, 3
    for width, depth in zip((64, 128, 256, 512, 512), depths, strict=True):
        for _ in range(depth):
            total += 9 * channels * width + width
            channels = width
    if include_top:
        flat = (side // 32) ** 2 * 512
        total += flat * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * classes + classes
    return total


@pytest.mark.parametrize("make, depths", [(VGG16, (2, 2, 3, 3, 3)), (VGG19, (2, 2, 4, 4, 4))])
def test_architecture_is_keras_layer_for_layer(make, depths):
    model = make(weights=None, input_shape=(64, 64, 3), classes=7)
    assert type(model.layers[0]).__name__ == "InputLayer"   # a functional model's, as in Keras
    assert [layer.name for layer in model.layers[1:]] == expected_names(depths)
    assert model.name == make.__name__.lower()
    assert model.count_params() == vgg_params(depths, 64, 7)
    assert model.output.shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"
    conv = model.get_layer("block3_conv1").get_config()
    assert (conv["kernel_size"], conv["padding"], conv["activation"], conv["filters"]) == (
        [3, 3], "same", "relu", 256)
    notop = make(weights=None, include_top=False)
    assert [layer.name for layer in notop.layers[1:]] == expected_names(depths, include_top=False)
    assert notop.output.shape == (None, None, None, 512)
    assert make(weights=None, include_top=False, pooling="max").output.shape == (None, 512)
    assert make(weights=None, include_top=False, pooling="avg",
                input_shape=(32, 48, 3)).output.shape == (None, 512)


@pytest.mark.slow
def test_default_vgg19_has_keras_imagenet_shapes():
    """VGG19(weights=None): 224x224x3 images, 1000 classes, 143,667,240 weights (Keras's count)."""
    model = VGG19(weights=None)
    assert model.input.shape == (None, 224, 224, 3)
    assert model.count_params() == vgg_params((2, 2, 4, 4, 4), 224, 1000) == 143_667_240


def test_feature_extraction_as_in_the_functional_api_guide():
    vgg = VGG19(weights=None, input_shape=(32, 32, 3), classes=10)
    features_list = [layer.output for layer in vgg.layers]
    extractor = tf.keras.Model(inputs=vgg.input, outputs=features_list)
    img = np.random.default_rng(0).random((1, 32, 32, 3)).astype("float32")
    features = extractor(img)
    assert [f.shape for f in features][:4] == [(1, 32, 32, 3), (1, 32, 32, 64), (1, 32, 32, 64),
                                               (1, 16, 16, 64)]   # the input first, as in Keras
    assert features[-1].shape == (1, 10)
    np.testing.assert_allclose(features[-1].numpy(), vgg(img).numpy(), rtol=1e-6)
    np.testing.assert_allclose(features[-1].numpy().sum(), 1.0, rtol=1e-5)


def test_input_tensor_and_preprocessing():
    inputs = tf.keras.Input((40, 40, 3))
    model = VGG16(weights=None, include_top=False, input_tensor=inputs)
    assert model.input is inputs
    rgb = np.array([[[[10.0, 20.0, 30.0]]]], "float32")
    np.testing.assert_allclose(applications.vgg16.preprocess_input(rgb),
                               [[[[30 - 103.939, 20 - 116.779, 10 - 123.68]]]], rtol=1e-6)
    assert applications.vgg19.preprocess_input(np.zeros((2, 2, 3), "uint8")).dtype == np.float32


def test_refusals_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match=r"ships no pretrained weights.*\.save\('vgg19.keras'\)"):
        tf.keras.applications.VGG19()
    with pytest.raises(ValueError, match="weights must be None, 'imagenet' or the path"):
        VGG16(weights=str(tmp_path / "missing.keras"))
    with pytest.raises(ValueError, match="at least 32x32"):
        VGG16(weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="must be fully known"):
        VGG16(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="pooling must be"):
        VGG16(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="class names"):
        applications.vgg19.decode_predictions(np.zeros((1, 1000)))
    with pytest.raises(AttributeError, match="VGG16 and VGG19 only"):
        applications.ResNet50  # noqa: B018


def test_weights_from_a_saved_file(tmp_path):
    tf.random.set_seed(1)
    source = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    source.save(tmp_path / "v.keras")
    x = np.random.default_rng(1).random((2, 32, 32, 3)).astype("float32")
    loaded = VGG16(weights=str(tmp_path / "v.keras"), include_top=False, input_shape=(32, 32, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), source.predict(x, verbose=0))
    with pytest.raises(ValueError, match="not this architecture"):
        VGG19(weights=str(tmp_path / "v.keras"), include_top=False, input_shape=(32, 32, 3))


@pytest.mark.slow
def test_keras_vgg_file_loads_with_the_same_predictions(tmp_path):
    """Keras 3 (JAX) builds VGG16 and saves it; unafraid's VGG16(weights=<that file>) and
    load_model predict the same; unafraid's VGG19 has Keras's layers, shapes and counts."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")
    keras.utils.set_random_seed(2)
    k = keras.applications.VGG16(weights=None, input_shape=(32, 32, 3), classes=5)
    k.save(tmp_path / "k.keras")
    x = np.random.default_rng(2).random((2, 32, 32, 3)).astype("float32") * 255
    expected = k.predict(x, verbose=0)
    ours = VGG16(weights=str(tmp_path / "k.keras"), input_shape=(32, 32, 3), classes=5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)
    loaded = tf.keras.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)
    theirs = keras.applications.VGG19(weights=None, input_shape=(48, 48, 3), classes=3)
    mine = VGG19(weights=None, input_shape=(48, 48, 3), classes=3)
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in mine.layers]          # InputLayer first in both
    assert [layer.name for layer in theirs.layers][1:] == [layer.name for layer in mine.layers][1:]
    assert [w.shape for w in theirs.weights] == [w.shape for w in mine.weights]
    assert theirs.count_params() == mine.count_params()
