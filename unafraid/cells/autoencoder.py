"""A count autoencoder in the DCA / scVI family, trained with unafraid's engine.

The network, for cell ``i`` with counts ``x_i`` (G genes) and library size ``l_i``::

    z_i      = encoder(log1p(x_i / l_i * 1e4))                  latent, 10 dimensions by default
    h_i      = decoder(z_i)
    log mu_i = log l_i + log_softmax(W_mu h_i + b_mu)          mean, scaled by the library size
    theta    = exp(log_theta)                                   per gene (a weight), or per cell
    pi_i     = sigmoid(W_pi h_i + b_pi)                         ZINB only: extra zeros

and the loss is the count negative log-likelihood summed over genes, averaged over cells
(:mod:`unafraid.cells.likelihoods`). Training is a plain loop (loss and gradients, then
``optimizer.apply``) over batches that are densified one at a time, with early stopping on
a validation split of the cells, keeping the weights of the best validation epoch. The loss and
its gradients are the library's compiled step (:class:`unafraid.engine.record.Compiled`, what
``Model.compile(jit_compile=...)`` uses): the first batches of each shape are recorded, later
ones replay the recording, with the bits of the eager step (``jit_compile=False``).

Everything random (initial weights, the validation split, the batch order) derives from
``seed``: two fits give bit-identical latents.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import initializers, layers, optimizers
from ..engine import ops
from ..engine.record import Compiled
from ..engine.tensor import Variable, no_grad
from ..engine.transforms import value_and_grad
from . import likelihoods
from .data import CountMatrix, labels_from_obs, log_normalize, read_counts, write_layer, write_obsm

__all__ = ["CountAutoencoder"]

LIKELIHOODS = ("nb", "zinb", "poisson")
#: Cells per batch when computing the likelihood without training: its temporaries are about 25
#: arrays of cells x genes, so 128 cells of 2,000 genes need about 25 MB.
NLL_ROWS = 128
DISPERSIONS = ("gene", "gene-label", "cell")


def log_library(library: np.ndarray) -> np.ndarray:
    """``log(max(l, 1))`` as a float32 column (n, 1): what the decoder adds to log-softmax."""
    return np.log(np.maximum(library, 1)).astype(np.float32)[:, None]


class CountAutoencoder:
    """Autoencoder with a negative-binomial (or ZINB, or Poisson) decoder for UMI counts.

    Parameters
    ----------
    latent_dim : int, default 10
    hidden : tuple of int, default (64,)
        Hidden layer sizes of the encoder; the decoder mirrors them.
    likelihood : {"nb", "zinb", "poisson"}, default "nb"
    dispersion : {"gene", "gene-label", "cell"}, default "gene"
        One theta per gene (scVI's default), per gene and cell type (``fit(..., labels=)``
        needed), or per cell and gene from the decoder.
    learning_rate : float, default 1e-3
        Adam's step size for the network's weights.
    dispersion_learning_rate : float or None, default 1e-2
        Adam's step size for the free dispersion ``log_theta`` (``dispersion="gene"`` or
        ``"gene-label"``; its own Adam); None uses ``learning_rate``. Adam moves a weight by
        about the step size per step, and early stopping comes after a few hundred steps on a
        small data set: at 1e-3, ``log_theta`` (starting at 0) ends within +-1 of its start
        while the per-gene optimum ranges over about -2 to 8 on pbmc68k_reduced, which cost
        about 6 nats of held-out NLL per cell there.
    batch_size : int, default 32
    max_epochs : int, default 400
    patience : int, default 30
        Stop after this many epochs without a better validation loss.
    lr_patience : int or None, default None
        Multiply the learning rate by ``lr_factor`` after every ``lr_patience`` epochs without a
        better validation loss, as Keras's ``ReduceLROnPlateau`` (scVI's
        ``reduce_lr_on_plateau``); None keeps it constant.
    lr_factor : float, default 0.5
    validation_fraction : float, default 0.1
        Fraction of the cells held out (at random, seeded) for early stopping.
    target_sum : float, default 1e4
        Counts per cell after normalisation, for the encoder's input.
    scale : bool, default False
        Z-score each gene of the encoder's input with the training cells' mean and standard
        deviation (clipped to +-10), as scanpy's ``pp.scale``. The decoder is unchanged.
    dropout : float, default 0
        Dropout rate after each hidden layer of the encoder (during training only).
    jit_compile : bool, default True
        Record the training step (forward pass, loss, backward pass) once per batch shape and
        replay it on the following batches, as ``Model.compile(jit_compile=True)`` does; the
        same bits as building the graph every step (False). A step that cannot be replayed
        safely (the ZINB likelihood, whose zero mask is computed outside the engine) stays
        eager by itself.
    seed : int, default 0

    Attributes
    ----------
    history : dict
        ``{"loss": [...], "val_loss": [...]}``, mean NLL per cell for each epoch.
    best_epoch : int

    Examples
    --------
    >>> import unafraid as uf
    >>> from unafraid.cells import CountAutoencoder
    >>> adata = uf.datasets.pbmc68k_reduced()
    >>> ae = CountAutoencoder(max_epochs=5).fit(adata, layer="counts")
    >>> ae.get_latent(adata, layer="counts").shape   # also in adata.obsm["X_unafraid"]
    (700, 10)
    """

    def __init__(self, latent_dim: int = 10, hidden: tuple[int, ...] = (64,),
                 likelihood: str = "nb", dispersion: str = "gene", learning_rate: float = 1e-3,
                 batch_size: int = 32, max_epochs: int = 400, patience: int = 30,
                 lr_patience: int | None = None, lr_factor: float = 0.5,
                 validation_fraction: float = 0.1, target_sum: float = 1e4, dropout: float = 0.0,
                 scale: bool = False, dispersion_learning_rate: float | None = 1e-2,
                 jit_compile: bool = True, seed: int = 0) -> None:
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"CountAutoencoder: likelihood must be one of {LIKELIHOODS}, got "
                             f"{likelihood!r}.")
        if dispersion not in DISPERSIONS:
            raise ValueError(f"CountAutoencoder: dispersion must be one of {DISPERSIONS}, got "
                             f"{dispersion!r}.")
        if jit_compile not in (True, False):
            raise ValueError(f"CountAutoencoder: jit_compile must be True or False, got "
                             f"{jit_compile!r}.")
        if not 0 < validation_fraction < 1:
            raise ValueError(f"CountAutoencoder: validation_fraction must be in (0, 1) (early "
                             f"stopping needs held-out cells), got {validation_fraction!r}.")
        self.latent_dim, self.hidden = int(latent_dim), tuple(int(h) for h in hidden)
        self.likelihood, self.dispersion = likelihood, dispersion
        self.learning_rate, self.batch_size = float(learning_rate), int(batch_size)
        self.max_epochs, self.patience = int(max_epochs), int(patience)
        self.lr_patience = None if lr_patience is None else int(lr_patience)
        self.lr_factor = float(lr_factor)
        self.validation_fraction, self.target_sum, self.seed = validation_fraction, target_sum, seed
        self.dropout, self.scale = float(dropout), bool(scale)
        self.jit_compile = bool(jit_compile)
        self._step: Compiled | None = None  # the recorded training step, made on first use
        self.dispersion_learning_rate = (None if dispersion_learning_rate is None
                                         else float(dispersion_learning_rate))
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None
        self.history: dict[str, list[float]] = {"loss": [], "val_loss": []}
        self.best_epoch = -1
        self.built = False

    # ---- the network ----------------------------------------------------------------------
    def _build(self, n_genes: int, n_labels: int) -> None:
        seeds = iter(np.random.SeedSequence(self.seed).generate_state(16))

        def dense(units: int, activation: Any = None) -> layers.Dense:
            # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's nn.Linear default: on pbmc68k_reduced
            # it gave a lower held-out NLL and a better latent than Glorot's uniform
            init = initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform",
                                                seed=int(next(seeds)))
            return layers.Dense(units, activation=activation, kernel_initializer=init)

        self.encoder: list[Any] = []
        for h in self.hidden:
            self.encoder.append(dense(h, "relu"))
            if self.dropout:
                self.encoder.append(layers.Dropout(self.dropout, seed=int(next(seeds))))
        self.encoder.append(dense(self.latent_dim))
        self.decoder = [dense(h, "relu") for h in reversed(self.hidden)]
        self.mean_head = dense(n_genes)
        self.theta_head = dense(n_genes) if self.dispersion == "cell" else None
        self.pi_head = dense(n_genes) if self.likelihood == "zinb" else None
        rows = n_labels if self.dispersion == "gene-label" else 1
        self.log_theta = Variable(np.zeros((rows, n_genes), np.float32), name="log_theta")
        self.n_genes, self.n_labels = n_genes, n_labels
        self.optimizer = optimizers.Adam(learning_rate=self.learning_rate)
        self.theta_optimizer = optimizers.Adam(learning_rate=self.dispersion_learning_rate or
                                               self.learning_rate)
        self._split_rng = np.random.default_rng(int(next(seeds)))
        self._shuffle_rng = np.random.default_rng(int(next(seeds)))
        self.built = True
        with no_grad():  # creates the layers' weights
            self.decode(self.encode(np.zeros((1, n_genes), np.float32)), np.ones(1),
                        np.zeros(1, np.int64))

    def _layers(self) -> list[Any]:
        heads = [h for h in (self.mean_head, self.theta_head, self.pi_head) if h is not None]
        return [*self.encoder, *self.decoder, *heads]

    @property
    def replayed_signatures(self) -> int:
        """How many batch shapes the training step is replayed for now (0 before ``fit``, with
        ``jit_compile=False``, or where the step stays eager)."""
        return 0 if self._step is None else len(self._step.proven)

    @property
    def eager_reasons(self) -> list[str]:
        """Why the training step of some batch shape was not replayed (empty when all were)."""
        return [] if self._step is None else list(self._step.eager_reasons.values())

    @property
    def trainable_weights(self) -> list[Variable]:
        weights = [w for layer in self._layers() for w in layer.trainable_weights]
        if self.likelihood != "poisson" and self.dispersion != "cell":
            weights.append(self.log_theta)
        return weights

    def encode(self, x: Any, training: bool = False) -> Any:
        """Latent ``z`` (n, latent_dim) from encoder inputs ``log1p(normalised counts)``."""
        h = x
        for layer in self.encoder:
            h = layer(h, training=training)
        return h

    def decode(self, z: Any, library: np.ndarray, labels: np.ndarray | None = None) -> dict:
        """The likelihood's parameters: ``log_mean`` (n, G), ``log_theta``, ``pi_logit``."""
        return self._decode(z, log_library(library), labels)

    def _decode(self, z: Any, log_lib: np.ndarray, labels: np.ndarray | None) -> dict:
        h = z
        for layer in self.decoder:
            h = layer(h)
        params = {"log_mean": ops.add(ops.log_softmax(self.mean_head(h), axis=-1), log_lib)}
        if self.likelihood == "poisson":
            return params
        if self.dispersion == "cell":
            params["log_theta"] = self.theta_head(h)
        elif self.dispersion == "gene-label":
            params["log_theta"] = likelihoods.dispersion_for_labels(self.log_theta, labels)
        else:
            params["log_theta"] = ops.reshape(self.log_theta, (self.n_genes,))
        if self.likelihood == "zinb":
            params["pi_logit"] = self.pi_head(h)
        return params

    def nll(self, counts: np.ndarray, params: dict) -> Any:
        """Per-cell negative log-likelihood, shape (n,)."""
        if self.likelihood == "poisson":
            per_entry = likelihoods.poisson_nll(counts, params["log_mean"])
        elif self.likelihood == "zinb":
            per_entry = likelihoods.zinb_nll(counts, params["log_mean"], params["log_theta"],
                                             params["pi_logit"])
        else:
            per_entry = likelihoods.negative_binomial_nll(counts, params["log_mean"],
                                                          params["log_theta"])
        return ops.sum(per_entry, axis=-1)

    def features(self, counts: np.ndarray, library: np.ndarray) -> np.ndarray:
        """The encoder's input: ``log1p(counts / l * target_sum)``, z-scored if ``scale``."""
        f = log_normalize(counts, library, self.target_sum)
        if self.mean_ is None:
            return f
        return np.clip((f - self.mean_) / self.std_, -10, 10)

    def _fit_scaling(self, counts: CountMatrix, index: np.ndarray) -> None:
        total, total_sq = np.zeros(counts.shape[1]), np.zeros(counts.shape[1])
        for rows, x in counts.batches(index, 512):
            f = log_normalize(x, counts.library_size[rows], self.target_sum).astype(np.float64)
            total += f.sum(0)
            total_sq += (f * f).sum(0)
        mean = total / len(index)
        std = np.sqrt(np.maximum(total_sq / len(index) - mean**2, 0))
        self.mean_, self.std_ = mean.astype(np.float32), np.where(std > 0, std, 1).astype(np.float32)

    def _forward(self, counts: np.ndarray, library: np.ndarray, labels: np.ndarray | None,
                 training: bool = False) -> Any:
        x = self.features(counts, library)
        return self.nll(counts, self.decode(self.encode(x, training), library, labels))

    # ---- training ---------------------------------------------------------------------------
    def fit(self, adata: Any, layer: str | None = None, use_raw: bool = False,
            labels: str | np.ndarray | None = None, verbose: int = 0) -> CountAutoencoder:
        """Train on the counts of ``adata`` (AnnData or a cells x genes matrix).

        Parameters
        ----------
        adata : AnnData, numpy.ndarray or scipy sparse matrix
        layer, use_raw : where the counts are (see :func:`unafraid.cells.read_counts`)
        labels : str or int array, optional
            An ``obs`` column or integer codes: needed for ``dispersion="gene-label"``.
        verbose : int, default 0
            1 prints one line per epoch.

        Returns
        -------
        self
        """
        counts = read_counts(adata, layer=layer, use_raw=use_raw)
        codes, n_labels = self._labels(adata, labels, len(counts))
        if not self.built:
            self._build(counts.shape[1], n_labels)
        elif counts.shape[1] != self.n_genes:
            raise ValueError(f"CountAutoencoder was built for {self.n_genes} genes; this data has "
                             f"{counts.shape[1]}. Subset it to the same genes, in the same order.")
        n = len(counts)
        order = self._split_rng.permutation(n)
        n_val = max(1, int(round(self.validation_fraction * n)))
        val_idx, train_idx = np.sort(order[:n_val]), order[n_val:]
        if self.scale and self.mean_ is None:
            self._fit_scaling(counts, np.sort(train_idx))
        weights = self.trainable_weights
        best, best_weights, waited = math.inf, [w.data.copy() for w in weights], 0
        self.optimizer.learning_rate = self.learning_rate
        self.theta_optimizer.learning_rate = self.dispersion_learning_rate or self.learning_rate
        for epoch in range(self.max_epochs):
            train_loss = self._epoch(counts, train_idx, codes, weights)
            val_loss = float(np.mean(self._nll_of(counts, val_idx, codes)))
            self.history["loss"].append(train_loss)
            self.history["val_loss"].append(val_loss)
            if verbose:
                print(f"epoch {epoch + 1}: loss {train_loss:.3f}, val_loss {val_loss:.3f}")
            if val_loss < best:
                best, waited, self.best_epoch = val_loss, 0, epoch
                best_weights = [w.data.copy() for w in weights]
            else:
                waited += 1
                if waited >= self.patience:
                    break
                if self.lr_patience and waited % self.lr_patience == 0:  # a plateau: smaller steps
                    for opt in (self.optimizer, self.theta_optimizer):
                        opt.learning_rate = opt.learning_rate * self.lr_factor
        for w, b in zip(weights, best_weights, strict=True):
            w.assign(b)
        return self

    def _labels(self, adata: Any, labels: Any, n: int) -> tuple[np.ndarray | None, int]:
        if self.dispersion != "gene-label":
            return None, 1
        if labels is None:
            raise ValueError("CountAutoencoder(dispersion='gene-label') needs the cell types: "
                             "fit(adata, labels='bulk_labels') (an obs column) or an int array.")
        if isinstance(labels, str):
            codes, names = labels_from_obs(adata, labels)
            return codes, len(names)
        codes = np.asarray(labels, np.int64)
        if codes.shape != (n,):
            raise ValueError(f"labels must have one entry per cell ({n}), got shape {codes.shape}.")
        return codes, int(codes.max()) + 1

    def _step_loss(self, batch: list[np.ndarray]) -> list[Any]:
        """The training loss of one batch, ``[mean NLL]``, from the arrays the step is recorded on:
        counts (float32), the encoder's input, log library sizes (n, 1), and labels if used.

        Everything computed from the batch outside engine ops is in ``batch``, so that a
        recording refers to the batch's arrays, not to copies of one batch's values."""
        counts, x, log_lib = batch[:3]
        labels = batch[3] if len(batch) > 3 else None
        z = self.encode(x, training=True)
        return [ops.mean(self.nll(counts, self._decode(z, log_lib, labels)))]

    def _epoch(self, counts: CountMatrix, train_idx: np.ndarray, codes: Any,
               weights: list[Variable]) -> float:
        order = train_idx[self._shuffle_rng.permutation(len(train_idx))]
        total, seen = 0.0, 0
        if self._step is None and self.jit_compile:
            self._step = Compiled(self._step_loss)
        for rows, x in counts.batches(order, self.batch_size):
            lib = counts.library_size[rows]
            batch = [x, self.features(x, lib), log_library(lib)]
            if codes is not None:
                batch.append(codes[rows])
            if self._step is not None:
                (value,), grads = self._step(batch, weights)
            else:  # the graph built anew every step (the same bits)
                value, grads = value_and_grad(lambda ws, b=batch: self._step_loss(b)[0])(weights)
            if not math.isfinite(float(value)):
                raise FloatingPointError(
                    f"CountAutoencoder: the loss became {float(value)} at epoch "
                    f"{len(self.history['loss']) + 1}. Check that the data are counts (see the "
                    f"CountWarning), or lower learning_rate (now {self.learning_rate}).")
            if weights[-1] is self.log_theta:  # the per-gene dispersion: its own step size
                self.optimizer.apply(grads[:-1], weights[:-1])
                self.theta_optimizer.apply(grads[-1:], weights[-1:])
            else:
                self.optimizer.apply(grads, weights)
            total += float(value) * len(rows)
            seen += len(rows)
        return total / max(seen, 1)

    def _nll_of(self, counts: CountMatrix, index: np.ndarray, codes: Any) -> np.ndarray:
        out = []
        with no_grad():
            for rows, x in counts.batches(index, NLL_ROWS):
                lab = None if codes is None else codes[rows]
                out.append(np.asarray(self._forward(x, counts.library_size[rows], lab).data))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    # ---- results --------------------------------------------------------------------------
    def _check_fitted(self, what: str) -> None:
        if not self.built:
            raise RuntimeError(f"CountAutoencoder.{what}: call fit(adata) first.")

    def negative_log_likelihood(self, adata: Any, layer: str | None = None, use_raw: bool = False,
                                labels: Any = None) -> np.ndarray:
        """Per-cell NLL of ``adata``'s counts under the model (each cell encoded and decoded)."""
        self._check_fitted("negative_log_likelihood")
        counts = read_counts(adata, layer=layer, use_raw=use_raw, check=False)
        codes, _ = self._labels(adata, labels, len(counts))
        return self._nll_of(counts, np.arange(len(counts)), codes)

    def get_latent(self, adata: Any, layer: str | None = None, use_raw: bool = False,
                   key: str | None = "X_unafraid") -> np.ndarray:
        """Latent coordinates (N, latent_dim), float32; stored in ``adata.obsm[key]`` too.

        Pass ``key=None`` to leave ``adata`` unchanged.
        """
        self._check_fitted("get_latent")
        counts = read_counts(adata, layer=layer, use_raw=use_raw, check=False)
        out = []
        with no_grad():
            for rows, x in counts.batches(None, 512):
                z = self.encode(self.features(x, counts.library_size[rows]))
                out.append(np.asarray(z.data))
        latent = np.concatenate(out)
        if key is not None and hasattr(adata, "obsm"):
            write_obsm(adata, latent, key)
        return latent

    def get_denoised(self, adata: Any, layer: str | None = None, use_raw: bool = False,
                     key: str | None = "unafraid_denoised", labels: Any = None) -> np.ndarray:
        """Denoised expression: the decoder's mean ``mu`` (N, G), float32, at each cell's own
        library size; stored in ``adata.layers[key]`` too (``key=None`` to skip)."""
        self._check_fitted("get_denoised")
        counts = read_counts(adata, layer=layer, use_raw=use_raw, check=False)
        out = []
        with no_grad():
            for rows, x in counts.batches(None, 512):
                lib = counts.library_size[rows]
                z = self.encode(self.features(x, lib))
                out.append(np.exp(np.asarray(self.decode(z, lib, np.zeros(len(rows), np.int64)
                                                          )["log_mean"].data)))
        mu = np.concatenate(out)
        if key is not None and hasattr(adata, "layers"):
            write_layer(adata, mu, key)
        return mu
