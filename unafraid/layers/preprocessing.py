"""Preprocessing layers: ``Normalization`` (with ``adapt``), as in Keras 3."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import ops
from ..engine.tensor import Tensor, as_array
from .base import Layer

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


class Normalization(Layer):
    """Standardise features: ``(x - mean) / max(sqrt(variance), 1e-7)``, per feature.

    The mean and variance are given, or learned from data with ``adapt`` (one
    pass, streaming over batches). Learned, they are non-trainable weights
    (``mean``, ``variance`` and ``count``, as in Keras 3), saved and loaded with
    the model, also in Keras's ``.keras`` format; given, they are constants
    kept in the layer's config, and the layer has no weights.

    Parameters
    ----------
    axis : int, tuple of int or None, default -1
        The axes that keep their own statistics (the features); all others are
        averaged over. ``None``: one mean and variance for everything.
    mean, variance : array_like, optional
        Fixed statistics (both or neither), broadcastable to the kept axes.
    invert : bool, default False
        Undo the normalisation instead: ``mean + x * sqrt(variance)``.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> norm = tf.keras.layers.Normalization()
    >>> norm.adapt(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> norm(np.array([[2.0, 20.0]])).numpy()
    array([[0., 0.]], dtype=float32)
    """

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: pass both mean= and variance=, or neither (and call "
                             "adapt(data) to learn them).")
        self.axis = None if axis is None else (int(axis),) if isinstance(axis, int | np.integer) \
            else tuple(int(a) for a in axis)
        self.input_mean = None if mean is None else np.asarray(mean, np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, np.float64)
        self.invert = invert
        self.adapted = mean is not None

    def kept_axes(self, ndim: int) -> tuple[int, ...]:
        """The axes (of an input with ``ndim`` axes) that keep their own statistics, sorted."""
        return () if self.axis is None else tuple(sorted(a % ndim for a in self.axis))

    def _kept_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int, ...]:
        """The statistics' shape: the input's shape on the kept axes, 1 elsewhere."""
        ndim = len(input_shape)
        kept = self.kept_axes(ndim)
        for a in kept:
            if input_shape[a] is None:
                raise ValueError(f"Normalization layer '{self.name}': axis {a} has unknown length "
                                 f"in input shape {input_shape}; it needs a fixed size.")
        return tuple(int(input_shape[a]) if a in kept else 1 for a in range(ndim))

    def build(self, input_shape: Any) -> None:
        shape = self._kept_shape(tuple(input_shape))
        if self.input_mean is not None:  # as Keras 3: given statistics are constants, not weights
            self.mean = Tensor(np.broadcast_to(self.input_mean, shape).astype(self.dtype))
            self.variance = Tensor(np.broadcast_to(self.input_variance, shape).astype(self.dtype))
            return
        self.mean = self.add_weight(shape, "zeros", trainable=False, name="mean")
        self.variance = self.add_weight(shape, "ones", trainable=False, name="variance")
        self.count = self.add_weight((), "zeros", dtype="int64", trainable=False, name="count")

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the mean and variance of ``data`` (an array, DataFrame, or dataset of batches).

        Batches are combined exactly (Chan et al.'s pairwise update, in float64),
        so a dataset is read once and never held in memory.
        """
        if self.input_mean is not None:
            raise ValueError(f"Normalization layer '{self.name}' was given mean= and variance=, "
                             f"which adapt() cannot replace. Create it without them to learn "
                             f"them from data: Normalization(axis=...).adapt(data).")
        batches = _batches(data, batch_size, steps)
        count, mean, m2 = 0, None, None
        for batch in batches:
            x = np.asarray(batch, np.float64)
            if not self.built:
                self._maybe_build((None, *x.shape[1:]))
            shape = self.mean.shape
            if x.ndim != len(shape):
                raise ValueError(f"Normalization layer '{self.name}' was built for inputs with "
                                 f"{len(shape)} axes, but adapt got a batch of shape {x.shape}.")
            reduce = tuple(a for a, n in enumerate(shape) if n == 1)
            n = int(np.prod([x.shape[a] for a in reduce])) if reduce else 1
            if n == 0:
                continue
            b_mean = x.mean(axis=reduce, keepdims=True)
            b_m2 = ((x - b_mean) ** 2).sum(axis=reduce, keepdims=True)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
                continue
            delta, total = b_mean - mean, count + n
            mean = mean + delta * (n / total)
            m2 = m2 + b_m2 + delta ** 2 * (count * n / total)
            count = total
        if mean is None:
            raise ValueError(f"Normalization layer '{self.name}': adapt got no data.")
        self.mean.assign(mean.reshape(self.mean.shape).astype(self.dtype))
        self.variance.assign((m2 / count).reshape(self.mean.shape).astype(self.dtype))
        self.count.assign(np.int64(count))
        self.adapted = True

    def call(self, inputs: Tensor) -> Tensor:
        std = np.maximum(np.sqrt(self.variance.data), np.asarray(EPSILON, self.dtype))
        if self.invert:
            return ops.add(self.mean.data, ops.multiply(inputs, std))
        return ops.divide(ops.subtract(inputs, self.mean.data), std)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "axis": None if self.axis is None else list(self.axis), "invert": self.invert,
            "mean": None if self.input_mean is None else self.input_mean.tolist(),
            "variance": None if self.input_variance is None else self.input_variance.tolist()})
        return config


def _batches(data: Any, batch_size: int | None, steps: int | None) -> Any:
    """``data`` as an iterable of arrays: datasets batch by batch, arrays in slices."""
    if hasattr(data, "to_numpy"):  # pandas
        data = data.to_numpy()
    if isinstance(data, Tensor | np.ndarray | list):
        a = as_array(data)
        size = len(a) if not batch_size else int(batch_size)
        parts = [a[i:i + size] for i in range(0, len(a), max(size, 1))]
        return parts[:steps] if steps else parts
    if hasattr(data, "__iter__"):
        def take() -> Any:
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    return
                yield batch[0] if isinstance(batch, tuple) else batch
        return take()
    raise TypeError(f"Normalization.adapt takes an array, a DataFrame or a dataset of batches, got "
                    f"{type(data).__name__}.")
