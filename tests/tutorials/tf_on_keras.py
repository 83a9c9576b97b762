"""The few ``tf.*`` names some tutorials use, on Keras 3's own ops, to run them on Keras-on-JAX.

Used only by ``keras_reference.py``, the reference for a machine where TensorFlow itself is not
installed (the ranges in the manifest come from TensorFlow, ``tf_reference.py``):
``import tensorflow as tf`` becomes ``import tf_on_keras as tf`` and ``from tensorflow import
keras`` becomes ``import keras``. A tutorial needing more of TensorFlow than this
(``GradientTape``, ``tf.data``) has no Keras-on-JAX reference number.
"""

from types import SimpleNamespace

import keras
from keras import ops

__version__ = "keras " + keras.__version__
float32 = "float32"


def reduce_mean(x, axis=None, keepdims=False):
    return ops.mean(x, axis=axis, keepdims=keepdims)


def concat(values, axis):
    return ops.concatenate(values, axis=axis)


def matmul(a, b):
    return ops.matmul(a, b)


def zeros(shape, dtype="float32"):
    return ops.zeros(shape, dtype=dtype)


def stack(values, axis=0):
    return ops.stack(values, axis=axis)


def _mnist(path: str = "mnist.npz") -> tuple:
    """MNIST from unafraid's loader (the same files the unafraid runs read); no download."""
    import unafraid

    return unafraid.datasets.mnist.load_data()


keras.datasets.mnist.load_data = _mnist  # the data stand-in, as for unafraid
nn = SimpleNamespace(relu=ops.relu, softmax=ops.softmax, sigmoid=ops.sigmoid)
