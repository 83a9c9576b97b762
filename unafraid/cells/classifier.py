"""A cell-type classifier: an ordinary unafraid Sequential model on log-normalised counts.

    x_i = log1p(counts_i / l_i * 1e4)                       (scanpy's normalize_total + log1p)
    s_i = clip((x_i - mean) / std, -10, 10)                 per gene, from the training cells
    p_i = softmax(W_2 dropout(relu(W_1 s_i + b_1)) + b_2)     one probability per cell type

trained with Adam on the sparse categorical cross-entropy, each cell weighted by its type's
class weight (rare types count more). Batches are densified one at a time, so a sparse
matrix is never densified whole. The Keras model is ``clf.model`` (save it, inspect it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers, layers, models, optimizers
from ..explore import tables
from .data import labels_from_obs, log_normalize, read_counts, write_obs

__all__ = ["CellTypeClassifier", "class_weights"]


def class_weights(codes: np.ndarray, n_classes: int, mode: str | dict | None = "sqrt") -> np.ndarray:
    """A weight per class: ``"balanced"`` ``n / (K n_k)``, ``"sqrt"`` its square root (milder:
    rare types count more without swamping the common ones), ``None`` all ones, or a dict.

    Returns
    -------
    float32 array, shape (K,), normalised so that the average cell weighs 1.
    """
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    if mode is None:
        w = np.ones(n_classes)
    elif isinstance(mode, dict):
        missing = [k for k in range(n_classes) if k not in mode]
        if missing:
            raise ValueError(f"class_weight has no weight for classes {missing}; give one per "
                             f"class index 0..{n_classes - 1}.")
        w = np.array([float(mode[k]) for k in range(n_classes)])
    elif mode in ("balanced", "sqrt"):
        w = len(codes) / (n_classes * np.maximum(counts, 1))
        w = np.sqrt(w) if mode == "sqrt" else w
    else:
        raise ValueError(f"class_weight must be 'balanced', 'sqrt', None or a dict, got {mode!r}.")
    mean = float((w * counts).sum() / max(counts.sum(), 1))
    return (w / mean).astype(np.float32)


class CellTypeClassifier:
    """Predict cell types from counts; margins and the most confusing cells come with it.

    Parameters
    ----------
    hidden : int, default 256
        Units of the hidden ReLU layer.
    dropout : float, default 0.5
        Dropout rate after the hidden layer (and ``input_dropout`` before it).
    input_dropout : float, default 0
        Fraction of genes dropped from each training cell (zeroed): an augmentation.
    class_weight : {"sqrt", "balanced", None} or dict, default None
        Weigh rare cell types more (see :func:`class_weights`): raises their recall, usually at
        some cost in overall accuracy.
    epochs : int, default 30
    batch_size : int, default 32
    learning_rate : float, default 1e-3
    target_sum : float, default 1e4
    scale : bool, default True
        Z-score each gene's log-normalised value with the training cells' mean and standard
        deviation (clipped to +-10), as scanpy's ``pp.scale``.
    seed : int, default 0
        Initial weights, dropout masks and batch order all derive from it.

    Attributes
    ----------
    model : unafraid.models.Sequential
    classes_ : list of str
        Cell-type names, in the order of the probability columns.
    history : dict
        ``{"loss": [...], "accuracy": [...]}`` per epoch (training cells).

    Examples
    --------
    >>> import unafraid as uf
    >>> from unafraid.cells import CellTypeClassifier
    >>> adata = uf.datasets.pbmc68k_reduced()
    >>> clf = CellTypeClassifier(epochs=5).fit(adata, "bulk_labels", layer="counts")
    >>> clf.predict_proba(adata, layer="counts").shape
    (700, 10)
    """

    def __init__(self, hidden: int = 256, dropout: float = 0.5, input_dropout: float = 0.0,
                 class_weight: str | dict | None = None, epochs: int = 30, batch_size: int = 32,
                 learning_rate: float = 1e-3, target_sum: float = 1e4, scale: bool = True,
                 seed: int = 0) -> None:
        self.hidden, self.dropout, self.input_dropout = int(hidden), dropout, input_dropout
        self.class_weight, self.epochs, self.batch_size = class_weight, int(epochs), int(batch_size)
        self.learning_rate, self.target_sum, self.seed = learning_rate, target_sum, seed
        self.scale = scale
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None
        self.model: Any = None
        self.classes_: list[str] = []
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}

    def _build(self, n_genes: int, n_classes: int) -> None:
        s = [int(v) for v in np.random.SeedSequence(self.seed).generate_state(5)]
        self.model = models.Sequential([
            layers.Dropout(self.input_dropout, seed=s[0]),
            layers.Dense(self.hidden, activation="relu",
                         kernel_initializer=initializers.GlorotUniform(seed=s[1])),
            layers.Dropout(self.dropout, seed=s[2]),
            layers.Dense(n_classes, activation="softmax",
                         kernel_initializer=initializers.GlorotUniform(seed=s[3])),
        ])
        self.model.build((None, n_genes))
        self.model.compile(optimizer=optimizers.Adam(learning_rate=self.learning_rate),
                           loss="sparse_categorical_crossentropy")
        self._rng = np.random.default_rng(s[4])

    def _inputs(self, adata: Any, layer: str | None, use_raw: bool, check: bool = True):
        counts = read_counts(adata, layer=layer, use_raw=use_raw, check=check)
        return counts

    def fit(self, adata: Any, labels: str | np.ndarray, layer: str | None = None,
            use_raw: bool = False, class_names: list[str] | None = None) -> CellTypeClassifier:
        """Train on ``adata``'s counts and cell types.

        Parameters
        ----------
        adata : AnnData, or a cells x genes count matrix
        labels : str or int array
            An ``obs`` column (e.g. ``"bulk_labels"``), or integer codes (N,).
        layer, use_raw : where the counts are (see :func:`unafraid.cells.read_counts`)
        class_names : list of str, optional
            Names for integer ``labels``.

        Returns
        -------
        self
        """
        counts = self._inputs(adata, layer, use_raw)
        if isinstance(labels, str):
            codes, self.classes_ = labels_from_obs(adata, labels)
        else:
            codes = np.asarray(labels, np.int64)
            k = int(codes.max()) + 1
            self.classes_ = list(class_names) if class_names else [str(c) for c in range(k)]
        if len(codes) != len(counts):
            raise ValueError(f"labels has {len(codes)} entries for {len(counts)} cells.")
        k = len(self.classes_)
        self._build(counts.shape[1], k)
        weight = class_weights(codes, k, self.class_weight)[codes]
        n = len(counts)
        if self.scale:
            self._fit_scaling(counts)
        for _ in range(self.epochs):
            order = self._rng.permutation(n)
            total = correct = 0.0
            for rows, x in counts.batches(order, self.batch_size):
                xb = self._features(x, counts.library_size[rows])
                loss = self.model.train_on_batch(xb, codes[rows], sample_weight=weight[rows])
                total += loss * len(rows)
            probs = self._predict(counts)
            correct = float(np.mean(probs.argmax(1) == codes))
            self.history["loss"].append(total / n)
            self.history["accuracy"].append(correct)
        return self

    def _fit_scaling(self, counts: Any) -> None:
        """Per-gene mean and standard deviation of the training cells' log-normalised counts."""
        total = np.zeros(counts.shape[1])
        total_sq = np.zeros(counts.shape[1])
        for rows, x in counts.batches(None, 512):
            f = log_normalize(x, counts.library_size[rows], self.target_sum).astype(np.float64)
            total += f.sum(0)
            total_sq += (f * f).sum(0)
        mean = total / len(counts)
        std = np.sqrt(np.maximum(total_sq / len(counts) - mean**2, 0))
        self.mean_ = mean.astype(np.float32)
        self.std_ = np.where(std > 0, std, 1).astype(np.float32)

    def _features(self, x: np.ndarray, library: np.ndarray) -> np.ndarray:
        """``log1p(x / l * 1e4)``, then z-scored per gene (clipped to +-10) if ``scale``."""
        f = log_normalize(x, library, self.target_sum)
        if self.mean_ is None:
            return f
        return np.clip((f - self.mean_) / self.std_, -10, 10)

    def _predict(self, counts: Any) -> np.ndarray:
        out = [self.model.predict_on_batch(self._features(x, counts.library_size[rows]))
               for rows, x in counts.batches(None, 512)]
        return np.concatenate([np.asarray(getattr(o, "data", o)) for o in out])

    def predict_proba(self, adata: Any, layer: str | None = None, use_raw: bool = False) -> np.ndarray:
        """Probabilities of each cell type, (N, K) float32, columns in ``classes_`` order."""
        if self.model is None:
            raise RuntimeError("CellTypeClassifier.predict_proba: call fit(adata, labels) first.")
        return self._predict(self._inputs(adata, layer, use_raw, check=False))

    def predict(self, adata: Any, layer: str | None = None, use_raw: bool = False) -> np.ndarray:
        """The most probable cell type of each cell: an array of names, shape (N,)."""
        return np.asarray(self.classes_, dtype=object)[
            self.predict_proba(adata, layer, use_raw).argmax(1)]

    def annotate(self, adata: Any, layer: str | None = None, use_raw: bool = False,
                 prefix: str = "unafraid") -> np.ndarray:
        """Write predictions to ``adata.obs``: ``<prefix>_prediction`` (categorical),
        ``<prefix>_probability`` (of it), ``<prefix>_margin`` (top-1 minus top-2), and the
        runner-up ``<prefix>_second``. Returns the probabilities (N, K)."""
        import pandas as pd

        probs = self.predict_proba(adata, layer, use_raw)
        top1, p1, top2, _ = tables.top2(probs)
        names = np.asarray(self.classes_, dtype=object)
        write_obs(adata, {
            f"{prefix}_prediction": pd.Categorical(names[top1], categories=self.classes_),
            f"{prefix}_probability": p1.astype(np.float32),
            f"{prefix}_margin": tables.margins(probs).astype(np.float32),
            f"{prefix}_second": pd.Categorical(names[top2], categories=self.classes_),
        })
        return probs
