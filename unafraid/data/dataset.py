"""``tf.data.Dataset``: a lazy, streaming, deterministic pipeline of examples.

A Dataset is a recipe: ``Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32)``
builds three small objects and reads nothing. Iterating it runs the recipe one
element at a time, so a dataset larger than memory (a generator, a CSV file)
streams through. Elements are NumPy arrays, or tuples / dicts of them, with
TensorFlow's structure: a tuple stays a tuple, a dict a dict, and a list is one
array (as in ``tf.data``).

Randomness (``shuffle``, ``sample_from_datasets``) is seeded from the library's
seed (``unafraid.random``) when no ``seed=`` is given, so the same script gives
the same order every run. With ``reshuffle_each_iteration=True`` (the default)
iteration ``k`` uses the order drawn from ``(seed, k)``: every epoch differs,
and every run repeats the same sequence of epochs.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import random as _random
from ..engine import Tensor

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Cardinality(int):
    """The number of elements of a dataset: an ``int`` that also has TensorFlow's ``.numpy()``.

    ``INFINITE_CARDINALITY`` (-1) for a dataset that never ends,
    ``UNKNOWN_CARDINALITY`` (-2) when it cannot be known without iterating
    (after ``filter``, ``from_generator``, a CSV file).
    """

    def numpy(self) -> np.int64:
        """The count as a NumPy integer, as ``tf.data``'s ``cardinality().numpy()`` gives."""
        return np.int64(self)


class TensorSpec:
    """The shape and dtype of one component of an element (``tf.TensorSpec``).

    Parameters
    ----------
    shape : tuple of int or None
        ``None`` entries are any length.
    dtype : dtype, default float32
    name : str, optional
    """

    def __init__(self, shape: Any = None, dtype: Any = "float32", name: str | None = None) -> None:
        self.shape = None if shape is None else tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype == other.dtype)

    __hash__ = object.__hash__


# ---- element structure: tuples and dicts are structure, everything else is one array ------
def _map_structure(f: Callable[..., Any], *elements: Any) -> Any:
    """Apply ``f`` to matching leaves of elements that share one tuple / dict structure."""
    first = elements[0]
    if isinstance(first, dict):
        return {k: _map_structure(f, *(e[k] for e in elements)) for k in first}
    if isinstance(first, tuple):
        return tuple(_map_structure(f, *parts) for parts in zip(*elements, strict=True))
    return f(*elements)


def _leaves(element: Any) -> list[Any]:
    if isinstance(element, dict):
        return [leaf for v in element.values() for leaf in _leaves(v)]
    if isinstance(element, tuple):
        return [leaf for v in element for leaf in _leaves(v)]
    return [element]


def _as_component(x: Any) -> np.ndarray:
    """One component as an array: Tensors give their data, pandas objects their values."""
    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "to_numpy"):  # pandas Series / DataFrame
        x = x.to_numpy()
    a = np.asarray(x)
    if a.dtype == np.float64 and not isinstance(x, np.ndarray | np.generic):  # Python floats
        a = a.astype(np.float32)
    return a[()] if a.ndim == 0 else a  # a scalar, as slicing a 1-D array gives


def _normalize(element: Any) -> Any:
    """A user's element (from ``map``, a generator) as tuples / dicts of arrays."""
    if isinstance(element, dict):
        return {k: _normalize(v) for k, v in element.items()}
    if isinstance(element, tuple):
        return tuple(_normalize(v) for v in element)
    return _as_component(element)


def _call(f: Callable[..., Any], element: Any) -> Any:
    """TensorFlow's calling convention: a tuple element is unpacked into arguments."""
    return f(*element) if isinstance(element, tuple) else f(element)


def _structure(element: Any) -> str:
    if isinstance(element, dict):
        return "{" + ", ".join(f"{k!r}: {_structure(v)}" for k, v in element.items()) + "}"
    if isinstance(element, tuple):
        return "(" + ", ".join(_structure(v) for v in element) + ")"
    return f"array{np.shape(element)}"


class Dataset:
    """A sequence of elements, built lazily from sources and transformations.

    Make one with a constructor (``from_tensor_slices``, ``from_tensors``,
    ``range``, ``from_generator``, ``zip``, ``sample_from_datasets``) and chain
    transformations, each returning a new Dataset: ``map``, ``filter``,
    ``shuffle``, ``batch``, ``unbatch``, ``take``, ``skip``, ``repeat``,
    ``cache``, ``prefetch``, ``concatenate``, ``enumerate``.

    Iterating yields NumPy arrays (or tuples / dicts of them), one element at a
    time; ``model.fit(dataset)`` takes a batched dataset of ``(x, y)`` or
    ``(x, y, sample_weight)`` directly.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> ds = tf.data.Dataset.from_tensor_slices((np.arange(6.0), np.arange(6) % 2)).batch(4)
    >>> [(x.shape, y.shape) for x, y in ds]
    [((4,), (4,)), ((2,), (2,))]
    >>> int(ds.cardinality())
    2
    """

    def _iterate(self) -> Iterator[Any]:  # each subclass: one pass over its elements
        raise NotImplementedError

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    # ---- iteration -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        return self._iterate()

    def as_numpy_iterator(self) -> Iterator[Any]:
        """An iterator over the elements as NumPy arrays (tuples / dicts of them)."""
        return self._iterate()

    def cardinality(self) -> Cardinality:
        """The number of elements, ``INFINITE_CARDINALITY`` (-1) or ``UNKNOWN_CARDINALITY`` (-2)."""
        return Cardinality(self._cardinality())

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite (it repeats forever), so it has no length. "
                            "Use .take(n), or pass steps_per_epoch= to fit.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset's length is unknown (it comes after filter, "
                            "from_generator or a CSV file). Count it once with "
                            "sum(1 for _ in ds), or check ds.cardinality() before len().")
        return n

    def __repr__(self) -> str:
        n = self._cardinality()
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, str(n))
        return f"<{type(self).__name__} cardinality={size}>"

    # ---- constructors --------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per row of ``tensors`` (sliced along the first axis).

        Parameters
        ----------
        tensors : array_like, tuple, dict, pandas DataFrame or Series
            Arrays (or nested tuples / dicts of arrays) with the same first
            dimension N. A list is one array, as in TensorFlow; a DataFrame is
            its 2-D values (pass ``dict(df)`` for one named column each).

        Examples
        --------
        >>> import unafraid as tf
        >>> ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [3.0, 4.0]})
        >>> [int(e["a"]) for e in ds]
        [1, 2]
        """
        return _Slices(_normalize(tensors))

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of exactly one element, ``tensors``."""
        return _Slices(_map_structure(lambda a: a[np.newaxis], _normalize(tensors)))

    @staticmethod
    def range(*args: int, dtype: Any = np.int64, name: str | None = None) -> Dataset:
        """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)`` as a dataset.

        Examples
        --------
        >>> import unafraid as tf
        >>> [int(i) for i in tf.data.Dataset.range(1, 8, 3)]
        [1, 4, 7]
        """
        return _Slices(np.arange(*args, dtype=dtype))

    @staticmethod
    def from_generator(generator: Callable[..., Iterable[Any]], output_types: Any = None,
                       output_shapes: Any = None, args: tuple[Any, ...] | None = None,
                       output_signature: Any = None, name: str | None = None) -> Dataset:
        """Elements from ``generator(*args)``, called afresh at every iteration.

        Parameters
        ----------
        generator : callable
            Returns an iterable (a generator function, not a generator object:
            a dataset is iterated once per epoch).
        output_signature : TensorSpec, or a tuple / dict of them, optional
            Each yielded component is converted to its dtype and its shape is
            checked. ``output_types`` (dtypes) is accepted too.
        """
        if not callable(generator):
            raise TypeError(f"from_generator needs a callable that returns an iterator (e.g. the "
                            f"generator function itself, not gen()), got "
                            f"{type(generator).__name__}. A generator object can be iterated "
                            f"only once, but a dataset is iterated once per epoch.")
        spec = output_signature if output_signature is not None else output_types
        return _Generator(generator, tuple(args or ()), spec)

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        """Elements side by side: ``zip(a, b)`` or ``zip((a, b))`` gives ``(a_i, b_i)``.

        A dict of datasets gives dict elements. Stops at the shortest dataset.
        """
        if len(datasets) == 1 and isinstance(datasets[0], tuple | dict | list):
            datasets = datasets[0]
        datasets = tuple(datasets) if isinstance(datasets, list) else datasets
        for d in _leaves(datasets):
            if not isinstance(d, Dataset):
                raise TypeError(f"Dataset.zip takes datasets, got {type(d).__name__}. Wrap "
                                f"arrays first with Dataset.from_tensor_slices.")
        return _Zip(datasets)

    @staticmethod
    def sample_from_datasets(datasets: list[Dataset], weights: Any = None, seed: int | None = None,
                             stop_on_empty_dataset: bool = False,
                             rerandomize_each_iteration: bool | None = None) -> Dataset:
        """Elements drawn at random from ``datasets``, dataset ``i`` with probability ``weights[i]``.

        Sampling is without replacement: each chosen dataset gives its next
        element. When one runs out it is skipped (or, with
        ``stop_on_empty_dataset=True``, the result ends). ``seed`` defaults to
        one drawn from the library's seed.
        """
        datasets = list(datasets)
        if not datasets or not all(isinstance(d, Dataset) for d in datasets):
            raise TypeError("sample_from_datasets needs a non-empty list of Datasets.")
        w = np.full(len(datasets), 1.0 / len(datasets)) if weights is None else np.asarray(
            weights, np.float64)
        if w.shape != (len(datasets),) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"sample_from_datasets: weights must be {len(datasets)} non-negative "
                             f"numbers (one per dataset) with a positive sum, got {weights!r}.")
        return _Sample(datasets, w / w.sum(), _seed(seed), stop_on_empty_dataset,
                       bool(rerandomize_each_iteration))

    # ---- transformations -----------------------------------------------------------------
    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None,
            deterministic: Any = None, name: str | None = None) -> Dataset:
        """Apply ``map_func`` to every element (a tuple element is unpacked into arguments).

        ``map_func`` may use ``unafraid`` ops: Tensors it returns become arrays.
        ``num_parallel_calls`` is accepted and ignored (elements are mapped in order).
        """
        return _Map(self, map_func)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        """Keep the elements for which ``predicate`` (called like ``map_func``) is true."""
        return _Filter(self, predicate)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None,
              deterministic: Any = None, name: str | None = None) -> Dataset:
        """Stack ``batch_size`` consecutive elements along a new first axis.

        The last batch is smaller unless ``drop_remainder=True`` drops it.
        """
        return _Batch(self, _positive_int(batch_size, "batch", "batch_size"), drop_remainder)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Split each element along its first axis into elements (the inverse of ``batch``)."""
        return _Unbatch(self)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool | None = None, name: str | None = None) -> Dataset:
        """Shuffle with a buffer: fill it with ``buffer_size`` elements, then repeatedly emit a
        random one and put the next input element in its place (TensorFlow's algorithm).

        A buffer at least as large as the dataset gives a uniform permutation.

        Parameters
        ----------
        buffer_size : int
        seed : int, optional
            Defaults to one drawn from the library's seed (``unafraid.set_random_seed``).
        reshuffle_each_iteration : bool, default True
            A new order at every iteration (epoch); the sequence of orders is
            fixed by the seed.
        """
        size = _positive_int(buffer_size, "shuffle", "buffer_size")
        return _Shuffle(self, size, _seed(seed), reshuffle_each_iteration is not False)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them for ``count=-1``)."""
        return _Take(self, int(count))

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (``count=-1`` skips everything)."""
        return _Skip(self, int(count))

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """Iterate ``count`` times (forever for ``None`` or -1)."""
        return _Repeat(self, -1 if count is None else int(count))

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keep the elements in memory after the first complete iteration.

        Later iterations read the cache instead of re-running what comes
        before (a ``map``, a generator). ``filename`` is accepted but the cache
        is always in memory.
        """
        return _Cache(self)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted for TensorFlow code; returns the dataset unchanged (no background thread)."""
        return self

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements followed by those of ``dataset``."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"concatenate takes a Dataset, got {type(dataset).__name__}.")
        return _Concatenate(self, dataset)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """Pairs ``(i, element)`` with ``i`` counting from ``start``."""
        return _Zip((_Count(int(start)), self))

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``."""
        return transformation_func(self)

    def reduce(self, initial_state: Any, reduce_func: Callable[[Any, Any], Any]) -> Any:
        """Fold the elements: ``state = reduce_func(state, element)`` from ``initial_state``."""
        state = _normalize(initial_state)
        for element in self:
            state = _normalize(reduce_func(state, element))
        return state

    def get_single_element(self) -> Any:
        """The one element of a dataset that has exactly one."""
        items = list(itertools.islice(self, 2))
        if len(items) != 1:
            raise ValueError(f"get_single_element needs a dataset of exactly one element; this one "
                             f"has {'none' if not items else 'more than one'}. Use .take(1).")
        return items[0]

    @property
    def element_spec(self) -> Any:
        """The structure of one element, as ``TensorSpec``s (found by reading one element)."""
        first = next(iter(self), None)
        if first is None:
            raise ValueError("element_spec: the dataset is empty.")
        return _map_structure(lambda a: TensorSpec(np.shape(a), np.asarray(a).dtype), first)


def _seed(seed: int | None) -> int:
    return _random.spawn_seed() if seed is None else int(seed)


def _positive_int(value: Any, method: str, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"Dataset.{method}: {arg} must be a positive integer, got {value!r}.")
    return int(value)


# ---- sources -------------------------------------------------------------------------------
class _Slices(Dataset):
    def __init__(self, tensors: Any) -> None:
        leaves = _leaves(tensors)
        if not leaves:
            raise ValueError("from_tensor_slices needs at least one array.")
        for a in leaves:
            if a.ndim == 0:
                raise ValueError(f"from_tensor_slices slices along the first axis, but got a "
                                 f"scalar ({a!r}). Pass an array of examples, or use "
                                 f"Dataset.from_tensors for a single element.")
        lengths = {len(a) for a in leaves}
        if len(lengths) > 1:
            raise ValueError(f"from_tensor_slices needs components with the same first "
                             f"dimension, got {_structure(tensors)} (lengths "
                             f"{sorted(lengths)}). Check that the features and labels come from "
                             f"the same examples.")
        self.tensors, self.n = tensors, lengths.pop()

    def _cardinality(self) -> int:
        return self.n

    def rows(self, index: Any) -> Any:
        """The elements at ``index`` (an int or an array of indices), read directly."""
        return _map_structure(lambda a: a[index], self.tensors)

    def indexed(self) -> tuple[_Slices, np.ndarray]:
        """``(self, order)``: the rows in their order, for a batch to read in one step."""
        return self, np.arange(self.n)

    def _iterate(self) -> Iterator[Any]:
        for i in range(self.n):
            yield self.rows(i)


class _Count(Dataset):
    def __init__(self, start: int) -> None:
        self.start = start

    def _cardinality(self) -> int:
        return INFINITE_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        return (np.int64(i) for i in itertools.count(self.start))


class _Generator(Dataset):
    def __init__(self, generator: Callable[..., Iterable[Any]], args: tuple[Any, ...],
                 spec: Any) -> None:
        self.generator, self.args, self.spec = generator, args, spec

    def _iterate(self) -> Iterator[Any]:
        for element in self.generator(*self.args):
            element = _normalize(element)
            if self.spec is not None:
                element = _conform(element, self.spec)
            yield element


def _conform(element: Any, spec: Any) -> Any:
    """Cast each component to its spec's dtype and check its shape."""
    def one(a: np.ndarray, s: Any) -> np.ndarray:
        if not isinstance(s, TensorSpec):  # output_types: a dtype
            return a.astype(s, copy=False)
        if s.shape is not None and (a.ndim != len(s.shape) or any(
                d is not None and d != n for d, n in zip(s.shape, a.shape, strict=True))):
            raise ValueError(f"from_generator: the generator yielded an array of shape {a.shape}, "
                             f"but output_signature says {s.shape}. Fix the generator or the "
                             f"signature (None marks a dimension of any length).")
        return a.astype(s.dtype, copy=False)

    try:
        return _map_structure(one, element, spec)
    except (ValueError, TypeError, KeyError) as e:
        if "output_signature" in str(e):
            raise
        raise ValueError(f"from_generator: the generator yielded {_structure(element)}, which does "
                         f"not match output_signature {spec!r}.") from e


class _Sample(Dataset):
    def __init__(self, datasets: list[Dataset], weights: np.ndarray, seed: int, stop: bool,
                 rerandomize: bool) -> None:
        self.datasets, self.weights, self.seed, self.stop = datasets, weights, seed, stop
        self.rerandomize, self.epoch = rerandomize, 0

    def _cardinality(self) -> int:
        sizes = [d._cardinality() for d in self.datasets]
        return INFINITE_CARDINALITY if all(
            n == INFINITE_CARDINALITY for n in sizes) else UNKNOWN_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        rng = np.random.default_rng([self.seed, epoch if self.rerandomize else 0])
        iterators = [iter(d) for d in self.datasets]
        weights = self.weights.copy()
        while weights.sum() > 0:
            i = int(rng.choice(len(iterators), p=weights / weights.sum()))
            try:
                yield next(iterators[i])
            except StopIteration:
                if self.stop:
                    return
                weights[i] = 0.0


# ---- transformations ---------------------------------------------------------------------
class _Unary(Dataset):
    def __init__(self, source: Dataset) -> None:
        self.source = source

    def _cardinality(self) -> int:
        return self.source._cardinality()


class _Map(_Unary):
    def __init__(self, source: Dataset, f: Callable[..., Any]) -> None:
        super().__init__(source)
        self.f = f

    def _iterate(self) -> Iterator[Any]:
        for element in self.source._iterate():
            yield _normalize(_call(self.f, element))


class _Filter(_Unary):
    def __init__(self, source: Dataset, predicate: Callable[..., Any]) -> None:
        super().__init__(source)
        self.predicate = predicate

    def _cardinality(self) -> int:
        n = self.source._cardinality()
        return n if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        for element in self.source._iterate():
            keep = _as_component(_call(self.predicate, element))
            if keep.shape != ():
                raise ValueError(f"filter: the predicate must return one boolean per element, got "
                                 f"an array of shape {keep.shape}. Reduce it (e.g. tf.reduce_all).")
            if keep:
                yield element


class _Batch(_Unary):
    def __init__(self, source: Dataset, size: int, drop: bool) -> None:
        super().__init__(source)
        self.size, self.drop = size, drop

    def _cardinality(self) -> int:
        n = self.source._cardinality()
        if n < 0:
            return n
        return n // self.size if self.drop else -(-n // self.size)

    def _iterate(self) -> Iterator[Any]:
        direct = self.source.indexed() if isinstance(self.source, _Shuffle | _Slices) else None
        if direct is not None:  # read whole batches by fancy indexing, not row by row
            slices, order = direct
            stop = len(order) - len(order) % self.size if self.drop else len(order)
            for start in range(0, stop, self.size):
                yield slices.rows(order[start:start + self.size])
            return
        rows = []
        for element in self.source._iterate():
            rows.append(element)
            if len(rows) == self.size:
                yield _stack(rows)
                rows = []
        if rows and not self.drop:
            yield _stack(rows)


def _stack(rows: list[Any]) -> Any:
    try:
        return _map_structure(lambda *parts: np.stack(parts), *rows)
    except ValueError as e:
        shapes = sorted({_structure(r) for r in rows})
        raise ValueError(f"batch: the elements have different shapes ({', '.join(shapes[:4])}), "
                         f"so they cannot be stacked into one array. Pad or resize them to one "
                         f"shape in a map() before batch().") from e


class _Unbatch(_Unary):
    def _cardinality(self) -> int:
        n = self.source._cardinality()
        return n if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        for element in self.source._iterate():
            leaves = _leaves(element)
            if any(np.ndim(a) == 0 for a in leaves):
                raise ValueError("unbatch: an element has a scalar component, which has no first "
                                 "axis to split.")
            for i in range(len(leaves[0])):
                yield _map_structure(lambda a, i=i: a[i], element)


class _Shuffle(_Unary):
    def __init__(self, source: Dataset, buffer_size: int, seed: int, reshuffle: bool) -> None:
        super().__init__(source)
        self.buffer_size, self.seed, self.reshuffle, self.epoch = buffer_size, seed, reshuffle, 0

    def _rng(self) -> np.random.Generator:
        epoch, self.epoch = self.epoch, self.epoch + 1
        return np.random.default_rng([self.seed, epoch if self.reshuffle else 0])

    def indexed(self) -> tuple[_Slices, np.ndarray] | None:
        """``(slices, order)`` when this shuffles arrays in memory (the buffer algorithm run on
        indices, so a batch reads its rows in one step); else None."""
        if not isinstance(self.source, _Slices):
            return None
        rng, n = self._rng(), self.source.n
        if self.buffer_size >= n:  # the buffer holds everything: one uniform permutation
            return self.source, rng.permutation(n)
        buffer, out = list(range(self.buffer_size)), []
        slots = _slots(rng, self.buffer_size)  # the same draws as _iterate's loop below
        for item in range(self.buffer_size, n):
            j = next(slots)
            out.append(buffer[j])
            buffer[j] = item
        out += [buffer[j] for j in rng.permutation(len(buffer))]
        return self.source, np.asarray(out, np.int64)

    def _iterate(self) -> Iterator[Any]:
        direct = self.indexed()
        if direct is not None:
            slices, order = direct
            for i in order:
                yield slices.rows(int(i))
            return
        rng, buffer = self._rng(), []
        slots = _slots(rng, self.buffer_size)
        for element in self.source._iterate():
            if len(buffer) < self.buffer_size:
                buffer.append(element)
                continue
            # the buffer is full: emit a random element, put the new one in its place
            j = next(slots)
            yield buffer[j]
            buffer[j] = element
        for j in rng.permutation(len(buffer)):  # the input is exhausted: drain at random
            yield buffer[j]


def _slots(rng: np.random.Generator, size: int, chunk: int = 1024) -> Iterator[int]:
    """Uniform buffer positions in ``[0, size)``, drawn ``chunk`` at a time (one NumPy call per
    chunk rather than per element; both shuffle paths draw the same chunks)."""
    while True:
        yield from rng.integers(size, size=chunk).tolist()


class _Take(_Unary):
    def __init__(self, source: Dataset, count: int) -> None:
        super().__init__(source)
        self.count = count

    def _cardinality(self) -> int:
        n = self.source._cardinality()
        if self.count < 0:
            return n
        return self.count if n == INFINITE_CARDINALITY else (
            min(n, self.count) if n >= 0 else UNKNOWN_CARDINALITY)

    def _iterate(self) -> Iterator[Any]:
        items = self.source._iterate()
        return items if self.count < 0 else itertools.islice(items, self.count)


class _Skip(_Unary):
    def __init__(self, source: Dataset, count: int) -> None:
        super().__init__(source)
        self.count = count

    def _cardinality(self) -> int:
        n = self.source._cardinality()
        if n < 0:
            return n
        return 0 if self.count < 0 else max(n - self.count, 0)

    def _iterate(self) -> Iterator[Any]:
        if self.count < 0:
            return iter(())
        return itertools.islice(self.source._iterate(), self.count, None)


class _Repeat(_Unary):
    def __init__(self, source: Dataset, count: int) -> None:
        super().__init__(source)
        self.count = count

    def _cardinality(self) -> int:
        n = self.source._cardinality()
        if self.count < 0:
            return 0 if n == 0 else INFINITE_CARDINALITY
        return n * self.count if n >= 0 else n

    def _iterate(self) -> Iterator[Any]:
        rounds = itertools.count() if self.count < 0 else range(self.count)
        for _ in rounds:
            empty = True
            for element in self.source._iterate():
                empty = False
                yield element
            if empty:  # repeating nothing forever would hang
                return


class _Cache(_Unary):
    def __init__(self, source: Dataset) -> None:
        super().__init__(source)
        self.cached: list[Any] | None = None

    def _iterate(self) -> Iterator[Any]:
        if self.cached is not None:
            yield from self.cached
            return
        seen = []
        for element in self.source._iterate():
            seen.append(element)
            yield element
        self.cached = seen  # only a complete pass is kept (as in TensorFlow)


class _Concatenate(Dataset):
    def __init__(self, first: Dataset, second: Dataset) -> None:
        self.first, self.second = first, second

    def _cardinality(self) -> int:
        a, b = self.first._cardinality(), self.second._cardinality()
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        return a + b if a >= 0 and b >= 0 else UNKNOWN_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        yield from self.first._iterate()
        yield from self.second._iterate()


class _Zip(Dataset):
    def __init__(self, datasets: Any) -> None:
        self.datasets = datasets

    def _cardinality(self) -> int:
        sizes = [d._cardinality() for d in _leaves(self.datasets)]
        finite = [n for n in sizes if n >= 0]
        if finite:
            return min(finite)
        return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in sizes else INFINITE_CARDINALITY

    def _iterate(self) -> Iterator[Any]:
        keys = list(self.datasets) if isinstance(self.datasets, dict) else None
        parts = list(self.datasets.values()) if keys is not None else list(self.datasets)
        for values in zip(*(d._iterate() for d in parts)):  # noqa: B905  (stops at the shortest)
            yield dict(zip(keys, values, strict=True)) if keys is not None else tuple(values)


# ---- CSV -----------------------------------------------------------------------------------
class TextLineDataset(Dataset):
    """The lines of text files, one element each, as in ``tf.data.TextLineDataset``.

    Each element is a 0-d NumPy ``bytes`` array (TensorFlow's string tensors are bytes) holding
    one line without its line ending. Files are streamed line by line, one after the other.

    Parameters
    ----------
    filenames : str, path, or list of them
    compression_type : None or ''
        Compressed files are refused: decompress them first.
    buffer_size : ignored (reading is buffered by Python)
    num_parallel_reads : ignored (files are read in order)

    Examples
    --------
    >>> import unafraid as tf
    >>> lines = tf.data.TextLineDataset("notes.txt")  # doctest: +SKIP
    >>> [line.decode() for line in lines.as_numpy_iterator()]  # doctest: +SKIP
    ['first line', 'second line']
    """

    def __init__(self, filenames: Any, compression_type: Any = None, buffer_size: Any = None,
                 num_parallel_reads: Any = None, name: str | None = None) -> None:
        if compression_type:
            raise ValueError(f"TextLineDataset: compression_type={compression_type!r} is not "
                             f"supported; decompress the file first.")
        many = isinstance(filenames, list | tuple | np.ndarray)
        self.filenames = [str(f) for f in filenames] if many else [str(filenames)]

    def _iterate(self) -> Iterator[Any]:
        for filename in self.filenames:
            with open(filename, "rb") as f:
                for line in f:
                    yield np.asarray(line.rstrip(b"\r\n") if line.endswith(b"\n") else line)


class CsvDataset(Dataset):
    """Rows of numeric CSV files as tuples of scalars (``tf.data.experimental.CsvDataset``).

    Parameters
    ----------
    filenames : str or list of str
        Read one after the other, streamed row by row.
    record_defaults : list
        One entry per selected column: a dtype (the field is required) or a
        default value (used when the field is empty; its type sets the
        column's dtype). Only numeric columns are supported.
    header : bool, default False
        Skip the first line of each file.
    field_delim : str, default ','
    na_value : str, default ''
        A field equal to this is treated as empty.
    select_cols, exclude_cols : list of int, optional
        Which columns to read (sorted indices), or which to leave out.

    Examples
    --------
    >>> import unafraid as tf
    >>> ds = tf.data.experimental.CsvDataset("data.csv", [tf.float32, 0], header=True)  # doctest: +SKIP
    """

    def __init__(self, filenames: Any, record_defaults: list[Any], compression_type: Any = None,
                 buffer_size: Any = None, header: bool = False, field_delim: str = ",",
                 use_quote_delim: bool = True, na_value: str = "", select_cols: Any = None,
                 exclude_cols: Any = None) -> None:
        if compression_type:
            raise ValueError(f"CsvDataset: compression_type={compression_type!r} is not supported; "
                             f"decompress the file first.")
        if select_cols is not None and exclude_cols is not None:
            raise ValueError("CsvDataset: pass select_cols or exclude_cols, not both.")
        self.filenames = [filenames] if isinstance(filenames, str) else [str(f) for f in filenames]
        self.columns = [_csv_column(d, i) for i, d in enumerate(record_defaults)]
        self.header, self.delim, self.quote = header, field_delim, use_quote_delim
        self.na_value, self.select, self.exclude = na_value, select_cols, exclude_cols

    def _iterate(self) -> Iterator[Any]:
        for filename in self.filenames:
            with open(filename, newline="") as f:
                reader = csv.reader(f, delimiter=self.delim,
                                    quoting=csv.QUOTE_MINIMAL if self.quote else csv.QUOTE_NONE)
                for line, row in enumerate(reader, start=1):
                    if line == 1 and self.header:
                        continue
                    yield self._parse(self._pick(row, filename, line), filename, line)

    def _pick(self, row: list[str], filename: str, line: int) -> list[str]:
        if self.select is not None:
            if max(self.select) >= len(row):
                raise ValueError(f"CsvDataset: {filename} line {line} has {len(row)} fields, "
                                 f"fewer than select_cols={list(self.select)} needs.")
            row = [row[i] for i in self.select]
        elif self.exclude is not None:
            row = [v for i, v in enumerate(row) if i not in set(self.exclude)]
        if len(row) != len(self.columns):
            raise ValueError(f"CsvDataset: {filename} line {line} has {len(row)} fields, but "
                             f"record_defaults describes {len(self.columns)}. Give one "
                             f"record_defaults entry per column (or use select_cols).")
        return row

    def _parse(self, row: list[str], filename: str, line: int) -> tuple[Any, ...]:
        out = []
        for i, (text, (dtype, default)) in enumerate(zip(row, self.columns, strict=True)):
            text = text.strip()
            if text == "" or text == self.na_value:
                if default is None:
                    raise ValueError(f"CsvDataset: {filename} line {line}, column {i} is empty "
                                     f"and required (its record_defaults entry is a dtype). Give "
                                     f"a default value instead, e.g. 0.0.")
                out.append(np.asarray(default, dtype))
                continue
            try:
                out.append(np.asarray(float(text) if dtype.kind == "f" else int(text), dtype))
            except ValueError as e:
                raise ValueError(f"CsvDataset: {filename} line {line}, column {i} holds {text!r}, "
                                 f"which is not a {dtype.name} number. CsvDataset reads numeric "
                                 f"columns only: drop text columns with select_cols, or read the "
                                 f"file with pandas.") from e
        return tuple(out)


def _csv_column(default: Any, i: int) -> tuple[np.dtype, Any]:
    """``(dtype, default value or None)`` for one ``record_defaults`` entry."""
    if isinstance(default, list | tuple | np.ndarray):
        if len(default) == 0:
            raise ValueError(f"CsvDataset: record_defaults[{i}] is empty; give a dtype or a value.")
        default = default[0]
    if isinstance(default, type) or isinstance(default, np.dtype) or isinstance(default, str):
        dtype = np.dtype(default)
        default = None
    else:
        dtype = np.asarray(default).dtype
        dtype = np.dtype(np.float32) if dtype == np.float64 else dtype
    if dtype.kind not in "biuf":
        raise TypeError(f"CsvDataset reads numeric columns only; record_defaults[{i}] asks for "
                        f"{dtype}. Read text columns with pandas.read_csv, then use "
                        f"Dataset.from_tensor_slices(dict(df)).")
    return dtype, default
