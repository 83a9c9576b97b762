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

import contextlib
import copy
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import losses as _losses
from . import registry
from .engine.tensor import Tensor, Variable
from .layers.base import KerasTensor
from .layers.masking import metric_sample_weight

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "AUC", "Precision", "Recall", "TruePositives", "TrueNegatives",
           "FalsePositives", "FalseNegatives", "SensitivityAtSpecificity",
           "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision", "R2Score",
           "F1Score", "FBetaScore", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "LogCoshError", "CosineSimilarity", "Poisson", "KLDivergence", "Hinge", "SquaredHinge",
           "CategoricalHinge", "IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU",
           "PearsonCorrelation", "ConcordanceCorrelation", "pearson_correlation",
           "concordance_correlation",
           "accuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "log_cosh", "cosine_similarity", "poisson",
           "kl_divergence", "hinge", "squared_hinge", "categorical_hinge", "confusion_counts",
           "parse_thresholds", "evenly_spaced", "keep_top_k", "get", "serialize", "deserialize"]


EPSILON = 1e-7  # keras.backend.epsilon()


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


_NUMBERS = (float, int, np.floating, np.integer)  # a tuple: isinstance checks it faster than a union


def _one_number(x: Any) -> bool:
    """A Python or NumPy real number (not a bool, not an array)."""
    return isinstance(x, _NUMBERS) and not isinstance(x, bool)


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
    """``y_true == y_pred`` entry by entry, as 0.0/1.0 (not averaged: weights may be per entry)."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.asarray(y_true == y_pred, np.float32)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """``y_true == (y_pred > threshold)`` entry by entry, as 0.0/1.0."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return np.asarray(y_true == (y_pred > threshold), np.float32)


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


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5,
                                      from_sorted_ids: bool = False) -> np.ndarray:
    """1 where the true class is among the ``k`` highest scores.

    Ties count in the true class's favour (as TensorFlow's ``in_top_k``): the
    true class is in the top k when fewer than ``k`` classes score strictly higher.
    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted from the
    highest score down, ``(N, n >= k)``, and a hit is ``y_true`` among its first ``k``.
    """
    y_true, y_pred = _array(y_true), _array(y_pred)
    shape = y_true.shape if y_true.ndim < y_pred.ndim else y_true.shape[:-1]
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        hit = np.any(y_true.reshape(-1, 1) == scores[:, :k], axis=1)
        return hit.astype(np.float32).reshape(shape)
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


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``100 mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    return 100.0 * np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2, axis=-1)``."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    diff = np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))
    return np.mean(np.square(diff), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    x = np.asarray(y_pred - y_true, np.float64)
    return np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1)


def _l2_normalize(x: np.ndarray, axis: int) -> np.ndarray:
    """``x / max(||x||, 1e-7)`` along ``axis`` (Keras's ``normalize``)."""
    square_sum = np.sum(np.square(x), axis=axis, keepdims=True)
    return x / np.sqrt(np.maximum(square_sum, EPSILON * EPSILON))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """``sum(y_true / ||y_true|| * y_pred / ||y_pred||, axis)`` (1: same direction, -1: opposite)."""
    y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    return np.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Pearson's correlation along ``axis`` (one value per sample for ``(N, n)`` inputs):
    ``mean(z(y_true) z(y_pred))`` with ``z(x) = (x - mean x) / std x`` (population std)."""
    y_true, y_pred = _same_rank(np.asarray(_array(y_true), np.float64),
                                np.asarray(_array(y_pred), np.float64))
    t = y_true - np.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    t = t / np.std(t, axis=axis, keepdims=True)
    p = p / np.std(p, axis=axis, keepdims=True)
    return np.mean(t * p, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Lin's concordance correlation along ``axis``:
    ``2 cov(t, p) / (var t + var p + (mean t - mean p)^2 + 1e-7)`` (population moments)."""
    y_true, y_pred = _same_rank(np.asarray(_array(y_true), np.float64),
                                np.asarray(_array(y_pred), np.float64))
    t_mean = np.mean(y_true, axis=axis, keepdims=True)
    p_mean = np.mean(y_pred, axis=axis, keepdims=True)
    norm = (np.var(y_true, axis=axis, keepdims=True) + np.var(y_pred, axis=axis, keepdims=True)
            + np.square(t_mean - p_mean))
    covar = (y_true - p_mean) * (y_pred - p_mean)  # Keras's form; its mean is cov(t, p)
    return np.mean(2.0 * covar / (norm + EPSILON), axis=axis)


def poisson(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(y_pred - y_true log(y_pred + 1e-7), axis=-1)``."""
    y_true, y_pred = np.asarray(_array(y_true), np.float64), np.asarray(_array(y_pred), np.float64)
    return np.mean(y_pred - y_true * np.log(y_pred + EPSILON), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> np.ndarray:
    """``sum(t log(t / p), axis=-1)`` with ``t``, ``p`` clipped to [1e-7, 1]."""
    t = np.clip(np.asarray(_array(y_true), np.float64), EPSILON, 1.0)
    p = np.clip(np.asarray(_array(y_pred), np.float64), EPSILON, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


def _hinge_labels(y_true: Any) -> np.ndarray:
    """0/1 labels become -1/+1; labels that are not all 0 or 1 are kept as they are."""
    y = np.asarray(_array(y_true), np.float64)
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


def hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(max(1 - y_true y_pred, 0), axis=-1)`` with labels in {-1, 1} (0/1 labels converted)."""
    return np.mean(np.maximum(1.0 - _hinge_labels(y_true) * _array(y_pred), 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(max(1 - y_true y_pred, 0)^2, axis=-1)`` with labels in {-1, 1} (0/1 labels converted)."""
    return np.mean(np.square(np.maximum(1.0 - _hinge_labels(y_true) * _array(y_pred), 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """``max(max((1 - t) p) - sum(t p) + 1, 0)`` per sample, for one-hot ``t``."""
    t, p = np.asarray(_array(y_true), np.float64), np.asarray(_array(y_pred), np.float64)
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1.0 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


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
        and the default ``reset_state`` puts it back to its initial value. ``initializer`` is
        a name (``'zeros'``), an initializer object, or the initial values themselves (an
        array or Tensor of ``shape``, as Keras accepts).

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
        if isinstance(initializer, np.ndarray | Tensor | list | tuple):  # the values themselves
            value = np.array(initializer.data if isinstance(initializer, Tensor) else initializer,
                             dtype=dtype)
            if value.shape != shape:
                raise ValueError(f"{type(self).__name__}.add_variable('{name}'): the initial values "
                                 f"have shape {value.shape}, but shape={shape}. Give values of "
                                 f"that shape, or an initializer name such as 'zeros'.")
        else:
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
        """The metric's variables, in Keras 3's order: those made with ``add_variable``, then
        Variables held in attributes (also inside lists, tuples and dicts), then the variables of
        metrics held in attributes (sub-metrics, at any depth); each once."""
        found: list[Any] = []
        self._collect_variables({id(self)}, found)
        return found

    def _collect_variables(self, seen: set[int], found: list[Any]) -> None:
        """Append the variables of ``variables`` to ``found``, skipping the objects in ``seen``
        (shared with sub-metrics, so a metric that refers back to its parent is walked once)."""
        submetrics: list[Metric] = []

        def walk(value: Any) -> None:
            if id(value) in seen:
                return
            if isinstance(value, Variable | Metric):
                seen.add(id(value))
                (found if isinstance(value, Variable) else submetrics).append(value)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)

        for var, _ in self.__dict__.get("_state_variables", []):
            walk(var)
        for key, value in self.__dict__.items():
            if key != "_state_variables":
                walk(value)
        for metric in submetrics:
            if type(metric).variables is Metric.variables:
                metric._collect_variables(seen, found)
            else:  # a built-in metric: its state as Keras lists it
                found.extend(metric.variables)

    # ---- Keras 3's stateless API: the state given and returned as arrays, the metric unchanged ----
    def stateless_update_state(self, metric_variables: list[Any], *args: Any,
                               **kwargs: Any) -> list[np.ndarray]:
        """``update_state(*args, **kwargs)`` applied to the state ``metric_variables`` (arrays in
        the order of ``variables``); returns the new state and leaves the metric's own as it was.

        Examples
        --------
        >>> m = Mean()
        >>> state = m.stateless_update_state([0.0, 0.0], [1.0, 3.0])
        >>> [float(v) for v in state], float(m.result())
        ([4.0, 2.0], 0.0)
        """
        with self._state_set_to(metric_variables):
            self.update_state(*args, **kwargs)
            return [v.numpy() for v in self.variables]

    def stateless_result(self, metric_variables: list[Any]) -> Any:
        """``result()`` of the state ``metric_variables``, the metric's own left as it was."""
        with self._state_set_to(metric_variables):
            return self.result()

    def stateless_reset_state(self) -> list[np.ndarray]:
        """The state ``reset_state()`` gives, as arrays; the metric's own left as it was."""
        with self._state_set_to(None):
            self.reset_state()
            return [v.numpy() for v in self.variables]

    @contextlib.contextmanager
    def _state_set_to(self, values: list[Any] | None) -> Iterator[None]:
        """Inside the block the metric's variables hold ``values`` (None: as they are); after it,
        what they held before."""
        variables = self.variables
        if values is not None and len(values) != len(variables):
            raise ValueError(f"{type(self).__name__} '{self.name}' has {len(variables)} state "
                             f"variables ({[v.name for v in variables]}); got {len(values)} values. "
                             f"Pass one array per variable, as metric.variables lists them.")
        saved = [v.numpy() for v in variables]
        try:
            for var, value in zip(variables, values or [], strict=False):
                var.assign(np.asarray(getattr(value, "data", value)))
            yield
        finally:
            for var, value in zip(variables, saved, strict=True):
                var.assign(value)

    @property
    def _dtype(self) -> str:
        """Keras 3's name for the metric's dtype as a string (``'float32'`` unless set)."""
        return str(np.dtype(self.dtype).name) if self.dtype is not None else "float32"

    def reset_states(self) -> None:
        """tf.keras 2 spelling of ``reset_state``."""
        self.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        """Update with one batch and return the running result.

        Called on symbolic tensors (``keras.Input``), it returns the result's ``KerasTensor``
        (its shape and dtype) and leaves the state alone, as Keras's symbolic call does.
        """
        if any(isinstance(a, KerasTensor) for a in (*args, *kwargs.values())):
            return self._symbolic_result(*args, **kwargs)
        self.update_state(*args, **kwargs)
        return self.result()

    def _symbolic_result(self, *args: Any, **kwargs: Any) -> KerasTensor:
        """The result's spec for symbolic inputs: a copy of the metric is updated with zeros of
        their shapes (an unknown axis as length 1) and its result's shape is read."""
        def zeros(a: Any) -> Any:
            if not isinstance(a, KerasTensor):
                return a
            return np.zeros(tuple(1 if d is None else d for d in a.shape), a.dtype)

        value = copy.deepcopy(self)(*map(zeros, args), **{k: zeros(v) for k, v in kwargs.items()})
        value = np.asarray(getattr(value, "data", value))
        return KerasTensor(value.shape, "float32" if value.dtype.kind == "f" else value.dtype.name)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        value = self.result()
        shown = f"{float(value):.4g}" if np.ndim(value) == 0 else np.array2string(
            np.asarray(value), precision=4)
        return f"<{type(self).__name__} name='{self.name}' result={shown}>"


class _ArrayStateMetric(Metric):
    """Base of unafraid's built-in metrics: ``reset_state`` (re)creates their NumPy state.

    (A subclass of ``Metric`` written as in Keras makes its state with
    ``add_variable`` after ``super().__init__``, so ``Metric.__init__`` itself
    resets nothing.)
    """

    state_names: tuple[str, ...] = ()  # Keras 3's state variables, in Keras's order

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.reset_state()

    @property
    def variables(self) -> list[Any]:
        """The metric's state as Keras 3 lists it, by Keras's names (``total`` and ``count`` for a
        mean, ...).

        Each is a non-trainable Variable holding a copy of the state as it is now: reading it is
        exact, and ``update_state`` / ``reset_state`` (not assigning to it) change the metric.
        """
        from .tf_ops import Variable

        def now(state: str) -> np.ndarray:
            value = getattr(self, state, None)
            return np.asarray(0.0 if value is None else value, np.float32)

        return [Variable(now(n), trainable=False, name=n) for n in self.state_names]

    @contextlib.contextmanager
    def _state_set_to(self, values: list[Any] | None) -> Iterator[None]:
        """The state attributes (``state_names``) hold ``values`` inside the block; everything the
        metric held before is back after it."""
        if values is not None and len(values) != len(self.state_names):
            raise ValueError(f"{type(self).__name__} '{self.name}' has {len(self.state_names)} state "
                             f"variables {list(self.state_names)}; got {len(values)} values. Pass "
                             f"one array per variable, as metric.variables lists them.")
        saved = copy.deepcopy(self.__dict__)
        try:
            for name, value in zip(self.state_names, values or [], strict=False):
                value = np.asarray(getattr(value, "data", value), np.float64)
                now = getattr(self, name, None)
                setattr(self, name, float(value) if isinstance(now, float) else
                        value.reshape(np.shape(now)) if now is not None else value)
            yield
        finally:
            self.__dict__.clear()
            self.__dict__.update(saved)


class Mean(_ArrayStateMetric):
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
    state_names = ("total", "count")

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        if _one_number(values) and (sample_weight is None or _one_number(sample_weight)):
            # one value (fit's loss tracker, every step): the float64 arithmetic below, without arrays
            weight = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values) * weight
            self.count += weight
            return
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


class Sum(_ArrayStateMetric):
    """The (weighted) sum of the values seen."""

    default_name = "sum"

    state_names = ("total",)

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
        """``name``, ``dtype``, the function's keyword arguments and, for a wrapper built from a
        function (not a subclass that fixes it), ``fn``: the function's name (``'package>name'``
        when registered with ``keras.saving.register_keras_serializable``), never its code."""
        config = {**super().get_config(), **self._fn_kwargs}
        if "fn" in inspect.signature(type(self).__init__).parameters:
            from .io.custom_objects import get_registered_name  # the registered names' one table
            config["fn"] = get_registered_name(self._fn)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> MeanMetricWrapper:
        """The wrapper ``get_config`` describes; ``fn`` is found by name in ``custom_objects``,
        the registered functions, or unafraid's metric and loss functions (nothing is imported)."""
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = find_function(config["fn"], custom_objects)
        return cls(**config)


def find_function(name: str, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The function saved as ``name`` by ``MeanMetricWrapper.get_config``: from ``custom_objects``,
    ``keras.saving.register_keras_serializable``'s table, or unafraid's metric and loss functions.

    Raises
    ------
    ValueError
        When none has that name (a saved config holds no code).
    """
    from .io.custom_objects import find_custom_object
    found = find_custom_object(name, custom_objects)
    for module in (sys.modules[__name__], _losses):
        candidate = getattr(module, name, None)
        if found is None and inspect.isfunction(candidate) and not name.startswith("_"):
            found = candidate
    if found is None or not callable(found):
        raise ValueError(f"MeanMetricWrapper: the function '{name}' is not saved with the metric "
                         f"(configs hold no code). Pass custom_objects={{'{name}': {name}}} to "
                         f"from_config, or register it with "
                         f"@keras.saving.register_keras_serializable().")
    return found


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
    from_sorted_ids : bool, default False
        When True, ``y_pred`` is ``(N, n >= k)`` class ids sorted from the highest
        score down (e.g. from a retrieval model), not ``(N, C)`` scores.

    Examples
    --------
    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    >>> m = SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)
    >>> m.update_state([2, 1], [[1, 0, 3], [1, 2, 3]])
    >>> m.result()
    0.5
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None, from_sorted_ids: bool = False) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict[str, Any]:  # as Keras: from_sorted_ids only when True
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        return {**config, "from_sorted_ids": True} if self.from_sorted_ids else config


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
    """Mean sparse categorical cross-entropy (see ``unafraid.losses``).

    Parameters
    ----------
    from_logits : bool, default False
    ignore_class : int, optional
        Samples with this label get a value of 0. As in Keras 3, they still
        count in the mean's denominator when no ``sample_weight`` is given, and
        their weight is set to 0 when one is.
    axis : int, default -1

    Examples
    --------
    >>> m = SparseCategoricalCrossentropy(ignore_class=0)
    >>> m.update_state([0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    >>> round(m.result(), 4)  # (0 + -log 0.95 - log 0.1) / 3
    0.7846
    """

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1) -> None:
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.ignore_class is not None and sample_weight is not None:
            y = _array(y_true)
            if y.ndim == np.ndim(_array(y_pred)) and y.shape[-1] == 1:
                y = y[..., 0]
            valid, w = _same_rank(np.asarray(y != self.ignore_class, np.float64),
                                  np.asarray(_array(sample_weight), np.float64))
            sample_weight = w * valid
        super().update_state(y_true, y_pred, sample_weight)


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


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``100 |y_true - y_pred| / max(|y_true|, 1e-7)``.

    Examples
    --------
    >>> m = MeanAbsolutePercentageError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> m.result()
    250000000.0
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of ``(log(1 + y_pred) - log(1 + y_true))^2`` (values below 1e-7 raised to 1e-7).

    Examples
    --------
    >>> m = MeanSquaredLogarithmicError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> round(m.result(), 4)  # log(2)^2 / 4
    0.1201
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))`` (about ``x^2 / 2`` near 0 and ``|x| - log 2`` far away).

    Examples
    --------
    >>> m = LogCoshError()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> round(m.result(), 4)  # log(cosh(1)) / 4
    0.1084
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity ``<y_true, y_pred> / (||y_true|| ||y_pred||)`` along ``axis``.

    Parameters
    ----------
    axis : int, default -1

    Examples
    --------
    >>> m = CosineSimilarity(axis=1)
    >>> m.update_state([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
    >>> round(m.result(), 4)  # (0 + 1) / 2
    0.5
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of Pearson's correlation between ``y_true`` and ``y_pred`` along ``axis``.

    Parameters
    ----------
    name : str, default 'pearson_correlation'
    axis : int, default -1

    Examples
    --------
    >>> m = PearsonCorrelation()
    >>> m.update_state([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]])
    >>> round(m.result(), 4)
    0.9934
    """

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of Lin's concordance correlation along ``axis`` (1: identical values).

    Parameters
    ----------
    name : str, default 'concordance_correlation'
    axis : int, default -1

    Examples
    --------
    >>> m = ConcordanceCorrelation()
    >>> m.update_state([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]])
    >>> round(m.result(), 4)
    1.0
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Poisson(MeanMetricWrapper):
    """Mean Poisson deviance term ``y_pred - y_true log(y_pred + 1e-7)`` (for count data).

    Examples
    --------
    >>> m = Poisson()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> round(m.result(), 4)  # (1 - 0 + 1 - log(1)) / 4
    0.5
    """

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(poisson, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence ``sum(t log(t / p))`` (both clipped to [1e-7, 1]).

    Examples
    --------
    >>> m = KLDivergence()
    >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result(), 4)  # (log(1 / 0.4) + ~0) / 2
    0.4581
    """

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge ``max(1 - y_true y_pred, 0)``; labels -1/1 (0/1 labels are converted).

    Examples
    --------
    >>> m = Hinge()
    >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    >>> m.result()
    1.3
    """

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge ``max(1 - y_true y_pred, 0)^2``; labels -1/1 (0/1 labels are converted).

    Examples
    --------
    >>> m = SquaredHinge()
    >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result(), 4)
    1.86
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge ``max(max_{c != y} p_c - p_y + 1, 0)`` for one-hot labels.

    Examples
    --------
    >>> m = CategoricalHinge()
    >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result(), 4)
    1.4
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(categorical_hinge, name=name, dtype=dtype)


def _check_2d(who: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.ndim != 2 or y_pred.ndim != 2:
        raise ValueError(f"{who} expects 2D inputs with shape (batch_size, output_dim). Received "
                         f"input shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}.")


class R2Score(_ArrayStateMetric):
    """Coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` per output column, over all batches.

    ``SS_res = sum w (y - y_hat)^2`` and ``SS_tot = sum w y^2 - (sum w y)^2 / sum w``
    (weighted). With ``num_regressors = p > 0`` the adjusted score
    ``1 - (1 - R^2) (n - 1) / (n - p - 1)`` is returned (n = samples with a nonzero weight).

    Parameters
    ----------
    class_aggregation : {'uniform_average', 'variance_weighted_average', None}
        How the per-column scores are combined: plain mean, mean weighted by
        ``SS_tot``, or none (an array of one score per column).
    num_regressors : int, default 0

    Examples
    --------
    >>> m = R2Score()
    >>> m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])
    >>> m.result()  # 1 - 1 / 2
    0.5
    """

    default_name = "r2_score"

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: Any = None) -> None:
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of "
                             f"{valid}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        super().__init__(name=name, dtype=dtype)

    state_names = ("sum", "squared_sum", "total_mse", "count", "num_samples")

    def reset_state(self) -> None:
        self.num_samples = 0.0
        self.sum = self.squared_sum = self.total_mse = self.count = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _same_rank(np.asarray(_array(y_true), np.float64),
                                    np.asarray(_array(y_pred), np.float64))
        _check_2d("R2Score", y_true, y_pred)
        w = np.asarray(1.0 if sample_weight is None else _array(sample_weight), np.float64)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 else w, y_true.shape)
        if self.sum is None:
            self.sum, self.squared_sum, self.total_mse, self.count = (
                np.zeros(y_true.shape[1]) for _ in range(4))
        self.sum = self.sum + np.sum(w * y_true, axis=0)
        self.squared_sum = self.squared_sum + np.sum(w * y_true * y_true, axis=0)
        self.total_mse = self.total_mse + np.sum(w * (y_true - y_pred) ** 2, axis=0)
        self.count = self.count + np.sum(w, axis=0)
        self.num_samples += float(np.sum(np.any(w != 0, axis=-1)))

    def result(self) -> Any:
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum - self.sum * (self.sum / self.count)
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        return _scalar_or_array(self._adjusted(score))

    def _adjusted(self, score: Any) -> Any:
        n, p = self.num_samples, self.num_regressors
        if p == 0:
            return score
        if p >= n - 1:
            warnings.warn("More independent predictors than datapoints in adjusted R2 score (or "
                          "exactly n - 1, a division by zero). Falling back to standard R2 score.",
                          stacklevel=3)
            return score
        return 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class FBetaScore(_ArrayStateMetric):
    """F-beta score ``(1 + beta^2) P R / (beta^2 P + R)`` from counts accumulated over batches.

    Inputs are ``(N, C)``: one-hot or multi-label ``y_true``, scores ``y_pred``.
    With ``threshold=None`` each row's highest score is the positive prediction;
    otherwise every score ``> threshold`` is. ``P`` and ``R`` carry ``1e-7`` in
    their denominators, as in Keras.

    Parameters
    ----------
    average : {None, 'micro', 'macro', 'weighted'}
        None: one score per class (an array); 'micro': from counts pooled over
        classes; 'macro': mean of the class scores; 'weighted': mean weighted by
        each class's (weighted) number of true labels.
    beta : float, default 1.0
        A Python float > 0: recall counts ``beta`` times as much as precision.
    threshold : float, optional
        In (0, 1].

    Examples
    --------
    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(float(v), 4) for v in m.result()]
    [0.3846, 0.9091, 0.8333]
    """

    default_name = "fbeta_score"

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype: Any = None) -> None:
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid `average` argument value. Expected one of: {{None, 'micro', "
                             f"'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python float. "
                                 f"Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify 0 < threshold "
                                 f"<= 1. Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        super().__init__(name=name, dtype=dtype)

    state_names = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = None
        self.false_negatives = self.intermediate_weights = None

    def build(self, y_true_shape: tuple[int | None, ...], y_pred_shape: tuple[int | None, ...]) -> None:
        """Check the shapes (``(batch_size, output_dim)``, ``output_dim`` known) and create the
        counts at zero: one per class, or one with ``average='micro'`` (the first
        ``update_state`` does it; Keras's ``_build``)."""
        y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError(f"FBetaScore expects 2D inputs with shape (batch_size, output_dim), "
                             f"with output_dim fully defined (not None). Received input shapes: "
                             f"y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}.")
        zeros = np.zeros(() if self.average == "micro" else y_pred_shape[-1])
        self.true_positives = self.false_positives = zeros
        self.false_negatives = self.intermediate_weights = zeros

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = np.asarray(_array(y_true), np.float64)
        y_pred = np.asarray(_array(y_pred), np.float64)
        if self.true_positives is None:
            self.build(y_true.shape, y_pred.shape)
        _check_2d("FBetaScore", y_true, y_pred)
        if self.threshold is None:
            pred = (y_pred >= np.max(y_pred, axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            pred = y_pred > self.threshold
        pred = pred.astype(np.float64)
        w = None if sample_weight is None else np.asarray(_array(sample_weight), np.float64)
        if w is not None and w.ndim < y_true.ndim:
            w = w.reshape(w.shape + (1,) * (y_true.ndim - w.ndim))

        def weighted_sum(values: np.ndarray) -> np.ndarray:
            return np.sum(values if w is None else values * w, axis=self.axis)

        self.true_positives = self.true_positives + weighted_sum(pred * y_true)
        self.false_positives = self.false_positives + weighted_sum(pred * (1 - y_true))
        self.false_negatives = self.false_negatives + weighted_sum((1 - pred) * y_true)
        self.intermediate_weights = self.intermediate_weights + weighted_sum(y_true)

    def result(self) -> Any:
        if self.true_positives is None:
            return 0.0
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            score = np.sum(score * weights)
        elif self.average is not None:
            score = np.mean(score)
        return _scalar_or_array(score)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score ``2 P R / (P + R)``: ``FBetaScore`` with ``beta=1`` (see there for the arguments).

    Examples
    --------
    >>> m = F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
    ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
    >>> [round(float(v), 4) for v in m.result()]
    [0.5, 0.8, 0.6667]
    """

    default_name = "f1_score"

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config


# ---- confusion-matrix metrics ---------------------------------------------------------------------
NEG_INF = -1e10  # Keras's stand-in threshold when only top_k decides what is positive


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


def _scalar_or_array(value: np.ndarray) -> Any:
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value


def parse_thresholds(thresholds: Any, default: float = 0.5) -> list[float]:
    """Keras's ``parse_init_thresholds``: a list of thresholds, each checked to lie in [0, 1].

    Examples
    --------
    >>> parse_thresholds(None), parse_thresholds(0.3), parse_thresholds([0.2, 0.8])
    ([0.5], [0.3], [0.2, 0.8])
    """
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, list | tuple | np.ndarray) else [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def evenly_spaced(thresholds: Any) -> bool:
    """True for ``[0, 1/(n-1), ..., 1]`` with n >= 3 (Keras then counts by buckets, O(N + T))."""
    n = len(thresholds)
    return n >= 3 and bool(np.allclose(thresholds, np.arange(n) / (n - 1), atol=EPSILON))


def keep_top_k(y_pred: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` largest predictions kept, the others set to ``NEG_INF`` (first index wins ties)."""
    drop = np.argsort(-y_pred, axis=-1, kind="stable")[..., k:]
    out = np.array(y_pred, copy=True)
    np.put_along_axis(out, drop, NEG_INF, axis=-1)
    return out


def _confusion_weights(sample_weight: Any, y_true: np.ndarray) -> np.ndarray | None:
    """Keras's shaping of ``sample_weight`` for confusion counts: one weight per sample or per entry."""
    if sample_weight is None:
        return None
    w = np.asarray(_array(sample_weight), np.float64)[..., None]
    if w.ndim == y_true.ndim + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    return w


def _bucket_counts(pred: np.ndarray, weights: np.ndarray, n: int, with_epsilon: bool) -> np.ndarray:
    """Weighted counts with ``pred > t_i`` for evenly spaced thresholds, by bucketing (Keras's fast path).

    ``pred`` and ``weights`` are (M, L); the result is (n, L): bucket
    ``ceil(p (n - 1)) - 1`` holds p, and a reversed cumulative sum counts every
    prediction above each threshold.
    """
    bucket = np.ceil(pred * np.float32(n - 1)) - 1
    if with_epsilon:  # the first threshold is -epsilon: every prediction in [0, 1] is above it
        bucket = np.maximum(bucket, 0)
    bucket = bucket.astype(np.intp)
    keep = bucket >= 0  # a prediction of 0 is above no threshold of [0, ..., 1]
    n_labels = pred.shape[1]
    cell = bucket * n_labels + np.arange(n_labels)  # (bucket, label) flattened
    counts = np.bincount(cell[keep], weights=weights[keep], minlength=n * n_labels)
    return np.cumsum(counts.reshape(n, n_labels)[::-1], axis=0)[::-1]


def confusion_counts(y_true: Any, y_pred: Any, thresholds: Any, sample_weight: Any = None,
                     top_k: int | None = None, class_id: int | None = None,
                     multi_label: bool = False, label_weights: Any = None,
                     thresholds_distributed_evenly: bool = False) -> dict[str, np.ndarray]:
    """Weighted true/false positives/negatives at each threshold, as Keras 3 counts them.

    A prediction is positive at threshold ``t`` when ``y_pred > t``; a label is
    positive when nonzero.

    Parameters
    ----------
    y_true, y_pred : arrays of the same shape (a trailing axis of length 1 is matched up)
    thresholds : list of float, length T
    sample_weight : array, optional
        One weight per sample or per entry (broadcast to ``y_pred``).
    top_k : int, optional
        Only each row's ``k`` largest predictions may be positive.
    class_id : int, optional
        Count only this column of ``(N, C)`` data.
    multi_label : bool, default False
        Count each column of ``(N, L)`` data separately: (T, L) counts.
        Otherwise everything is flattened into one binary problem: (T,) counts.
    label_weights : (L,) array, optional
        Weights of the columns when the data is flattened.
    thresholds_distributed_evenly : bool, default False
        Count by buckets as Keras does for thresholds ``[0, 1/(T-1), ..., 1]``
        (predictions are then clipped to [0, 1] first).

    Returns
    -------
    dict with "tp", "fp", "tn", "fn": float64 arrays of shape (T,) or (T, L).
    """
    # compared in float32, as Keras's float32 state variables do
    y_true, y_pred = _same_rank(_array(y_true), np.asarray(_array(y_pred), np.float32))
    w = _confusion_weights(sample_weight, y_true)
    if top_k is not None:
        y_pred = keep_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = np.ones(y_pred.shape) if w is None else np.broadcast_to(w, y_pred.shape)
    if label_weights is not None and not multi_label:
        weights = weights * np.broadcast_to(np.asarray(label_weights, np.float64), y_pred.shape)
    pos = np.asarray(y_true).astype(bool)
    if multi_label:
        shape = (len(thresholds), y_pred.shape[-1])
        pred, pos, weights = (a.reshape(-1, shape[1]) for a in (y_pred, pos, weights))
    else:
        shape = (len(thresholds),)
        pred, pos, weights = (a.reshape(-1, 1) for a in (y_pred, pos, weights))
    if thresholds_distributed_evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        pred = np.clip(pred, 0.0, 1.0)
        tp = _bucket_counts(pred, weights * pos, len(thresholds), with_epsilon)
        fp = _bucket_counts(pred, weights * ~pos, len(thresholds), with_epsilon)
    else:
        above = pred[None] > np.asarray(thresholds, np.float32)[:, None, None]  # (T, M, L)
        tp = np.sum(above * (weights * pos), axis=1)
        fp = np.sum(above * (weights * ~pos), axis=1)
    fn = np.sum(weights * pos, axis=0) - tp
    tn = np.sum(weights * ~pos, axis=0) - fp
    return {key: value.reshape(shape) for key, value in
            (("tp", tp), ("fp", fp), ("tn", tn), ("fn", fn))}


class _ConfusionMetric(_ArrayStateMetric):
    """Base of the metrics read from weighted confusion counts at thresholds.

    Subclasses set ``thresholds`` (a list) before calling ``__init__`` and
    define ``result``; the counts are arrays ``true_positives``,
    ``false_positives``, ``true_negatives`` and ``false_negatives`` of shape (T,).
    """

    thresholds: list[float]
    top_k: int | None = None
    class_id: int | None = None
    state_names = ("true_positives", "true_negatives", "false_positives", "false_negatives")

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, top_k=self.top_k,
                                  class_id=self.class_id,
                                  thresholds_distributed_evenly=evenly_spaced(self.thresholds))
        self.true_positives += counts["tp"]
        self.false_positives += counts["fp"]
        self.true_negatives += counts["tn"]
        self.false_negatives += counts["fn"]

    def _one_per_threshold(self, value: np.ndarray) -> Any:
        return float(value[0]) if len(self.thresholds) == 1 else value


class _ConditionCount(_ConfusionMetric):
    """The weighted count of one cell of the confusion matrix (``accumulator``)."""

    cell = "tp"

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        super().__init__(name=name, dtype=dtype)

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("accumulator",)

    @property
    def accumulator(self) -> np.ndarray:
        return {"tp": self.true_positives, "fp": self.false_positives,
                "tn": self.true_negatives, "fn": self.false_negatives}[self.cell]

    def result(self) -> Any:
        return self._one_per_threshold(self.accumulator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


_COUNT_DOC = """The (weighted) number of {what}: {rule}.

    Parameters
    ----------
    thresholds : float or list of float, default 0.5
        A prediction is positive when ``y_pred > threshold``; a list gives one
        count per threshold (an array). Use 0 for logits.
    name : str, optional
        Default ``'{default}'``.

    Examples
    --------
    >>> m = {cls}()
    >>> m.update_state({y_true}, {y_pred})
    >>> m.result()
    2.0
    """


class TruePositives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="true positives", rule="label nonzero and prediction above",
                                default="true_positives", cls="TruePositives",
                                y_true=[0, 1, 1, 1], y_pred=[1, 0, 1, 1])
    default_name, cell = "true_positives", "tp"


class FalsePositives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="false positives", rule="label 0 and prediction above",
                                default="false_positives", cls="FalsePositives",
                                y_true=[0, 1, 0, 0], y_pred=[0, 0, 1, 1])
    default_name, cell = "false_positives", "fp"


class TrueNegatives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="true negatives", rule="label 0 and prediction not above",
                                default="true_negatives", cls="TrueNegatives",
                                y_true=[0, 1, 0, 0], y_pred=[1, 1, 0, 0])
    default_name, cell = "true_negatives", "tn"


class FalseNegatives(_ConditionCount):
    __doc__ = _COUNT_DOC.format(what="false negatives", rule="label nonzero and prediction not above",
                                default="false_negatives", cls="FalseNegatives",
                                y_true=[0, 1, 1, 1], y_pred=[0, 1, 0, 0])
    default_name, cell = "false_negatives", "fn"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        super().__init__(name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        thr = self.init_thresholds
        thr = thr.tolist() if isinstance(thr, np.ndarray) else thr
        return {**super().get_config(), "thresholds": thr, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` with predictions ``y_pred > thresholds`` (0 when nothing is predicted positive).

    Parameters
    ----------
    thresholds : float or list of float, optional
        Default 0.5 (or, with ``top_k``, every top-k prediction counts); a list
        gives one result per threshold (an array).
    top_k : int, optional
        Only each row's ``k`` highest predictions may count as positive.
    class_id : int, optional
        Restrict to one class (one column of ``(N, C)`` data).

    Examples
    --------
    >>> m = Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    default_name = "precision"
    state_names = ("true_positives", "false_positives")

    def result(self) -> Any:
        tp = self.true_positives
        return self._one_per_threshold(_divide_no_nan(tp, tp + self.false_positives))


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)`` with predictions ``y_pred > thresholds`` (see ``Precision``).

    Examples
    --------
    >>> m = Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result(), 4)
    0.6667
    """

    default_name = "recall"
    state_names = ("true_positives", "false_negatives")

    def result(self) -> Any:
        tp = self.true_positives
        return self._one_per_threshold(_divide_no_nan(tp, tp + self.false_negatives))


def _rates(m: _ConfusionMetric) -> dict[str, np.ndarray]:
    """Sensitivity (= recall), specificity and precision at each threshold."""
    tp, fp, tn, fn = m.true_positives, m.false_positives, m.true_negatives, m.false_negatives
    return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
            "specificity": _divide_no_nan(tn, tn + fp), "precision": _divide_no_nan(tp, tp + fp)}


class _AtConstraint(_ConfusionMetric):
    """The best ``target`` rate over thresholds where the ``constrained`` rate is >= ``value``.

    Thresholds are ``num_thresholds`` evenly spaced points of [0, 1] (0.5 alone when 1).
    """

    constrained, target, argument = "specificity", "sensitivity", "specificity"

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self.argument}` must be in the range [0, 1]. "
                             f"Received: {self.argument}={value}")
        if num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        setattr(self, self.argument, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        super().__init__(name=name, dtype=dtype)

    def result(self) -> float:
        rates = _rates(self)
        feasible = rates[self.constrained] >= self.value
        return float(np.max(np.where(feasible, rates[self.target], 0.0), initial=0.0))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self.argument: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity ``TP / (TP + FN)`` where specificity ``TN / (TN + FP)`` >= ``specificity``.

    Parameters
    ----------
    specificity : float in [0, 1]
    num_thresholds : int, default 200
        Thresholds tried: ``num_thresholds`` evenly spaced points of [0, 1].
    class_id : int, optional
        Restrict to one column of ``(N, C)`` data.

    Examples
    --------
    >>> m = SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> m.result()
    0.5
    """

    default_name = "sensitivity_at_specificity"
    constrained, target, argument = "specificity", "sensitivity", "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where sensitivity >= ``sensitivity`` (see ``SensitivityAtSpecificity``).

    Examples
    --------
    >>> m = SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> round(m.result(), 4)
    0.6667
    """

    default_name = "specificity_at_sensitivity"
    constrained, target, argument = "sensitivity", "specificity", "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """The best precision at a threshold where recall >= ``recall`` (see ``SensitivityAtSpecificity``).

    Examples
    --------
    >>> m = PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> m.result()
    0.5
    """

    default_name = "precision_at_recall"
    constrained, target, argument = "recall", "precision", "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """The best recall at a threshold where precision >= ``precision`` (0 when no threshold reaches it).

    Examples
    --------
    >>> m = RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> m.result()
    0.5
    """

    default_name = "recall_at_precision"
    constrained, target, argument = "precision", "recall", "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)


def _pr_gain(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recall gain and precision gain (Flach & Kull 2015), as Keras guards them.

    With ``s = P / N``: ``recall_gain = 1 - s FN / TP`` and ``precision_gain =
    1 - s FP / TP``; where TP = 0 they are 0 and 1, and recall gain is at least 0.
    """
    scale = _divide_no_nan(tp + fn, tn + fp)
    recall_gain = np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp))
    precision_gain = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
    return np.maximum(recall_gain, 0.0), precision_gain


class AUC(_ArrayStateMetric):
    """Area under the ROC, precision-recall or PR-gain curve, approximated as Keras does.

    The curve is sampled at ``num_thresholds`` thresholds evenly spaced in
    [0, 1] (plus ``-1e-7`` and ``1 + 1e-7`` at the ends); a prediction is
    positive when ``y_pred > threshold``. ``summation_method='interpolation'``
    uses the trapezoidal rule for ROC and PRGAIN and Davis & Goadrich's (2006)
    interpolation for PR; ``'minoring'`` / ``'majoring'`` use left/right Riemann
    sums. This approximation differs from the exact AUC by about ``1 / num_thresholds``.
    Labels are binary (nonzero = positive).

    Parameters
    ----------
    num_thresholds : int, default 200
    curve : {'ROC', 'PR', 'PRGAIN'}, default 'ROC'
        PRGAIN is the precision-gain / recall-gain curve of Flach & Kull (2015).
    summation_method : {'interpolation', 'minoring', 'majoring'}
    name : str, optional
        Default 'auc'.
    thresholds : list of float, optional
        Explicit thresholds in [0, 1] instead of ``num_thresholds``.
    multi_label : bool, default False
        For ``(N, L)`` multi-label data: one AUC per column, then their mean
        (weighted by ``label_weights``). When False, the data is flattened.
    num_labels : int, optional
        L, when known in advance (otherwise taken from the first batch).
    label_weights : (L,) array, optional
        Weights of the columns: of the per-label AUCs when ``multi_label``,
        otherwise of each entry in the flattened counts.
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

    state_names = ("true_positives", "true_negatives", "false_positives", "false_negatives")

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        curves = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
        if str(curve).lower() not in curves:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             f'["PR", "ROC", "PRGAIN"]')
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected '
                             f'values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = evenly_spaced([0.0, *inner, 1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.num_thresholds = num_thresholds
        self._thresholds = [-EPSILON, *inner, 1.0 + EPSILON]
        self.curve = curves[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        self.from_logits = from_logits
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, with the end points ``-1e-7`` and ``1 + 1e-7``."""
        return list(self._thresholds)

    def reset_state(self) -> None:
        shape: tuple[int, ...] | None = (self.num_thresholds,)
        if self.multi_label:  # the number of labels is known from num_labels or the first batch
            built = getattr(self, "true_positives", None)
            shape = (self.num_thresholds, self.num_labels) if self.num_labels else (
                None if built is None else built.shape)
        self._allocate(shape)

    def _allocate(self, shape: tuple[int, ...] | None) -> None:
        self.true_positives = self.false_positives = None
        self.true_negatives = self.false_negatives = None
        if shape is not None:
            self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
            self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = np.asarray(_array(y_pred), np.float64)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                             f"{y_pred.ndim}. Full shape received for `y_pred`: {y_pred.shape}")
        if self.true_positives is None:
            self._allocate((self.num_thresholds, y_pred.shape[1]))
        if self.from_logits:
            y_pred = _sigmoid(y_pred)
        counts = confusion_counts(
            y_true, y_pred, self._thresholds, sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)
        self.true_positives += counts["tp"]
        self.false_positives += counts["fp"]
        self.true_negatives += counts["tn"]
        self.false_negatives += counts["fn"]

    def result(self) -> float:
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average_labels(self._interpolate_pr_auc())
        tp, fp, fn, tn = (self.true_positives, self.false_positives, self.false_negatives,
                          self.true_negatives)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), _divide_no_nan(tp, tp + fn)
        elif self.curve == "PR":
            x, y = _divide_no_nan(tp, tp + fn), _divide_no_nan(tp, tp + fp)
        else:
            x, y = _pr_gain(tp, fp, tn, fn)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average_labels((x[:-1] - x[1:]) * heights)

    def _average_labels(self, terms: np.ndarray) -> float:
        """Sum of the area terms; with ``multi_label``, the (label-weighted) mean of per-label areas."""
        if not self.multi_label:
            return float(np.sum(terms))
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def _interpolate_pr_auc(self) -> np.ndarray:
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
        return _divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))

    def get_config(self) -> dict[str, Any]:
        weights = None if self.label_weights is None else self.label_weights.tolist()
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": weights, "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


# ---- intersection over union (Keras 3's iou_metrics) ----------------------------------------------

def _is_int_dtype(dtype: Any) -> bool:
    return dtype in (None, "int", int) or np.dtype(dtype).kind in "iu"


def _as_metric_dtype(x: Any, dtype: Any) -> np.ndarray:
    """Values as Keras's ``convert_to_tensor(x, dtype=self.dtype)``: an int dtype truncates."""
    x = np.asarray(_array(x))
    return np.trunc(x.astype(np.float64)) if _is_int_dtype(dtype) else x.astype(np.float64)


class _IoUBase(_ArrayStateMetric):
    """A ``num_classes x num_classes`` confusion matrix (rows true class, columns predicted),
    accumulated over batches with weights, as Keras's ``_IoUBase``.

    Entries whose label or prediction lies outside ``[0, num_classes)``, or whose label is
    ``ignore_class``, count for nothing. As in Keras, the default dtype is ``'int'``: labels,
    predictions and sample weights are truncated to integers (give ``dtype='float32'`` for
    fractional weights; Keras warns, and so does unafraid).
    """

    state_names = ("total_cm",)

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        super().__init__(name=name, dtype=dtype or "int")

    @property
    def _dtype(self) -> str:
        return "int32" if self.dtype == "int" else str(np.dtype(self.dtype).name)

    def reset_state(self) -> None:
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.sparse_y_true:
            y_true = np.argmax(_array(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(_array(y_pred), axis=self.axis)
        y_true = _as_metric_dtype(y_true, self.dtype).reshape(-1)
        y_pred = _as_metric_dtype(y_pred, self.dtype).reshape(-1)
        if sample_weight is None:
            weight = np.ones_like(y_true)
        else:
            raw = np.asarray(_array(sample_weight))
            if raw.dtype.kind == "f" and _is_int_dtype(self.dtype):
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider using "
                              "integer weights.", stacklevel=2)
            weight = np.broadcast_to(_as_metric_dtype(raw, self.dtype).reshape(-1)
                                     if raw.ndim > 1 else _as_metric_dtype(raw, self.dtype),
                                     y_true.shape)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        # total_cm may be a Variable a user made with add_variable (as Keras's tests do): in place
        np.add.at(_array(self.total_cm), (y_true[keep].astype(np.int64),
                                          y_pred[keep].astype(np.int64)), weight[keep])

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self._dtype, "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class IoU(_IoUBase):
    """Intersection over union ``TP / (TP + FP + FN)`` per class, averaged over ``target_class_ids``.

    Computed from the confusion matrix accumulated over batches (see ``MeanIoU``); classes that
    never occur (``TP + FP + FN = 0``) are left out of the mean.

    Parameters
    ----------
    num_classes : int
    target_class_ids : list of int
        The classes whose IoU is averaged (one id gives that class's IoU).
    name, dtype : optional
        dtype defaults to ``'int'`` as in Keras (weights are truncated to integers).
    ignore_class : int, optional
        A label (such as a "void" class, -1 or 255) whose entries are left out.
    sparse_y_true, sparse_y_pred : bool, default True
        Class ids (True) or scores whose ``argmax`` over ``axis`` is the class (False).
    axis : int, default -1

    Examples
    --------
    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)  # class 0: TP 1, FP 1, FN 1
    0.3333
    """

    default_name = "io_u"

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self) -> float:
        cm = _array(self.total_cm)
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = np.asarray(self.target_class_ids, np.int64)
        tp, den = true_positives[ids], denominator[ids]
        valid = den > 1e-9
        iou = np.where(valid, tp / (den + EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + EPSILON))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_class_ids": self.target_class_ids}


class BinaryIoU(IoU):
    """IoU of a binary task: a prediction is class 1 when ``y_pred >= threshold``.

    Parameters
    ----------
    target_class_ids : sequence of int, default (0, 1)
    threshold : float, default 0.5
    name, dtype : optional

    Examples
    --------
    >>> m = BinaryIoU(target_class_ids=[1])
    >>> m.update_state([0, 1, 1], [0.2, 0.7, 0.4])
    >>> round(m.result(), 4)  # class 1: TP 1, FN 1
    0.5
    """

    default_name = "binary_io_u"

    def __init__(self, target_class_ids: Any = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = (np.asarray(_array(y_pred), np.float32) >= self.threshold).astype(np.float64)
        super().update_state(_as_metric_dtype(y_true, self.dtype), y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self._dtype}


class MeanIoU(IoU):
    """The mean over all ``num_classes`` classes of ``TP / (TP + FP + FN)`` (see ``IoU``).

    Examples
    --------
    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)  # 1/3 for each class
    0.3333
    """

    default_name = "mean_io_u"

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """``IoU`` with one-hot labels (and scores as predictions unless ``sparse_y_pred=True``)."""

    default_name = "one_hot_io_u"

    def __init__(self, num_classes: int, target_class_ids: Any, name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` with one-hot labels (and scores as predictions unless ``sparse_y_pred=True``)."""

    default_name = "one_hot_mean_io_u"

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


# ---- lookup ---------------------------------------------------------------------------------------
NAMES = registry.names("metric")
NAMES.register_each([
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, SparseCategoricalCrossentropy, CategoricalCrossentropy,
    BinaryCrossentropy, AUC, Precision, Recall, TruePositives, TrueNegatives, FalsePositives,
    FalseNegatives, SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
    RecallAtPrecision, R2Score, F1Score, FBetaScore, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCoshError, CosineSimilarity, Poisson, KLDivergence, Hinge,
    SquaredHinge, CategoricalHinge, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
    PearsonCorrelation, ConcordanceCorrelation])
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
    "true_positives": TruePositives, "true_negatives": TrueNegatives,
    "false_positives": FalsePositives, "false_negatives": FalseNegatives,
    "sensitivity_at_specificity": SensitivityAtSpecificity,
    "specificity_at_sensitivity": SpecificityAtSensitivity,
    "precision_at_recall": PrecisionAtRecall, "recall_at_precision": RecallAtPrecision,
    "r2_score": R2Score, "f1_score": F1Score, "f_beta_score": FBetaScore,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError, "log_cosh_error": LogCoshError,
    "cosine_similarity": CosineSimilarity, "poisson": Poisson, "kl_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "pearson_correlation": PearsonCorrelation, "concordance_correlation": ConcordanceCorrelation,
})
NAMES.register(LogCoshError, "logcosh", listed=False)  # tf.keras 2 spellings
NAMES.register(KLDivergence, "kld", listed=False)
_FUNCTIONS = {accuracy: Accuracy, binary_accuracy: BinaryAccuracy,
              categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
              mean_absolute_percentage_error: MeanAbsolutePercentageError,
              mean_squared_logarithmic_error: MeanSquaredLogarithmicError, log_cosh: LogCoshError,
              cosine_similarity: CosineSimilarity, poisson: Poisson, kl_divergence: KLDivergence,
              hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
              pearson_correlation: PearsonCorrelation,
              concordance_correlation: ConcordanceCorrelation}


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
        y_true_shape: tuple[int, ...] | None = None) -> Metric | None:
    """A metric object for ``compile(metrics=[...])``.

    Parameters
    ----------
    identifier : str, dict, Metric, Metric subclass, callable or None
        None gives None, as in Keras. Strings are Keras's names (``'accuracy'``, ``'acc'``,
        ``'mse'``, ``'mae'``, ``'sparse_categorical_accuracy'``, ``'auc'``, ``'precision'``...) or
        class names. As in Keras 3 the metric is then *named by that string*.
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
    if identifier is None:  # Keras's ``metrics.get(None)``
        return None
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
