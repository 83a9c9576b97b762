"""A layer's call gets mask= and training= from __call__ only when they were not given by position."""

import numpy as np

import unafraid as tf


class Masked(tf.keras.layers.Layer):
    def call(self, inputs, mask=None):
        return inputs if mask is None else inputs * tf.cast(mask, inputs.dtype)[..., None]


class Trained(tf.keras.layers.Layer):
    def call(self, inputs, training=None):
        return inputs * (2.0 if training else 1.0)


def test_a_mask_given_by_position_reaches_call_once():
    x = np.ones((1, 3, 2), np.float32)
    out = Masked()(x, np.array([[True, False, True]]))
    np.testing.assert_array_equal(out.numpy()[0, :, 0], [1.0, 0.0, 1.0])
    assert Masked()(x).numpy().sum() == 6.0


def test_training_given_by_position_reaches_call_once():
    x = np.ones((1, 2), np.float32)
    assert Trained()(x, True).numpy().tolist() == [[2.0, 2.0]]
    assert Trained()(x, training=True).numpy().tolist() == [[2.0, 2.0]]
    assert Trained()(x).numpy().tolist() == [[1.0, 1.0]]
