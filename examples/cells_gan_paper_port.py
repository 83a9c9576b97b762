"""The single-cell WGAN paper's TensorFlow training script, structure kept, in unafraid.

The paper's script (TensorFlow 1: placeholders, ``tf.layers.dense``, a session) does:

1. per-gene min-max scaling of log-expression to [0, 1] (scikit-learn's ``MinMaxScaler``);
2. a noise prior for the generator: ``|N(0, (max x / 10)^2) + Poisson(1)|``, 100 numbers;
3. generator 100 -> 600 -> 600 -> G and critic G -> 200 -> 200 -> 1, leaky ReLU everywhere
   except the critic's output;
4. the Wasserstein losses ``E[D(fake)] - E[D(real)]`` and ``-E[D(fake)]``, one critic step per
   generator step, Adam; its main branch has no gradient penalty, its development branch adds
   one. Here the penalty is on (``--penalty 10``, ``--n-critic 5`` as in Gulrajani et al.);
   ``--penalty 0 --n-critic 1`` gives the main branch's settings, which collapse.

How the TensorFlow pieces map onto unafraid:

=========================================  =================================================
TensorFlow 1 script                        unafraid
=========================================  =================================================
``tf.placeholder`` + ``feed_dict``         a NumPy array passed to a Python function
``tf.layers.dense(x, n)`` + leaky_relu     ``layers.Dense(n, activation="leaky_relu")``
``tf.trainable_variables()`` by prefix     ``generator.trainable_weights``
``opt.minimize(loss, var_list=...)``       ``uf.value_and_grad(loss)(weights, ...)`` then
                                           ``opt.apply(grads, weights)``
``tf.gradients(D(x_hat), x_hat)``          ``uf.grad(lambda x: uf.sum(critic(x)))(x_hat)``
``sess.run(G, {z: noise})``                ``generator(noise)``
``saver.save(sess, path)``                 ``generator.save_weights("g.safetensors")``
``np.random.*`` (global, unseeded)         ``np.random.default_rng(seed)``: same seed, same run
=========================================  =================================================

The library's trainer, ``unafraid.cells.WGANGP``, is the same loop on log1p expression without
the min-max scaling; ``docs/cells_gan.md`` explains the metrics that judge either.

Run: ``python examples/cells_gan_paper_port.py --steps 1000`` (pbmc68k_reduced from
$UNAFRAID_DATA or the cache).
"""

from __future__ import annotations

import argparse

import numpy as np

import unafraid as uf

# ---- hyperparameters, as at the top of the paper's script ----
NOISE_INPUT_SIZE = 100      # noise_input_size
INFLATE_TO_SIZE = 600       # inflate_to_size: the generator's hidden width
DISC_INTERNAL_SIZE = 200    # disc_internal_size: the critic's hidden width
BATCH_SIZE = 32


# ---- 1. preprocessing: per-gene min-max scaling ----
def fit_min_max(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene minimum and range of the training cells (a constant gene gets range 1)."""
    low, high = x.min(0), x.max(0)
    return low, np.where(high > low, high - low, 1.0)


def min_max_scale(x: np.ndarray, low: np.ndarray, span: np.ndarray) -> np.ndarray:
    """``(x - min) / (max - min)``: scikit-learn's ``MinMaxScaler().transform``."""
    return ((x - low) / span).astype(np.float32)


def min_max_unscale(x: np.ndarray, low: np.ndarray, span: np.ndarray) -> np.ndarray:
    """The inverse, back to log1p expression (``MinMaxScaler().inverse_transform``)."""
    return (x * span + low).astype(np.float32)


# ---- 2. the noise prior ----
def noise_prior(rng: np.random.Generator, batch_size: int, data_max_value: float,
                dim: int = NOISE_INPUT_SIZE) -> np.ndarray:
    """``|N(0, (data_max / 10)^2) + Poisson(1)|``: "Poisson noise (count data) + Gaussian"."""
    gaussian = rng.normal(0.0, data_max_value / 10, size=(batch_size, dim))
    return np.abs(gaussian + rng.poisson(1.0, size=(batch_size, dim))).astype(np.float32)


# ---- 3. the networks ----
def build(n_genes: int, seed: int = 0) -> tuple[uf.keras.Model, uf.keras.Model]:
    """``generator(z)`` and ``discriminator(x)`` of the paper's script (leaky ReLU, slope 0.2)."""
    layers = uf.keras.layers
    seeds = iter(int(s) for s in np.random.SeedSequence(seed).generate_state(6))

    def dense(units: int, activation: str | None) -> layers.Dense:
        return layers.Dense(units, activation=activation,
                            kernel_initializer=uf.keras.initializers.GlorotUniform(seed=next(seeds)))

    generator = uf.keras.Sequential([
        uf.keras.Input(shape=(NOISE_INPUT_SIZE,)),
        dense(INFLATE_TO_SIZE, "leaky_relu"),          # gen_dense1
        dense(INFLATE_TO_SIZE, "leaky_relu"),          # gen_dense2
        dense(n_genes, "leaky_relu"),                  # gen_output
    ], name="generator")
    discriminator = uf.keras.Sequential([
        uf.keras.Input(shape=(n_genes,)),
        dense(DISC_INTERNAL_SIZE, "leaky_relu"),       # disc_dense1
        dense(DISC_INTERNAL_SIZE, "leaky_relu"),       # disc_dense2
        dense(1, None),                                # disc_output
    ], name="discriminator")
    return generator, discriminator


# ---- 4. the training loop ----
def train(x: np.ndarray, steps: int = 1000, n_critic: int = 5, penalty: float = 10.0,
          learning_rate: float = 1e-4, seed: int = 0, log_every: int = 0) -> dict[str, object]:
    """Train on min-max scaled cells ``x`` (N, G); returns the networks and the last losses."""
    rng = np.random.default_rng(seed)
    generator, discriminator = build(x.shape[1], seed)
    opt_g = uf.keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
    opt_d = uf.keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
    data_max_value = float(x.max())

    def obj_d(weights, x_data, fake, eps):
        loss = uf.mean(discriminator(fake)) - uf.mean(discriminator(x_data))
        if penalty:  # the development branch's gradient penalty
            x_hat = eps * x_data + (1 - eps) * fake
            grad_x = uf.grad(lambda v: uf.sum(discriminator(v)))(x_hat)
            norm = uf.sqrt(uf.sum(grad_x * grad_x, axis=1) + 1e-12)
            loss = loss + penalty * uf.mean((norm - 1.0) ** 2)
        return loss

    def obj_g(weights, noise):
        return -uf.mean(discriminator(generator(noise)))

    d_loss = g_loss = float("nan")
    for step in range(steps):
        for _ in range(n_critic):
            x_data = x[rng.integers(0, len(x), BATCH_SIZE)]
            fake = np.asarray(generator(noise_prior(rng, BATCH_SIZE, data_max_value)))
            eps = rng.random((BATCH_SIZE, 1)).astype(np.float32)
            d_loss, grads = uf.value_and_grad(obj_d)(discriminator.trainable_weights, x_data,
                                                     fake, eps)
            opt_d.apply(grads, discriminator.trainable_weights)
        g_loss, grads = uf.value_and_grad(obj_g)(generator.trainable_weights,
                                                 noise_prior(rng, BATCH_SIZE, data_max_value))
        opt_g.apply(grads, generator.trainable_weights)
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1:5d}  loss/disc {float(d_loss):9.4f}  loss/gen {float(g_loss):9.4f}")
    return {"generator": generator, "discriminator": discriminator,
            "data_max_value": data_max_value, "d_loss": float(d_loss), "g_loss": float(g_loss)}


def generate(result: dict, n: int, seed: int = 1) -> np.ndarray:
    """``n`` cells in the scaled space (``sess.run(G, {z: noise_prior(n, 100)})``)."""
    rng = np.random.default_rng(seed)
    return np.asarray(result["generator"](noise_prior(rng, n, result["data_max_value"])))


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--n-critic", type=int, default=5)
    parser.add_argument("--penalty", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evaluate", action="store_true", help="score 175 generated cells with "
                        "unafraid.cells.metrics (needs scikit-learn)")
    args = parser.parse_args(argv)

    from unafraid.cells import labels_from_obs
    from unafraid.cells.run import stratified_test_split

    adata = uf.datasets.pbmc68k_reduced()
    expression = adata.raw.X.toarray().astype(np.float32)        # log1p(counts / total * 1e4)
    codes, _ = labels_from_obs(adata, "bulk_labels")
    train_rows, test_rows = stratified_test_split(codes, 0.25, 0)
    low, span = fit_min_max(expression[train_rows])
    scaled = min_max_scale(expression[train_rows], low, span)
    result = train(scaled, steps=args.steps, n_critic=args.n_critic, penalty=args.penalty,
                   seed=args.seed, log_every=max(args.steps // 10, 1))
    cells = np.maximum(min_max_unscale(generate(result, len(test_rows)), low, span), 0)
    result["cells"] = cells
    print(f"generated {cells.shape[0]} cells x {cells.shape[1]} genes (log1p expression)")
    if args.evaluate:
        from unafraid.cells import metrics
        table = metrics.evaluate(expression[train_rows], codes[train_rows], expression[test_rows],
                                 {"paper-script port": cells}, test_labels=codes[test_rows])
        print(table.round(3).to_string())
    return result


if __name__ == "__main__":
    main()
