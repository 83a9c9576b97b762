"""examples/dcgan_mnist.py: transposed convolutions up-sample noise to images, and the gradient
penalty's grad of grad through the critic's convolutions is right (a float64 finite difference)
and trains (a few steps on real MNIST digits, or on noise images where MNIST is absent)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import unafraid as uf
from unafraid.datasets import mnist

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
spec = importlib.util.spec_from_file_location("dcgan_mnist", ROOT / "examples" / "dcgan_mnist.py")
dcgan = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dcgan)


def test_generator_makes_images_and_the_penalty_gradient_is_right():
    uf.set_random_seed(0)
    generator, critic = dcgan.build(dtype="float64")
    rng = np.random.default_rng(0)
    images = generator.predict(rng.standard_normal((3, dcgan.LATENT)), verbose=0)
    assert images.shape == (3, 28, 28, 1) and np.abs(images).max() <= 1
    real, fake = rng.uniform(-1, 1, (2, 28, 28, 1)), images[:2]
    eps = rng.random((2, 1, 1, 1))
    kernel = critic.layers[0].kernel  # the first Conv2D's (5, 5, 1, 32)

    def layer_by_layer(x, training=False):  # the model casts its inputs to float32: call the
        for layer in critic.layers:  # float64 layers directly, for finite differences
            x = layer(x, training=training)
        return x

    def penalty() -> float:
        return float(dcgan.gradient_penalty(layer_by_layer, real, fake, eps))

    analytic = uf.grad(lambda w: dcgan.gradient_penalty(layer_by_layer, real, fake, eps))(kernel)
    for idx in [(0, 0, 0, 0), (2, 3, 0, 17), (4, 4, 0, 31)]:
        old, h = kernel.data[idx], 1e-6
        kernel.data[idx] = old + h
        up = penalty()
        kernel.data[idx] = old - h
        down = penalty()
        kernel.data[idx] = old
        np.testing.assert_allclose(analytic[idx], (up - down) / (2 * h), rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_a_few_training_steps_teach_the_critic():
    if (MNIST / "train-images-idx3-ubyte.gz").exists():
        (x, _), _ = mnist.load_data(path=MNIST)
        images = x[:512, ..., None].astype(np.float32) / 127.5 - 1
    else:  # still a test of the loop: blobs that the untrained generator does not make
        images = np.random.default_rng(1).uniform(-1, 1, (512, 28, 28, 1)).astype(np.float32)
    result = dcgan.train(images, steps=4, batch_size=32, n_critic=3, learning_rate=1e-3)
    assert np.isfinite(result["critic_loss"]) and np.isfinite(result["generator_loss"])
    # the critic's estimate of the Wasserstein distance between real and generated grows
    # (about 0 untrained; 20-27 after these 4 steps on MNIST, seeds 0 and 1)
    assert result["wasserstein_after"] > result["wasserstein_before"] + 1, result
