"""``tf.keras.utils``: seeding and label helpers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..random import set_random_seed


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Integer labels ``(N,)`` to one-hot rows ``(N, num_classes)``.

    Examples
    --------
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            bad = y.ravel()[np.flatnonzero(~np.isfinite(y.ravel()) | (y.ravel() != np.round(
                y.ravel())))[0]]
            raise ValueError(f"to_categorical needs integer class labels 0, 1, 2...; got the "
                             f"non-integer value {bad}. If these are class codes, number them "
                             f"first: classes, y = np.unique(y, return_inverse=True); if they are "
                             f"already probabilities or real values, they need no one-hot "
                             f"encoding.")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise TypeError(f"to_categorical needs integer class labels, got dtype {y.dtype}. For "
                        f"class names, number them first: classes, y = np.unique(y, "
                        f"return_inverse=True).")
    if num_classes is None and y.size == 0:
        raise ValueError("to_categorical got no labels (an empty array) and no num_classes: pass "
                         "num_classes= to get an array of shape (0, num_classes).")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= n):
        fix = (f"pass num_classes={int(y.max()) + 1}" if y.min() >= 0 else
               "drop or re-number the negative labels (classes are numbered from 0)")
        raise ValueError(f"to_categorical: labels must lie in [0, {n}) for num_classes={n}; got "
                         f"values from {y.min()} to {y.max()}. Check the labels, or {fix}.")
    return np.eye(n, dtype=dtype)[y]


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis``."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


__all__ = ["set_random_seed", "to_categorical", "normalize"]
