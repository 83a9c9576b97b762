"""Where ``fit``, ``evaluate`` and ``predict`` get their batches: arrays, or any iterable.

Each batch has Keras's form ``(x, y, sample_weight)``: ``x`` one array (or a list of
arrays for a model with several inputs), ``y`` likewise or ``None``, ``sample_weight``
an array or ``None``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..engine import Tensor
from . import data as _data

INFINITE = -1  # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2  # tf.data.UNKNOWN_CARDINALITY


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (Keras's ``keras.utils.unpack_x_y_sample_weight``).

    Examples
    --------
    >>> unpack_x_y_sample_weight(([1.0], [0]))
    ([1.0], [0], None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
                     f"{len(data)} items. Put several inputs in a list: ([x1, x2], y).")


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> tuple[Any, ...]:
    """The batch tuple a step receives: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``
    (Keras's ``keras.utils.pack_x_y_sample_weight``), so ``x, y = data`` works unweighted."""
    if y is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def one_or_list(arrays: list[Any]) -> Any:
    """One array for a single input or output, else the list (Keras's batch structure)."""
    return arrays[0] if len(arrays) == 1 else arrays


class ArrayBatches:
    """Batches of in-memory arrays, reshuffled every epoch by the model's seeded generator.

    Parameters
    ----------
    xs, ys : list of ndarray (N, ...)
        Inputs and targets (``ys`` may be empty, for ``predict``).
    sample_weight : ndarray (N,) or None
    batch_size : int
    shuffle : bool
    rng : numpy.random.Generator
        Draws each epoch's order.
    steps : int, optional
        Batches per epoch (``steps_per_epoch``); the order wraps around when it runs out.
    """

    def __init__(self, xs: list[np.ndarray], ys: list[np.ndarray], sample_weight: Any,
                 batch_size: int, shuffle: bool = False, rng: Any = None,
                 steps: int | None = None) -> None:
        self.xs, self.ys, self.sample_weight = xs, ys, sample_weight
        self.n, self.batch_size = len(xs[0]), batch_size
        self.shuffle, self.rng = shuffle, rng
        self.steps = math.ceil(self.n / batch_size) if steps is None else steps

    def epoch(self) -> Iterator[tuple[Any, Any, Any]]:
        """The batches of one epoch."""
        n, size = self.n, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        for step in range(self.steps):
            start = (step * size) % n
            idx = slice(start, start + size) if order is None else order[start:start + size]
            xb = [rows(a, idx) for a in self.xs]
            yb = [_same_batch(a, self.xs, xb, idx) for a in self.ys]  # fit(x, x): one copy
            swb = None if self.sample_weight is None else self.sample_weight[idx]
            yield pack_x_y_sample_weight(one_or_list(xb), one_or_list(yb) if yb else None, swb)


class IterableBatches:
    """Batches from a ``tf.data``-style Dataset, a generator, a ``PyDataset`` or any iterable
    of ``x`` / ``(x, y)`` / ``(x, y, sample_weight)`` batches.

    A re-iterable source (a Dataset, a list) starts again every epoch; a one-shot
    iterator (a generator) goes on where the last epoch stopped, as in Keras. ``steps``
    caps the batches per epoch; it is needed when the source never ends.
    """

    def __init__(self, source: Any, steps: int | None = None, what: str = "x") -> None:
        self.source, self.what = source, what
        size = cardinality(source)
        if steps is None and size == INFINITE:
            raise ValueError(f"{what} is an infinite dataset (it repeats forever), so one epoch "
                             f"never ends. Pass steps_per_epoch= (for fit) or steps= (for "
                             f"evaluate and predict), e.g. steps_per_epoch=len(x_train) // 32.")
        self.steps = steps if steps is not None else (size if size >= 0 else None)
        self._iterator: Iterator[Any] | None = None

    def epoch(self) -> Iterator[tuple[Any, Any, Any]]:
        """The batches of one epoch, each converted to NumPy arrays."""
        for step, batch in enumerate(self._batches()):
            if self.steps is not None and step >= self.steps:
                break
            x, y, sw = unpack_x_y_sample_weight(batch)
            yield pack_x_y_sample_weight(_arrays(x, self.what), _arrays(y, "y"),
                                         _arrays(sw, "sample_weight"))

    def peek(self) -> Any:
        """The first batch without using it up (None when there is none): a generator's first
        batch is read and put back in front of the rest, for the first epoch to start with."""
        source = self.source
        if hasattr(source, "__iter__") and iter(source) is source:
            stream = self._batches()
            first = next(stream, None)
            if first is not None:
                self._iterator = itertools.chain([first], stream)
            return first
        return next(iter(source), None)

    def _batches(self) -> Iterator[Any]:
        source = self.source
        if not hasattr(source, "__iter__"):  # a Keras Sequence-like object: indexed batches
            return _indexed(source)
        if iter(source) is source:  # a generator: one stream over all epochs
            if self._iterator is None:
                self._iterator = source
            return self._iterator
        return iter(source)


def _indexed(source: Any) -> Iterator[Any]:
    """``source[0], ..., source[len - 1]``, then ``source.on_epoch_end()`` (Keras's Sequence)."""
    for i in range(len(source)):
        yield source[i]
    if hasattr(source, "on_epoch_end"):
        source.on_epoch_end()


def cardinality(source: Any) -> int:
    """Number of batches in ``source``: ``INFINITE`` (-1), ``UNKNOWN`` (-2) or a count."""
    size = getattr(source, "cardinality", None)
    if callable(size):
        value = size()
        return int(value.data if isinstance(value, Tensor) else value)
    if hasattr(source, "__len__") and not (iter(source) is source if hasattr(source, "__iter__")
                                           else False):
        return len(source)
    return UNKNOWN


def is_batch_source(x: Any) -> bool:
    """Whether ``x`` is a source of batches (not an array, DataFrame or list of arrays)."""
    if x is None or isinstance(x, np.ndarray | Tensor | list | tuple | dict) \
            or hasattr(x, "to_numpy") or hasattr(x, "__array__") or hasattr(x, "obs"):
        return False
    return isinstance(x, Iterable) or (hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def _arrays(x: Any, what: str) -> Any:
    if x is None:
        return None
    if isinstance(x, list | tuple):
        return [_data.to_array(a, what) for a in x]
    if isinstance(x, dict):
        return {k: _data.to_array(v, what) for k, v in x.items()}
    return _data.to_array(x, what)


def rows(a: np.ndarray, idx: Any) -> np.ndarray:
    """``a[idx]``: the batch's rows. For an index array into an array of several axes,
    ``np.take`` copies whole rows at once, a third faster than fancy indexing (25 -> 17 us for a
    batch of 32 MNIST images); a slice stays a view, 1-d arrays index fastest as they are, and
    other containers (a sparse matrix) index their own way."""
    if isinstance(a, np.ndarray) and a.ndim > 1 and isinstance(idx, np.ndarray):
        return np.take(a, idx, axis=0)
    return a[idx]


def _same_batch(a: np.ndarray, xs: list[np.ndarray], xb: list[np.ndarray], idx: Any) -> np.ndarray:
    """``a[idx]``, reusing the input batch when ``a`` is one of the inputs (an autoencoder's
    ``fit(x, x)``): neither the model nor the loss changes its arguments."""
    for x, batch in zip(xs, xb, strict=True):
        if a is x:
            return batch
    return a[idx]


def by_names(values: dict[str, Any], names: list[str], who: str, what: str,
             missing_ok: bool = False) -> list[Any]:
    """The values of a dict keyed by the model's input (or output) names, in the model's order.

    ``missing_ok`` gives None for a name the dict lacks (an output trained without a loss).
    """
    unknown = sorted(set(values) - set(names))
    missing = [n for n in names if n not in values]
    if unknown or (missing and not missing_ok):
        raise ValueError(f"The {what}s of {who} are named {names}; got a dict with keys "
                         f"{sorted(values)}" + (f" (unknown: {unknown})" if unknown else "")
                         + (f" (missing: {missing})" if missing and not missing_ok else "")
                         + f". Key the dict by the {what} layers' names.")
    return [values.get(n) for n in names]


def batch_in_model_order(model: Any, data: Any) -> Any:
    """A batch ``(x, y[, sample_weight])`` whose ``x`` or ``y`` is a dict keyed by the model's
    input or output names (as a ``tf.data`` pipeline of dicts gives them), with the dicts turned
    into the lists (or single arrays) the model's steps take. Other batches come back unchanged.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> a, b = tf.keras.Input((1,), name="a"), tf.keras.Input((2,), name="b")
    >>> model = tf.keras.Model([a, b], tf.keras.layers.Concatenate(name="out")([a, b]))
    >>> x, y = batch_in_model_order(model, ({"b": np.ones((1, 2)), "a": np.zeros((1, 1))},
    ...                                     {"out": np.ones((1, 3))}))
    >>> [v.shape for v in x], y.shape
    ([(1, 1), (1, 2)], (1, 3))
    """
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    if not isinstance(x, dict) and not isinstance(y, dict):
        return data
    who = f"model '{getattr(model, 'name', '?')}'"
    if isinstance(x, dict):
        xs = by_names(x, list(model.input_names), who, "input")
        x = xs[0] if len(xs) == 1 else xs
    if isinstance(y, dict):
        ys = by_names(y, list(model.output_names), who, "output", missing_ok=True)
        y = ys[0] if len(ys) == 1 else ys
    return pack_x_y_sample_weight(x, y, sample_weight)
