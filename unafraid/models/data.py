"""Checking and preparing training data: every problem found here is named, with the fix."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..engine import Tensor
from ..losses import all_finite


def to_array(x: Any, what: str, dtype: Any = None) -> np.ndarray:
    """A NumPy array from arrays, lists, pandas objects or AnnData, with a clear error otherwise."""
    if hasattr(x, "X") and hasattr(x, "obs") and hasattr(x, "var"):  # AnnData
        x = x.X
        if hasattr(x, "toarray"):
            x = x.toarray()
    if hasattr(x, "toarray") and not isinstance(x, np.ndarray):  # scipy.sparse
        x = x.toarray()
    if hasattr(x, "dtypes") and hasattr(x, "columns"):  # pandas DataFrame
        from pandas.api.types import is_numeric_dtype

        bad = [f"{c!r} ({t})" for c, t in x.dtypes.items() if not is_numeric_dtype(t)]
        if bad:
            raise TypeError(f"{what} is a DataFrame with non-numeric columns: {', '.join(bad)}. "
                            f"Encode them as numbers (e.g. pandas.get_dummies) or drop them.")
        x = x.to_numpy()
    elif hasattr(x, "to_numpy"):  # pandas Series
        x = x.to_numpy()
    from ..engine.tensor import Tensor
    if isinstance(x, Tensor):
        x = x.data
    try:
        a = np.asarray(x) if dtype is None else np.asarray(x, dtype)
    except (ValueError, TypeError) as e:
        lengths = _row_lengths(x)
        if lengths:
            raise ValueError(
                f"{what} is a list of rows of different lengths ({lengths}), so it is not a "
                f"table of numbers. Every example needs the same number of values: pad the "
                f"short rows (e.g. with zeros) or truncate the long ones to a common length "
                f"first.") from e
        raise TypeError(f"{what} could not be converted to a numeric array ({e}). Pass a NumPy "
                        f"array of numbers with one row per example.") from e
    if a.dtype.kind not in "biuf":
        hint = (" For class names as labels, number them: classes, y = np.unique(y, "
                "return_inverse=True)." if what.startswith("y") and a.dtype.kind in "OUS" else "")
        raise TypeError(f"{what} has dtype {a.dtype} ({_kind_name(a)}), but must be numeric. "
                        f"Convert it with np.asarray(x, dtype='float32'), encoding any strings "
                        f"or categories as numbers first.{hint}")
    return a


def _row_lengths(x: Any) -> str:
    """For a list of rows of unequal lengths, a short description of those lengths; else ''."""
    if not isinstance(x, list | tuple) or not x or not all(hasattr(r, "__len__") for r in x):
        return ""
    lengths = sorted({len(r) for r in x})
    if len(lengths) < 2:
        return ""
    shown = ", ".join(str(n) for n in lengths[:5]) + (", ..." if len(lengths) > 5 else "")
    return f"lengths {shown}"


def _kind_name(a: np.ndarray) -> str:
    return {"O": "Python objects", "U": "strings", "S": "bytes", "M": "dates",
            "m": "time deltas"}.get(a.dtype.kind, "non-numeric")


def check_finite(a: np.ndarray, what: str) -> None:
    """Refuse NaN or infinity, saying how many and where the first one is."""
    if all_finite(a):  # blockwise: no dataset-sized temporary
        return
    bad = ~np.isfinite(a)
    first = np.unravel_index(int(np.argmax(bad)), a.shape)
    kind = "NaN" if np.isnan(a[first]) else "infinite"
    raise ValueError(f"{what} contains {int(bad.sum())} non-finite values (NaN or inf); the "
                     f"first, at index {tuple(int(i) for i in first)}, is {kind}. Remove or "
                     f"impute them first (e.g. np.nan_to_num, or drop those rows).")


def check_inputs(xs: list[np.ndarray], what: str = "x") -> list[np.ndarray]:
    """Inputs as float32 arrays: finite, non-empty, with a warning for unscaled uint8 images."""
    out = []
    for i, a in enumerate(xs):
        name = what if len(xs) == 1 else f"{what}[{i}]"
        if a.ndim == 0 or a.shape[0] == 0:
            raise ValueError(f"{name} is empty (shape {a.shape}); fit needs at least one example. "
                             f"Check the filtering or splitting that produced it (a mask that "
                             f"selected no rows, or a slice past the end).")
        if a.dtype == np.uint8 and a.size and a.max() > 1:
            warnings.warn(f"{name} holds uint8 values up to {a.max()} (unscaled pixels?). Networks "
                          f"train much better on inputs near [0, 1]: pass x / 255.0.",
                          UserWarning, stacklevel=4)
        check_finite(a, name)
        out.append(a if a.dtype == np.float32 else a.astype(np.float32))
    return out


def same_length(arrays: dict[str, np.ndarray]) -> int:
    """The common number of examples, or an error naming every length."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        names = ", ".join(lengths)
        raise ValueError(f"All arrays must have one row per example, but {detail} rows. Check "
                         f"that {names} come from the same examples (and were split or filtered "
                         f"the same way).")
    return next(iter(lengths.values()))


def stratified_split(y: np.ndarray | None, n: int, fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random train / validation indices; for class labels, each class split in proportion."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.number) or not (
            0 < fraction < 1):
        raise ValueError(f"validation_split must be a fraction strictly between 0 and 1, got "
                         f"{fraction!r}. E.g. validation_split=0.2 holds out 20% of the examples; "
                         f"a percentage such as 20 must be divided by 100.")
    labels = None
    if y is not None and y.ndim >= 1 and len(y) == n:
        flat = y.reshape(n, -1)
        if flat.shape[1] == 1 and np.all(flat == np.round(flat)) and len(np.unique(flat)) <= 1000:
            labels = flat[:, 0]
        elif flat.shape[1] > 1 and np.all((flat == 0) | (flat == 1)):
            labels = flat.argmax(1)
    if labels is None:
        perm = rng.permutation(n)
        n_val = max(1, int(round(n * fraction)))
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    val = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        val.append(idx[:int(round(len(idx) * fraction))])
    val_idx = np.sort(np.concatenate(val))
    if len(val_idx) == 0:
        raise ValueError(f"validation_split={fraction} leaves no validation examples among {n}.")
    return np.setdiff1d(np.arange(n), val_idx), val_idx


def looks_numeric_list(x: Any) -> bool:
    """A plain list of numbers or of equal-length rows is one array, not several inputs."""
    return bool(x) and not any(isinstance(v, np.ndarray | Tensor) or hasattr(v, "to_numpy")
                               for v in x)
