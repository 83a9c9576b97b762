"""A DCGAN-style generator and convolutional critic on MNIST, trained as a WGAN-GP.

The generator up-samples noise with transposed convolutions,

    z (64) -> Dense(7 x 7 x 64) -> Reshape(7, 7, 64) -> Conv2DTranspose(32, 5, strides 2) ->
    Conv2DTranspose(1, 5, strides 2, tanh) -> a 28 x 28 x 1 image in [-1, 1],

and the critic is a small convnet (two strided Conv2D, then Dense(1)). As in
examples/gan_2d.py the loop is plain unafraid code (``value_and_grad`` and
``optimizer.apply``), and the gradient penalty (Gulrajani et al., 2017)

    L_critic = E[D(fake)] - E[D(real)] + lambda * E[(||grad_x D(x_hat)||_2 - 1)^2]
    L_gen    = -E[D(G(z))]

differentiates the critic's input gradient again: grad of grad through its convolutions.

Run: ``python examples/dcgan_mnist.py --steps 2000 --save samples.png`` (MNIST is read
from $UNAFRAID_DATA or the cache, downloaded once otherwise).
"""

from __future__ import annotations

import argparse

import numpy as np

import unafraid as uf

LATENT = 64


def build(latent: int = LATENT, dtype: str = "float32") -> tuple[uf.keras.Model, uf.keras.Model]:
    """The generator ``(N, latent) -> (N, 28, 28, 1)`` and the critic ``(N, 28, 28, 1) -> (N, 1)``."""
    layers = uf.keras.layers
    generator = uf.keras.Sequential([
        uf.keras.Input(shape=(latent,)),
        layers.Dense(7 * 7 * 64, activation="relu", dtype=dtype),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(32, 5, strides=2, padding="same", activation="relu", dtype=dtype),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh", dtype=dtype),
    ], name="generator")
    critic = uf.keras.Sequential([
        uf.keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 5, strides=2, padding="same", activation="leaky_relu", dtype=dtype),
        layers.Conv2D(64, 5, strides=2, padding="same", activation="leaky_relu", dtype=dtype),
        layers.Flatten(),
        layers.Dense(1, dtype=dtype),
    ], name="critic")
    return generator, critic


def gradient_penalty(critic: uf.keras.Model, real: np.ndarray, fake: np.ndarray,
                     eps: np.ndarray) -> uf.Tensor:
    """``mean((||d critic(x_hat) / d x_hat||_2 - 1)^2)`` over images, differentiable w.r.t. the
    critic's weights (the input gradient is recorded: ``grad`` of a ``grad``)."""
    x_hat = eps * real + (1 - eps) * fake
    grad_x = uf.grad(lambda x: uf.sum(critic(x, training=True)))(x_hat)
    norm = uf.sqrt(uf.sum(grad_x * grad_x, axis=(1, 2, 3)) + 1e-12)
    return uf.mean((norm - 1.0) ** 2)


def load_images(n: int | None = None) -> np.ndarray:
    """MNIST training images as ``(N, 28, 28, 1)`` float32 in [-1, 1]."""
    (x, _), _ = uf.keras.datasets.mnist.load_data()
    x = x[:n] if n else x
    return (x[..., None].astype(np.float32) / 127.5 - 1).astype(np.float32)


def train(images: np.ndarray, steps: int = 2000, batch_size: int = 64, n_critic: int = 5,
          penalty: float = 10.0, learning_rate: float = 2e-4, seed: int = 0,
          log_every: int = 0) -> dict[str, object]:
    """Train; returns the models and the critic's Wasserstein estimate E[D(real)] - E[D(fake)]
    on a fixed batch before and after (it grows as the critic learns to tell them apart)."""
    uf.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    generator, critic = build()
    g_opt = uf.keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
    c_opt = uf.keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)

    def noise(n: int) -> np.ndarray:
        return rng.standard_normal((n, LATENT)).astype(np.float32)

    def critic_loss(weights, real, fake, eps):
        score = uf.mean(critic(fake, training=True)) - uf.mean(critic(real, training=True))
        return score + penalty * gradient_penalty(critic, real, fake, eps)

    def generator_loss(weights, z):
        return -uf.mean(critic(generator(z, training=True), training=True))

    def wasserstein(real, z):
        return float(np.mean(critic.predict(real, verbose=0))
                     - np.mean(critic.predict(generator.predict(z, verbose=0), verbose=0)))

    probe_real, probe_z = images[rng.integers(0, len(images), 256)], noise(256)
    before = wasserstein(probe_real, probe_z)
    c_value = g_value = float("nan")
    for step in range(steps):
        for _ in range(n_critic):
            real = images[rng.integers(0, len(images), batch_size)]
            fake = generator.predict(noise(batch_size), batch_size=batch_size, verbose=0)
            eps = rng.random((batch_size, 1, 1, 1), dtype=np.float32)
            c_value, c_grads = uf.value_and_grad(critic_loss)(
                critic.trainable_weights, real, fake, eps)
            c_opt.apply(c_grads, critic.trainable_weights)
        g_value, g_grads = uf.value_and_grad(generator_loss)(generator.trainable_weights,
                                                             noise(batch_size))
        g_opt.apply(g_grads, generator.trainable_weights)
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1:5d}  critic loss {float(c_value):8.4f}  generator loss "
                  f"{float(g_value):8.4f}")
    return {"generator": generator, "critic": critic, "critic_loss": float(c_value),
            "generator_loss": float(g_value), "wasserstein_before": before,
            "wasserstein_after": wasserstein(probe_real, probe_z)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="write a grid of 16 samples to this PNG")
    args = parser.parse_args()
    result = train(load_images(), steps=args.steps, seed=args.seed, log_every=50)
    print(f"critic's Wasserstein estimate: {result['wasserstein_before']:.3f} before, "
          f"{result['wasserstein_after']:.3f} after training")
    if args.save:
        z = np.random.default_rng(args.seed + 1).standard_normal((16, LATENT)).astype(np.float32)
        samples = result["generator"].predict(z, verbose=0)
        uf.explore.plot_images((samples + 1) / 2, ncols=4, save=args.save)
