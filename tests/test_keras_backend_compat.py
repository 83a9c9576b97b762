"""tf.keras 2's keras.backend.random_normal (the subclassing guide's Sampling layer)."""

import numpy as np

import unafraid as tf
from unafraid import keras


def test_random_normal_takes_a_shape_of_scalar_tensors():
    x = tf.zeros((4, 3))
    draws = keras.backend.random_normal(shape=(tf.shape(x)[0], tf.shape(x)[1]))
    assert draws.shape == (4, 3) and draws.dtype == np.float32


def test_random_normal_is_keras_random_normal_with_its_arguments():
    a = keras.backend.random_normal((2000,), mean=3.0, stddev=0.5, seed=7)
    b = keras.random.normal((2000,), mean=3.0, stddev=0.5, seed=7)
    assert np.array_equal(a.numpy(), b.numpy())
    assert abs(float(a.numpy().mean()) - 3.0) < 0.05 and abs(float(a.numpy().std()) - 0.5) < 0.05
