"""Explore a cell-type classifier and a latent space: margins, the most confusing cells and
their top genes, a confusion table, 2-D embeddings (PCA, or UMAP when umap-learn is installed)
coloured by margin or cell type, kNN accuracy and silhouette of a latent space.

Built on :mod:`unafraid.explore` (margins, most_confusing, confusion_table, confusion_matrix),
with cell and cell-type names added. pandas and matplotlib are imported only when used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..atomic import atomic_savefig
from ..explore import tables

__all__ = ["cell_table", "most_confusing_cells", "confusion_frame", "top_genes", "embedding_2d",
           "plot_embedding", "knn_accuracy", "silhouette"]


def cell_table(probs: Any, y: Any, classes: Sequence[str], obs_names: Sequence[str] | None = None) -> Any:
    """One row per cell: true and predicted type (names), top-2 probabilities, margin, entropy.

    :func:`unafraid.explore.confusion_table` with the cell-type names and the cell names added
    (columns ``cell``, ``true_type``, ``predicted_type``, ``second_type``). A pandas DataFrame.
    """
    import pandas as pd

    table = pd.DataFrame(tables.confusion_table(probs, y, as_frame=False))
    names = np.asarray(list(classes), dtype=object)
    table.insert(0, "cell", list(obs_names) if obs_names is not None else table["index"].tolist())
    table["true_type"] = names[table["true"].to_numpy()]
    table["predicted_type"] = names[table["top1"].to_numpy()]
    table["second_type"] = names[table["top2"].to_numpy()]
    return table


def most_confusing_cells(probs: Any, y: Any, classes: Sequence[str],
                         obs_names: Sequence[str] | None = None, k: int = 10) -> Any:
    """The ``k`` cells whose two most probable cell types are closest (smallest margins),
    most confusing first: rows of :func:`cell_table`."""
    idx = tables.most_confusing(probs, y, k=k)
    return cell_table(probs, y, classes, obs_names).iloc[idx].reset_index(drop=True)


def confusion_frame(y_true: Any, y_pred: Any, classes: Sequence[str]) -> Any:
    """Confusion matrix as a DataFrame: rows true types, columns predicted types (counts)."""
    import pandas as pd

    cm = tables.confusion_matrix(y_true, y_pred, num_classes=len(classes))
    return pd.DataFrame(cm, index=pd.Index(list(classes), name="true"),
                        columns=pd.Index(list(classes), name="predicted"))


def top_genes(expression: np.ndarray, cells: Sequence[int], var_names: Sequence[str],
              k: int = 5) -> list[list[str]]:
    """For each of ``cells``, the ``k`` genes most above their mean over all cells, in units of
    their standard deviation (z-scores of log-normalised expression).

    Parameters
    ----------
    expression : (N, G) array
        log1p of normalised counts (``unafraid.cells.log_normalize``).
    cells : sequence of int
    var_names : sequence of str, length G
    k : int, default 5
    """
    expression = np.asarray(expression, np.float64)
    z = (expression[list(cells)] - expression.mean(0)) / (expression.std(0) + 1e-8)
    order = np.argsort(-z, axis=1, kind="stable")[:, :k]
    names = np.asarray(list(var_names), dtype=object)
    return [list(names[row]) for row in order]


def embedding_2d(X: Any, method: str = "pca", seed: int = 0) -> np.ndarray:
    """A 2-D embedding of the rows of ``X`` (a latent space, or log-normalised expression).

    Parameters
    ----------
    X : (N, d) array
    method : {"pca", "umap", "auto"}, default "pca"
        ``"pca"``: the first two principal components (signs fixed: the largest loading of
        each is positive). ``"umap"`` needs umap-learn (``pip install umap-learn``);
        ``"auto"`` uses UMAP when umap-learn is installed, else PCA.
    seed : int, default 0
        UMAP's random_state.

    Returns
    -------
    (N, 2) float32 array
    """
    X = np.asarray(X, np.float64)
    if method not in ("pca", "umap", "auto"):
        raise ValueError(f"embedding_2d: method must be 'pca', 'umap' or 'auto', got {method!r}.")
    if method != "pca":
        try:
            import umap
        except ImportError:
            if method == "umap":
                raise ImportError("embedding_2d(method='umap') needs umap-learn: pip install "
                                  "umap-learn, or use method='pca'.") from None
        else:
            return umap.UMAP(n_components=2, random_state=seed).fit_transform(X).astype(np.float32)
    centred = X - X.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    return (centred @ (components * signs[:, None]).T).astype(np.float32)


def plot_embedding(embedding: Any, color: Any, *, title: str | None = None,
                   highlight: Sequence[int] | None = None, cmap: str = "viridis",
                   save: str | os.PathLike | None = None, dpi: float = 150) -> Any:
    """Scatter plot of a 2-D embedding, coloured by a number per cell (e.g. the margin: a
    colour bar) or by a category per cell (e.g. the cell type: a legend).

    Parameters
    ----------
    embedding : (N, 2) array
    color : (N,) array of numbers, or of strings / a pandas Categorical
    title : str, optional
    highlight : sequence of int, optional
        Cells circled in red (e.g. the most confusing ones).
    save : path, optional
        Also write the figure there.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    emb = np.asarray(embedding, np.float64)
    if emb.ndim != 2 or emb.shape[1] != 2:
        raise ValueError(f"plot_embedding: embedding must be (N, 2), got {emb.shape}. Use "
                         f"embedding_2d(latent) first.")
    values = np.asarray(color)
    if len(values) != len(emb):
        raise ValueError(f"plot_embedding: color has {len(values)} values for {len(emb)} cells.")
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    if values.dtype.kind in "biuf":
        points = ax.scatter(emb[:, 0], emb[:, 1], c=values, s=8, cmap=cmap)
        fig.colorbar(points, ax=ax)
    else:
        names = list(getattr(color, "categories", None) if hasattr(color, "categories")
                     else sorted(set(values.astype(str))))
        palette = _palette(len(names))
        for i, name in enumerate(names):
            mask = values.astype(str) == str(name)
            ax.scatter(emb[mask, 0], emb[mask, 1], s=8, color=palette[i], label=str(name))
        ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if highlight is not None and len(highlight):
        h = np.asarray(highlight, int)
        ax.scatter(emb[h, 0], emb[h, 1], s=60, facecolors="none", edgecolors="red", linewidths=1.2)
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    if title:
        ax.set_title(title)
    if save is not None:
        atomic_savefig(fig, save, dpi=dpi, bbox_inches="tight")
    return fig


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]


def _sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def knn_accuracy(train: Any, train_labels: Any, test: Any, test_labels: Any, k: int = 15) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean, uniform weights) in a latent space.

    Each test cell gets the most common type among its ``k`` nearest training cells (ties to
    the smallest label, as scikit-learn's ``KNeighborsClassifier``).
    """
    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    ytr, yte = np.asarray(train_labels), np.asarray(test_labels)
    nearest = np.argsort(_sq_distances(test, train), axis=1, kind="stable")[:, :k]
    votes = np.zeros((len(test), int(max(ytr.max(), yte.max())) + 1))
    np.add.at(votes, (np.repeat(np.arange(len(test)), k), ytr[nearest].ravel()), 1)
    return float(np.mean(votes.argmax(1) == yte))


def silhouette(X: Any, labels: Any) -> float:
    """Mean silhouette coefficient (Euclidean): for each cell, ``(b - a) / max(a, b)`` with
    ``a`` its mean distance to its own type and ``b`` to the nearest other type; cells alone
    in their type count 0 (scikit-learn's ``silhouette_score`` convention)."""
    X, labels = np.asarray(X, np.float64), np.asarray(labels)
    d = np.sqrt(_sq_distances(X, X))
    kinds = np.unique(labels)
    if len(kinds) < 2:
        raise ValueError("silhouette needs at least 2 cell types.")
    sums = np.stack([d[:, labels == c].sum(1) for c in kinds], axis=1)
    sizes = np.array([(labels == c).sum() for c in kinds])
    own = np.searchsorted(kinds, labels)
    n_own = sizes[own] - 1
    a = np.where(n_own > 0, sums[np.arange(len(X)), own] / np.maximum(n_own, 1), 0)
    other = sums / sizes
    other[np.arange(len(X)), own] = np.inf
    b = other.min(1)
    s = np.where(n_own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0)
    return float(s.mean())
