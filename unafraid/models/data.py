"""Checking and preparing training data: every problem found here is named, with the fix."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..engine import Tensor
from ..losses import all_finite


def to_array(x: Any, what: str, dtype: Any = None) -> np.ndarray:
    """A NumPy array from arrays, lists, pandas objects or AnnData, with a clear error otherwise."""
    a = _asarray(_unwrapped(x, what), what, dtype)
    if a.dtype.kind not in "biuf":
        hint = (" For class names as labels, number them: classes, y = np.unique(y, "
                "return_inverse=True)." if what.startswith("y") and a.dtype.kind in "OUS" else "")
        raise TypeError(f"{what} has dtype {a.dtype} ({_kind_name(a)}), but must be numeric. "
                        f"Convert it with np.asarray(x, dtype='float32'), encoding any strings "
                        f"or categories as numbers first.{hint}")
    return a


def _unwrapped(x: Any, what: str) -> Any:
    """The values inside an AnnData (its ``X``), a SciPy sparse matrix (densified), a pandas
    object (numeric columns checked) or a Tensor; anything else as it is."""
    if hasattr(x, "X") and hasattr(x, "obs") and hasattr(x, "var"):  # AnnData
        x = x.X
    if hasattr(x, "toarray") and not isinstance(x, np.ndarray):  # scipy.sparse
        x = x.toarray()
    if hasattr(x, "dtypes") and hasattr(x, "columns"):  # pandas DataFrame
        return _data_frame_values(x, what)
    if hasattr(x, "to_numpy") and hasattr(x, "dtype"):  # pandas Series
        return x.to_numpy(dtype=numpy_dtype_of_column(x, f"{what} (a Series)"))
    if hasattr(x, "to_numpy"):
        return x.to_numpy()
    return x.data if isinstance(x, Tensor) else x


def _data_frame_values(frame: Any, what: str) -> np.ndarray:
    """A DataFrame's values, each column as ``numpy_dtype_of_column`` converts it; non-numeric
    columns refused by name."""
    from pandas.api.types import is_numeric_dtype

    bad = [f"{c!r} ({t})" for c, t in frame.dtypes.items() if not is_numeric_dtype(t)]
    if bad:
        raise TypeError(f"{what} is a DataFrame with non-numeric columns: {', '.join(bad)}. "
                        f"Encode them as numbers (e.g. pandas.get_dummies) or drop them.")
    return frame.astype({c: numpy_dtype_of_column(frame[c], f"{what}'s column {c!r}")
                         for c in frame.columns}).to_numpy()


def _asarray(x: Any, what: str, dtype: Any) -> np.ndarray:
    """``np.asarray(x, dtype)``, with errors that say what was wrong (ragged rows, objects)."""
    try:
        return np.asarray(x) if dtype is None else np.asarray(x, dtype)
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


def numpy_dtype_of_column(column: Any, what: str) -> np.dtype:
    """The NumPy dtype a pandas column converts to: bool -> uint8 (0 / 1), a nullable ``Int64``,
    ``Float64`` or ``boolean`` column -> its NumPy dtype when it holds no missing values (else
    an error naming the column and the fix); any other dtype as it is."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return np.dtype(np.uint8)
    if isinstance(dtype, np.dtype):
        return dtype
    missing = int(column.isna().sum())
    if missing:
        raise ValueError(
            f"{what} ({dtype}) has {missing} missing values (pd.NA), which a network cannot "
            f"use. Fill them (e.g. df[col].fillna(df[col].median())) or drop those rows "
            f"(df.dropna()) first.")
    numpy = getattr(dtype, "numpy_dtype", None)
    if numpy is None or np.dtype(numpy).kind not in "biuf":
        return np.dtype(np.float64)
    return np.dtype(np.uint8) if np.dtype(numpy).kind == "b" else np.dtype(numpy)


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
    """Refuse NaN or infinity, saying how many and where the first one is; and values that
    become infinite when cast to float32 (see :func:`check_fits_float32`)."""
    if all_finite(a):  # blockwise: no dataset-sized temporary
        check_fits_float32(a, what)
        return
    bad = ~np.isfinite(a)
    first = np.unravel_index(int(np.argmax(bad)), a.shape)
    kind = "NaN" if np.isnan(a[first]) else "infinite"
    raise ValueError(f"{what} contains {int(bad.sum())} non-finite values (NaN or inf); the "
                     f"first, at index {tuple(int(i) for i in first)}, is {kind}. Remove or "
                     f"impute them first (e.g. np.nan_to_num, or drop those rows).")


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_fits_float32(a: np.ndarray, what: str) -> None:
    """Refuse finite values too large for float32 (about 3.4e38), which the cast to float32
    would turn into inf: a float64 ``1e300`` passes a finiteness check, then overflows.

    Parameters
    ----------
    a : numpy.ndarray
        Finite values of any dtype (only float64 and wider can overflow).
    what : str
        Its name in the message, e.g. ``"x"``.

    Examples
    --------
    >>> check_fits_float32(np.array([1e300]), "x")
    Traceback (most recent call last):
    ...
    ValueError: x holds 1 values too large for float32 ...
    """
    if a.dtype.kind != "f" or a.dtype.itemsize <= 4 or a.size == 0:
        return
    if max(float(a.max()), -float(a.min())) <= FLOAT32_MAX:  # no dataset-sized temporary
        return
    big = np.abs(a) > FLOAT32_MAX
    first = np.unravel_index(int(np.argmax(big)), a.shape)
    raise ValueError(
        f"{what} holds {int(big.sum())} values too large for float32 (|value| > 3.4e38; the "
        f"first, at index {tuple(int(i) for i in first)}, is {a[first]:.3g}), which unafraid "
        f"computes in: they would become inf. Rescale {what} first (e.g. standardize each "
        f"column, (x - x.mean(0)) / x.std(0), or take np.log10 of positive values).")


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


def check_validation_split(n: int, split: Any) -> int:
    """Check ``validation_split`` for ``n`` examples; return the number of validation rows.

    The split must be a fraction strictly between 0 and 1 and leave at least one example on
    each side: ``max(1, round(n * split))`` validation rows and the rest for training.

    Parameters
    ----------
    n : int
        Number of examples.
    split : float
        The ``validation_split`` given to ``fit``.

    Returns
    -------
    int
        The number of validation examples.

    Examples
    --------
    >>> check_validation_split(100, 0.2)
    20
    """
    if isinstance(split, bool) or not isinstance(split, int | float | np.number) or not (
            0 < split < 1):
        raise ValueError(f"validation_split must be a fraction strictly between 0 and 1, got "
                         f"{split!r}. E.g. validation_split=0.2 holds out 20% of the examples; "
                         f"a percentage such as 20 must be divided by 100.")
    n_val = max(1, int(round(n * split)))
    if n - n_val < 1:
        raise ValueError(
            f"validation_split={split} of {n} example{'s' if n != 1 else ''} holds out {n_val}, "
            f"which leaves no examples to train on. Use a smaller validation_split, pass more "
            f"examples, or give validation_data=(x_val, y_val) instead.")
    return n_val


def stratified_split(y: np.ndarray | None, n: int, fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random train / validation indices; for class labels, each class split in proportion."""
    check_validation_split(n, fraction)
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
        raise ValueError(f"validation_split={fraction} leaves no validation examples among {n}: "
                         f"each class is too small to hold any out. Use a larger "
                         f"validation_split, or give validation_data=(x_val, y_val).")
    train_idx = np.setdiff1d(np.arange(n), val_idx)
    if len(train_idx) == 0:
        raise ValueError(f"validation_split={fraction} of {n} examples holds all of them out, "
                         f"which leaves no examples to train on. Use a smaller validation_split, "
                         f"pass more examples, or give validation_data=(x_val, y_val).")
    return train_idx, val_idx


# ---- checks of fit's and compile's arguments (public: Model.fit / compile call them) ---------
REGRESSION_LOSSES = frozenset({
    "mse", "mae", "mape", "msle", "meansquarederror", "meanabsoluteerror",
    "meanabsolutepercentageerror", "meansquaredlogarithmicerror", "huber", "huberloss",
    "logcosh", "cosinesimilarity", "poisson"})


def loss_name(loss: Any) -> str:
    """A loss's name, lower case without underscores: ``'mse'``, ``'meansquarederror'``..."""
    name = loss if isinstance(loss, str) else (
        getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__)
    return str(name).lower().replace("_", "")


def check_class_weight(class_weight: Any, loss: Any) -> None:
    """Refuse ``class_weight`` with a regression loss: there are no classes to weight.

    Parameters
    ----------
    class_weight : dict or None
        ``fit``'s argument.
    loss : str, Loss or callable
        The compiled loss.

    Examples
    --------
    >>> check_class_weight({0: 1.0, 1: 5.0}, "sparse_categorical_crossentropy")
    >>> check_class_weight({0: 1.0, 1: 5.0}, "mse")
    Traceback (most recent call last):
    ...
    ValueError: class_weight weights examples by their class, ...
    """
    if class_weight is None or loss_name(loss) not in REGRESSION_LOSSES:
        return
    shown = loss if isinstance(loss, str) else type(loss).__name__
    raise ValueError(
        f"class_weight weights examples by their class, but the loss {shown!r} is a regression "
        f"loss: y holds numbers to predict, not classes. To weight examples, pass "
        f"sample_weight= (one weight per row) instead; for a classifier, compile with a "
        f"classification loss such as 'sparse_categorical_crossentropy'.")


AMBIGUOUS_LOSSES = frozenset({"crossentropy", "ce", "crossentropyloss", "logloss", "xent",
                              "categoricalcrossentropyloss"})


def check_loss_name(loss: Any) -> None:
    """Refuse an ambiguous loss name such as ``'crossentropy'``, saying which loss to choose.

    Examples
    --------
    >>> check_loss_name("crossentropy")
    Traceback (most recent call last):
    ...
    ValueError: loss='crossentropy' is ambiguous: ...
    """
    if not isinstance(loss, str) or loss_name(loss).replace("-", "") not in AMBIGUOUS_LOSSES:
        return
    raise ValueError(
        f"loss={loss!r} is ambiguous: Keras has two cross-entropy losses for classes, and "
        f"which one is right depends on y. Use loss='sparse_categorical_crossentropy' when y "
        f"holds class numbers (0, 1, 2, ...; shape (N,)), or loss='categorical_crossentropy' "
        f"when y is one-hot (shape (N, n_classes), e.g. from to_categorical). For two classes "
        f"and one sigmoid output, use 'binary_crossentropy'.")


def _fits(shape: tuple[int, ...], want: tuple[int | None, ...]) -> bool:
    return len(shape) == len(want) and all(w is None or w == g
                                           for w, g in zip(want, shape, strict=True))


def check_swapped(x: np.ndarray, y: np.ndarray | None, example_shape: Any) -> None:
    """Refuse ``fit(y, x)``: x does not have the model's example shape but y does.

    Parameters
    ----------
    x, y : numpy.ndarray
        ``fit``'s first two arguments, as arrays (one row per example).
    example_shape : tuple or None
        The shape of one example the model expects (its input shape without the batch axis),
        ``None`` entries for any size; ``None`` when the model is not built yet.

    Examples
    --------
    >>> check_swapped(np.zeros(8), np.zeros((8, 4)), (4,))
    Traceback (most recent call last):
    ...
    ValueError: x and y look swapped: ...
    """
    if y is None or example_shape is None:
        return
    want = tuple(example_shape)
    if _fits(tuple(x.shape[1:]), want) or not _fits(tuple(y.shape[1:]), want):
        return
    if want[-1:] == (1,) and _fits(tuple(x.shape[1:]), want[:-1]):  # Keras adds x's last axis
        return
    raise ValueError(
        f"x and y look swapped: the model expects examples of shape {want}, and y has that "
        f"shape ({y.shape}) while x has {x.shape}. Pass the features first: "
        f"model.fit(x_features, y_labels).")


def unbatched_hint(shape: tuple[int, ...], example_shape: Any) -> str:
    """A hint when ``shape`` is one example without the batch axis (``x[None]`` fixes it), or ''.

    Examples
    --------
    >>> unbatched_hint((784,), (784,))
    ' x looks like one example without the batch axis: pass x[None] (shape (1, 784)).'
    """
    if example_shape is None or not _fits(tuple(shape), tuple(example_shape)):
        return ""
    return (f" x looks like one example without the batch axis: pass x[None] (shape "
            f"{(1, *shape)}).")


def looks_numeric_list(x: Any) -> bool:
    """A plain list of numbers or of equal-length rows is one array, not several inputs."""
    return bool(x) and not any(isinstance(v, np.ndarray | Tensor) or hasattr(v, "to_numpy")
                               for v in x)
