"""Keras's "Simple MNIST convnet" trains as in Keras 3 (JAX backend), the oracle: from the same
initial weights and on the same batches, unafraid's loss gradients and its Adam steps agree with
Keras's to float32 round-off (measured: about 1e-7 after two steps). A wrong default (Adam's
epsilon or order of operations, the loss's reduction, a pooling or padding rule) would show as a
gap far above the 2e-6 allowed.

Only two steps are compared: later, one ReLU input or max-pool near-tie within round-off of its
switching point may switch in one library and not the other, after which the two runs drift apart
(their weights up to 3e-4 apart after 9 steps) as any two float32 runs with different summation orders do.

Dropout is left out, since its masks come from each library's own generator; everything else is
the example's model, loss and optimizer. Keras and JAX are in the `test` extra.
"""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")
jax = pytest.importorskip("jax", reason="jax is in the test extra; pip install -e '.[test]'")

import unafraid as tf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")


def convnet(k):
    """The example's model without its Dropout, in unafraid (k = tf.keras) or Keras (k = keras)."""
    L = k.layers
    return k.Sequential([
        k.Input((28, 28, 1)),
        L.Conv2D(32, kernel_size=(3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(64, kernel_size=(3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Flatten(), L.Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def twins():
    """Keras's model (seeded, its own initial weights), the same weights in unafraid, and 256
    real MNIST images (blank borders: ties in max-pooling, ReLU at exactly zero) with one-hot
    labels."""
    (x, y), _ = tf.keras.datasets.mnist.load_data(path=MNIST)
    x = (x[:256, :, :, None] / 255.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[y[:256]]
    keras.utils.set_random_seed(3)
    theirs = convnet(keras)
    ours = convnet(tf.keras)
    ours.set_weights(theirs.get_weights())
    return theirs, ours, x, y


def keras_gradients(model, x, y):
    loss_fn = keras.losses.CategoricalCrossentropy()

    def loss(weights):
        out, _ = model.stateless_call(weights, [], x, training=True)
        return loss_fn(y, out)

    value, grads = jax.value_and_grad(loss)([v.value for v in model.trainable_variables])
    return float(value), [np.asarray(g) for g in grads]


@pytest.mark.slow
@needs_mnist
def test_convnet_loss_gradients_match_keras(twins):
    theirs, ours, x, y = twins
    value, expected = keras_gradients(theirs, x[:128], y[:128])
    with tf.GradientTape() as tape:
        loss = tf.keras.losses.CategoricalCrossentropy()(y[:128], ours(x[:128], training=True))
    got = tape.gradient(loss, ours.trainable_variables)
    assert float(np.asarray(loss)) == pytest.approx(value, rel=1e-6)
    for g, e in zip(got, expected, strict=True):
        g = np.asarray(g)
        assert g.dtype == np.float32 and g.shape == e.shape
        assert np.linalg.norm(g - e) <= 1e-5 * np.linalg.norm(e), (g.shape, np.abs(g - e).max())


@pytest.mark.slow
@needs_mnist
def test_convnet_adam_steps_follow_keras(twins):
    theirs, ours, x, y = twins
    start = theirs.get_weights()
    for model in (theirs, ours):
        model.compile(loss="categorical_crossentropy", optimizer="adam")
    h_theirs = theirs.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)  # 2 Adam steps
    assert h_ours.history["loss"][0] == pytest.approx(h_theirs.history["loss"][0], rel=1e-5)
    for a, b, w0 in zip(ours.get_weights(), theirs.get_weights(), start, strict=True):
        assert a.dtype == np.float32
        assert np.abs(b - w0).max() > 1e-3  # the steps moved every weight array ...
        assert np.abs(a - b).max() <= 2e-6, (a.shape, np.abs(a - b).max())  # ... in both alike
