"""Tables from predicted probabilities: margins, the most confusing examples, confusion matrices.

Every function here takes what a classifier's ``predict`` returns, an ``(N, C)``
array of class probabilities (rows are softmax outputs), and, where needed, the
true labels. Anything with ``__array__`` works as input: NumPy arrays, unafraid
Tensors, pandas DataFrames.

The vocabulary, for one example with probability row ``p``:

* ``top1`` / ``top2``: the most and second most probable classes;
* ``margin = p[top1] - p[top2]``: in ``[0, 1]``, small when the model hesitates
  between two classes (these are the "confusing" examples);
* ``entropy = -sum_c p[c] log p[c]`` (natural log; ``0 log 0 = 0``): 0 for a
  certain prediction, ``log C`` for a uniform one;
* ``loss = -log p[true]``: the per-example cross-entropy that training minimises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["margins", "confusion_table", "most_confusing", "confusion_matrix", "misclassified",
           "top2", "TABLE_COLUMNS"]

#: Keras's ``epsilon()``: probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before the log.
EPSILON = 1e-7

#: Column names (and structured-array fields) of :func:`confusion_table`, in order.
TABLE_COLUMNS = ("index", "true", "predicted", "top1", "top1_prob", "top2", "top2_prob", "margin",
                 "entropy", "loss", "correct")

_LOGITS_HINT = ("these look like logits: apply softmax first or pass model outputs with a "
                "softmax layer (e.g. Dense(10, activation='softmax')), or convert them with "
                "unafraid.softmax(logits).numpy()")


# ---- input checking --------------------------------------------------------------------------

def as_probs(probs: Any, name: str = "probs") -> np.ndarray:
    """Check and return class probabilities as a float64 ``(N, C)`` array.

    A Keras binary classifier's ``(N, 1)`` sigmoid output ``p`` becomes the
    two columns ``[1 - p, p]`` (class 1 is "positive").
    """
    a = np.asarray(probs)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be numeric class probabilities, got an array of dtype "
                        f"{a.dtype}. Pass model.predict(x), an (N, C) float array.")
    if a.ndim != 2:
        hint = (" A 1-D array looks like labels or a single example: probabilities have one row "
                "per example and one column per class (use p.reshape(1, -1) for one example, or "
                "p.reshape(-1, 1) for a sigmoid output)." if a.ndim == 1 else "")
        raise ValueError(f"{name} must be a 2-D (N, C) array of class probabilities, got shape "
                         f"{a.shape}.{hint}")
    a = a.astype(np.float64)
    if a.shape[1] == 1:  # sigmoid output of a binary classifier
        a = np.concatenate([1.0 - a, a], axis=1)
    if a.shape[1] < 2:
        raise ValueError(f"{name} has shape {a.shape}: there must be at least 2 classes (columns).")
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at row {bad[0]}, column "
                         f"{bad[1]}: {a[tuple(bad)]}). Check the model's outputs: training may "
                         f"have diverged (try a smaller learning rate).")
    if a.size:
        lo, hi = a.min(), a.max()
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(f"{name} holds values from {lo:.4g} to {hi:.4g}, outside [0, 1]: "
                             f"{_LOGITS_HINT}.")
        sums = a.sum(axis=1)
        worst = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[worst] - 1.0) > 1e-3:
            raise ValueError(f"rows of {name} must sum to 1, but row {worst} sums to "
                             f"{sums[worst]:.6g}: {_LOGITS_HINT}. (Multi-label sigmoid outputs "
                             f"are not supported here.)")
        a = np.clip(a, 0.0, 1.0)
    return a


def as_labels(y: Any, n: int | None, num_classes: int | None, name: str = "y",
               probs_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check and return integer labels as an int64 ``(N,)`` array.

    Accepts integer labels ``(N,)`` or ``(N, 1)``, integer-valued floats, and
    one-hot rows ``(N, C)`` (Keras's ``to_categorical``), which become their argmax.
    """
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    elif a.ndim == 2 and a.shape[1] > 1:  # one-hot (or probabilities used as targets)
        if a.dtype.kind not in "fiub" or not np.all((a == 0) | (a == 1)) or \
                not np.all(a.sum(axis=1) == 1):
            raise ValueError(f"{name} has shape {a.shape}: a 2-D {name} must be one-hot rows "
                             f"(exactly one 1 per row). Pass integer labels of shape (N,) instead, "
                             f"e.g. {name}.argmax(axis=1).")
        if num_classes is not None and a.shape[1] != num_classes:
            raise ValueError(f"{name} is one-hot with {a.shape[1]} classes but there are "
                             f"{num_classes} classes" + _shapes_note(probs_shape, a.shape, name))
        a = a.argmax(axis=1)
    if a.ndim != 1:
        raise ValueError(f"{name} must be integer labels of shape (N,), got shape {a.shape}"
                         + _shapes_note(probs_shape, a.shape, name))
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integer class labels, got dtype {a.dtype}.")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError(f"{name} must hold integer class labels; got non-integer values such "
                             f"as {a[~(np.isfinite(a) & (a == np.round(a)))][0]!r}.")
    a = a.astype(np.int64)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} labels but there are {n} examples"
                         + _shapes_note(probs_shape, a.shape, name)
                         + " Pass the labels of the same examples you predicted.")
    if a.size and num_classes is not None and (a.min() < 0 or a.max() >= num_classes):
        bad = a[(a < 0) | (a >= num_classes)]
        raise ValueError(f"{name} holds labels outside [0, {num_classes}) (e.g. {int(bad[0])}; "
                         f"range {int(a.min())}..{int(a.max())}): there are {num_classes} classes. "
                         f"Labels must be 0-based class indices.")
    if a.size and a.min() < 0:
        raise ValueError(f"{name} holds negative labels (min {int(a.min())}): labels must be "
                         f"0-based class indices.")
    return a


def _shapes_note(probs_shape: tuple[int, ...] | None, y_shape: tuple[int, ...], name: str) -> str:
    if probs_shape is None:
        return "."
    return f" (probs has shape {probs_shape}, {name} has shape {y_shape})."


def check_y(probs: np.ndarray, y: Any, name: str = "y") -> np.ndarray:
    """``as_labels`` for labels that must match ``probs`` (N, C): N labels in ``[0, C)``."""
    return as_labels(y, probs.shape[0], probs.shape[1], name=name, probs_shape=probs.shape)


# ---- per-example quantities ------------------------------------------------------------------

def top2(probs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two most probable classes of each example and their probabilities.

    Ties go to the lower class index (so ``top1`` equals ``probs.argmax(axis=1)``).

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities (rows sum to 1).

    Returns
    -------
    top1, top1_prob, top2, top2_prob : (N,) ndarrays
        int64 class indices and float64 probabilities.

    Examples
    --------
    >>> c1, p1, c2, p2 = top2([[0.1, 0.6, 0.3]])
    >>> int(c1[0]), float(p1[0]), int(c2[0]), float(p2[0])
    (1, 0.6, 2, 0.3)
    """
    p = as_probs(probs)
    return _top2(p)


def _top2(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-p, axis=1, kind="stable")[:, :2].astype(np.int64)
    rows = np.arange(p.shape[0])
    return order[:, 0], p[rows, order[:, 0]], order[:, 1], p[rows, order[:, 1]]


def margins(probs: Any) -> np.ndarray:
    """Top-1 minus top-2 probability of each example (small = confusing).

    ``margin[n] = p[n, top1] - p[n, top2]`` where ``top1`` and ``top2`` are the
    most and second most probable classes of example ``n``. It lies in
    ``[0, 1]``: 0 when the model is torn between two classes, near 1 when it
    is sure.

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities, e.g. ``model.predict(x_test)`` (rows sum to 1).
        A binary classifier's ``(N, 1)`` sigmoid output is read as ``[1 - p, p]``.

    Returns
    -------
    (N,) ndarray of float64

    Raises
    ------
    ValueError
        If ``probs`` is not 2-D, or does not look like probabilities (logits).

    Examples
    --------
    >>> margins([[0.1, 0.6, 0.3], [0.5, 0.49, 0.01]]).round(2)
    array([0.3 , 0.01])
    """
    p = as_probs(probs)
    _, p1, _, p2 = _top2(p)
    return p1 - p2


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.maximum(-terms.sum(axis=1), 0.0)


def _loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    picked = p[np.arange(p.shape[0]), y]
    return -np.log(np.clip(picked, EPSILON, 1.0 - EPSILON))


def confusion_table(probs: Any, y: Any, losses: Any = None, *, as_frame: bool | None = None) -> Any:
    """One row per example: true and predicted class, top-2 probabilities, margin, entropy, loss.

    Columns (see :data:`TABLE_COLUMNS`):

    ``index`` (int64)
        Position of the example in ``probs``.
    ``true`` (int64)
        The true label ``y[n]``.
    ``predicted`` (int64)
        ``argmax_c p[n, c]`` (the same as ``top1``).
    ``top1``, ``top2`` (int64); ``top1_prob``, ``top2_prob`` (float64)
        The most and second most probable classes and their probabilities.
    ``margin`` (float64)
        ``top1_prob - top2_prob`` (small = confusing).
    ``entropy`` (float64)
        ``-sum_c p[n, c] log p[n, c]`` in nats (natural log, ``0 log 0 = 0``).
    ``loss`` (float64)
        ``-log clip(p[n, y[n]], 1e-7, 1 - 1e-7)``: Keras's categorical
        cross-entropy of that example (or the ``losses`` you pass).
    ``correct`` (bool)
        ``predicted == true``.

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities (rows sum to 1), e.g. ``model.predict(x_test)``.
    y : (N,) array_like of int
        True labels in ``[0, C)``; one-hot ``(N, C)`` rows are accepted too.
    losses : (N,) array_like of float, optional
        Per-example losses to show instead of the cross-entropy computed here
        (e.g. from a custom loss).
    as_frame : bool, optional
        ``True``: return a pandas DataFrame (error if pandas is missing).
        ``False``: return a NumPy structured array. Default: a DataFrame when
        pandas can be imported, else the structured array.

    Returns
    -------
    pandas.DataFrame or numpy structured ndarray of shape (N,)
        Same column / field names either way, in example order. Sort it with
        ``table.sort_values("margin")`` (pandas) or ``np.sort(table, order="margin")``.

    Examples
    --------
    >>> t = confusion_table([[0.1, 0.6, 0.3], [0.7, 0.2, 0.1]], [2, 0], as_frame=False)
    >>> t["predicted"].tolist(), t["correct"].tolist(), t["margin"].round(2).tolist()
    ([1, 0], [False, True], [0.3, 0.5])
    """
    p = as_probs(probs)
    labels = check_y(p, y)
    n = p.shape[0]
    c1, p1, c2, p2 = _top2(p)
    if losses is None:
        loss = _loss(p, labels)
    else:
        loss = np.asarray(losses, dtype=np.float64)
        if loss.shape != (n,):
            raise ValueError(f"losses must have shape ({n},), one per example, got shape "
                             f"{loss.shape} (probs has shape {p.shape}). Pass per-example losses, "
                             f"not their mean (e.g. a loss with reduction='none').")
    columns = {
        "index": np.arange(n, dtype=np.int64), "true": labels, "predicted": c1.copy(),
        "top1": c1, "top1_prob": p1, "top2": c2, "top2_prob": p2, "margin": p1 - p2,
        "entropy": _entropy(p), "loss": loss, "correct": c1 == labels,
    }
    pd = None
    if as_frame is None or as_frame:
        try:
            import pandas as pd
        except ImportError:
            if as_frame:
                raise ImportError("confusion_table(as_frame=True) needs pandas, which is not "
                                  "installed. Install it (pip install pandas) or pass "
                                  "as_frame=False for a NumPy structured array.") from None
            pd = None
    if pd is not None:
        return pd.DataFrame(columns)
    out = np.empty(n, dtype=[(k, v.dtype) for k, v in columns.items()])
    for k, v in columns.items():
        out[k] = v
    return out


def most_confusing(probs: Any, y: Any = None, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` examples with the smallest margins (most confusing first).

    Ranked by :func:`margins` ascending; equal margins keep index order, so
    the result is deterministic.

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities (rows sum to 1).
    y : (N,) array_like of int, optional
        True labels. Only checked (length and range) so that mismatched
        inputs fail early; the ranking does not use them.
    k : int, default 5
        How many indices to return; all ``N`` (sorted) if ``k > N``.

    Returns
    -------
    (min(k, N),) ndarray of int64

    Examples
    --------
    >>> most_confusing([[0.5, 0.5], [0.9, 0.1], [0.45, 0.55]], k=2)
    array([0, 2])
    """
    p = as_probs(probs)
    if y is not None:
        check_y(p, y)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"k must be a non-negative integer (how many examples), got {k!r}.")
    _, p1, _, p2 = _top2(p)
    return np.argsort(p1 - p2, kind="stable")[:int(k)].astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts of (true, predicted) label pairs.

    ``cm[i, j]`` is the number of examples whose true label is ``i`` and whose
    predicted label is ``j``; the diagonal holds the correct predictions and
    ``cm.sum(axis=1)`` the number of examples of each true class.

    Parameters
    ----------
    y_true : (N,) array_like of int
        True labels (one-hot ``(N, C)`` rows are accepted too).
    y_pred : (N,) array_like of int, or (N, C) array_like of float
        Predicted labels, or class probabilities (their argmax is used).
    num_classes : int, optional
        ``C``. Default: the number of columns of ``y_pred`` when it holds
        probabilities, else ``max(y_true.max(), y_pred.max()) + 1``.

    Returns
    -------
    (C, C) ndarray of int64
        Rows are true labels, columns predicted labels.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    pred = np.asarray(y_pred)
    if pred.ndim == 2 and pred.shape[1] > 1:
        p = as_probs(pred, name="y_pred")
        if num_classes is None:
            num_classes = p.shape[1]
        elif p.shape[1] != num_classes:
            raise ValueError(f"y_pred has {p.shape[1]} class columns (shape {p.shape}) but "
                             f"num_classes={num_classes}.")
        pred = p.argmax(axis=1)
    if num_classes is not None and (isinstance(num_classes, bool) or
                                    not isinstance(num_classes, int | np.integer) or
                                    num_classes < 1):
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}.")
    true = as_labels(y_true, None, num_classes, name="y_true")
    pred = as_labels(pred, None, num_classes, name="y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"y_true and y_pred must describe the same examples, but y_true has "
                         f"shape {np.shape(y_true)} and y_pred has shape {np.shape(y_pred)}.")
    if num_classes is None:
        num_classes = int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    c = int(num_classes)
    return np.bincount(true * c + pred, minlength=c * c).reshape(c, c).astype(np.int64)


def misclassified(probs: Any, y: Any) -> np.ndarray:
    """Indices of the wrongly predicted examples, most confidently wrong first.

    An example is misclassified when ``argmax_c p[n, c] != y[n]``; they are
    sorted by ``p[n, argmax]`` (the probability given to the wrong class),
    descending, with equal confidences in index order.

    Parameters
    ----------
    probs : (N, C) array_like of float
        Class probabilities (rows sum to 1).
    y : (N,) array_like of int
        True labels in ``[0, C)`` (one-hot rows accepted).

    Returns
    -------
    (M,) ndarray of int64
        ``M`` is the number of errors (0 when all are right).

    Examples
    --------
    >>> misclassified([[0.6, 0.4], [0.1, 0.9], [0.2, 0.8]], [1, 1, 0])
    array([2, 0])
    """
    p = as_probs(probs)
    labels = check_y(p, y)
    c1, p1, _, _ = _top2(p)
    wrong = np.flatnonzero(c1 != labels)
    return wrong[np.argsort(-p1[wrong], kind="stable")].astype(np.int64)
