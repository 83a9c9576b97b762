"""A Wasserstein GAN with gradient penalty (WGAN-GP) that generates single cells.

Cells are rows of log1p-normalised expression, ``x = log1p(counts / total * 1e4)``, shape
``(G,)``. Two small networks, optionally told the cell type ``c`` (one-hot, ``K`` types):

    generator  G(z, c):  z ~ N(0, I_64) -> Dense 256, ReLU -> Dense 512, ReLU -> Dense G, ReLU
    critic     D(x, c):  x -> Dense 512, ReLU -> Dense 256, ReLU -> Dense 1

(the last ReLU makes the generated expression non-negative, with exact zeros like real
cells). Every weight and bias starts uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, PyTorch's
``nn.Linear`` default (``init="pytorch"``); Keras's Glorot uniform with zero biases
(``init="glorot"``) trains a generator that scatters its cells around the real ones (see
docs/cells_gan.md). Training alternates ``n_critic`` critic steps with one generator step
(Gulrajani et al., 2017, Algorithm 1):

    x_hat   = eps x + (1 - eps) G(z),  eps ~ U(0, 1) per cell      (points between real and fake)
    penalty = mean_i (||d D(x_hat_i) / d x_hat_i||_2 - 1)^2
    L_D     = mean D(G(z)) - mean D(x) + lambda * penalty           (lambda = 10)
    L_G     = -mean D(G(z))

The penalty is a function of the critic's *input gradient*; its gradient with respect to the
critic's weights is a gradient of a gradient, which the engine records (``uf.grad`` inside
``uf.value_and_grad``). Both networks use Adam(1e-4, beta_1 = 0.5, beta_2 = 0.9). The
Wasserstein estimate ``mean D(x) - mean D(G(z))`` (the critic's loss without the penalty,
negated) is recorded after every generator step; it falls as the generator improves.

Everything random (initial weights, batches, noise, eps) derives from ``seed``: the same seed
gives bit-identical weights and generated cells.

>>> import numpy as np
>>> from unafraid.cells import WGANGP
>>> x = np.abs(np.random.default_rng(0).normal(size=(64, 20))).astype(np.float32)
>>> gan = WGANGP(batch_size=16, seed=0).fit(x, steps=2, verbose=0)
>>> gan.generate(5).shape
(5, 20)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import initializers, layers, losses, models, optimizers
from ..callbacks import History
from ..progress import progress_bar

__all__ = ["WGANGP", "one_hot", "gradient_penalty"]


def one_hot(codes: Any, n_classes: int) -> np.ndarray:
    """``(N,)`` integer codes 0..K-1 -> ``(N, K)`` float32 indicator rows."""
    codes = np.asarray(codes, np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= n_classes):
        raise ValueError(f"cell-type codes must lie in 0..{n_classes - 1}, got values from "
                         f"{codes.min()} to {codes.max()}.")
    return np.eye(n_classes, dtype=np.float32)[codes]


def gradient_penalty(critic: Any, real: Any, fake: Any, eps: Any, condition: Any = None,
                     score_column: int | None = None) -> Any:
    """``mean_i (||grad_x D(x_hat_i)||_2 - 1)^2`` with ``x_hat = eps real + (1 - eps) fake``.

    Parameters
    ----------
    critic : unafraid model, ``(N, G [+ K]) -> (N, 1)``
    real, fake : (N, G) arrays or tensors
    eps : (N, 1) array, uniform on [0, 1]
    condition : (N, K) array, optional
        One-hot cell types, appended to the critic's input (not differentiated).
    score_column : int, optional
        When the critic has several outputs (an AC-GAN critic: the score, then class logits),
        the column that is ``D``; default: the critic's only output.

    Returns
    -------
    scalar Tensor, differentiable with respect to the critic's weights (grad of grad).
    """
    import unafraid as uf

    x_hat = eps * real + (1 - eps) * fake

    def score(x: Any) -> Any:
        inputs = x if condition is None else uf.concat([x, condition], axis=1)
        out = critic(inputs, training=True)
        return uf.sum(out if score_column is None else out[:, score_column])

    grad_x = uf.grad(score)(x_hat)
    norm = uf.sqrt(uf.sum(grad_x * grad_x, axis=1) + 1e-12)
    return uf.mean((norm - 1.0) ** 2)


class WGANGP:
    """A (conditional) WGAN-GP for expression profiles; see the module docstring for the math.

    Parameters
    ----------
    latent_dim : int, default 64
        Size of the noise ``z ~ N(0, I)``.
    generator_units, critic_units : tuple of int, default (256, 512) and (512, 256)
        Hidden layers (ReLU).
    penalty : float, default 10
        The gradient penalty's weight lambda.
    n_critic : int, default 5
        Critic steps per generator step.
    learning_rate, beta_1, beta_2 : float, default 1e-4, 0.5, 0.9
        Adam's, for both networks.
    batch_size : int, default 64
        Real cells per critic step (drawn with replacement) and generated cells per step.
    seed : int, default 0
    dtype : str, default "float32"
        "float64" for gradient checks.
    init : {"pytorch", "glorot"}, default "pytorch"
        Initial weights. ``"pytorch"``: PyTorch's ``nn.Linear`` default, every weight and bias
        uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (``kaiming_uniform(a=sqrt(5))``; what the
        reference WGAN-GP implementations use). ``"glorot"``: Keras's ``Dense`` default, Glorot
        uniform weights (``U(-sqrt(6 / (fan_in + fan_out)), ...)``) and zero biases.
    conditioning : {"acgan", "concat"}, default "acgan"
        How a conditional GAN (``fit`` given labels) uses the cell type ``c``; the generator
        always sees the one-hot ``c`` next to the noise. ``"acgan"`` (Odena et al. 2017, as in
        Gulrajani et al.'s conditional WGAN-GP): the critic sees only ``x`` and has ``K`` more
        outputs, class logits ``l(x)``; ``classifier_weight * CE(l(x_real), c)`` is added to
        the critic's loss and ``classifier_weight * CE(l(G(z, c)), c)`` to the generator's, so
        the generator is pushed to make cells of the requested type. The gradient penalty uses
        ``D`` only. ``"concat"`` (the default before 2026-12-03): the critic sees ``c`` too,
        ``D(x, c)``. On pbmc68k_reduced (3,000 generator steps, seeds 0, 1 and 2) AC-GAN's
        cells were labelled as the requested type by a real-cell classifier for at least 95.5%
        of cells of each of the 5 largest types; concat (seed 0, run with Glorot initial
        weights) reached 34.5-94% (docs/cells_gan.md).
        Without labels the two are the same unconditional GAN.
    classifier_weight : float, default 1
        The AC-GAN cross-entropy's weight (``conditioning="acgan"`` only).

    Attributes
    ----------
    generator, critic : unafraid.models.Sequential
    history : unafraid.callbacks.History
        Per generator step: ``critic_loss``, ``generator_loss``, ``wasserstein``
        (mean D(real) - mean D(fake) on the last critic batch, before that step's update) and
        ``gradient_penalty`` (unweighted, same batch).
    n_classes : int
        0 when unconditional.
    """

    def __init__(self, latent_dim: int = 64, generator_units: tuple[int, ...] = (256, 512),
                 critic_units: tuple[int, ...] = (512, 256), penalty: float = 10.0,
                 n_critic: int = 5, learning_rate: float = 1e-4, beta_1: float = 0.5,
                 beta_2: float = 0.9, batch_size: int = 64, seed: int = 0,
                 dtype: str = "float32", init: str = "pytorch", conditioning: str = "acgan",
                 classifier_weight: float = 1.0) -> None:
        for name, value in (("latent_dim", latent_dim), ("n_critic", n_critic),
                            ("batch_size", batch_size)):
            if int(value) < 1:
                raise ValueError(f"WGANGP: {name} must be a positive integer, got {value!r}.")
        self.latent_dim, self.n_critic, self.batch_size = int(latent_dim), int(n_critic), int(batch_size)
        self.generator_units, self.critic_units = tuple(generator_units), tuple(critic_units)
        self.penalty, self.learning_rate = float(penalty), float(learning_rate)
        self.beta_1, self.beta_2, self.seed, self.dtype = beta_1, beta_2, int(seed), dtype
        if init not in ("glorot", "pytorch"):
            raise ValueError(f"WGANGP: init must be 'glorot' or 'pytorch', got {init!r}.")
        if conditioning not in ("concat", "acgan"):
            raise ValueError(f"WGANGP: conditioning must be 'concat' or 'acgan', got "
                             f"{conditioning!r}.")
        self.init, self.conditioning = init, conditioning
        self.classifier_weight = float(classifier_weight)
        self.generator: Any = None
        self.critic: Any = None
        self.n_classes = 0
        self.history = History()
        self.steps_done = 0

    # ------------------------------------------------------------------ the networks
    def build(self, n_genes: int, n_classes: int = 0) -> WGANGP:
        """Create both networks and their optimizers (``fit`` calls this)."""
        seeds = iter(int(s) for s in np.random.SeedSequence(self.seed).generate_state(16))

        def stack(n_in: int, units: list[int], activations: list[str | None]) -> list[Any]:
            out = []
            for u, act in zip(units, activations, strict=True):
                if self.init == "glorot":
                    init = {"kernel_initializer": initializers.GlorotUniform(seed=next(seeds))}
                else:   # PyTorch's nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both
                    bound = 1.0 / np.sqrt(n_in)
                    init = {"kernel_initializer": initializers.VarianceScaling(
                                1.0 / 3.0, "fan_in", "uniform", seed=next(seeds)),
                            "bias_initializer": initializers.RandomUniform(
                                -bound, bound, seed=next(seeds))}
                out.append(layers.Dense(u, activation=act, dtype=self.dtype, **init))
                n_in = u
            return out

        self.n_classes, self.n_genes = int(n_classes), int(n_genes)
        g_units, c_units = list(self.generator_units), list(self.critic_units)
        self.generator = models.Sequential(
            [layers.Input(shape=(self.latent_dim + self.n_classes,), dtype=self.dtype)]
            + stack(self.latent_dim + self.n_classes, g_units + [n_genes],
                    ["relu"] * (len(g_units) + 1)),
            name="generator", dtype=self.dtype)   # the model casts its inputs to its dtype
        c_in = n_genes + (self.n_classes if self.conditioning == "concat" else 0)
        c_out = 1 + (self.n_classes if self._acgan else 0)   # the score [, class logits]
        self.critic = models.Sequential(
            [layers.Input(shape=(c_in,), dtype=self.dtype)]
            + stack(c_in, c_units + [c_out], ["relu"] * len(c_units) + [None]),
            name="critic", dtype=self.dtype)
        self.g_opt = optimizers.Adam(self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2)
        self.c_opt = optimizers.Adam(self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2)
        self.rng = np.random.default_rng(next(seeds))
        return self

    @property
    def _acgan(self) -> bool:
        return self.conditioning == "acgan" and self.n_classes > 0

    def _inputs(self, x: Any, condition: np.ndarray | None) -> Any:
        import unafraid as uf
        return x if condition is None else uf.concat([x, condition], axis=1)

    def _critic(self, x: Any, condition: np.ndarray | None) -> tuple[Any, Any]:
        """``(D(x), class logits or None)``: the critic sees the one-hot type (``concat``) or
        predicts it (``acgan``)."""
        if not self._acgan:
            return self.critic(self._inputs(x, condition), training=True), None
        out = self.critic(x, training=True)
        return out[:, :1], out[:, 1:]

    def _classifier_loss(self, logits: Any, condition: np.ndarray) -> Any:
        """``classifier_weight * mean cross-entropy`` of the AC-GAN head against the types."""
        import unafraid as uf
        codes = np.argmax(condition, axis=1)
        return self.classifier_weight * uf.mean(
            losses.sparse_categorical_crossentropy(codes, logits, from_logits=True))

    def _noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((n, self.latent_dim)).astype(self.dtype)

    # ------------------------------------------------------------------ the losses
    def critic_terms(self, weights: Any, real: np.ndarray, fake: np.ndarray, eps: np.ndarray,
                     condition: np.ndarray | None = None) -> tuple[Any, tuple[Any, Any]]:
        """``(L_D, (wasserstein, penalty))``: the critic's loss and, for the history, its two
        parts, ``mean D(real) - mean D(fake)`` and the gradient penalty (unweighted)."""
        import unafraid as uf

        d_fake, _ = self._critic(fake, condition)
        d_real, logits = self._critic(real, condition)
        score = uf.mean(d_fake) - uf.mean(d_real)
        if self._acgan:
            penalty = gradient_penalty(self.critic, real, fake, eps, score_column=0)
            return (score + self.penalty * penalty + self._classifier_loss(logits, condition),
                    (-score, penalty))
        penalty = gradient_penalty(self.critic, real, fake, eps, condition)
        return score + self.penalty * penalty, (-score, penalty)

    def critic_loss(self, weights: Any, real: np.ndarray, fake: np.ndarray, eps: np.ndarray,
                    condition: np.ndarray | None = None) -> Any:
        """``mean D(fake) - mean D(real) + lambda * gradient_penalty`` (a scalar Tensor)."""
        return self.critic_terms(weights, real, fake, eps, condition)[0]

    def generator_loss(self, weights: Any, z: np.ndarray, condition: np.ndarray | None = None) -> Any:
        """``-mean D(G(z))`` (a scalar Tensor)."""
        import unafraid as uf

        fake = self.generator(self._inputs(z, condition), training=True)
        d_fake, logits = self._critic(fake, condition)
        if self._acgan:
            return -uf.mean(d_fake) + self._classifier_loss(logits, condition)
        return -uf.mean(d_fake)

    # ------------------------------------------------------------------ training
    def _check_data(self, x: Any, labels: Any) -> tuple[np.ndarray, np.ndarray | None]:
        x = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=self.dtype)
        if x.ndim != 2:
            raise ValueError(f"WGANGP.fit: x must be a cells x genes matrix, got shape {x.shape}.")
        if x.min() < 0 or not np.all(np.isfinite(x)):
            raise ValueError("WGANGP.fit: x must be finite and non-negative (log1p-normalised "
                             "expression, e.g. adata.raw.X of pbmc68k_reduced, or "
                             "unafraid.cells.log_normalize(counts, library)); the generator's "
                             "output is non-negative. z-scored data (scanpy's pp.scale) does not fit.")
        if labels is None:
            return x, None
        labels = np.asarray(labels, np.int64)
        if labels.shape != (len(x),):
            raise ValueError(f"WGANGP.fit: labels must have one code per cell, shape "
                             f"({len(x)},), got {labels.shape}.")
        return x, labels

    def fit(self, x: Any, labels: Any = None, steps: int = 3000, n_classes: int | None = None,
            checkpoint_dir: str | os.PathLike[str] | None = None, checkpoint_every: int = 0,
            verbose: int = 1) -> WGANGP:
        """Train for ``steps`` generator steps (each after ``n_critic`` critic steps).

        Parameters
        ----------
        x : (N, G) array, float
            Non-negative log1p-normalised expression of the training cells.
        labels : (N,) int array, optional
            Cell-type codes 0..K-1: train a conditional GAN (both networks see the one-hot type).
        steps : int, default 3000
            Generator steps (continues from the current weights when called again).
        n_classes : int, optional
            K; default ``labels.max() + 1``.
        checkpoint_dir : path, optional
            Every ``checkpoint_every`` generator steps (and at the end) write
            ``generator-step{S:06d}.safetensors`` and ``critic-step{S:06d}.safetensors``
            there (``save_weights``: safetensors, written atomically).
        checkpoint_every : int, default 0
        verbose : int, default 1
            Draw a progress bar (losses and the Wasserstein estimate on it).

        Returns
        -------
        self
        """
        import unafraid as uf

        x, labels = self._check_data(x, labels)
        if self.generator is None:
            k = 0 if labels is None else int(n_classes or labels.max() + 1)
            self.build(x.shape[1], k)
        if (labels is None) != (self.n_classes == 0):
            raise ValueError(f"WGANGP.fit: this GAN was built {'with' if self.n_classes else 'without'}"
                             f" cell types; call fit {'with' if self.n_classes else 'without'} labels.")
        checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        if checkpoint_dir is not None:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
        rng, b = self.rng, self.batch_size
        c_weights, g_weights = self.critic.trainable_weights, self.generator.trainable_weights
        critic_step = uf.value_and_grad(self.critic_terms, has_aux=True)
        generator_step = uf.value_and_grad(self.generator_loss)
        log = self.history.history
        with progress_bar(total=steps, desc="WGAN-GP", unit="step", disable=not verbose) as bar:
            for _ in range(steps):
                for _ in range(self.n_critic):
                    rows = rng.integers(0, len(x), b)
                    cond = None if labels is None else one_hot(labels[rows], self.n_classes)
                    fake = self._generate(self._noise(b, rng), cond)
                    eps = rng.random((b, 1)).astype(self.dtype)
                    (c_loss, c_parts), c_grads = critic_step(c_weights, x[rows], fake, eps, cond)
                    self.c_opt.apply(c_grads, c_weights)
                cond = None if labels is None else one_hot(labels[rng.integers(0, len(x), b)],
                                                            self.n_classes)
                g_loss, g_grads = generator_step(g_weights, self._noise(b, rng), cond)
                self.g_opt.apply(g_grads, g_weights)
                self._record(log, c_loss, c_parts, g_loss)
                self.steps_done += 1
                bar.update(1)
                bar.set_postfix({"W": f"{log['wasserstein'][-1]:.3f}",
                                 "critic": f"{log['critic_loss'][-1]:.3f}"}, refresh=False)
                if checkpoint_dir is not None and checkpoint_every and \
                        self.steps_done % checkpoint_every == 0:
                    self.save_checkpoint(checkpoint_dir)
        if checkpoint_dir is not None:
            self.save_checkpoint(checkpoint_dir)
        return self

    def _record(self, log: dict, c_loss: Any, c_parts: tuple[Any, Any], g_loss: Any) -> None:
        """Append this generator step's losses; the critic's are those of its last step."""
        self.history.epoch.append(self.steps_done)
        for key, value in (("critic_loss", c_loss), ("generator_loss", g_loss),
                           ("wasserstein", c_parts[0]), ("gradient_penalty", c_parts[1])):
            log.setdefault(key, []).append(float(np.asarray(value)))

    def _generate(self, z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        inputs = z if cond is None else np.concatenate([z, cond], axis=1)
        return np.asarray(self.generator(inputs, training=False))

    def save_checkpoint(self, folder: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write both networks' weights for the current step (atomic safetensors files)."""
        folder = Path(folder)
        paths = (folder / f"generator-step{self.steps_done:06d}.safetensors",
                 folder / f"critic-step{self.steps_done:06d}.safetensors")
        self.generator.save_weights(paths[0])
        self.critic.save_weights(paths[1])
        return paths

    # ------------------------------------------------------------------ sampling
    def generate(self, n: int, labels: Any = None, seed: int | None = None) -> np.ndarray:
        """``n`` generated cells, (n, G) float32, non-negative.

        Parameters
        ----------
        n : int
        labels : int or (n,) int array, optional
            The cell type(s) to generate (conditional GAN only).
        seed : int, optional
            Noise seed; default derived from the GAN's seed (the same cells every call).
        """
        if self.generator is None:
            raise RuntimeError("WGANGP.generate: call fit(x) first.")
        if self.n_classes and labels is None:
            raise ValueError(f"WGANGP.generate: this GAN is conditional; give labels (an int or "
                             f"{n} codes in 0..{self.n_classes - 1}).")
        if not self.n_classes and labels is not None:
            raise ValueError("WGANGP.generate: this GAN was trained without cell types; drop labels.")
        rng = np.random.default_rng(self.seed + 1_000_003 if seed is None else seed)
        cond = None
        if labels is not None:
            cond = one_hot(np.broadcast_to(np.asarray(labels, np.int64), (n,)), self.n_classes)
        out = [self._generate(self._noise(min(512, n - s), rng),
                              None if cond is None else cond[s:s + 512]) for s in range(0, n, 512)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, self.n_genes),
                                                                            np.float32)
