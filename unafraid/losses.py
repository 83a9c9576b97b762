"""Losses (``tf.keras.losses``): classes and functions with Keras 3's names, formulas and defaults.

A loss object is called as ``loss(y_true, y_pred, sample_weight=None)`` and
returns a scalar ``Tensor`` (or, with ``reduction=None``, one value per
example) that can be differentiated with respect to ``y_pred``: every loss is
built only from unafraid's engine ops. The functions (``mean_squared_error``,
``sparse_categorical_crossentropy``...) return the per-example values.

Reductions (Keras 3): ``"sum_over_batch_size"`` (default; also ``"mean"``)
divides the weighted sum by the number of values; ``"sum"`` sums;
``"mean_with_sample_weight"`` divides by the sum of the sample weights;
``"none"`` / ``None`` returns the per-example values.

Mistakes that Keras lets through silently are refused with an explanation:
one-hot labels given to a sparse loss (and vice versa), labels outside
``[0, C)``, ``(N,)`` targets against ``(N, 1)`` predictions in regression
losses (which would broadcast to ``(N, N)``), NaN/inf targets. Cross-entropy
with ``from_logits=True`` on what look like probabilities warns (double softmax).

Example
-------
>>> import numpy as np, unafraid as uf
>>> loss = uf.losses.SparseCategoricalCrossentropy(from_logits=True)
>>> float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [0.0, 2.0]], np.float32)))
0.126928...
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import registry
from .engine import ops
from .engine.tensor import Tensor
from .layers.masking import apply_keras_mask

__all__ = ["Loss", "LossFunctionWrapper", "SparseCategoricalCrossentropy",
           "CategoricalCrossentropy", "BinaryCrossentropy", "MeanSquaredError",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "Huber", "Poisson", "KLDivergence", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
           "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "poisson", "kl_divergence", "mse", "mae",
           "mape", "msle", "kld", "get", "serialize", "deserialize", "check_targets",
           "Hinge", "SquaredHinge", "CategoricalHinge", "CosineSimilarity", "LogCosh",
           "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Dice", "Tversky", "Circle",
           "CategoricalGeneralizedCrossEntropy", "hinge", "squared_hinge", "categorical_hinge",
           "cosine_similarity", "log_cosh", "logcosh", "binary_focal_crossentropy",
           "categorical_focal_crossentropy", "dice", "tversky", "circle",
           "categorical_generalized_cross_entropy", "convert_binary_labels_to_hinge",
           "l2_normalize", "pos_neg_masks", "masked_logsumexp", "smooth_binary_labels",
           "smooth_categorical_labels", "CTC", "ctc", "ctc_loss", "logaddexp"]

EPSILON = 1e-7  # Keras's backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ---- helpers ------------------------------------------------------------------------------------
def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _as_pred(y_pred: Any) -> Any:
    """Predictions as a Tensor (kept, for gradients) or a floating-point array."""
    if isinstance(y_pred, Tensor):
        return y_pred if y_pred.dtype.kind == "f" else Tensor(y_pred.data.astype(np.float32))
    a = ops.asarray(y_pred)
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _float_targets(y_true: Any, like: Any, who: str) -> Any:
    """Targets in the predictions' float dtype, refusing NaN/inf.

    Data (arrays, lists, Tensors that need no gradient) become an array. A Tensor that
    requires grad (a layer's output given as ``y_true``) stays a Tensor, cast by an engine op,
    so that the loss differentiates through it as TensorFlow does.
    """
    y = np.asarray(_raw(y_true))
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{who}: y_true must be numeric, got dtype {y.dtype}.")
    dtype = _raw(like).dtype
    if isinstance(y_true, Tensor) and y_true.requires_grad:
        _check_finite(y, who)  # on its data
        return y_true if y_true.dtype == dtype else ops.cast(y_true, dtype)
    y = y.astype(dtype, copy=False)
    _check_finite(y, who)
    return y


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of ``a`` is finite (no NaN, no inf), for any size and layout.

    ``np.isfinite(a).all()`` over blocks of rows of about a million values: as fast as one
    ``isfinite`` pass, without a boolean temporary the size of a whole data set.
    """
    if a.dtype.kind not in "fc":
        return True
    if a.ndim == 0 or a.size <= _FINITE_BLOCK:
        return bool(np.isfinite(a).all())
    rows = max(1, _FINITE_BLOCK // (a.size // len(a)))
    return all(np.isfinite(a[i:i + rows]).all() for i in range(0, len(a), rows))


_FINITE_BLOCK = 1 << 20


def _check_finite(y: np.ndarray, who: str) -> None:
    if not all_finite(y):
        bad = np.flatnonzero(~np.isfinite(y.ravel()))
        raise ValueError(
            f"{who}: y_true contains {len(bad)} NaN or infinite value(s) (first at flat index "
            f"{bad[0]}: {y.ravel()[bad[0]]}). Remove or impute those rows before training, "
            f"e.g. keep = np.isfinite(y).all(axis=tuple(range(1, y.ndim))); x, y = x[keep], "
            f"y[keep].")


def _same_shape(y_true: np.ndarray, y_pred: Any, who: str) -> None:
    """Regression losses: shapes must agree exactly (no silent (N,) vs (N, 1) broadcast)."""
    t, p = y_true.shape, np.shape(_raw(y_pred))
    if t == p:
        return
    hint = ""
    if len(t) == 1 and p == (t[0], 1):
        hint = (" y_true is 1-D but the model outputs one column: reshape the targets with "
                "y_true.reshape(-1, 1) (or y_pred with y_pred.reshape(-1)).")
    elif len(p) == 1 and t == (p[0], 1):
        hint = (" y_pred is 1-D but y_true has one column: use y_true.reshape(-1) (or "
                "y_pred.reshape(-1, 1)).")
    else:
        hint = _unflattened_hint(t, p)
    raise ValueError(
        f"{who}: y_true has shape {t} but y_pred has shape {p}; they must have the same shape (NumPy "
        f"would broadcast them to a wrong shape such as (N, N) and average nonsense).{hint}")


def _unflattened_hint(t: tuple[int, ...], p: tuple[int, ...]) -> str:
    """When predictions keep extra example axes (Dense on unflattened images), say so."""
    if len(p) > 2 and len(t) < len(p) and t[:1] == p[:1]:
        return (f" The predictions have {len(p) - 1} axes per example {p[1:]}: a Dense layer "
                f"applied to inputs with several axes per example (e.g. images) acts on the "
                f"last axis only. Add Flatten() before the first Dense layer (e.g. "
                f"layers.Flatten(input_shape=x.shape[1:])), or reshape x to "
                f"x.reshape(len(x), -1).")
    return ""


def _expand_to_same_rank(y_true: np.ndarray, y_pred: Any) -> np.ndarray:
    """Keras's squeeze_or_expand_to_same_rank for labels: (N,) vs (N, 1) -> (N, 1)."""
    p = np.shape(_raw(y_pred))
    if y_true.ndim == len(p) - 1 and p[-1] == 1:
        return y_true.reshape(*y_true.shape, 1)
    if y_true.ndim == len(p) + 1 and y_true.shape[-1] == 1:
        return y_true.reshape(y_true.shape[:-1])
    return y_true


def _softmax_logits(y_pred: Any, axis: int) -> Any:
    """The logits behind a softmax output (``activations.softmax`` records them), else None."""
    rec = getattr(y_pred, "_logits", None)
    if not (isinstance(rec, tuple) and len(rec) == 2):
        return None
    logits, ax = rec
    nd = np.ndim(_raw(y_pred))
    if ax % nd != axis % nd or np.shape(_raw(logits)) != np.shape(_raw(y_pred)):
        return None
    return logits


def _sigmoid_logits(y_pred: Any) -> Any:
    """The logits behind a sigmoid output, when the activation recorded them (``_sigmoid_logits``)."""
    logits = getattr(y_pred, "_sigmoid_logits", None)
    if logits is None or np.shape(_raw(logits)) != np.shape(_raw(y_pred)):
        return None
    return logits


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside unafraid."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _warn_double_softmax(y_pred: Any, axis: int, who: str) -> None:
    p = _raw(y_pred)
    if _softmax_logits(y_pred, axis) is not None:
        looks = True
    elif p.ndim == 0 or p.shape[axis] < 2 or p.size == 0:
        return
    else:
        looks = (p.min() >= 0 and p.max() <= 1
                 and np.allclose(p.sum(axis=axis), 1.0, rtol=0, atol=1e-3))
    if looks:
        warnings.warn(
            f"{who} got from_logits=True, but y_pred looks like probabilities (each row is in "
            f"[0, 1] and sums to 1), e.g. the output of a softmax activation. Applying softmax "
            f"twice trains badly. Either remove the softmax from the last layer, or use "
            f"from_logits=False.", UserWarning, stacklevel=_user_stacklevel())


def _warn_not_probabilities(y_pred: Any, who: str) -> None:
    p = _raw(y_pred)
    if p.size and (p.min() < 0 or p.max() > 1):
        warnings.warn(
            f"{who} got from_logits=False, but y_pred has values outside [0, 1], so it does not "
            f"hold probabilities; they look like logits. Pass from_logits=True, or end the model "
            f"with a softmax (sigmoid for binary) activation.", UserWarning,
            stacklevel=_user_stacklevel())


def _warn_one_class(y_pred: Any, axis: int, who: str) -> None:
    """Keras's SyntaxWarning: a categorical loss over an axis of size 1 is always 0."""
    shape = np.shape(_raw(y_pred))
    if shape and shape[axis] == 1:
        warnings.warn(
            f"In loss {who}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={shape}. Consider using "
            f"'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
            stacklevel=_user_stacklevel())


def _sparse_labels(y_true: Any, y_pred: Any, axis: int, who: str) -> np.ndarray:
    """Validated integer class indices of shape ``y_pred.shape`` without ``axis``."""
    y = np.asarray(_raw(y_true))
    p_shape = np.shape(_raw(y_pred))
    ax = axis % len(p_shape)
    n = p_shape[ax]
    rows = p_shape[:ax] + p_shape[ax + 1:]
    if y.shape == p_shape and n > 1:
        raise ValueError(
            f"{who}: y_true has shape {y.shape}, the same as the predictions: these look like "
            f"one-hot labels, but this loss expects integer class indices of shape {rows}. Use "
            f"CategoricalCrossentropy (loss='categorical_crossentropy') for one-hot labels, or "
            f"convert them with y_true.argmax(axis=-1).")
    if y.shape != rows and y.shape == rows + (1,):
        y = y.reshape(rows)
    if y.shape != rows:
        raise ValueError(
            f"{who}: y_true has shape {y.shape}, but predictions of shape {p_shape} need one "
            f"integer class index per row, i.e. y_true of shape {rows}."
            f"{_unflattened_hint(y.shape, p_shape)}")
    if y.dtype.kind == "f":
        _check_finite(y, who)
        if (y != np.floor(y)).any():
            bad = y.ravel()[np.flatnonzero(y.ravel() != np.floor(y.ravel()))[0]]
            raise ValueError(
                f"{who}: y_true must hold integer class indices, got a non-integer value {bad}. "
                f"Class labels are whole numbers 0, 1, 2...: if these are classes, convert them "
                f"(e.g. np.unique(y_true, return_inverse=True)[1]); for probability targets use "
                f"CategoricalCrossentropy; for real-valued targets use a regression loss such "
                f"as 'mse'.")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"{who}: y_true must hold integer class indices, got dtype {y.dtype}.")
    if y.size:
        lo, hi = y.min(), y.max()
        if lo < 0 or hi >= n:
            hint = ""
            if lo >= 1 and hi == n:
                hint = (f" The labels run from 1 to {n}: they look 1-based; subtract 1 "
                        f"(y_true - 1) so they run from 0 to {n - 1}.")
            elif hi >= n:
                hint = (f" If there really are {int(hi) + 1} classes, give the last layer "
                        f"{int(hi) + 1} units (e.g. Dense({int(hi) + 1})).")
                if n == 1:
                    hint += (" For two classes with one sigmoid output unit, use "
                             "loss='binary_crossentropy' instead.")
            else:
                hint = (f" Negative labels (here {int((y < 0).sum())} of them) are often a "
                        f"placeholder for 'unknown': drop those rows (keep = y_true >= 0), or "
                        f"pass ignore_class=<that value> to SparseCategoricalCrossentropy.")
            raise ValueError(
                f"{who}: labels must be class indices in [0, {n}) because the model has {n} "
                f"output units, but y_true has values from {lo:g} to {hi:g}.{hint}")
    # Integer labels of any width index as they are. Others are cast by an engine op, so that
    # a recorded train step (engine/record.py) knows the result comes from the batch.
    return y if y.dtype.kind in "iu" else ops.cast(y, np.intp)


def _check_categorical_labels(y: np.ndarray, y_pred: Any, who: str) -> None:
    p_shape = np.shape(_raw(y_pred))
    if y.shape == p_shape:
        return
    n = p_shape[-1] if p_shape else 0
    if y.shape == p_shape[:-1] or y.shape == p_shape[:-1] + (1,):
        raise ValueError(
            f"{who}: y_true has shape {y.shape}: integer class indices, but this loss expects "
            f"one-hot labels of shape {p_shape} (y_true and y_pred must have the same shape). "
            f"Use SparseCategoricalCrossentropy "
            f"(loss='sparse_categorical_crossentropy') for integer labels, or one-hot encode "
            f"them with unafraid.one_hot(y_true, {n}).")
    raise ValueError(f"{who}: y_true has shape {y.shape} but y_pred has shape {p_shape}; y_true and "
                     f"y_pred must have the same shape (one-hot labels)."
                     f"{_unflattened_hint(y.shape, p_shape)}")


def _gather(logp: Any, labels: np.ndarray, axis: int) -> Any:
    """``logp[..., label]`` along ``axis`` (the last axis by a flat gather, others via one-hot)."""
    shape = np.shape(_raw(logp))
    if axis % len(shape) == len(shape) - 1:
        flat = ops.reshape(logp, (-1, shape[-1]))
        rows = np.arange(np.shape(_raw(flat))[0])
        return ops.reshape(ops.getitem(flat, (rows, labels.ravel())), labels.shape)
    onehot = np.moveaxis(ops.one_hot(labels, shape[axis], _raw(logp).dtype), -1, axis)
    return ops.sum(ops.multiply(logp, onehot), axis=axis)


def _log_probabilities(y_pred: Any, axis: int) -> Any:
    """Keras's probabilities path: ``log(clip(p / sum(p), eps, 1 - eps))``."""
    p = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
    return ops.log(ops.clip(p, EPSILON, 1.0 - EPSILON))


def _reduce(values: Any, sample_weight: Any, reduction: str | None, mask: Any = None) -> Tensor:
    """Keras 3's ``reduce_weighted_values``: weight, then reduce."""
    values = _tensor(values)
    if mask is not None and reduction in ("sum_over_batch_size", "mean"):
        valid = float(np.sum(mask))  # masked entries out: divide by the number of valid ones
        mask = mask * (mask.size / valid if valid else 0.0)
    if mask is not None:
        mask = np.asarray(mask, values.dtype)
        sample_weight = mask if sample_weight is None else _weights_like(sample_weight, values) * mask
    if sample_weight is not None:
        sample_weight = _weights_like(sample_weight, values)
        values = ops.multiply(values, sample_weight)
    if reduction is None or reduction == "none" or values.ndim == 0:
        return _tensor(values)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(np.sum(np.broadcast_to(sample_weight, values.shape)))
    else:
        divisor = float(values.size)
    if reduction == "sum" or not divisor:
        total = ops.sum(values)
        return _tensor(total if reduction == "sum" else ops.multiply(total, 0.0))
    if divisor == values.size:
        return _tensor(ops.mean(values))  # one node: sum / number of values
    return _tensor(ops.divide(ops.sum(values), divisor))


def _weights_like(sample_weight: Any, values: Tensor) -> np.ndarray:
    """Sample weights in the values' dtype, shaped to broadcast along the values' trailing axes."""
    sw = np.asarray(_raw(sample_weight), dtype=values.dtype)
    shape = values.shape
    if sw.ndim == len(shape) + 1 and sw.shape[-1] == 1:
        sw = sw.reshape(sw.shape[:-1])
    if sw.ndim < len(shape):
        sw = sw.reshape(sw.shape + (1,) * (len(shape) - sw.ndim))
    try:
        np.broadcast_shapes(sw.shape, shape)
    except ValueError:
        raise ValueError(f"sample_weight of shape {np.shape(_raw(sample_weight))} does not fit "
                         f"per-example losses of shape {shape}; pass one weight per example, "
                         f"shape ({shape[0] if shape else 1},).") from None
    _check_finite(sw, "sample_weight")
    return sw


# ---- the functions (per-example values) -----------------------------------------------------------
def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """Cross-entropy from integer labels: ``-log p[label]`` per example.

    Parameters
    ----------
    y_true : (N,) or (N, 1) integer array
        Class indices in ``[0, C)``.
    y_pred : (N, C) Tensor or array
        Probabilities (``from_logits=False``) or logits.
    from_logits : bool, default False
        With logits, uses the fused stable ``logsumexp(z) - z[label]``. With
        probabilities, as Keras: ``-log(clip(p[label] / sum(p), 1e-7, 1 - 1e-7))``
        (or the fused form when ``y_pred`` is the output of ``unafraid``'s softmax).
    ignore_class : int, optional
        Label value whose examples get a loss of 0 (e.g. padding).
    axis : int, default -1
        The class axis.

    Returns
    -------
    (N,) Tensor, float32 like ``y_pred``.

    Examples
    --------
    >>> sparse_categorical_crossentropy([1], [[0.25, 0.75]]).numpy()
    array([0.2876821], dtype=float32)
    """
    who = "sparse_categorical_crossentropy"
    y_pred = _as_pred(y_pred)
    y = np.asarray(_raw(y_true))
    valid = None
    if ignore_class is not None:
        if y.ndim == np.ndim(_raw(y_pred)) and y.shape[-1] == 1:
            y = y.reshape(y.shape[:-1])
        valid = y != ignore_class
        y = np.where(valid, y, 0)
    labels = _sparse_labels(y, y_pred, axis, who)
    if from_logits:
        _warn_double_softmax(y_pred, axis, who)
        out = ops.softmax_cross_entropy(y_pred, labels, axis=axis)
    elif (logits := _softmax_logits(y_pred, axis)) is not None:
        out = ops.softmax_cross_entropy(logits, labels, axis=axis)
    else:
        _warn_not_probabilities(y_pred, who)
        out = ops.negative(_gather(_log_probabilities(y_pred, axis), labels, axis))
    if valid is not None:
        out = ops.where(valid, out, 0.0)
    return _tensor(out)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Cross-entropy from one-hot (or probability) targets: ``-sum_c t_c log p_c``.

    Parameters
    ----------
    y_true : (N, C) array
        One-hot rows or probabilities.
    y_pred : (N, C) Tensor or array
        Probabilities (clipped to ``[1e-7, 1 - 1e-7]`` after renormalising, as
        in Keras) or logits (``from_logits=True``: fused and stable).
    label_smoothing : float, default 0.0
        ``t <- t (1 - label_smoothing) + label_smoothing / C``.
    axis : int, default -1

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> categorical_crossentropy([[0.0, 1.0]], [[0.25, 0.75]]).numpy()
    array([0.2876821], dtype=float32)
    """
    who = "categorical_crossentropy"
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, who)
    _check_categorical_labels(y, y_pred, who)
    _warn_one_class(y_pred, axis, who)
    y = smooth_categorical_labels(y, label_smoothing, axis)
    if from_logits:
        _warn_double_softmax(y_pred, axis, who)
        return _tensor(ops.softmax_cross_entropy(y_pred, y, axis=axis))
    if (logits := _softmax_logits(y_pred, axis)) is not None:
        return _tensor(ops.softmax_cross_entropy(logits, y, axis=axis))
    _warn_not_probabilities(y_pred, who)
    logp = _log_probabilities(y_pred, axis)
    return _tensor(ops.negative(ops.sum(ops.multiply(y, logp), axis=axis)))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Binary cross-entropy, averaged over the last axis.

    ``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to ``[1e-7, 1 - 1e-7]``
    (Keras); from logits ``z``, the stable ``softplus(z) - y z``
    (= ``max(z, 0) - y z + log1p(exp(-|z|))``), finite for any ``z``.

    Parameters
    ----------
    y_true : (N,) or (N, K) array
        Labels in [0, 1]. ``(N,)`` labels with ``(N, 1)`` predictions are
        reshaped to ``(N, 1)``, as Keras does.
    y_pred : (N, K) Tensor or array
    label_smoothing : float, default 0.0
        ``y <- y (1 - label_smoothing) + 0.5 label_smoothing``.
    axis : int, default -1
        Averaged over.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> binary_crossentropy([[1.0]], [[0.0]], from_logits=True).numpy()
    array([0.6931472], dtype=float32)
    """
    who = "binary_crossentropy"
    y_pred = _as_pred(y_pred)
    y = _expand_to_same_rank(_float_targets(y_true, y_pred, who), y_pred)
    if y.shape != np.shape(_raw(y_pred)):
        _same_shape(y, y_pred, who)
    y = smooth_binary_labels(y, label_smoothing)
    logits = y_pred if from_logits else _sigmoid_logits(y_pred)
    if logits is None:
        _warn_not_probabilities(y_pred, who)
    return _tensor(ops.mean(_binary_crossentropy_entries(y, y_pred, logits), axis=axis))


def smooth_binary_labels(y: np.ndarray, label_smoothing: float) -> np.ndarray:
    """Keras's binary label smoothing: ``y (1 - s) + s / 2`` (labels squeezed towards 0.5)."""
    if not label_smoothing:
        return y
    return ops.add(ops.multiply(y, 1.0 - label_smoothing), 0.5 * label_smoothing)  # engine ops:
    # a recorded train step (engine/record.py) then knows where the smoothed labels come from


def smooth_categorical_labels(y: np.ndarray, label_smoothing: float, axis: int = -1) -> np.ndarray:
    """Keras's categorical label smoothing: ``y (1 - s) + s / C``, ``C`` the size of ``axis``."""
    if not label_smoothing:
        return y
    return ops.add(ops.multiply(y, 1.0 - label_smoothing), label_smoothing / y.shape[axis])


def _binary_crossentropy_entries(y: np.ndarray, y_pred: Any, logits: Any) -> Any:
    """``-(y log p + (1 - y) log(1 - p))`` entry by entry.

    From logits ``z`` (when given) the stable ``softplus(z) - y z``; otherwise from
    ``p = clip(y_pred, 1e-7, 1 - 1e-7)`` as Keras does.
    """
    if logits is not None:
        return ops.subtract(ops.softplus(logits), ops.multiply(y, logits))
    p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    return ops.negative(ops.add(ops.multiply(y, ops.log(p)),
                                ops.multiply(ops.subtract(1.0, y), ops.log(ops.subtract(1.0, p)))))


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((y_true - y_pred)^2, axis=-1)``.

    Parameters
    ----------
    y_true, y_pred : (N, K) arrays of the same shape
        A ``(N,)`` vs ``(N, 1)`` mismatch is refused (reshape one of them).

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy()
    array([0.5], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "mean_squared_error")
    _same_shape(y, y_pred, "mean_squared_error")
    d = ops.subtract(y, y_pred)
    return _tensor(ops.mean(ops.multiply(d, d), axis=-1))


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``; shapes must match.

    Examples
    --------
    >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 3.0]]).numpy()
    array([1.5], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "mean_absolute_error")
    _same_shape(y, y_pred, "mean_absolute_error")
    return _tensor(ops.mean(ops.abs(ops.subtract(y, y_pred)), axis=-1))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``; shapes must match."""
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "mean_absolute_percentage_error")
    _same_shape(y, y_pred, "mean_absolute_percentage_error")
    scale = ops.divide(100.0, ops.maximum(ops.abs(y), EPSILON))
    return _tensor(ops.mean(ops.multiply(ops.abs(ops.subtract(y, y_pred)), scale), axis=-1))


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)``."""
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "mean_squared_logarithmic_error")
    _same_shape(y, y_pred, "mean_squared_logarithmic_error")
    d = ops.subtract(ops.log1p(ops.maximum(y_pred, EPSILON)), ops.log1p(ops.maximum(y, EPSILON)))
    return _tensor(ops.mean(ops.multiply(d, d), axis=-1))


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Huber loss, averaged over the last axis (Huber, 1964).

    With ``e = y_pred - y_true``: ``0.5 e^2`` where ``|e| <= delta``, else
    ``delta |e| - 0.5 delta^2``. Shapes must match.

    Examples
    --------
    >>> huber([[0.0, 0.0]], [[0.5, 3.0]]).numpy()
    array([1.3125], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "huber")
    _same_shape(y, y_pred, "huber")
    e = ops.subtract(y_pred, y)
    a = ops.abs(e)
    quadratic = ops.multiply(ops.multiply(e, e), 0.5)
    linear = ops.subtract(ops.multiply(a, float(delta)), 0.5 * float(delta) ** 2)
    return _tensor(ops.mean(ops.where(_raw(a) <= delta, quadratic, linear), axis=-1))


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """Poisson negative log-likelihood (up to a constant): ``mean(y_pred - y_true log(y_pred + 1e-7))``.

    Examples
    --------
    >>> poisson([[1.0]], [[1.0]]).numpy()
    array([0.9999999], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "poisson")
    _same_shape(y, y_pred, "poisson")
    return _tensor(ops.mean(ops.subtract(y_pred, ops.multiply(y, ops.log(ops.add(y_pred, EPSILON)))),
                            axis=-1))


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """Kullback-Leibler divergence ``sum(t log(t / p), axis=-1)``, t and p clipped to ``[1e-7, 1]``.

    Examples
    --------
    >>> kl_divergence([[0.5, 0.5]], [[0.5, 0.5]]).numpy()
    array([0.], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, "kl_divergence")
    _same_shape(y, y_pred, "kl_divergence")
    t = ops.clip(y, EPSILON, 1.0)
    p = ops.clip(y_pred, EPSILON, 1.0)
    return _tensor(ops.sum(ops.multiply(t, ops.subtract(ops.log(t), ops.log(p))), axis=-1))


# ---- more of Keras 3's loss functions (per-example values) -------------------------------------------
def _paired(y_true: Any, y_pred: Any, who: str, expand: bool = False) -> tuple[Any, Any]:
    """Targets (in the predictions' dtype: see ``_float_targets``) and predictions, of one shape.

    ``expand=True`` first reshapes ``(N,)`` labels to ``(N, 1)`` against ``(N, 1)``
    predictions (Keras's ``squeeze_or_expand_to_same_rank``), as for binary labels.
    """
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, who)
    if expand:
        y = _expand_to_same_rank(y, y_pred)
    _same_shape(y, y_pred, who)
    return y, y_pred


def _axes(axis: Any) -> Any:
    """An axis argument as NumPy takes it (a saved config turns a tuple into a list)."""
    return tuple(axis) if isinstance(axis, list) else axis


def convert_binary_labels_to_hinge(y_true: np.ndarray) -> np.ndarray:
    """Labels for the hinge losses: 0/1 labels become -1/1; anything else is returned as is.

    Examples
    --------
    >>> convert_binary_labels_to_hinge(np.array([0.0, 1.0]))
    array([-1.,  1.])
    """
    y = y_true if isinstance(y_true, Tensor) else np.asarray(y_true)  # a Tensor keeps its gradient
    # engine ops, so that a recorded train step knows where the labels come from
    return ops.subtract(ops.multiply(y, 2.0), 1.0) if np.isin(_raw(y), (0, 1)).all() else y


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Hinge loss ``mean(max(1 - y_true y_pred, 0), axis=-1)``.

    Parameters
    ----------
    y_true : (N, K) array
        Labels in {-1, 1}; labels in {0, 1} are converted to {-1, 1}.
    y_pred : (N, K) Tensor or array
        Scores (no activation, or tanh).

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> hinge([[0.0, 1.0]], [[0.6, 0.4]]).numpy()
    array([1.1], dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "hinge", expand=True)
    margin = ops.subtract(1.0, ops.multiply(convert_binary_labels_to_hinge(y), y_pred))
    return _tensor(ops.mean(ops.maximum(margin, 0.0), axis=-1))


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Squared hinge loss ``mean(max(1 - y_true y_pred, 0)^2, axis=-1)``; labels as in ``hinge``.

    Examples
    --------
    >>> squared_hinge([[0.0, 1.0]], [[0.6, 0.4]]).numpy()
    array([1.46], dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "squared_hinge", expand=True)
    margin = ops.subtract(1.0, ops.multiply(convert_binary_labels_to_hinge(y), y_pred))
    h = ops.maximum(margin, 0.0)
    return _tensor(ops.mean(ops.multiply(h, h), axis=-1))


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Categorical hinge loss ``max(neg - pos + 1, 0)``.

    ``pos = sum(y_true y_pred, axis=-1)`` is the score of the true class and
    ``neg = max((1 - y_true) y_pred, axis=-1)`` the best score of another class.

    Parameters
    ----------
    y_true : (N, C) array
        One-hot labels.
    y_pred : (N, C) Tensor or array
        Scores.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> categorical_hinge([[0.0, 1.0]], [[0.6, 0.4]]).numpy()
    array([1.2], dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(ops.multiply(y, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y), y_pred), axis=-1)
    return _tensor(ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0))


def l2_normalize(x: Any, axis: Any = -1) -> Any:
    """``x / sqrt(max(sum(x^2, axis), 1e-14))``: Keras's ``ops.normalize`` (zero vectors stay 0).

    Works on arrays (NumPy) and Tensors (differentiable).
    """
    square_sum = ops.sum(ops.multiply(x, x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, EPSILON * EPSILON)))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """Negative cosine similarity ``-sum(l2_normalize(y_true) l2_normalize(y_pred), axis)``.

    In [-1, 1]: -1 when the vectors point the same way, 0 when orthogonal (or
    when either is the zero vector), so minimising it aligns the predictions.

    Parameters
    ----------
    y_true, y_pred : (N, K) arrays of the same shape
    axis : int, default -1
        The axis holding the vectors.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]).numpy().round(6)
    array([-0., -1.], dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "cosine_similarity", expand=True)
    both = ops.multiply(l2_normalize(y, axis), l2_normalize(y_pred, axis))
    return _tensor(ops.negative(ops.sum(both, axis=axis)))


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``: the error ``e`` squared, halved, when small.

    About ``|e| - log 2`` for large errors (less swayed by outliers than MSE). Computed as
    ``e + softplus(-2e) - log 2``, finite for any error. Shapes must match.

    Examples
    --------
    >>> log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).numpy().round(5)  # log(cosh 1) / 2
    array([0.21689, 0.     ], dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "log_cosh")
    e = ops.subtract(y_pred, y)
    logcosh = ops.subtract(ops.add(e, ops.softplus(ops.multiply(e, -2.0))), float(np.log(2.0)))
    return _tensor(ops.mean(logcosh, axis=-1))


logcosh = log_cosh


def _focal_factor(one_minus_p: Any, gamma: float) -> Any:
    """``(1 - p)^gamma`` (1 when gamma is 0, so a perfect prediction keeps a finite gradient)."""
    return 1.0 if gamma == 0 else ops.power(one_minus_p, float(gamma))


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Binary focal cross-entropy (Lin et al., 2017), averaged over ``axis``.

    With ``p`` the predicted probability of class 1 and ``p_t = y p + (1 - y)(1 - p)``::

        focal = (1 - p_t)^gamma * bce(y, p)
        focal *= y alpha + (1 - y)(1 - alpha)        # only with apply_class_balancing

    ``gamma = 0`` is the binary cross-entropy. From logits, ``p = sigmoid(z)`` and the
    cross-entropy is the stable ``softplus(z) - y z`` (Keras clips ``p`` to
    ``[1e-7, 1 - 1e-7]`` instead: the two agree unless ``|z| > 16``).

    Parameters
    ----------
    y_true : (N, K) array
        Labels in [0, 1].
    y_pred : (N, K) Tensor or array
        Probabilities, or logits with ``from_logits=True``.
    apply_class_balancing : bool, default False
    alpha : float, default 0.25
        Weight of class 1 (class 0 gets ``1 - alpha``) when balancing.
    gamma : float, default 2.0
        Focusing parameter.
    from_logits : bool, default False
    label_smoothing : float, default 0.0
        ``y <- y (1 - label_smoothing) + 0.5 label_smoothing``.
    axis : int, default -1
        Averaged over.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> binary_focal_crossentropy([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]).numpy().round(3)
    array([0.33 , 0.206], dtype=float32)
    """
    who = "binary_focal_crossentropy"
    y, y_pred = _paired(y_true, y_pred, who, expand=True)
    y = smooth_binary_labels(y, label_smoothing)
    logits = y_pred if from_logits else _sigmoid_logits(y_pred)
    if logits is None:
        _warn_not_probabilities(y_pred, who)
    p = ops.sigmoid(logits) if from_logits else y_pred
    bce = _binary_crossentropy_entries(y, y_pred, logits)
    p_t = ops.add(ops.multiply(y, p), ops.multiply(ops.subtract(1.0, y), ops.subtract(1.0, p)))
    focal = ops.multiply(_focal_factor(ops.subtract(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        balance = ops.add(ops.multiply(y, alpha), ops.multiply(ops.subtract(1.0, y), 1.0 - alpha))
        focal = ops.multiply(balance, focal)
    return _tensor(ops.mean(focal, axis=axis))


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: Any = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0,
                                   axis: int = -1) -> Tensor:
    """Categorical focal cross-entropy (Lin et al., 2017): ``sum_c alpha (1 - p_c)^gamma (-t_c log p_c)``.

    ``p`` is renormalised along ``axis`` and clipped to ``[1e-7, 1 - 1e-7]`` (Keras); from
    logits, ``p = softmax(z)`` and ``log p = log_softmax(z)`` (stable for any logit).

    Parameters
    ----------
    y_true : (N, C) array
        One-hot labels (or probabilities).
    y_pred : (N, C) Tensor or array
    alpha : float or sequence of C floats, default 0.25
        Weight of each class (a sequence runs along the last axis).
    gamma : float, default 2.0
    from_logits : bool, default False
    label_smoothing : float, default 0.0
        ``t <- t (1 - label_smoothing) + label_smoothing / C``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]]).numpy()  # 0.25 0.1^2 -log 0.9
    array([0.0002634], dtype=float32)
    """
    who = "categorical_focal_crossentropy"
    y_pred = _as_pred(y_pred)
    y = _float_targets(y_true, y_pred, who)
    _check_categorical_labels(y, y_pred, who)
    _warn_one_class(y_pred, axis, who)
    y = smooth_categorical_labels(y, label_smoothing, axis)
    if from_logits:
        _warn_double_softmax(y_pred, axis, who)
        logp = ops.log_softmax(y_pred, axis=axis)
        p = ops.exp(logp)
    else:
        _warn_not_probabilities(y_pred, who)
        p = ops.divide(y_pred, ops.sum(y_pred, axis=axis, keepdims=True))
        p = ops.clip(p, EPSILON, 1.0 - EPSILON)
        logp = ops.log(p)
    weight = ops.multiply(_focal_factor(ops.subtract(1.0, p), gamma),
                          np.asarray(alpha, _raw(y_pred).dtype))
    return _tensor(ops.sum(ops.multiply(weight, ops.multiply(logp, ops.negative(y))), axis=axis))


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Tensor:
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)``.

    Parameters
    ----------
    y_true, y_pred : arrays of the same shape
        Masks (segmentation) and predicted probabilities.
    axis : int or tuple of int, optional
        The axes summed over: ``None`` (default) gives one number for the whole
        batch; ``(1, 2, 3)`` one per image of a ``(N, H, W, C)`` batch.

    Returns
    -------
    Tensor, scalar or shaped like ``y_pred`` without ``axis``

    Examples
    --------
    >>> dice([[1.0, 1.0, 0.0]], [[1.0, 0.0, 1.0]]).numpy()
    array(0.5, dtype=float32)
    """
    y, y_pred = _paired(y_true, y_pred, "dice")
    axis = _axes(axis)
    intersection = ops.sum(ops.multiply(y, y_pred), axis=axis)
    target_sum = ops.sum(y, axis=axis) if isinstance(y, Tensor) else np.sum(y, axis=axis)
    total = ops.add(ops.add(target_sum, ops.sum(y_pred, axis=axis)), EPSILON)
    return _tensor(ops.subtract(1.0, ops.divide(ops.multiply(intersection, 2.0), total)))


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None) -> Tensor:
    """Tversky loss (Salehi et al., 2017): ``1 - TP / (TP + alpha FP + beta FN + 1e-7)``.

    ``TP = sum(y_pred y_true)``, ``FP = sum(y_pred (1 - y_true))``, ``FN = sum((1 - y_pred) y_true)``
    over ``axis``; ``alpha = beta = 0.5`` is the Dice loss.

    Parameters
    ----------
    y_true, y_pred : arrays of the same shape
    alpha : float, default 0.5
        Weight of false positives.
    beta : float, default 0.5
        Weight of false negatives.
    axis : int or tuple of int, optional
        As in ``dice``.

    Returns
    -------
    Tensor, scalar or shaped like ``y_pred`` without ``axis``

    Examples
    --------
    >>> round(float(tversky([[1.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]], alpha=0.2, beta=0.8)), 6)  # 1 - 1/1.8
    0.444444
    """
    y, y_pred = _paired(y_true, y_pred, "tversky")
    axis = _axes(axis)
    tp = ops.sum(ops.multiply(y_pred, y), axis=axis)
    fp = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y)), axis=axis)
    fn = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y), axis=axis)
    denominator = ops.add(ops.add(ops.add(tp, ops.multiply(fp, alpha)), ops.multiply(fn, beta)), EPSILON)
    return _tensor(ops.subtract(1.0, ops.divide(tp, denominator)))


def _class_indices(labels: Any, who: str, argument: str = "y_true") -> np.ndarray:
    """Integer labels as a 1-D array (``(N, 1)`` is accepted)."""
    y = np.asarray(_raw(labels))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and (y != np.round(y)).any()):
        raise ValueError(f"{who}: {argument} must be one integer label per example, shape (N,), got "
                         f"shape {y.shape} and dtype {y.dtype}.")
    return y.astype(np.int64)


def pos_neg_masks(query_labels: np.ndarray, key_labels: np.ndarray,
                  remove_diagonal: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Boolean ``(N, M)`` masks of same-label and different-label pairs (Keras's ``build_pos_neg_masks``).

    ``remove_diagonal`` drops the pairs ``(i, i)`` (an example with itself) from the positives.
    """
    positive = query_labels[:, None] == key_labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive &= ~np.eye(len(query_labels), len(key_labels), dtype=bool)
    return positive, negative


def masked_logsumexp(x: Any, mask: np.ndarray) -> Any:
    """``log sum_{j: mask[i, j]} exp(x[i, j])`` per row; ``-inf`` for a row with no entries.

    Gradients flow only to the entries in ``mask`` and are finite everywhere.
    """
    present = mask.any(axis=1)
    keep = mask | ~present[:, None]  # an empty row uses its own values, then is replaced by -inf
    lse = ops.logsumexp(ops.where(keep, x, -np.inf), axis=1)
    return ops.where(present, lse, -np.inf)


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80.0, margin: float = 0.4) -> Tensor:
    """Circle loss (Sun et al., 2020) on L2-normalised embeddings, one value per example.

    With cosine distances ``d = max(1 - y_pred ref_embeddings^T, 0)``, positives the
    reference examples of the same label and negatives those of another::

        s_p = -gamma max(margin + d, 0) (margin - d)         over positives
        s_n = gamma max(1 + margin - d, 0) (1 - margin - d)   over negatives
        loss_i = softplus(logsumexp_p(s_p) + logsumexp_n(s_n))

    An example with no positive gets 0 (``Circle`` then leaves it out of the mean).

    Parameters
    ----------
    y_true : (N,) integer array
        Labels.
    y_pred : (N, D) Tensor or array
        Unit-norm embeddings (e.g. ``Dense`` then ``UnitNormalization``).
    ref_labels : (M,) integer array, optional
        Labels of the reference embeddings (default ``y_true``).
    ref_embeddings : (M, D) array, optional
        Reference embeddings (default ``y_pred``).
    remove_diagonal : bool, default True
        Leave out each example's similarity with itself.
    gamma : float, default 80.0
        Scale.
    margin : float, default 0.4
        Relaxation margin.

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], np.float32)
    >>> circle([0, 0, 1], e, gamma=1.0).numpy().round(4)  # softplus(-0.12 - 0.16) first
    array([0.5629, 0.7339, 0.    ], dtype=float32)
    """
    y_pred = _as_pred(y_pred)
    labels = _class_indices(y_true, "circle")
    ref = y_pred if ref_embeddings is None else _as_pred(ref_embeddings)
    ref_labels = labels if ref_labels is None else _class_indices(ref_labels, "circle", "ref_labels")
    positive, negative = pos_neg_masks(labels, ref_labels, remove_diagonal)
    distance = ops.maximum(ops.subtract(1.0, ops.matmul(y_pred, ops.transpose(ref))), 0.0)
    pos_weight = ops.maximum(ops.multiply(ops.add(distance, margin), positive), 0.0)
    neg_weight = ops.maximum(ops.multiply(ops.subtract(1.0 + margin, distance), negative), 0.0)
    pos_scores = ops.multiply(ops.multiply(pos_weight, ops.subtract(margin, distance)), -float(gamma))
    neg_scores = ops.multiply(ops.multiply(neg_weight, ops.subtract(1.0 - margin, distance)),
                              float(gamma))
    both = ops.add(masked_logsumexp(pos_scores, positive), masked_logsumexp(neg_scores, negative))
    return _tensor(ops.softplus(both))


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Tensor:
    """Generalized cross-entropy (Zhang & Sabuncu, 2018): ``(1 - p[label]^q) / q``.

    Robust to noisy labels: ``q -> 0`` tends to the cross-entropy, ``q = 1`` is the
    mean absolute error between the one-hot label and ``p``.

    Parameters
    ----------
    y_true : (N,) or (N, 1) integer array
        Class indices (any leading shape: ``(N, H, W)`` for segmentation).
    y_pred : (N, C) Tensor or array
        Probabilities.
    q : float in (0, 1)

    Returns
    -------
    (N,) Tensor

    Examples
    --------
    >>> categorical_generalized_cross_entropy([1], [[0.36, 0.64]], q=0.5).numpy().round(6)
    array([0.4], dtype=float32)
    """
    who = "categorical_generalized_cross_entropy"
    y_pred = _as_pred(y_pred)
    labels = _sparse_labels(y_true, y_pred, -1, who)
    _warn_not_probabilities(y_pred, who)
    p = _gather(y_pred, labels, -1)
    return _tensor(ops.divide(ops.subtract(1.0, ops.power(p, float(q))), float(q)))


def logaddexp(a: Any, b: Any) -> Any:
    """``log(exp(a) + exp(b))``, stable, from engine ops (differentiable twice)."""
    return ops.logsumexp(ops.stack([a, b]), axis=0)


CTC_LOG_ZERO = -1e5  # optax's log_epsilon: the log-probability of an impossible state


def _add_to_label_states(phi: Any, score: Any) -> Any:
    """``phi[:, 1:] <- logaddexp(phi[:, 1:], score)``; ``phi[:, 0]`` (nothing emitted yet) is kept."""
    head = ops.getitem(phi, (slice(None), slice(0, 1)))
    tail = ops.getitem(phi, (slice(None), slice(1, None)))
    return ops.concatenate([head, logaddexp(tail, score)], axis=1)


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any,
             mask_index: int = 0) -> Tensor:
    """CTC negative log-likelihood per sequence (Graves et al., 2006): Keras's ``ops.ctc_loss``.

    The forward (alpha) recursion in log space, as optax's ``ctc_loss`` (which Keras's NumPy,
    JAX and PyTorch backends follow). For each label position ``n`` two states are
    tracked over time: ``phi[n]``, ``n`` labels emitted and now on a blank, and ``emit[n]``,
    on label ``n``. At each step a blank keeps ``phi``, the label keeps ``emit`` (one step on
    the same label), and a move to the next label is allowed from ``phi`` or, when the next
    label differs, directly from ``emit``. The loss is ``-log`` of being done (on the last
    label or the blank after it) at the last frame.

    Parameters
    ----------
    target : (B, L) integer array
        Labels, padded after ``target_length``.
    output : (B, T, C) Tensor or array
        Logits (not softmaxed).
    target_length, output_length : (B,) integer arrays
        The labels' and the frames' lengths.
    mask_index : int, default 0
        The blank class.

    Returns
    -------
    (B,) Tensor
    """
    target = np.asarray(_raw(target)).astype(np.int64)
    output = _as_pred(output)
    batch, frames, classes = np.shape(_raw(output))
    label_count = target.shape[1]
    dtype = _raw(output).dtype
    label_length = np.minimum(np.asarray(target_length, np.int64), label_count)
    frame_padding = (np.arange(frames)[None, :] >= np.asarray(output_length)[:, None]).astype(dtype)

    logp = ops.log_softmax(output, axis=-1)
    repeat = np.zeros((batch, label_count), dtype)
    repeat[:, :-1] = target[:, :-1] == target[:, 1:]
    logp_blank = ops.getitem(logp, (slice(None), slice(None), mask_index))                 # (B, T)
    one_hot_labels = np.swapaxes(ops.one_hot(target, classes, dtype), 1, 2)              # (B, C, L)
    logp_labels = ops.matmul(logp, one_hot_labels)                                       # (B, T, L)

    phi = np.full((batch, label_count + 1), CTC_LOG_ZERO, dtype)
    phi[:, 0] = 0.0
    emit = np.full((batch, label_count), CTC_LOG_ZERO, dtype)
    for t in range(frames):
        blank = ops.reshape(ops.getitem(logp_blank, (slice(None), t)), (batch, 1))
        label = ops.getitem(logp_labels, (slice(None), t))
        # emit -> phi of the next label (skipping the blank) only when that label differs
        moved = _add_to_label_states(phi, ops.add(emit, CTC_LOG_ZERO * repeat))
        next_emit = logaddexp(ops.add(ops.getitem(moved, (slice(None), slice(0, -1))), label),
                              ops.add(emit, label))
        next_phi = _add_to_label_states(ops.add(moved, blank),
                                        ops.add(ops.add(emit, blank), CTC_LOG_ZERO * (1.0 - repeat)))
        pad = frame_padding[:, t:t + 1]
        if pad.any():  # frames past a sequence's length change nothing
            next_emit = ops.add(ops.multiply(emit, pad), ops.multiply(next_emit, 1.0 - pad))
            next_phi = ops.add(ops.multiply(phi, pad), ops.multiply(next_phi, 1.0 - pad))
        phi, emit = next_phi, next_emit
    done = _add_to_label_states(phi, emit)
    pick = ops.one_hot(label_length, label_count + 1, dtype)
    return _tensor(ops.negative(ops.sum(ops.multiply(done, pick), axis=-1)))


def ctc(y_true: Any, y_pred: Any) -> Tensor:
    """CTC loss (Connectionist Temporal Classification) per sequence, as Keras's ``losses.ctc``.

    Every frame of ``y_pred`` is used; a sequence's label length is its number of non-zero
    labels (0 is the blank and the padding).

    Parameters
    ----------
    y_true : (B, L) integer array
        Labels in ``[1, C)``, padded with 0.
    y_pred : (B, T, C) Tensor or array
        Logits (not softmaxed).

    Returns
    -------
    (B,) Tensor

    Examples
    --------
    >>> logits = np.zeros((1, 2, 2), np.float32)   # 2 frames, blank or label 1, each 1/2
    >>> ctc([[1]], logits).numpy().round(6)        # paths "1 1", "1 -", "- 1": -log(3/4)
    array([0.287682], dtype=float32)
    """
    labels = np.asarray(_raw(y_true))
    whole = labels.dtype.kind in "biu" or (labels.dtype.kind == "f" and (labels == np.round(labels)).all())
    if labels.ndim != 2 or not whole:
        raise ValueError(f"ctc: y_true must be integer labels of shape (batch_size, max_length), "
                         f"got shape {labels.shape} and dtype {labels.dtype}.")
    y_pred = _as_pred(y_pred)
    shape = np.shape(_raw(y_pred))
    if len(shape) != 3:
        raise ValueError(f"ctc: y_pred must be logits of shape (batch_size, max_length, num_classes), "
                         f"got shape {shape}.")
    if len(labels) != shape[0]:
        raise ValueError(f"ctc: y_true has {len(labels)} sequences but y_pred has {shape[0]}.")
    if labels.size and (labels.min() < 0 or labels.max() >= shape[2]):
        raise ValueError(f"ctc: labels must be in [0, {shape[2]}) for {shape[2]} classes (0 is the "
                         f"blank), got values from {labels.min()} to {labels.max()}.")
    label_length = (labels != 0).sum(axis=-1)
    frames = np.full(shape[0], shape[1])
    return ctc_loss(labels, y_pred, label_length, frames, mask_index=0)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy


# ---- the classes ------------------------------------------------------------------------------------
class Loss:
    """Base class: ``__call__`` applies ``call(y_true, y_pred)``, sample weights and the reduction.

    Subclass it and define ``call`` (per-example values, built from
    ``unafraid`` ops) to make a custom loss; ``y_true`` arrives as an array
    in ``y_pred``'s float dtype (as a Tensor, with its gradient, when it is a
    Tensor that requires grad, such as a layer's output).

    Parameters
    ----------
    name : str, optional
    reduction : {"sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None}
    dtype : ignored
        Accepted for Keras compatibility (computations use ``y_pred``'s dtype).
    """

    default_name = "loss"

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}. Expected one "
                             f"of {list(_REDUCTIONS)}.")
        self.name = name or self.default_name
        self.reduction = reduction
        self.dtype = dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        """The reduced loss: a scalar Tensor (per-example values with ``reduction=None``).

        Parameters
        ----------
        y_true : array
        y_pred : Tensor or array
        sample_weight : (N,) array, optional
            Multiplies each example's loss before the reduction.
        """
        values, mask = self._values_and_mask(y_true, y_pred)
        values, mask = apply_keras_mask(values, mask, y_pred, self.reduction)  # masking (k17c)
        return _reduce(values, sample_weight, self.reduction, mask)

    def _values_and_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        y_pred = _as_pred(y_pred)
        return self.call(_float_targets(y_true, y_pred, self.name), y_pred), None

    def call(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError(f"Loss '{type(self).__name__}' must define call(y_true, y_pred).")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}'>"


class LossFunctionWrapper(Loss):
    """A loss object around a function ``fn(y_true, y_pred, **kwargs) -> per-example values``.

    Examples
    --------
    >>> loss = LossFunctionWrapper(mean_squared_error, name="mse")
    """

    def __init__(self, fn: Callable[..., Any], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def _values_and_mask(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs), None

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._fn_kwargs}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels ``(N,)`` and ``C``-way predictions ``(N, C)``.

    Per example, ``-log p[label]`` (see ``sparse_categorical_crossentropy``).

    Parameters
    ----------
    from_logits : bool, default False
        True when the model's last layer has no softmax (recommended: more stable).
    ignore_class : int, optional
        Examples with this label contribute 0 and are not counted in the mean.
    reduction : str, default "sum_over_batch_size"
    axis : int, default -1
        The class axis of the predictions; the labels have the predictions' shape without it
        (e.g. ``axis=1`` for channels-first segmentation maps ``(N, C, H, W)``, labels
        ``(N, H, W)``), as Keras computes it on its Torch backend. (Keras's JAX and TensorFlow
        backends refuse a class axis other than the last.)
    name : str, default "sparse_categorical_crossentropy"

    Examples
    --------
    >>> loss = SparseCategoricalCrossentropy(from_logits=True)
    >>> float(loss([0], [[0.0, 0.0]]))
    0.693147...
    >>> loss = SparseCategoricalCrossentropy(axis=0)  # classes down the columns
    >>> round(float(loss([0, 1], [[0.5, 0.25], [0.5, 0.75]])), 6)  # (-log 0.5 - log 0.75) / 2
    0.490415
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def _values_and_mask(self, y_true, y_pred):
        values = self.fn(y_true, y_pred, **self._fn_kwargs)
        if self.ignore_class is None:
            return values, None
        y = np.asarray(_raw(y_true))
        y = y.reshape(values.shape)
        return values, (y != self.ignore_class)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot (or probability) targets ``(N, C)``.

    Parameters
    ----------
    from_logits : bool, default False
    label_smoothing : float, default 0.0
    axis : int, default -1
    reduction : str, default "sum_over_batch_size"
    name : str, default "categorical_crossentropy"

    Examples
    --------
    >>> float(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]]))
    0.693147...
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for labels in [0, 1] and one probability (or logit) per output.

    Parameters
    ----------
    from_logits : bool, default False
    label_smoothing : float, default 0.0
    axis : int, default -1
    reduction : str, default "sum_over_batch_size"
    name : str, default "binary_crossentropy"

    Examples
    --------
    >>> float(BinaryCrossentropy(from_logits=True)([1.0, 0.0], [[0.0], [0.0]]))
    0.693147...
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_crossentropy", dtype: Any = None) -> None:
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors, ``mean((y_true - y_pred)^2)``.

    Examples
    --------
    >>> float(MeanSquaredError()([[0.0], [2.0]], [[1.0], [2.0]]))
    0.5
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors, ``mean(|y_true - y_pred|)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 mean(|y_true - y_pred| / |y_true|)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean((log(y_pred + 1) - log(y_true + 1))^2)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    Parameters
    ----------
    delta : float, default 1.0
    reduction : str, default "sum_over_batch_size"
    name : str, default "huber_loss"
    """

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss", dtype: Any = None) -> None:
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class Poisson(LossFunctionWrapper):
    """Poisson loss ``mean(y_pred - y_true log(y_pred + 1e-7))`` (counts; y_pred > 0)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson",
                 dtype: Any = None) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true log(y_true / y_pred))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """Hinge loss ``max(1 - y_true y_pred, 0)``, labels in {-1, 1} (0/1 labels are converted).

    Examples
    --------
    >>> round(float(Hinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 6)
    1.3
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge",
                 dtype: Any = None) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss ``max(1 - y_true y_pred, 0)^2`` (labels as in ``Hinge``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "squared_hinge",
                 dtype: Any = None) -> None:
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss ``max(neg - pos + 1, 0)`` for one-hot labels (see ``categorical_hinge``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity ``-sum(l2_normalize(y_true) l2_normalize(y_pred), axis)``.

    Parameters
    ----------
    axis : int, default -1
    reduction : str, default "sum_over_batch_size"
    name : str, default "cosine_similarity"
    """

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity", dtype: Any = None) -> None:
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)))``: like MSE for small errors, like MAE for large ones."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh",
                 dtype: Any = None) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy (Lin et al., 2017): ``(1 - p_t)^gamma bce`` (``binary_focal_crossentropy``).

    Parameters
    ----------
    apply_class_balancing : bool, default False
    alpha : float, default 0.25
    gamma : float, default 2.0
    from_logits : bool, default False
    label_smoothing : float, default 0.0
    axis : int, default -1
    reduction : str, default "sum_over_batch_size"
    name : str, default "binary_focal_crossentropy"

    Examples
    --------
    >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
    >>> round(float(loss([[0.0, 1.0, 0.0, 0.0]], [[-18.6, 0.51, 2.94, -12.8]])), 3)
    0.691
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_focal_crossentropy", dtype: Any = None) -> None:
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy (Lin et al., 2017), see ``categorical_focal_crossentropy``.

    Parameters
    ----------
    alpha : float or sequence of floats, default 0.25
    gamma : float, default 2.0
    from_logits : bool, default False
    label_smoothing : float, default 0.0
    axis : int, default -1
    reduction : str, default "sum_over_batch_size"
    name : str, default "categorical_focal_crossentropy"

    Examples
    --------
    >>> loss = CategoricalFocalCrossentropy()
    >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
    0.2332
    """

    def __init__(self, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_focal_crossentropy", dtype: Any = None) -> None:
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class Dice(LossFunctionWrapper):
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred))``.

    Parameters
    ----------
    reduction : str, default "sum_over_batch_size"
    name : str, default "dice"
    axis : int or tuple of int, optional
        Axes summed over (``None``: the whole batch, one number).

    Examples
    --------
    >>> float(Dice()([[1.0, 1.0, 0.0]], [[1.0, 0.0, 1.0]]))
    0.5
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "dice",
                 axis: Any = None, dtype: Any = None) -> None:
        axis = _axes(axis)
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss (Salehi et al., 2017) ``1 - TP / (TP + alpha FP + beta FN)``.

    Parameters
    ----------
    alpha : float, default 0.5
        Weight of false positives.
    beta : float, default 0.5
        Weight of false negatives.
    reduction : str, default "sum_over_batch_size"
    name : str, default "tversky"
    axis : int or tuple of int, optional
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5,
                 reduction: str | None = "sum_over_batch_size", name: str = "tversky",
                 axis: Any = None, dtype: Any = None) -> None:
        axis = _axes(axis)
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis


class Circle(LossFunctionWrapper):
    """Circle loss (Sun et al., 2020) between integer labels and unit-norm embeddings.

    Examples with no other example of their label get 0 and are left out of the
    mean (Keras masks them). See ``circle`` for the formula.

    Parameters
    ----------
    gamma : float, default 80.0
    margin : float, default 0.4
    remove_diagonal : bool, default True
    reduction : str, default "sum_over_batch_size"
    name : str, default "circle"
    """

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str = "circle",
                 dtype: Any = None) -> None:
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def _values_and_mask(self, y_true, y_pred):
        values = self.fn(y_true, y_pred, **self._fn_kwargs)
        return values, _raw(values) > 0


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy (Zhang & Sabuncu, 2018) ``(1 - p[label]^q) / q`` for integer labels.

    Parameters
    ----------
    q : float in (0, 1), default 0.5
        Near 0: like the cross-entropy; near 1: like the mean absolute error (robust to noisy labels).
    reduction : str, default "sum_over_batch_size"
    name : str, default "categorical_generalized_cross_entropy"

    Examples
    --------
    >>> round(float(CategoricalGeneralizedCrossEntropy()([1], [[0.36, 0.64]])), 6)
    0.4
    """

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype: Any = None) -> None:
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1), "
                             f"got q={q!r}. Use q=0.5 (the default), or a value nearer 0 to behave "
                             f"more like the cross-entropy.")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)
        self.q = q


class CTC(LossFunctionWrapper):
    """CTC loss (Graves et al., 2006) between label sequences and per-frame logits; see ``ctc``.

    ``y_true``: ``(B, L)`` integer labels (0 is the blank and the padding); ``y_pred``:
    ``(B, T, C)`` logits.

    Parameters
    ----------
    reduction : str, default "sum_over_batch_size"
    name : str, default "ctc"
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "ctc",
                 dtype: Any = None) -> None:
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


NAMES = registry.names("loss")
NAMES.register_each([SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                     MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                     MeanSquaredLogarithmicError, Huber, Poisson, KLDivergence, Hinge, SquaredHinge,
                     CategoricalHinge, CosineSimilarity, LogCosh, BinaryFocalCrossentropy,
                     CategoricalFocalCrossentropy, Dice, Tversky, Circle,
                     CategoricalGeneralizedCrossEntropy, CTC])
NAMES.register_table({
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error,
    "huber": huber, "huber_loss": huber, "poisson": poisson,
    "kl_divergence": kl_divergence, "kld": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "cosine_similarity": cosine_similarity, "log_cosh": log_cosh, "logcosh": log_cosh,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "dice": dice, "tversky": tversky, "circle": circle,
    "categorical_generalized_cross_entropy": categorical_generalized_cross_entropy, "ctc": ctc,
})
_CLASS_OF = {sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
             categorical_crossentropy: CategoricalCrossentropy,
             binary_crossentropy: BinaryCrossentropy, mean_squared_error: MeanSquaredError,
             mean_absolute_error: MeanAbsoluteError,
             mean_absolute_percentage_error: MeanAbsolutePercentageError,
             mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber,
             poisson: Poisson, kl_divergence: KLDivergence, hinge: Hinge, squared_hinge: SquaredHinge,
             categorical_hinge: CategoricalHinge, cosine_similarity: CosineSimilarity,
             log_cosh: LogCosh, binary_focal_crossentropy: BinaryFocalCrossentropy,
             categorical_focal_crossentropy: CategoricalFocalCrossentropy, dice: Dice,
             tversky: Tversky, circle: Circle,
             categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy, ctc: CTC}


def _loss_class(obj: Any) -> type[Loss]:
    """The Loss class for a registered class or function."""
    return obj if inspect.isclass(obj) else _CLASS_OF[obj]


def get(identifier: Any) -> Loss | None:
    """A loss object from a name, a ``serialize`` dict, a class, an instance or a function.

    Parameters
    ----------
    identifier : str, dict, Loss, Loss subclass, callable or None
        Names are Keras's: snake_case functions (``'sparse_categorical_crossentropy'``,
        ``'mse'``, ``'mean_squared_error'``, ``'binary_crossentropy'``, ``'huber'``,
        ``'poisson'``, ``'kld'``...) or class names (``'MeanSquaredError'``).
        A plain function ``f(y_true, y_pred)`` returning per-example values is
        wrapped so it accepts ``sample_weight``.

    Returns
    -------
    Loss
        Callable as ``loss(y_true, y_pred, sample_weight=None)`` -> scalar Tensor.

    Examples
    --------
    >>> get("mse")
    <MeanSquaredError 'mean_squared_error'>
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _loss_class(NAMES.lookup(identifier))()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        if identifier in _CLASS_OF:
            return _CLASS_OF[identifier]()
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier {identifier!r}: pass a name such as "
                     f"'sparse_categorical_crossentropy', a Loss object, or a function "
                     f"f(y_true, y_pred) returning per-example losses.")


def serialize(loss: Any) -> Any:
    """A JSON-serialisable description: ``{"class_name": ..., "config": ...}`` (or a name).

    A wrapped custom function is saved by name; loading it needs
    ``deserialize(config, custom_objects={name: fn})``.
    """
    if isinstance(loss, str):
        return loss
    if not isinstance(loss, Loss):
        loss = get(loss)
    if type(loss) is LossFunctionWrapper:
        config = {"fn": getattr(loss.fn, "__name__", "loss"), **loss.get_config()}
        return {"class_name": "LossFunctionWrapper", "config": config}
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Loss:
    """The loss described by ``serialize``'s output."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A loss config must be a dict with 'class_name' and 'config', got "
                         f"{config!r}.")
    name, conf = config["class_name"], dict(config.get("config", {}))
    custom = custom_objects or {}
    if name == "LossFunctionWrapper":
        fn_name = conf.pop("fn")
        fn = custom.get(fn_name) or NAMES.get(fn_name)
        if fn is None:
            raise ValueError(f"The custom loss function '{fn_name}' is not saved with the model "
                             f"(saved models hold no code). Pass custom_objects={{'{fn_name}': "
                             f"{fn_name}}}, or compile the model again after loading.")
        return LossFunctionWrapper(fn, **conf)
    cls = custom[name] if name in custom else _loss_class(NAMES.lookup(name))
    return cls.from_config(conf)


def check_targets(loss: Any, y: Any, output_shape: tuple[int, ...],
                  output_name: str = "output", finite_checked: bool = False) -> np.ndarray:
    """Check a whole target array against a model output once, before training.

    Raises the same teaching errors as the losses themselves, naming the
    output, and reshapes ``(N,)`` targets to ``(N, 1)`` for a one-unit output
    in regression and binary losses (what Keras's ``fit`` does), so
    ``model.fit(x, y)`` works with 1-D ``y`` and ``Dense(1)``.

    Parameters
    ----------
    loss : Loss
    y : array
        All targets for this output.
    output_shape : tuple of int
        The output's shape for any batch (the first entry is ignored).
    output_name : str
    finite_checked : bool, default False
        ``y`` is already known to hold no NaN or inf (``fit`` checks its targets first), so
        the pass that checks it is skipped.

    Returns
    -------
    ndarray
        ``y``, possibly reshaped.
    """
    y = np.asarray(_raw(y))
    pred_shape = (len(y),) + tuple(output_shape[1:]) if y.ndim else tuple(output_shape)
    fake = np.broadcast_to(np.float32(0), pred_shape)  # shape only: no allocation
    fn = loss.fn if isinstance(loss, LossFunctionWrapper) else None
    who = f"{getattr(loss, 'name', 'loss')} (output '{output_name}')"
    if fn is sparse_categorical_crossentropy:
        ignore = getattr(loss, "ignore_class", None)
        yy = np.where(y == ignore, 0, y) if ignore is not None else y
        _sparse_labels(yy, fake, getattr(loss, "axis", -1), who)
        return y
    if y.dtype.kind in "biuf" and not finite_checked:
        _check_finite(y, who)
    if fn in (categorical_crossentropy, categorical_focal_crossentropy, categorical_hinge):
        _check_categorical_labels(y, fake, who)
        return y
    if fn is categorical_generalized_cross_entropy:
        _sparse_labels(y, fake, -1, who)
        return y
    if fn is circle:
        _class_indices(y, who)
        return y
    if fn is ctc:
        return y  # label sequences: ctc checks them against the logits
    if fn is None or fn not in _CLASS_OF:
        return y  # a custom loss: its own business
    if y.ndim == len(pred_shape) - 1 and pred_shape[-1] == 1:
        y = y.reshape(*y.shape, 1)  # Keras: (N,) targets for a one-unit output
    if fn in (binary_crossentropy, binary_focal_crossentropy):
        if y.shape != pred_shape:
            _same_shape(y, fake, who)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{who}: binary cross-entropy needs labels in [0, 1], but y has values from "
                f"{y.min():g} to {y.max():g}. Map them to 0/1 (e.g. (y == positive_class)"
                f".astype('float32')); for more than two classes use "
                f"'sparse_categorical_crossentropy' with one output unit per class.")
        return y
    _same_shape(y, fake, who)
    return y
