"""Plots for looking inside a classifier: margins, images, confusion matrices, saliency, history.

Each function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API, never through ``pyplot``: nothing is left in pyplot's list
of open figures, no backend has to be chosen, and it works headless. In a
Jupyter or VS Code notebook a returned Figure displays itself, with no
``%matplotlib`` magic (it has a ``_repr_png_``, see :mod:`.figure`); in a script pass
``save="name.png"`` (or call ``fig.savefig``). Functions that draw on a single
panel also take ``ax=``, an existing Axes to draw into (for example one cell
of your own ``plt.subplots`` grid); the returned Figure is then that Axes'
figure.

matplotlib is imported only when a function is called, so
``import unafraid.explore`` stays light.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import atomic_savefig
from .tables import as_labels, as_probs, check_y, most_confusing, top2

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_margins", "plot_images", "plot_confusion_matrix", "plot_saliency", "plot_history"]

PathLike = str | os.PathLike


# ---- shared helpers -------------------------------------------------------------------------

def _new_figure(figsize: tuple[float, float]) -> Figure:
    from .figure import NotebookFigure  # a Figure that notebooks display (see figure.py)

    return NotebookFigure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = _new_figure(figsize)
        return fig, fig.add_subplot()
    if not hasattr(ax, "figure") or not hasattr(ax, "imshow"):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from fig.add_subplot()), got "
                        f"{type(ax).__name__}.")
    return ax.figure, ax


def _finish(fig: Figure, save: PathLike | None, dpi: float) -> Figure:
    if save is not None:
        atomic_savefig(fig, save, dpi=dpi, bbox_inches="tight")
    return fig


def _name(c: int, class_names: Sequence[Any] | None) -> str:
    if class_names is None:
        return str(int(c))
    if not 0 <= c < len(class_names):
        raise ValueError(f"class_names has {len(class_names)} entries but class {c} appears; give "
                         f"one name per class.")
    return str(class_names[c])


def _indices(indices: Any, n: int, name: str = "indices") -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"{name} must be a 1-D array of integer example indices (e.g. from "
                         f"most_confusing), got {idx.dtype} array of shape {idx.shape}.")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"{name} holds {int(idx.min())}..{int(idx.max())}, but there are only "
                         f"{n} examples (valid indices 0..{n - 1}).")
    return idx % max(n, 1)


def _square(flat: np.ndarray, what: str, shape: tuple[int, ...]) -> np.ndarray:
    side = math.isqrt(flat.shape[-1])
    if side * side != flat.shape[-1]:
        raise ValueError(f"{what} of shape {shape} holds {flat.shape[-1]} values per image, which "
                         f"is not a square number, so it cannot be reshaped to (side, side). "
                         f"Reshape it yourself, e.g. x.reshape(-1, height, width).")
    return flat.reshape(*flat.shape[:-1], side, side)


def _as_images(images: Any) -> np.ndarray:
    """``(N, H, W)``, ``(N, H, W, 1|3|4)`` or flat ``(N, H*W)`` to ``(N, H, W[, 3|4])``."""
    a = np.asarray(images)
    shape = a.shape
    if a.dtype.kind not in "fiub":
        raise TypeError(f"images must be numeric, got dtype {a.dtype}.")
    if a.ndim == 2:
        a = _square(a, "images", shape)
    elif a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    elif not (a.ndim == 3 or (a.ndim == 4 and a.shape[-1] in (3, 4))):
        raise ValueError(f"images must have shape (N, H, W), (N, H, W, 1 or 3) or flat (N, H*W); "
                         f"got {shape}. For a single image pass image[None].")
    return a


def _as_image(image: Any, name: str) -> np.ndarray:
    """One image: ``(H, W)``, ``(H, W, 1|3|4)``, flat ``(H*W,)``, or any of these with leading 1s."""
    a = np.asarray(image)
    shape = a.shape
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}.")
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 1:
        a = _square(a, name, shape)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] in (3, 4))):
        raise ValueError(f"{name} must be one image of shape (H, W), (H, W, 1 or 3) or flat "
                         f"(H*W,), got shape {shape}. To plot one image of a batch pass x[i].")
    return a


# ---- margins ----------------------------------------------------------------------------------

def plot_margins(probs: Any, y: Any, highlight: Any = None, *,
                 class_names: Sequence[Any] | None = None, ax: Axes | None = None,
                 save: PathLike | None = None, dpi: float = 150) -> Figure:
    """Scatterplot of each example's margin against its index, coloured by true label.

    The margin is ``p[top1] - p[top2]`` (see :func:`~unafraid.explore.margins`):
    points near 0 are the examples the model found confusing. The most
    confusing ones are circled in red and labelled with their index.

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities (rows sum to 1), e.g. ``model.predict(x_test)``.
    y : (N,) array_like of int
        True labels (one-hot rows accepted); they colour the points.
    highlight : None, int or (K,) array_like of int, optional
        Which examples to circle: ``None`` the 5 most confusing, an int ``k``
        the ``k`` most confusing (0 for none), or explicit indices.
    class_names : sequence of str, optional
        Names for the legend (``class_names[c]`` for label ``c``).
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.
    save : str or path, optional
        Also write the figure there (format from the extension, e.g. ``.png``).
    dpi : float, default 150
        Resolution used with ``save``.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes (plus a colorbar when there are more than 20 classes; up to
        20 classes get a legend).

    Examples
    --------
    >>> probs = model.predict(x_test)                       # doctest: +SKIP
    >>> plot_margins(probs, y_test, save="margins.png")     # doctest: +SKIP
    """
    p = as_probs(probs)
    labels = check_y(p, y)
    n, c = p.shape
    c1, p1, _, p2 = top2(p)
    m = p1 - p2
    if highlight is None:
        hi = most_confusing(p, k=5)
    elif isinstance(highlight, int | np.integer) and not isinstance(highlight, bool):
        hi = most_confusing(p, k=int(highlight))
    else:
        hi = _indices(highlight, n, "highlight")

    fig, ax = _figure_and_axes(ax, (9, 4.5))
    from matplotlib.lines import Line2D

    x = np.arange(n)
    handles = []  # legend entries drawn at a readable size, whatever the point size
    if c <= 20:
        from matplotlib import colormaps

        cmap = colormaps["tab10" if c <= 10 else "tab20"]
        for k in np.unique(labels):
            sel = labels == k
            ax.scatter(x[sel], m[sel], s=8, alpha=0.7, color=cmap(int(k)), linewidths=0)
            handles.append(Line2D([], [], marker="o", linestyle="", color=cmap(int(k)),
                                  markersize=5, label=_name(int(k), class_names)))
    else:
        points = ax.scatter(x, m, c=labels, cmap="viridis", s=8, alpha=0.7, linewidths=0)
        fig.colorbar(points, ax=ax, label="true label")
    if hi.size:
        ax.scatter(hi, m[hi], s=140, facecolors="none", edgecolors="red", linewidths=1.5)
        handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none",
                              markeredgecolor="red", markersize=9,
                              label="most confusing" if highlight is None or np.ndim(highlight) == 0
                              else "highlighted"))
        # Labels sit at five different heights (the points themselves are all near 0 and may
        # be close in index), each joined to its point by a thin line, so none overlap.
        for j, i in enumerate(sorted(hi.tolist())):
            ax.annotate(f"#{i}: {_name(labels[i], class_names)}->{_name(c1[i], class_names)}",
                        (i, m[i]), xytext=(i, 0.22 + 0.13 * (j % 5)), textcoords="data",
                        ha="left" if i < n / 2 else "right", va="center", fontsize=8,
                        color="darkred", bbox={"boxstyle": "round,pad=0.2", "fc": "white",
                                               "ec": "none", "alpha": 0.85},
                        arrowprops={"arrowstyle": "-", "color": "darkred", "lw": 0.6})
    if handles:
        ax.legend(handles=handles, title="true label" if c <= 20 else None, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.set_xlabel("example index")
    ax.set_ylabel("margin = p(top-1) - p(top-2)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"Prediction margins of {n} examples (small = confusing)")
    ax.grid(alpha=0.3)
    return _finish(fig, save, dpi)


# ---- images ---------------------------------------------------------------------------------

def plot_images(images: Any, true: Any = None, pred: Any = None, probs: Any = None,
                indices: Any = None, ncols: int = 5, *, class_names: Sequence[Any] | None = None,
                cmap: str = "gray_r", colorbar: bool = False, save: PathLike | None = None,
                dpi: float = 150) -> Figure:
    """A grid of images as heatmaps, titled with true and predicted labels.

    Each panel is titled ``"true 7 / pred 2 (0.51 vs 7: 0.47)"``: the true label,
    the predicted label, and the top-1 and top-2 probabilities (the parts you
    give), with the example's index on the last line. When the true class is
    neither of the top two, a line ``p(true 7) = 0.003`` shows its probability.

    Parameters
    ----------
    images : (N, H, W), (N, H, W, 1 or 3) or flat (N, H*W) array_like
        The inputs, e.g. ``x_test`` (N, 28, 28) or flattened (N, 784)
        (reshaped to square). Pixel values are shown as they are.
    true : (N,) array_like of int, optional
        True labels (one-hot rows accepted).
    pred : (N,) array_like of int, optional
        Predicted labels; default ``probs.argmax(axis=1)`` when ``probs`` is given.
    probs : (N, C) array_like of float, optional
        Class probabilities; adds "(top-1 vs top-2)" to the titles.
    indices : (K,) array_like of int, optional
        Which examples to show (into the arrays above), e.g.
        ``most_confusing(probs, k=5)``; default all of them.
    ncols : int, default 5
        Panels per row.
    class_names : sequence of str, optional
        Names shown instead of class numbers.
    cmap : str, default "gray_r"
        Colormap for single-channel images (``"gray_r"``: dark ink on white, as
        MNIST digits are usually drawn; ``"viridis"`` shows the values better).
    colorbar : bool, default False
        Add a colorbar to each panel.
    save : str or path, optional
        Also write the figure there.
    dpi : float, default 150
        Resolution used with ``save``.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per image shown (two with ``colorbar=True``).

    Examples
    --------
    >>> worst = most_confusing(probs, k=5)                                  # doctest: +SKIP
    >>> plot_images(x_test, y_test, probs=probs, indices=worst, save="w.png")  # doctest: +SKIP
    """
    imgs = _as_images(images)
    n = imgs.shape[0]
    num_classes = None
    p1 = p2 = c2 = None
    if probs is not None:
        p = as_probs(probs)
        if p.shape[0] != n:
            raise ValueError(f"probs has {p.shape[0]} rows but there are {n} images (probs shape "
                             f"{p.shape}, images shape {np.shape(images)}).")
        num_classes = p.shape[1]
        c1, p1, c2, p2 = top2(p)
        p_all = p
        if pred is None:
            pred = c1
    true_l = None if true is None else as_labels(true, n, num_classes, name="true")
    pred_l = None if pred is None else as_labels(pred, n, num_classes, name="pred")
    idx = np.arange(n) if indices is None else _indices(indices, n)
    if idx.size == 0:
        raise ValueError("plot_images: there are no images to show (empty images or indices).")
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}.")

    cols = min(int(ncols), idx.size)
    rows = math.ceil(idx.size / cols)
    fig = _new_figure((2.3 * cols + (0.5 * cols if colorbar else 0), 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, i in zip(axes, idx, strict=False):
        im = ax.imshow(imgs[i], cmap=None if imgs[i].ndim == 3 else cmap)
        ax.set_xticks([])
        ax.set_yticks([])
        parts = []
        if true_l is not None:
            parts.append(f"true {_name(true_l[i], class_names)}")
        if pred_l is not None:
            parts.append(f"pred {_name(pred_l[i], class_names)}")
        head = " / ".join(parts)
        if p1 is not None:
            head += f" ({p1[i]:.2f} vs {_name(c2[i], class_names)}: {p2[i]:.2f})"
            if true_l is not None and true_l[i] not in (c1[i], c2[i]):  # else shown already
                head += f"\np(true {_name(true_l[i], class_names)}) = {p_all[i, true_l[i]]:.3g}"
        ax.set_title(f"{head}\n#{i}" if head else f"#{i}", fontsize=8,
                     color="darkred" if true_l is not None and pred_l is not None
                     and true_l[i] != pred_l[i] else "black")
        if colorbar:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    for ax in axes[idx.size:]:
        ax.remove()
    return _finish(fig, save, dpi)


# ---- confusion matrix -------------------------------------------------------------------------

def plot_confusion_matrix(cm: Any, labels: Sequence[Any] | None = None,
                          normalize: bool | str = False, *, cmap: str = "Blues",
                          title: str | None = None, ax: Axes | None = None,
                          save: PathLike | None = None, dpi: float = 150) -> Figure:
    """An annotated heatmap of a confusion matrix (rows true, columns predicted).

    Parameters
    ----------
    cm : (C, C) array_like
        Counts, e.g. from :func:`~unafraid.explore.confusion_matrix`.
    labels : sequence of str, optional
        Class names for the ticks (default 0..C-1).
    normalize : bool or {"true", "pred", "all"}, default False
        ``True`` or ``"true"``: divide each row by its total, so a cell is the
        fraction of that true class predicted as the column (the diagonal is
        per-class recall). ``"pred"``: divide each column by its total
        (precision). ``"all"``: divide by the number of examples. Empty
        rows/columns give 0.
    cmap : str, default "Blues"
    title : str, optional
        Default "Confusion matrix".
    ax : matplotlib Axes, optional
        Draw into this Axes.
    save : str or path, optional
        Also write the figure there.
    dpi : float, default 150

    Returns
    -------
    matplotlib.figure.Figure
        The heatmap Axes and its colorbar. Cells carry their count (or
        fraction, 2 decimals) when ``C <= 30``.

    Examples
    --------
    >>> cm = confusion_matrix(y_test, probs)                        # doctest: +SKIP
    >>> plot_confusion_matrix(cm, normalize=True, save="cm.png")    # doctest: +SKIP
    """
    a = np.asarray(cm)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {a.shape}. Build one with "
                         f"unafraid.explore.confusion_matrix(y_true, y_pred).")
    if a.dtype.kind not in "fiu" or not np.all(np.isfinite(a)) or (a.size and a.min() < 0):
        raise ValueError("cm must hold non-negative finite counts.")
    c = a.shape[0]
    if labels is not None and len(labels) != c:
        raise ValueError(f"labels has {len(labels)} entries but cm is {c}x{c}; give one label per "
                         f"class.")
    modes = {True: "true", False: None, "true": "true", "pred": "pred", "all": "all", None: None}
    if normalize not in modes:
        raise ValueError(f"normalize must be True, False, 'true', 'pred' or 'all', got "
                         f"{normalize!r}.")
    mode = modes[normalize]
    values = a.astype(np.float64)
    if mode is not None:
        totals = {"true": values.sum(axis=1, keepdims=True),
                  "pred": values.sum(axis=0, keepdims=True), "all": values.sum()}[mode]
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    fig, ax = _figure_and_axes(ax, (max(4.0, 0.5 * c + 2.5), max(3.5, 0.5 * c + 1.5)))
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=1 if mode else None)
    fig.colorbar(im, ax=ax, label="fraction" if mode else "count")
    names = [str(v) for v in labels] if labels is not None else [str(i) for i in range(c)]
    ax.set_xticks(range(c), names, rotation=45 if max(map(len, names)) > 2 else 0,
                  ha="right" if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    suffix = {None: "", "true": " (each row sums to 1)", "pred": " (each column sums to 1)",
              "all": " (fractions of all examples)"}[mode]
    ax.set_title((title or "Confusion matrix") + suffix)
    if c <= 30:
        top = 1.0 if mode else float(values.max())  # the colour scale's upper end
        for i in range(c):
            for j in range(c):
                text = f"{values[i, j]:.2f}" if mode or a.dtype.kind == "f" else f"{int(a[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8 if c <= 12 else 6,
                        color="white" if top and values[i, j] > top / 2 else "black")
    return _finish(fig, save, dpi)


# ---- saliency ---------------------------------------------------------------------------------

def plot_saliency(image: Any, saliency_map: Any, title: str | None = None, *,
                  cmap: str = "gray_r", save: PathLike | None = None, dpi: float = 150) -> Figure:
    """An image and its saliency map side by side.

    The saliency (e.g. from :func:`~unafraid.explore.saliency`) is drawn with a
    diverging colormap centred at zero: red where a brighter pixel would raise
    the class score, blue where it would lower it, white where it does not matter.

    Parameters
    ----------
    image : (H, W), (H, W, 1 or 3) or flat (H*W,) array_like
        One input (leading axes of length 1 are dropped, so ``x[i:i+1]`` works).
    saliency_map : array_like of the same shape
        Its gradient. A 3-channel map is summed over its channels.
    title : str, optional
        A title over both panels, e.g. ``"true 7 / pred 2"``.
    cmap : str, default "gray_r"
        Colormap for the image.
    save : str or path, optional
        Also write the figure there.
    dpi : float, default 150

    Returns
    -------
    matplotlib.figure.Figure
        Three Axes: the image, the saliency map, and its colorbar.

    Examples
    --------
    >>> s = saliency(model, x_test[:5])                       # doctest: +SKIP
    >>> plot_saliency(x_test[0], s[0], title="example 0")     # doctest: +SKIP
    """
    img = _as_image(image, "image")
    sal = _as_image(saliency_map, "saliency_map").astype(np.float64)
    if sal.ndim == 3:
        sal = sal.sum(axis=-1)
    if sal.shape != img.shape[:2]:
        raise ValueError(f"saliency_map has shape {np.shape(saliency_map)} but image has shape "
                         f"{np.shape(image)}; pass the saliency of this very image (s[i] for "
                         f"x[i]).")
    fig = _new_figure((7.5, 3.6))
    ax_img, ax_sal = fig.subplots(1, 2)
    ax_img.imshow(img, cmap=None if img.ndim == 3 else cmap)
    ax_img.set_title("image")
    bound = float(np.max(np.abs(sal))) if sal.size else 0.0
    bound = bound if bound > 0 and np.isfinite(bound) else 1.0
    im = ax_sal.imshow(sal, cmap="RdBu_r", vmin=-bound, vmax=bound)
    ax_sal.set_title("saliency: d score / d pixel")
    fig.colorbar(im, ax=ax_sal, fraction=0.046, pad=0.04)
    for a in (ax_img, ax_sal):
        a.set_xticks([])
        a.set_yticks([])
    if title:
        fig.suptitle(title)
    return _finish(fig, save, dpi)


# ---- training history -------------------------------------------------------------------------

def _as_history(history: Any) -> dict[str, np.ndarray]:
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping):
        raise TypeError(f"history must be a dict of lists (Keras's History.history) or an object "
                        f"with a .history dict (what model.fit returns), got "
                        f"{type(history).__name__}.")
    if not h:
        raise ValueError("history is empty: nothing was recorded. Did fit run for at least one "
                         "epoch?")
    out = {}
    for key, values in h.items():
        v = np.asarray(values, dtype=np.float64) if not isinstance(values, str) else None
        if v is None or v.ndim != 1:
            raise ValueError(f"history[{key!r}] must be a list of numbers, one per epoch, got "
                             f"{values!r}.")
        out[str(key)] = v
    return out


def plot_history(history: Any, *, metrics: Sequence[str] | None = None,
                 save: PathLike | None = None, dpi: float = 150) -> Figure:
    """Training curves: one panel per metric, training and validation together.

    Parameters
    ----------
    history : dict of str to list of float, or object with a ``.history`` dict
        What ``model.fit`` returns (or its ``.history``): keys such as
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``. ``val_<m>`` is
        drawn in the panel of ``<m>``.
    metrics : sequence of str, optional
        Which metrics to show (names without ``val_``), in this order; default all.
    save : str or path, optional
        Also write the figure there.
    dpi : float, default 150

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per metric, titled with its name; x axis = epoch, 1-based.
        With 20 epochs or fewer each epoch is marked, so a single epoch shows
        as points; after one epoch each point is centred and labelled with its value.

    Examples
    --------
    >>> history = model.fit(x, y, validation_split=0.1, epochs=5)   # doctest: +SKIP
    >>> plot_history(history, save="history.png")                    # doctest: +SKIP
    """
    h = _as_history(history)
    names: list[str] = []
    for key in h:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    if metrics is not None:
        missing = [m for m in metrics if m not in names]
        if missing:
            raise ValueError(f"metrics {missing} are not in the history; it has {names}.")
        names = list(metrics)
    if not names:
        raise ValueError("metrics is empty: name at least one metric to plot.")
    from matplotlib.ticker import MaxNLocator

    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig = _new_figure((4.2 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        for key, label, style in ((name, "train", "-"), (f"val_{name}", "validation", "--")):
            if key in h:
                v = h[key]
                ax.plot(np.arange(1, v.size + 1), v, style, marker="o" if v.size <= 20 else None,
                        markersize=4, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        epochs = max(h[k].size for k in (name, f"val_{name}") if k in h)
        if epochs == 1:  # one point per curve: centre it and write its value beside it
            ax.set_xlim(0.5, 1.5)
            ax.set_xticks([1])
            for key in (name, f"val_{name}"):
                if key in h:
                    ax.annotate(f"{h[key][0]:.4g}", (1, h[key][0]), xytext=(8, 0),
                                textcoords="offset points", va="center", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes[len(names):]:
        ax.remove()
    return _finish(fig, save, dpi)
