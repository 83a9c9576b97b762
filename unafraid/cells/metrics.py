"""How good are generated cells? Metrics that tell a good generator from a trivial one.

Every metric compares a sample ``X`` (generated cells, or real training cells as the upper
bound, or a baseline) with held-out real cells ``R``, all as log1p-normalised expression
``log1p(counts / total * 1e4)`` of the same genes, shape ``(n_cells, n_genes)``:

==========================  ==========================================================  ======
metric                      what it is                                                  ideal
==========================  ==========================================================  ======
:func:`two_sample_auc`      cross-validated ROC AUC of a random forest telling R from X  0.5
:func:`mmd2`                unbiased MMD^2, RBF kernel, on all genes (or 50 training PCs)  0
:func:`gene_gene_corr`      Pearson r between the two gene-gene correlation matrices     1
                           (of the 100 most variable genes)
:func:`marginal_corrs`      Pearson r of per-gene means, variances, fractions of zeros   1
:func:`type_distance`       total variation between annotated (held-out) and predicted   0
                           (sample) cell-type proportions
:func:`knn_precision_recall`  Kynkaanniemi et al. (2019), k = 5, on all genes           1, 1
==========================  ==========================================================  ======

and three samples to judge them against (:func:`baselines`): genes drawn independently from
their training marginals, a Gaussian with the training mean and covariance clipped at 0, and
real training cells of the three largest cell types only (mode dropping). Per-gene means and
variances, and precision alone, do not separate a good generator from these: report them,
never judge by them. :func:`evaluate` computes the whole table.

scikit-learn (the random forest, the logistic-regression cell-type classifier) is an optional
dependency (``pip install 'unafraid[cells]'``), imported only by the functions that need it.

>>> round(total_variation([0.5, 0.5], [1.0, 0.0]), 3)
0.5
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["two_sample_auc", "PCA", "median_bandwidth", "mmd2", "rbf_mmd2", "gene_gene_corr",
           "marginal_corrs", "total_variation", "type_proportions", "fit_type_classifier",
           "type_distance", "knn_precision_recall", "independent_marginals", "clipped_gaussian",
           "mode_dropping", "baselines", "evaluate", "require_sklearn", "N_COMPONENTS", "K_NN",
           "N_GENE_PAIRS_GENES", "MMD_SPACES"]

#: Principal components fit on the training cells, for MMD when ``mmd_space="pca"``.
N_COMPONENTS = 50
#: Neighbours that set each cell's ball radius in k-NN precision and recall (Kynkaanniemi et al.
#: use 3 on thousands of images; with a few hundred cells 5 gives real cells a recall near 0.75).
K_NN = 5
#: The most variable genes (of the real cells) whose correlations ``gene_gene_corr`` compares.
N_GENE_PAIRS_GENES = 100
#: Where :func:`evaluate` computes MMD^2: on all genes (the default: it reproduces issue 22's
#: baseline rows) or on the first ``n_components`` principal components of the training cells.
MMD_SPACES = ("genes", "pca")


def require_sklearn() -> Any:
    """Import scikit-learn, or say how to install it."""
    try:
        import sklearn
    except ImportError as e:
        raise ImportError("unafraid.cells.metrics needs scikit-learn for the random-forest "
                          "two-sample test and the cell-type classifier: pip install "
                          "'unafraid[cells]' (or pip install scikit-learn).") from e
    return sklearn


def _matrix(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must be a cells x genes matrix (2-D), got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what} holds {int(np.sum(~np.isfinite(x)))} NaN or infinite values; "
                         f"a generator that diverged produces these: check its losses.")
    return x


def _same_genes(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names}: the two samples have {a.shape[1]} and {b.shape[1]} genes; "
                         f"compare cells over the same genes, in the same order.")


# ---------------------------------------------------------------- classifier two-sample test
def two_sample_auc(real: Any, sample: Any, n_splits: int = 5, n_estimators: int = 100,
                   seed: int = 0) -> float:
    """Cross-validated ROC AUC of a random forest that tells ``real`` cells from ``sample``.

    The cells are labelled 0 (real) and 1 (sample); a
    ``RandomForestClassifier(n_estimators, random_state=seed)`` is scored by
    ``StratifiedKFold(n_splits, shuffle=True, random_state=seed)``; the result is the mean
    of the folds' AUCs. 0.5: the forest cannot tell them apart; 1.0: it always can.

    Parameters
    ----------
    real, sample : (n, G) and (m, G) arrays
        Held-out real cells and the cells to judge (log1p-normalised expression).
    n_splits, n_estimators, seed : int

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> two_sample_auc(rng.random((30, 4)), rng.random((30, 4)) + 2)
    1.0
    """
    require_sklearn()
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    real, sample = _matrix(real, "real"), _matrix(sample, "sample")
    _same_genes(real, sample, "two_sample_auc")
    x = np.concatenate([real, sample])
    y = np.r_[np.zeros(len(real), int), np.ones(len(sample), int)]
    aucs = []
    for fit_rows, score_rows in StratifiedKFold(n_splits, shuffle=True,
                                                random_state=seed).split(x, y):
        forest = RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1)
        forest.fit(x[fit_rows], y[fit_rows])
        aucs.append(roc_auc_score(y[score_rows], forest.predict_proba(x[score_rows])[:, 1]))
    return float(np.mean(aucs))


# ---------------------------------------------------------------- PCA and MMD
class PCA:
    """Principal components of the training cells: ``Z = (X - mean) V_k`` (SVD, no whitening).

    Parameters
    ----------
    n_components : int, default 50

    Attributes
    ----------
    mean_ : (G,) float64
    components_ : (k, G) float64, rows = the right singular vectors of the centred matrix,
        each with its largest-magnitude entry positive (a fixed sign).
    """

    def __init__(self, n_components: int = N_COMPONENTS) -> None:
        self.n_components = int(n_components)

    def fit(self, x: Any) -> PCA:
        x = _matrix(x, "PCA.fit's cells")
        k = min(self.n_components, *x.shape)
        self.mean_ = x.mean(0)
        _, _, vt = np.linalg.svd(x - self.mean_, full_matrices=False)
        vt = vt[:k]
        sign = np.sign(vt[np.arange(k), np.abs(vt).argmax(1)])
        self.components_ = vt * sign[:, None]
        return self

    def transform(self, x: Any) -> np.ndarray:
        """``(x - mean_) @ components_.T``: (n, k) float64."""
        x = _matrix(x, "PCA.transform's cells")
        _same_genes(x, self.components_, "PCA.transform")
        return (x - self.mean_) @ self.components_.T


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def median_bandwidth(z: Any) -> float:
    """The bandwidth rule: the median squared Euclidean distance between distinct cells of ``z``.

    With ``h = median_bandwidth(training cells' PCs)`` every sample is judged with the same
    kernel ``k(a, b) = exp(-||a - b||^2 / h)``.
    """
    z = _matrix(z, "median_bandwidth's cells")
    d = _sq_dists(z, z)[np.triu_indices(len(z), 1)]
    h = float(np.median(d))
    if not h > 0:
        raise ValueError("median_bandwidth: more than half the pairs of cells are identical; "
                         "give the bandwidth explicitly.")
    return h


def rbf_mmd2(x: Any, y: Any, bandwidth: float) -> float:
    """Unbiased MMD^2 between samples ``x`` (m, d) and ``y`` (n, d), RBF kernel.

        k(a, b) = exp(-||a - b||^2 / bandwidth)
        MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
                  - 2 sum_{i, j} k(x_i, y_j) / (m n)

    (Gretton et al. 2012, eq. 3). Unbiased, hence slightly negative when the samples come
    from one distribution.

    Examples
    --------
    >>> round(rbf_mmd2([[0.0], [1.0]], [[0.0], [2.0]], bandwidth=1.0), 6)   # (e^-4 - 1) / 2
    -0.490842
    """
    x, y = _matrix(x, "x"), _matrix(y, "y")
    _same_genes(x, y, "rbf_mmd2")
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"rbf_mmd2 needs at least 2 cells in each sample, got {m} and {n}.")
    kxx, kyy = np.exp(-_sq_dists(x, x) / bandwidth), np.exp(-_sq_dists(y, y) / bandwidth)
    kxy = np.exp(-_sq_dists(x, y) / bandwidth)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def mmd2(real: Any, sample: Any, pca: PCA | None, bandwidth: float) -> float:
    """:func:`rbf_mmd2` of the two samples, on all genes or projected on ``pca``.

    Parameters
    ----------
    real, sample : (n, G), (m, G) arrays of log1p-normalised expression
    pca : PCA or None
        None: the kernel sees all G genes (what :func:`evaluate` does by default). A ``PCA``
        fit on the training cells (``PCA(50).fit(train)``): the kernel sees their components.
    bandwidth : float
        ``median_bandwidth(train)`` (or ``median_bandwidth(pca.transform(train))``): the same
        for every sample judged.

    Why all genes by default: principal components fit on the training cells spread those cells
    more than held-out cells (the top components also fit the training cells' noise), so on 50
    PCs real training cells score MMD^2 = 0.006 against held-out cells and genes drawn
    independently 0.058; on all genes they score -0.0006 and 0.004, as in issue 22's table
    (-0.001 and 0.005). See docs/cells_gan.md, "How the metrics were matched".

    Examples
    --------
    >>> round(mmd2([[0.0], [1.0]], [[0.0], [2.0]], None, bandwidth=1.0), 6)   # (e^-4 - 1) / 2
    -0.490842
    """
    if pca is None:
        return rbf_mmd2(real, sample, bandwidth)
    return rbf_mmd2(pca.transform(real), pca.transform(sample), bandwidth)


# ---------------------------------------------------------------- gene-level structure
def _corr_matrix(x: np.ndarray) -> np.ndarray:
    c = x - x.mean(0)
    s = np.sqrt((c * c).sum(0))
    return (c.T @ c) / np.outer(s, s)


def gene_gene_corr(real: Any, sample: Any, n_genes: int | None = N_GENE_PAIRS_GENES) -> float:
    """How well the sample keeps which genes go up and down together.

    Take the ``n_genes`` genes of largest variance in ``real`` (all genes when ``n_genes`` is
    None or at least G; ties by gene order), and of those the genes whose variance is positive
    in both samples (a constant gene has no correlation). Let ``C_R`` and ``C_X`` be the Pearson
    correlation matrices of these genes over the cells of ``real`` and of ``sample``. The result
    is the Pearson correlation between the entries of ``C_R`` and ``C_X`` above the diagonal.

    Why the most variable genes: on all 765 genes of pbmc68k_reduced, 175 real cells against
    175 other real cells give only 0.51, because most genes are rarely detected and their
    correlations are noise; on the 100 most variable, real cells give 0.96, the clipped
    Gaussian with the training covariance 0.94, mode dropping 0.76 and independent genes 0.01,
    the values that the issue's reference implementation reports (0.96, 0.95, 0.73, 0.01).

    Genes sampled independently give about 0; 1 means the same correlation structure up to a
    positive affine map.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0., 0, 1], [1, 1, 0], [2, 2, 2], [3, 3, 0]])
    >>> round(gene_gene_corr(x, x), 6)
    1.0
    """
    real, sample = _matrix(real, "real"), _matrix(sample, "sample")
    _same_genes(real, sample, "gene_gene_corr")
    genes = np.arange(real.shape[1])
    if n_genes is not None and n_genes < len(genes):
        genes = np.sort(np.argsort(-real.var(0), kind="stable")[:n_genes])
    a, b = real[:, genes], sample[:, genes]
    keep = (a.var(0) > 0) & (b.var(0) > 0)
    if keep.sum() < 3:
        raise ValueError(f"gene_gene_corr: only {int(keep.sum())} genes vary in both samples; "
                         f"need at least 3 (3 pairs of genes).")
    upper = np.triu_indices(int(keep.sum()), 1)
    a, b = _corr_matrix(a[:, keep])[upper], _corr_matrix(b[:, keep])[upper]
    return float(np.corrcoef(a, b)[0, 1])


def marginal_corrs(real: Any, sample: Any) -> dict[str, float]:
    """Pearson r over genes between the per-gene means, variances (ddof 0) and fractions of zeros.

    Returns
    -------
    dict
        ``{"mean_corr": r, "variance_corr": r, "zeros_corr": r}``. Matching marginals is easy
        (genes sampled independently score r = 0.99): report these, do not judge by them.
    """
    real, sample = _matrix(real, "real"), _matrix(sample, "sample")
    _same_genes(real, sample, "marginal_corrs")

    def r(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a, b)[0, 1])

    return {"mean_corr": r(real.mean(0), sample.mean(0)),
            "variance_corr": r(real.var(0), sample.var(0)),
            "zeros_corr": r((real == 0).mean(0), (sample == 0).mean(0))}


# ---------------------------------------------------------------- cell types
def total_variation(p: Any, q: Any) -> float:
    """``0.5 * sum_k |p_k - q_k|`` between two probability vectors (0 = same, 1 = disjoint)."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape:
        raise ValueError(f"total_variation: proportions of shapes {p.shape} and {q.shape}; give "
                         f"one entry per cell type in both.")
    return float(0.5 * np.abs(p - q).sum())


def type_proportions(codes: Any, n_types: int) -> np.ndarray:
    """Fraction of cells of each type 0..n_types-1: ``bincount(codes) / len(codes)``, (K,)."""
    codes = np.asarray(codes, np.int64)
    return np.bincount(codes, minlength=n_types) / max(len(codes), 1)


def fit_type_classifier(train: Any, labels: Any, seed: int = 0) -> Any:
    """The real-cell classifier of :func:`type_distance`: scikit-learn's
    ``LogisticRegression(max_iter=2000)`` on log1p-normalised expression of the training cells.

    Returns the fitted estimator (``predict(cells) -> integer codes``).
    """
    require_sklearn()
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, random_state=seed).fit(_matrix(train, "train"),
                                                                    np.asarray(labels))


def type_distance(classifier: Any, real: Any, sample: Any, n_types: int,
                  real_labels: Any = None) -> float:
    """Total variation between the real cells' cell-type proportions and those ``classifier``
    assigns to ``sample``: ``0.5 * sum_k |p_k(real) - q_k(sample)|``.

    Parameters
    ----------
    classifier : fitted estimator with ``predict(cells) -> integer codes``
        Trained on real training cells (:func:`fit_type_classifier`).
    real, sample : (n, G), (m, G) arrays
    n_types : int
    real_labels : (n,) int array, optional
        The real cells' annotated types. Given, ``p`` is their proportions (what
        :func:`evaluate` does when it gets ``test_labels``: it reproduces issue 22's baseline
        rows, e.g. mode dropping 0.337 against the issue's 0.34); omitted, ``p`` is the
        proportions that ``classifier`` assigns to ``real`` (the definition before 2026-12-03).

    A sample of one cell type scores ``1 - p_type(real)``; mode dropping scores the real share
    of the types dropped.

    Examples
    --------
    >>> class Largest:                      # type = index of the largest gene
    ...     def predict(self, x): return np.asarray(x).argmax(1)
    >>> type_distance(Largest(), np.eye(2), [[1.0, 0.0], [1.0, 0.0]], 2, real_labels=[0, 1])
    0.5
    """
    if real_labels is None:
        p = type_proportions(classifier.predict(_matrix(real, "real")), n_types)
    else:
        real_labels = np.asarray(real_labels, np.int64)
        if len(real_labels) != len(real):
            raise ValueError(f"type_distance: {len(real_labels)} real_labels for {len(real)} real "
                             f"cells; give one annotated type per real cell (or none).")
        p = type_proportions(real_labels, n_types)
    q = type_proportions(classifier.predict(_matrix(sample, "sample")), n_types)
    return total_variation(p, q)


# ---------------------------------------------------------------- precision and recall
def _radii(z: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    if len(z) <= k:
        raise ValueError(f"knn_precision_recall: k = {k} needs more than {k} cells per sample, "
                         f"got {len(z)}.")
    d = np.sqrt(_sq_dists(z, z))
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]


def _coverage(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    d = np.sqrt(_sq_dists(points, centres))
    return float(np.mean((d <= radii[None, :]).any(1)))


def knn_precision_recall(real: Any, sample: Any, k: int = K_NN) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al., NeurIPS 2019).

    The manifold of a set is the union of balls around its points, each ball's radius the
    distance to that point's k-th nearest neighbour in the same set. Precision = fraction of
    ``sample`` inside the real manifold (realism); recall = fraction of ``real`` inside the
    sample's manifold (coverage). Distances are Euclidean on the rows as given (:func:`evaluate`
    passes the log1p-normalised expression of all genes). Both depend on the sample sizes:
    compare samples of the same size.

    Parameters
    ----------
    real, sample : (n, d), (m, d) arrays
    k : int, default 5

    Returns
    -------
    (precision, recall) : floats in [0, 1]

    Examples
    --------
    >>> knn_precision_recall([[0.], [1.], [2.], [10.]], [[0.5], [5.], [20.]], k=1)
    (0.6666666666666666, 1.0)
    """
    real, sample = _matrix(real, "real"), _matrix(sample, "sample")
    _same_genes(real, sample, "knn_precision_recall")
    precision = _coverage(sample, real, _radii(real, k))
    recall = _coverage(real, sample, _radii(sample, k))
    return precision, recall


# ---------------------------------------------------------------- baselines
def independent_marginals(train: Any, n: int, seed: int = 0) -> np.ndarray:
    """``n`` cells whose genes are drawn independently, each from its own training values
    (resampled with replacement): right marginals, no gene-gene structure. (n, G) float32."""
    train = _matrix(train, "train")
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(train), size=(n, train.shape[1]))
    return train[rows, np.arange(train.shape[1])[None, :]].astype(np.float32)


def clipped_gaussian(train: Any, n: int, seed: int = 0) -> np.ndarray:
    """``n`` draws from N(training mean, training covariance), negative values set to 0:
    right means and correlations, wrong shapes (no zeros, no modes). (n, G) float32."""
    train = _matrix(train, "train")
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(train.mean(0), np.cov(train, rowvar=False), size=n,
                                    method="eigh")
    return np.maximum(draws, 0).astype(np.float32)


def mode_dropping(train: Any, labels: Any, n: int, n_types: int = 3, seed: int = 0) -> np.ndarray:
    """``n`` real training cells drawn (without replacement while enough remain) from the
    ``n_types`` most frequent cell types only: perfect cells, missing modes. (n, G) float32."""
    train, labels = _matrix(train, "train"), np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    largest = values[np.argsort(-counts, kind="stable")[:n_types]]
    pool = np.flatnonzero(np.isin(labels, largest))
    rng = np.random.default_rng(seed)
    rows = rng.choice(pool, size=n, replace=n > len(pool))
    return train[rows].astype(np.float32)


def baselines(train: Any, labels: Any, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The three reference samples, ``n`` cells each, by name (the rows of the docs' table)."""
    return {"independent marginals": independent_marginals(train, n, seed),
            "Gaussian clipped at 0": clipped_gaussian(train, n, seed),
            "3 largest types only (mode dropping)": mode_dropping(train, labels, n, 3, seed)}


# ---------------------------------------------------------------- the table
def _check_mmd_space(mmd_space: str) -> None:
    if mmd_space not in MMD_SPACES:
        raise ValueError(f"evaluate: mmd_space={mmd_space!r}; use 'genes' (the RBF kernel on all "
                         f"genes, the default) or 'pca' (on the training cells' first "
                         f"n_components principal components).")


def evaluate(train: Any, train_labels: Any, test: Any, samples: Mapping[str, Any],
             seed: int = 0, n_components: int = N_COMPONENTS, k: int = K_NN,
             n_estimators: int = 100, classifier: Any = None,
             progress: Callable[[str], None] | None = None, test_labels: Any = None,
             mmd_space: str = "genes") -> Any:
    """Every metric for every sample, against the held-out real cells ``test``.

    Parameters
    ----------
    train : (N, G) array
        Training cells: fit the PCA, the kernel bandwidth and the cell-type classifier.
    train_labels : (N,) int array
        Their cell types (codes 0..K-1).
    test : (M, G) array
        Held-out real cells: what every sample is compared with.
    samples : mapping of name to (n, G) array
        E.g. ``{"real training cells": train[:M], "WGAN-GP": generated,
        **baselines(train, train_labels, M)}``. Give every sample the same number of cells
        (``M``, as many as ``test``): recall and the two-sample AUC depend on it.
    seed : int
        For the random forests.
    n_components, k, n_estimators : int
        PCs for MMD when ``mmd_space="pca"`` (50), neighbours for precision and recall (5),
        trees per random forest (100).
    classifier : fitted estimator, optional
        Default :func:`fit_type_classifier` on ``train``.
    progress : callable, optional
        Called with each sample's name before it is scored.
    test_labels : (M,) int array, optional
        The held-out cells' annotated types. Given, ``type_distance`` compares each sample's
        predicted proportions with these (the default of ``unafraid cells --gan`` and the
        benchmarks); omitted, with the proportions the classifier predicts for ``test``.
    mmd_space : {"genes", "pca"}
        "genes" (default): the RBF kernel on all genes, bandwidth :func:`median_bandwidth` of
        the training cells. "pca": on the first ``n_components`` PCs fit on ``train``, bandwidth
        the median of the training cells' PCs (the definition before 2026-12-03).

    The definitions were matched to issue 22's baseline rows (docs/cells_gan.md, "How the
    metrics were matched"); k-NN precision and recall use all genes, ``k`` neighbours.

    Returns
    -------
    pandas.DataFrame
        One row per sample; columns ``rf_auc, mmd2, gene_gene_corr, type_distance, precision,
        recall, mean_corr, variance_corr, zeros_corr``.
    """
    import pandas as pd

    _check_mmd_space(mmd_space)
    train, test = _matrix(train, "train"), _matrix(test, "test")
    train_labels = np.asarray(train_labels, np.int64)
    n_types = int(train_labels.max()) + 1
    if test_labels is not None:
        test_labels = np.asarray(test_labels, np.int64)
        n_types = max(n_types, int(test_labels.max()) + 1)
    pca = PCA(n_components).fit(train) if mmd_space == "pca" else None
    bandwidth = median_bandwidth(train if pca is None else pca.transform(train))
    classifier = classifier if classifier is not None else fit_type_classifier(train, train_labels,
                                                                               seed)
    rows = {}
    for name, sample in samples.items():
        if progress is not None:
            progress(name)
        sample = _matrix(sample, f"sample {name!r}")
        precision, recall = knn_precision_recall(test, sample, k)
        rows[name] = {"rf_auc": two_sample_auc(test, sample, n_estimators=n_estimators, seed=seed),
                      "mmd2": mmd2(test, sample, pca, bandwidth),
                      "gene_gene_corr": gene_gene_corr(test, sample),
                      "type_distance": type_distance(classifier, test, sample, n_types,
                                                     test_labels),
                      "precision": precision, "recall": recall, **marginal_corrs(test, sample)}
    return pd.DataFrame.from_dict(rows, orient="index")
