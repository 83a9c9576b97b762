"""Metrics (``tf.keras.metrics``): stateful objects that accumulate over batches.

Each metric has Keras 3's class name, arguments and default name, and works
on NumPy arrays (metrics need no gradients)::

    m = unafraid.metrics.SparseCategoricalAccuracy()
    m.update_state(y_true, y_pred)        # once per batch
    m.result()                            # a Python float
    m.reset_state()                       # at the start of an epoch

``get(identifier, loss=..., output_shape=...)`` resolves the strings given to
``compile(metrics=[...])``. As in Keras 3, a metric given by a string is
named by that string in ``History`` (``"mse"`` stays ``"mse"``, ``"acc"`` stays
``"acc"``), and ``"accuracy"`` picks the accuracy that fits the loss and output.

Example
-------
>>> import numpy as np, unafraid as uf
>>> m = uf.metrics.SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> m.result()
0.5
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from . import losses as _losses
from . import registry
from .engine.tensor import Tensor
from .layers.masking import metric_sample_weight

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "AUC", "Precision", "Recall", "accuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "get", "serialize", "deserialize"]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's squeeze_or_expand_to_same_rank: only a trailing axis of length 1 is added or removed."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


# ---- per-sample functions (Keras 3 formulas) ------------------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(y_true == y_pred, axis=-1)`` (exact equality)."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.mean(y_true == y_pred, axis=-1, dtype=np.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """``mean(y_true == (y_pred > threshold), axis=-1)``."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.mean(y_true == (y_pred > threshold), axis=-1, dtype=np.float32)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """``argmax(y_true) == argmax(y_pred)`` per sample (first index wins ties)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """``y_true == argmax(y_pred)`` per sample; ``(N, 1)`` labels are squeezed."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1 where the true class is among the ``k`` highest scores.

    Ties count in the true class's favour (as TensorFlow's ``in_top_k``): the
    true class is in the top k when fewer than ``k`` classes score strictly higher.
    """
    y_true, y_pred = _array(y_true), _array(y_pred)
    shape = y_true.shape if y_true.ndim < y_pred.ndim else y_true.shape[:-1]
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    labels = y_true.reshape(-1).astype(np.intp)
    target = scores[np.arange(len(labels)), labels]
    higher = np.sum(scores > target[:, None], axis=-1)
    hit = (higher < k) & np.isfinite(target)
    return hit.astype(np.float32).reshape(shape)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """``sparse_top_k_categorical_accuracy(argmax(y_true), y_pred, k)``."""
    return sparse_top_k_categorical_accuracy(np.argmax(_array(y_true), axis=-1), y_pred, k)


def _mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.mean(np.square(y_true - y_pred), axis=-1)


def _mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.mean(np.abs(y_true - y_pred), axis=-1)


# ---- base classes ---------------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state`` accumulates, ``result`` reads, ``reset_state`` clears.

    Parameters
    ----------
    name : str, optional
        The key in ``History`` and in ``evaluate(return_dict=True)``.
    dtype : ignored
        Accepted for Keras compatibility; state is kept in float64.
    """

    default_name = "metric"

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}. Metric takes name= and dtype=.")
        self.name = name or self.default_name
        self.dtype = dtype
        self.reset_state()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def reset_state(self) -> None:
        """Set every variable made with ``add_variable`` back to its initial value."""
        for var, initial in self.__dict__.get("_state_variables", []):
            var.assign(initial)

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Any:
        """A state variable for a custom metric (Keras 3's ``add_variable``).

        ``update_state`` changes it (``v.assign_add(...)``), ``result`` reads it,
        and the default ``reset_state`` puts it back to its initial value.

        Examples
        --------
        >>> import unafraid as tf
        >>> class Total(tf.keras.metrics.Metric):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        ...     def update_state(self, values, sample_weight=None):
        ...         self.total.assign_add(tf.reduce_sum(values))
        ...     def result(self):
        ...         return self.total
        >>> m = Total()
        >>> m.update_state([1.0, 2.0]); float(m.result())
        3.0
        """
        from . import initializers
        from .tf_ops import Variable

        shape = (int(shape),) if isinstance(shape, int | np.integer) else tuple(shape)
        value = np.asarray(initializers.get(initializer)(shape, dtype or "float32"))
        var = Variable(value.copy(), trainable=False, name=f"{self.name}/{name or 'variable'}")
        self.__dict__.setdefault("_state_variables", []).append((var, value))
        return var

    def add_weight(self, name: str | None = None, shape: Any = (), initializer: Any = "zeros",
                   dtype: Any = None, aggregation: str = "sum") -> Any:
        """``add_variable`` under its tf.keras 2 name (``name`` may come first)."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    @property
    def variables(self) -> list[Any]:
        """The state variables made with ``add_variable``."""
        return [var for var, _ in self.__dict__.get("_state_variables", [])]

    def reset_states(self) -> None:
        """tf.keras 2 spelling of ``reset_state``."""
        self.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        """Update with one batch and return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name='{self.name}' result={self.result():.4g}>"


class Mean(Metric):
    """The (weighted) mean of the values seen: ``sum(w x) / sum(w)``.

    Values with more axes than the weights are first averaged per sample, as in Keras.

    Examples
    --------
    >>> m = Mean()
    >>> m.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
    >>> m.result()
    2.5
    """

    default_name = "mean"

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        values = np.asarray(_array(values), np.float64)
        if sample_weight is None:
            if values.ndim > 1:
                values = values.mean(axis=tuple(range(1, values.ndim)))
            self.total += float(values.sum())
            self.count += float(values.shape[0] if values.ndim else 1)
            return
        w = np.asarray(_array(sample_weight), np.float64)
        values, w = _same_rank(values, w)
        if values.ndim > w.ndim:  # average the extra axes per sample first
            values = values.mean(axis=tuple(range(w.ndim, values.ndim)))
        try:
            w = np.broadcast_to(w, values.shape)
        except ValueError:
            raise ValueError(f"{self.name}: sample_weight of shape {w.shape} does not fit values "
                             f"of shape {values.shape}; pass one weight per sample.") from None
        self.total += float(np.sum(values * w))
        self.count += float(np.sum(w))

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    default_name = "sum"

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        values = np.asarray(_array(values), np.float64)
        if sample_weight is not None:
            values, w = _same_rank(values, np.asarray(_array(sample_weight), np.float64))
            values = values * w
        self.total += float(values.sum())

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Mean):
    """The weighted mean over samples of ``fn(y_true, y_pred, **kwargs)``.

    Parameters
    ----------
    fn : callable
        Returns one value per sample (arrays or Tensors).
    name : str, optional
        Defaults to ``fn.__name__``.

    Examples
    --------
    >>> m = MeanMetricWrapper(lambda t, p: abs(t - p), name="abs_err")
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        sample_weight = metric_sample_weight(y_pred, sample_weight)  # Keras's mask (k17c)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(_array(values), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._fn_kwargs}


# ---- accuracies -----------------------------------------------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly.

    Examples
    --------
    >>> m = Accuracy()
    >>> m.update_state([1, 2, 3, 4], [0, 2, 3, 4])
    >>> m.result()
    0.75
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` equals the 0/1 label.

    Parameters
    ----------
    threshold : float, default 0.5
        Use 0.0 when the model outputs logits.

    Examples
    --------
    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result()
    0.75
    """

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot labels ``(N, C)``).

    Examples
    --------
    >>> m = CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals the integer label (labels ``(N,)`` or ``(N, 1)``).

    Examples
    --------
    >>> m = SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the (one-hot) true class is among the ``k`` highest predictions.

    Parameters
    ----------
    k : int, default 5
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer true class is among the ``k`` highest predictions (ties count as hits).

    Parameters
    ----------
    k : int, default 5

    Examples
    --------
    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


# ---- regression and probabilistic -----------------------------------------------------------------
class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``(y_true - y_pred)^2`` (a trailing axis of length 1 is matched up, as in Keras)."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(_mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``|y_true - y_pred|``."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(_mean_absolute_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the mean squared error over everything seen."""

    default_name = "root_mean_squared_error"

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
        super().update_state(np.square(y_true - y_pred), sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (see ``unafraid.losses``)."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (see ``unafraid.losses``)."""

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy (see ``unafraid.losses``)."""

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


# ---- confusion-matrix metrics ---------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _weights(sample_weight: Any, shape: tuple[int, ...]) -> np.ndarray:
    if sample_weight is None:
        return np.ones(shape)
    w = np.asarray(_array(sample_weight), np.float64)
    if w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


class _Confusion(Metric):
    """Weighted true/false positive/negative counts at thresholds (``y_pred > threshold``)."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        self.init_thresholds = thresholds
        default = 0.5 if top_k is None else -np.inf
        thr = default if thresholds is None else thresholds
        self.thresholds = np.atleast_1d(np.asarray(thr, np.float64))
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred).astype(np.float64))
        w = _weights(sample_weight, y_pred.shape)
        if self.top_k is not None:  # only each row's k largest predictions may be positive
            drop = np.argsort(-y_pred, axis=-1, kind="stable")[..., self.top_k:]
            y_pred = y_pred.copy()
            np.put_along_axis(y_pred, drop, -np.inf, axis=-1)
        if self.class_id is not None:
            y_true, y_pred, w = (a[..., self.class_id] for a in (y_true, y_pred, w))
        pos = np.asarray(y_true).astype(bool).ravel()
        pred, w = y_pred.ravel(), np.ravel(w)
        above = pred[None, :] > self.thresholds[:, None]
        self.true_positives += (above & pos) @ w
        self.false_positives += (above & ~pos) @ w
        self.false_negatives += (~above & pos) @ w
        self.true_negatives += (~above & ~pos) @ w

    def _finish(self, value: np.ndarray) -> Any:
        return float(value[0]) if len(value) == 1 else value

    def get_config(self) -> dict[str, Any]:
        thr = self.init_thresholds
        thr = thr.tolist() if isinstance(thr, np.ndarray) else thr
        return {**super().get_config(), "thresholds": thr, "top_k": self.top_k,
                "class_id": self.class_id}


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


class Precision(_Confusion):
    """``TP / (TP + FP)`` with predictions ``y_pred > thresholds`` (0 when nothing is predicted positive).

    Parameters
    ----------
    thresholds : float or list of float, optional
        Default 0.5; a list gives one result per threshold (an array).
    top_k : int, optional
        Only each row's ``k`` highest predictions may count as positive.
    class_id : int, optional
        Restrict to one class (one column of multi-label data).

    Examples
    --------
    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    default_name = "precision"

    def result(self) -> Any:
        tp = self.true_positives
        return self._finish(_divide_no_nan(tp, tp + self.false_positives))


class Recall(_Confusion):
    """``TP / (TP + FN)`` with predictions ``y_pred > thresholds`` (see ``Precision``).

    Examples
    --------
    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    default_name = "recall"

    def result(self) -> Any:
        tp = self.true_positives
        return self._finish(_divide_no_nan(tp, tp + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated as Keras does.

    The curve is sampled at ``num_thresholds`` thresholds evenly spaced in
    [0, 1] (plus ``-1e-7`` and ``1 + 1e-7`` at the ends); a prediction is
    positive when ``y_pred > threshold``. ``summation_method='interpolation'``
    uses the trapezoidal rule for ROC and Davis & Goadrich's (2006) interpolation
    for PR; ``'minoring'`` / ``'majoring'`` use left/right Riemann sums. This
    approximation differs from the exact AUC by about ``1 / num_thresholds``.
    Labels are binary (nonzero = positive); multi-label data is flattened.

    Parameters
    ----------
    num_thresholds : int, default 200
    curve : {'ROC', 'PR'}, default 'ROC'
    summation_method : {'interpolation', 'minoring', 'majoring'}
    name : str, optional
        Default 'auc'.
    thresholds : list of float, optional
        Explicit thresholds in (0, 1) instead of ``num_thresholds``.
    from_logits : bool, default False
        Apply a sigmoid to ``y_pred`` first.

    Examples
    --------
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> m.result()
    0.75
    """

    default_name = "auc"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC curve must be 'ROC' or 'PR', got {curve!r}.")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}.")
        if multi_label or label_weights is not None:
            raise NotImplementedError("AUC(multi_label=True) and label_weights are not supported "
                                      "yet; compute one AUC(class_id-wise) per label instead.")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"num_thresholds must be > 1, got {num_thresholds}.")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.from_logits = from_logits
        self.multi_label, self.num_labels = multi_label, num_labels
        self._init_thresholds = thresholds
        self.thresholds = np.array([-1e-7, *inner, 1.0 + 1e-7])
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        n = self.num_thresholds
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred).astype(np.float64))
        if self.from_logits:
            y_pred = _sigmoid(y_pred)
        w = _weights(sample_weight, y_pred.shape).ravel()
        pos = np.asarray(y_true).astype(bool).ravel()
        # k[i] = number of thresholds strictly below prediction i: positive at thresholds[:k]
        k = np.searchsorted(self.thresholds, y_pred.ravel(), side="left")
        n = self.num_thresholds

        def above(weights: np.ndarray) -> np.ndarray:  # sum of weights with prediction > thr[j]
            counts = np.bincount(k, weights=weights, minlength=n + 1)
            return np.cumsum(counts[::-1])[::-1][1:]

        tp, fp = above(w * pos), above(w * ~pos)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += float(np.sum(w * pos)) - tp
        self.true_negatives += float(np.sum(w * ~pos)) - fp

    def result(self) -> float:
        tp, fp, fn, tn = (self.true_positives, self.false_positives, self.false_negatives,
                          self.true_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def _interpolate_pr_auc(self) -> float:
        """Davis & Goadrich (2006): precision interpolated linearly in TP between thresholds."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        increment = _divide_no_nan(slope * (dtp + intercept * log_ratio),
                                   np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(increment))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._init_thresholds, "multi_label": self.multi_label,
                "num_labels": self.num_labels, "from_logits": self.from_logits}


# ---- lookup ---------------------------------------------------------------------------------------
NAMES = registry.names("metric")
NAMES.register_each([
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, SparseCategoricalCrossentropy, CategoricalCrossentropy,
    BinaryCrossentropy, AUC, Precision, Recall])
NAMES.register_table({
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError, "rmse": RootMeanSquaredError,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall, "mean": Mean, "sum": Sum,
})
_FUNCTIONS = {accuracy: Accuracy, binary_accuracy: BinaryAccuracy,
              categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy}


def _accuracy_for(loss: Any, output_shape: Any, y_true_shape: Any, name: str) -> Metric:
    """Keras's choice for ``metrics=['accuracy']``: from the loss first, then the shapes."""
    if isinstance(loss, str | dict):
        loss = _losses.get(loss)
    fn = getattr(loss, "fn", loss)
    if fn is _losses.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy(name=name)
    if fn is _losses.categorical_crossentropy:
        return CategoricalAccuracy(name=name)
    if fn is _losses.binary_crossentropy:  # logits: sigmoid(z) > 0.5 exactly when z > 0
        logits = bool(getattr(loss, "from_logits", False))
        return BinaryAccuracy(name=name, threshold=0.0 if logits else 0.5)
    if output_shape is not None and len(output_shape) and output_shape[-1] == 1:
        return BinaryAccuracy(name=name)
    if y_true_shape is not None and output_shape is not None and (
            len(y_true_shape) < len(output_shape)
            or (y_true_shape[-1] == 1 and output_shape[-1] > 1)):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier: Any, loss: Any = None, output_shape: tuple[int, ...] | None = None,
        y_true_shape: tuple[int, ...] | None = None) -> Metric:
    """A metric object for ``compile(metrics=[...])``.

    Parameters
    ----------
    identifier : str, dict, Metric, Metric subclass or callable
        Strings are Keras's names (``'accuracy'``, ``'acc'``, ``'mse'``, ``'mae'``,
        ``'sparse_categorical_accuracy'``, ``'auc'``, ``'precision'``...) or class
        names. As in Keras 3 the metric is then *named by that string*.
        ``'accuracy'``/``'acc'`` become ``SparseCategoricalAccuracy`` for a sparse
        cross-entropy loss, ``CategoricalAccuracy`` for categorical cross-entropy,
        ``BinaryAccuracy`` for binary cross-entropy (threshold 0 when
        ``from_logits=True``) or a one-unit output; otherwise the label shape
        decides (sparse when ``y_true`` has fewer axes), defaulting to categorical.
        A function ``f(y_true, y_pred)`` is averaged over samples.
    loss : Loss or str, optional
        The compiled loss for this output.
    output_shape : tuple of int, optional
        Shape of the model's output (any batch size).
    y_true_shape : tuple of int, optional
        Shape of the targets, when known.

    Examples
    --------
    >>> get("accuracy", loss="sparse_categorical_crossentropy")
    <SparseCategoricalAccuracy name='accuracy' result=0>
    >>> get("mse").name
    'mse'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            return _accuracy_for(loss, output_shape, y_true_shape, identifier)
        metric = NAMES.lookup(identifier)()
        metric.name = identifier
        return metric
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]()
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier {identifier!r}: pass a name such as "
                     f"'accuracy', a Metric object, or a function f(y_true, y_pred).")


def serialize(metric: Any) -> Any:
    """A JSON-serialisable description: the name string, or ``{"class_name", "config"}``."""
    if isinstance(metric, str):
        return metric
    if not isinstance(metric, Metric):
        metric = get(metric)
    if type(metric) is MeanMetricWrapper:
        return {"class_name": "MeanMetricWrapper",
                "config": {"fn": getattr(metric._fn, "__name__", "metric"), **metric.get_config()}}
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Metric:
    """The metric described by ``serialize``'s output (with fresh state)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A metric config must be a dict with 'class_name' and 'config', got "
                         f"{config!r}.")
    name, conf = config["class_name"], dict(config.get("config", {}))
    custom = custom_objects or {}
    if name == "MeanMetricWrapper":
        fn_name = conf.pop("fn")
        fn = custom.get(fn_name)
        if fn is None:
            raise ValueError(f"The custom metric function '{fn_name}' is not saved with the model "
                             f"(saved models hold no code). Pass custom_objects={{'{fn_name}': "
                             f"{fn_name}}}, or compile the model again after loading.")
        return MeanMetricWrapper(fn, **conf)
    cls = custom[name] if name in custom else NAMES.lookup(name)
    return cls.from_config(conf)
