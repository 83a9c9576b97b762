"""``keras.preprocessing.image.array_to_img`` / ``img_to_array`` (tf.keras 2 names that the guide
"Writing a training loop from scratch" calls), against Keras 3 (JAX) where installed."""

from __future__ import annotations

import os

import numpy as np
import pytest

from unafraid import keras

os.environ.setdefault("KERAS_BACKEND", "jax")
pytest.importorskip("PIL", reason="Pillow is in the tutorials extra")


def test_the_guides_call_saves_a_grayscale_png(tmp_path):
    digit = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28, 1)
    img = keras.preprocessing.image.array_to_img(digit * 255.0, scale=False)
    img.save(tmp_path / "generated_img0.png")
    assert img.mode == "L" and img.size == (28, 28)
    back = keras.preprocessing.image.img_to_array(img)
    assert back.shape == (28, 28, 1) and back.dtype == np.float32
    np.testing.assert_array_equal(back, (digit * 255.0).astype(np.uint8))   # Keras truncates


def test_array_to_img_and_img_to_array_agree_with_keras_3():
    real_keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")
    x = np.random.default_rng(0).uniform(0, 3, size=(5, 6, 3)).astype(np.float32)
    for scale in (True, False):
        ours = np.asarray(keras.preprocessing.image.array_to_img(x, scale=scale))
        theirs = np.asarray(real_keras.utils.array_to_img(x, scale=scale))
        np.testing.assert_array_equal(ours, theirs)
    gray = keras.utils.array_to_img(x[:, :, :1])
    np.testing.assert_array_equal(keras.utils.img_to_array(gray), real_keras.utils.img_to_array(gray))


def test_other_preprocessing_names_are_refused_with_advice():
    with pytest.raises(AttributeError, match="ImageDataGenerator.*not supported"):
        getattr(keras.preprocessing.image, "ImageDataGenerator")  # noqa: B009
    with pytest.raises(AttributeError, match="'text'.*prepare the NumPy arrays"):
        getattr(keras.preprocessing, "text")  # noqa: B009
