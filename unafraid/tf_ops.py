"""The ``tf.*`` names TensorFlow tutorials use, each a thin alias of engine ops.

``import unafraid as tf`` gives ``tf.constant``, ``tf.Variable``, ``tf.reduce_sum``,
``tf.matmul``, ``tf.math.*``, ``tf.linalg.*``, ``tf.config`` and friends with
TensorFlow's argument names and defaults. Every differentiable op here is
composed from engine primitives, so it records its gradient: inside a
``GradientTape`` (or ``unafraid.grad``) it can be differentiated, twice if need be.
Arrays in give Tensors out (``.numpy()`` works), as in TensorFlow.

What differs from TensorFlow is listed in ``docs/from_tensorflow.md``: there is
one device (the CPU), no graph compilation, and integer data keep NumPy's
default dtype (int64) where TensorFlow would use int32.
"""

from __future__ import annotations

import builtins
import contextlib
import math as _math
import sys
from collections.abc import Iterator, Sequence
from types import FunctionType, SimpleNamespace
from typing import Any

import numpy as np

from . import engine
from ._version import __version__
from .data.dataset import TensorSpec
from .engine import Tensor, ops
from .engine.ops import Einsum
from .engine.tensor import as_array
from .tape import GradientTape, function

# ---- dtypes --------------------------------------------------------------------------------
float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int8, int16, int32, int64 = (np.dtype(t) for t in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in ("uint8", "uint16", "uint32", "uint64"))
bool = np.dtype("bool")  # noqa: A001  (tf.bool)
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")
string = np.dtype("str")  # text columns: accepted by tf.data, never by the engine
dtypes = SimpleNamespace(float16=float16, float32=float32, float64=float64, int8=int8, int16=int16,
                         int32=int32, int64=int64, uint8=uint8, bool=bool, string=string,
                         complex64=complex64, complex128=complex128, as_dtype=np.dtype)
newaxis = None


def _t(x: Any) -> Tensor:
    """A Tensor for an op's result (plain arrays are wrapped; no copy)."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


# TensorFlow's DataType enum numbers (types.proto): tf.zeros(1, 1) means dtype 1, float32
TF_DTYPE_ENUM = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
                 9: "int64", 10: "bool", 17: "uint16", 19: "float16", 22: "uint32", 23: "uint64"}


def _dtype(dtype: Any) -> Any:
    if isinstance(dtype, int) and not isinstance(dtype, builtins.bool):
        if dtype not in TF_DTYPE_ENUM:
            raise TypeError(f"dtype={dtype} is not a TensorFlow DataType number unafraid knows "
                            f"({sorted(TF_DTYPE_ENUM)}); pass a dtype such as tf.float32.")
        return np.dtype(TF_DTYPE_ENUM[dtype])
    return None if dtype is None else np.dtype(dtype)


# ---- making tensors ------------------------------------------------------------------------
def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A Tensor holding ``value`` (Python floats become float32), broadcast to ``shape`` if given.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.constant([[1.0, 2.0]], shape=(2, 2)).numpy()
    array([[1., 2.],
           [1., 2.]], dtype=float32)
    """
    a = as_array(value, _dtype(dtype))
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        a = np.broadcast_to(a, shape).copy() if a.size != 1 or a.shape == shape else np.full(
            shape, a.reshape(()), a.dtype)
    return Tensor(np.array(a), name=name)


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None,
                      name: str | None = None) -> Tensor:
    """``value`` as a Tensor: a Tensor is returned as it is (with its history), unless cast."""
    if isinstance(value, Tensor):
        return value if dtype is None or value.dtype == np.dtype(dtype) else cast(value, dtype)
    if dtype is None and dtype_hint is not None:
        a = as_array(value)
        return Tensor(a.astype(dtype_hint) if a.dtype.kind in "iuf" else a)
    if hasattr(value, "to_numpy"):  # pandas
        value = value.to_numpy()
    return Tensor(as_array(value, _dtype(dtype)), name=name)


class Variable(engine.Variable):
    """A mutable tensor (``tf.Variable``): ``assign``, ``assign_add``, ``assign_sub``, ``.numpy()``.

    Parameters
    ----------
    initial_value : array_like
        Its first value (Python floats become float32).
    trainable : bool, default True
        Whether ``GradientTape`` and optimizers see it as a weight.
    name : str, optional
    dtype : dtype, optional

    Examples
    --------
    >>> import unafraid as tf
    >>> v = tf.Variable(1.0)
    >>> v.assign_add(2.0).numpy()
    array(3., dtype=float32)
    """

    def __init__(self, initial_value: Any = None, trainable: bool = True,
                 validate_shape: bool = True, caching_device: Any = None, name: str | None = None,
                 variable_def: Any = None, dtype: Any = None, import_scope: Any = None,
                 constraint: Any = None, **kwargs: Any) -> None:
        if initial_value is None:
            raise ValueError("tf.Variable needs an initial_value, e.g. tf.Variable(0.0) or "
                             "tf.Variable(tf.zeros((3, 2))).")
        if callable(initial_value):
            initial_value = initial_value()
        super().__init__(as_array(initial_value, _dtype(dtype)), name=name or "Variable",
                         trainable=trainable is not False)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ")
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}, numpy={body}>"


class Module:
    """A container of Variables and sub-modules (``tf.Module``).

    ``variables`` and ``trainable_variables`` are found by walking the
    attributes (Variables, Modules, Keras layers, and lists / tuples / dicts
    of them), in attribute order, each once.

    Examples
    --------
    >>> import unafraid as tf
    >>> class Line(tf.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w, self.b = tf.Variable(5.0), tf.Variable(0.0)
    ...     def __call__(self, x):
    ...         return self.w * x + self.b
    >>> len(Line().trainable_variables)
    2
    """

    def __init__(self, name: str | None = None) -> None:
        self._name = name or _snake(type(self).__name__)

    @property
    def name(self) -> str:
        """The module's name (its class name in snake case unless given)."""
        return self._name

    @property
    def name_scope(self) -> contextlib.AbstractContextManager[None]:
        """A context with no effect (unafraid has no name scopes)."""
        return contextlib.nullcontext()

    @property
    def variables(self) -> list[engine.Variable]:
        """Every Variable held by this module and its sub-modules."""
        return _collect(self, lambda v: True)

    @property
    def trainable_variables(self) -> list[engine.Variable]:
        """The Variables that are trained (``trainable=True``)."""
        return _collect(self, lambda v: v.trainable)

    @property
    def submodules(self) -> list[Any]:
        """The Modules and Keras layers held by this module, depth first."""
        found: list[Any] = []
        _walk(vars(self).values(), lambda v: None, found, set())
        return found

    @classmethod
    def with_name_scope(cls, method: Any) -> Any:
        """A decorator with no effect (kept for TensorFlow code)."""
        return method


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _walk(values: Any, on_variable: Any, modules: list[Any], seen: set[int]) -> None:
    """Visit Variables among ``values`` (and inside Modules, layers, lists, tuples, dicts) once."""
    for value in values:
        if id(value) in seen:
            continue
        if isinstance(value, engine.Variable | Module) or hasattr(value, "trainable_weights"):
            seen.add(id(value))
        if isinstance(value, engine.Variable):
            on_variable(value)
        elif isinstance(value, Module):
            modules.append(value)
            _walk(vars(value).values(), on_variable, modules, seen)
        elif hasattr(value, "trainable_weights"):  # a Keras layer or model: its weights
            modules.append(value)
            _walk(value.weights, on_variable, modules, seen)
        elif isinstance(value, list | tuple | dict):
            _walk(value.values() if isinstance(value, dict) else value, on_variable, modules, seen)


def _collect(module: Module, keep: Any) -> list[engine.Variable]:
    out: list[engine.Variable] = []
    _walk(vars(module).values(), lambda v: out.append(v) if keep(v) else None, [], set())
    return out


def zeros(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """A Tensor of zeros."""
    return Tensor(np.zeros(_shape_tuple(shape), _dtype(dtype)))


def ones(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """A Tensor of ones."""
    return Tensor(np.ones(_shape_tuple(shape), _dtype(dtype)))


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Zeros with ``input``'s shape (and dtype unless given)."""
    return Tensor(np.zeros_like(as_array(input), dtype=_dtype(dtype)))


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Ones with ``input``'s shape (and dtype unless given)."""
    return Tensor(np.ones_like(as_array(input), dtype=_dtype(dtype)))


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A Tensor of shape ``dims`` filled with ``value``."""
    return Tensor(np.full(_shape_tuple(dims), as_array(value)))


def eye(num_rows: int, num_columns: int | None = None, dtype: Any = float32,
        name: str | None = None) -> Tensor:
    """The identity matrix."""
    return Tensor(np.eye(num_rows, num_columns, dtype=dtype))


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    shape = as_array(shape) if isinstance(shape, Tensor) else shape
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> Tensor:
    """``[start, start + delta, ...)`` below ``limit`` (``range(n)`` counts from 0).

    Integers give int32 as in TensorFlow; floats give float32.
    """
    if limit is None:
        start, limit = 0, start
    values = [as_array(v) for v in (start, limit, delta)]
    if dtype is None:
        dtype = float32 if any(v.dtype.kind == "f" for v in values) else int32
    # the length from the numbers as given (Python floats), not from their float32 roundings:
    # range(0.1, 1.1, 0.1) has 10 values, as in TensorFlow (float32 0.1 and 1.1 would give 11)
    numbers = [v if isinstance(v, int | float) else a.item() for v, a in zip((start, limit, delta), values,
                                                                         strict=True)]
    return Tensor(np.arange(*numbers, dtype=dtype))


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float32 for floats)."""
    a = np.linspace(as_array(start), as_array(stop), int(num), axis=axis)
    return Tensor(a.astype(np.float32) if a.dtype == np.float64 else a)


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> Tensor:
    """Integer ``indices`` to one-hot vectors of length ``depth``, on a new last axis.

    An index outside ``[0, depth)`` gives a row of ``off_value`` (TensorFlow's rule). Float
    indices that are all whole numbers (labels kept as float32) are read as integers; any other
    float is refused.
    """
    idx = np.asarray(as_array(indices))
    if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
        idx = idx.astype(np.int64)  # labels stored as floats (y.astype("float32")), all whole numbers
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer indices (or floats that are all whole numbers), "
                        f"got dtype {idx.dtype}. Cast them: tf.cast(labels, tf.int64).")
    on = 1 if on_value is None else as_array(on_value).item()
    off = 0 if off_value is None else as_array(off_value).item()
    dtype = _dtype(dtype) or (np.asarray(on).dtype if on_value is not None else float32)
    hot = idx[..., None] == np.arange(int(depth))
    out = np.where(hot, on, off).astype(dtype)
    return Tensor(out if axis in (None, -1) else np.moveaxis(out, -1, axis))


# ---- shapes --------------------------------------------------------------------------------
def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` with another dtype; float-to-float casts keep the gradient."""
    return _t(ops.cast(x if isinstance(x, Tensor) else as_array(x), np.dtype(dtype)))


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """The same values in a new shape (one entry may be -1)."""
    return _t(ops.reshape(tensor, _shape_tuple(shape)))


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str = "transpose") -> Tensor:
    """Permute the axes (reverse them by default)."""
    return _t(ops.transpose(a, None if perm is None else tuple(int(p) for p in perm)))


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:  # noqa: A002
    """Insert an axis of length 1 at ``axis``."""
    return _t(ops.expand_dims(input, int(axis)))


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    return _t(ops.squeeze(input, _axes(axis)))


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """Join tensors along an existing axis."""
    return _t(ops.concatenate(list(values), axis=int(axis)))


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Join tensors along a new axis."""
    return _t(ops.stack(list(values), axis=int(axis)))


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """Split along ``axis`` into a list of tensors, one per index."""
    n = np.shape(as_array(value))[axis]
    return [_t(ops.squeeze(p, axis)) for p in ops.split(value, n, axis=axis)]


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: Any = None,
          name: str = "split") -> list[Tensor]:
    """Split into ``num`` equal parts, or parts of the given sizes."""
    if isinstance(num_or_size_splits, int | np.integer):
        sections: Any = int(num_or_size_splits)
    else:
        sections = list(np.cumsum([int(s) for s in num_or_size_splits])[:-1])
    return [_t(p) for p in ops.split(value, sections, axis=axis)]


def tile(input: Any, multiples: Sequence[int], name: str | None = None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along axis ``i`` (via concat, so it records)."""
    out = input
    for axis, m in enumerate(multiples):
        if int(m) != 1:
            out = ops.concatenate([out] * int(m), axis=axis)
    return _t(out)


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: int | None = None,
           batch_dims: int = 0, name: str | None = None) -> Tensor:
    """The slices of ``params`` at ``indices`` along ``axis`` (default 0)."""
    if batch_dims:
        raise NotImplementedError("tf.gather: batch_dims is not supported; index each batch "
                                  "row with tf.gather in a loop, or use take_along_axis in NumPy.")
    axis = 0 if axis is None else int(axis)
    index = (slice(None),) * (axis % np.ndim(as_array(params))) + (np.asarray(as_array(indices)),)
    return _t(ops.getitem(params, index))


def _nd_index(op: str, indices: Any, shape: tuple[int, ...], batch_dims: int = 0) -> tuple[Any, ...]:
    """``indices`` of shape ``(..., m)`` as the NumPy index that reads (or writes) the entries or
    slices they name in an array of ``shape``; each index checked to lie in ``[0, length)``, as
    TensorFlow checks it on the CPU."""
    idx = np.asarray(as_array(indices))
    if idx.dtype.kind not in "iu" or idx.ndim < 1 or idx.shape[-1] > len(shape) - batch_dims:
        raise ValueError(f"tf.{op}: indices must be integers of shape (..., m) with m at most the "
                         f"rank {len(shape) - batch_dims} of the indexed tensor (shape {shape}, "
                         f"batch_dims={batch_dims}); got dtype {idx.dtype}, shape {idx.shape}.")
    limits = np.asarray(shape[batch_dims:batch_dims + idx.shape[-1]])
    bad = (idx < 0) | (idx >= limits)
    if bad.any():
        where_bad = tuple(int(i) for i in np.argwhere(bad)[0][:-1])
        raise IndexError(f"tf.{op}: indices{list(where_bad)} = {idx[where_bad].tolist()} does not "
                         f"index a tensor of shape {shape} (each index in [0, length)).")
    outer = idx.ndim - 1
    grids = [np.arange(shape[k]).reshape((1,) * k + (-1,) + (1,) * (outer - k - 1))
             for k in builtins.range(batch_dims)]
    return (*grids, *(idx[..., j] for j in builtins.range(idx.shape[-1])))


def gather_nd(params: Any, indices: Any, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """The entries or slices of ``params`` named by the last axis of ``indices`` (``tf.gather_nd``).

    ``indices`` has shape ``(..., m)``; the result has shape ``indices.shape[:-1] +
    params.shape[m:]`` (``params.shape[batch_dims + m:]`` after ``batch_dims`` leading axes
    that ``params`` and ``indices`` share): ``out[i] = params[indices[i, 0], ..., indices[i, m-1]]``.
    Differentiable in ``params`` (the gradient is scattered back, repeated indices adding up).
    An index outside ``[0, length)`` is an ``IndexError``, as TensorFlow's on the CPU.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.gather_nd([[1.0, 2.0], [3.0, 4.0]], [[1, 0], [0, 1]]).numpy()
    array([3., 2.], dtype=float32)
    """
    shape = np.shape(as_array(params))
    batch_dims = int(batch_dims)
    if batch_dims and np.shape(as_array(indices))[:batch_dims] != shape[:batch_dims]:
        raise ValueError(f"tf.gather_nd: batch_dims={batch_dims} needs the same leading axes in params "
                         f"{shape} and indices {np.shape(as_array(indices))}.")
    return _t(ops.getitem(params, _nd_index("gather_nd", indices, shape, batch_dims)))


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added where ``indices`` point (``tf.scatter_nd``).

    ``indices`` has shape ``(..., m)`` and ``updates`` shape ``indices.shape[:-1] + shape[m:]``;
    repeated indices add up, as in TensorFlow. Differentiable in ``updates`` (the gradient is
    ``tf.gather_nd(g, indices)``).

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.scatter_nd([[1], [3], [1]], [9.0, 10.0, 1.0], [4]).numpy()
    array([ 0., 10.,  0., 10.], dtype=float32)
    """
    shape = _shape_tuple(shape)
    index = _nd_index("scatter_nd", indices, shape)
    values = _t(updates) if isinstance(updates, Tensor) else Tensor(as_array(updates))
    want = np.shape(as_array(indices))[:-1] + shape[len(index):]
    if values.shape != want:
        raise ValueError(f"tf.scatter_nd: updates must have shape indices.shape[:-1] + shape[m:] = "
                         f"{want}, got {values.shape}.")
    return _t(ops.scatter_add(values, shape, index))


class Unique(tuple):
    """``(y, idx)`` as ``tf.unique`` returns them; also ``.y`` and ``.idx``."""

    __slots__ = ()

    def __new__(cls, y: Tensor, idx: Tensor) -> Unique:
        return super().__new__(cls, (y, idx))

    @property
    def y(self) -> Tensor:
        """The distinct values, in the order they first appear."""
        return self[0]

    @property
    def idx(self) -> Tensor:
        """For each input entry, its value's position in ``y``."""
        return self[1]


def unique(x: Any, out_idx: Any = int32, name: str | None = None) -> Unique:
    """The distinct values of a 1-D ``x`` in order of first appearance, and where each entry's
    value sits among them (``tf.unique``): ``x == y[idx]``. No gradient (as in TensorFlow).

    Examples
    --------
    >>> import unafraid as tf
    >>> y, idx = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])
    >>> y.numpy().tolist(), idx.numpy().tolist()
    ([1, 2, 4, 7, 8], [0, 0, 1, 2, 2, 2, 3, 4, 4])
    """
    a = np.asarray(as_array(x))
    if a.ndim != 1:
        raise ValueError(f"tf.unique: x must be 1-D, got shape {a.shape}; flatten it first with "
                         f"tf.reshape(x, [-1]).")
    values, first, inverse = np.unique(a, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return Unique(Tensor(values[order]), Tensor(rank[inverse.reshape(-1)].astype(_dtype(out_idx))))


def boolean_mask(tensor: Any, mask: Any, axis: int | None = None, name: str = "boolean_mask") -> Tensor:
    """The entries of ``tensor`` where ``mask`` is true."""
    return _t(ops.getitem(tensor, np.asarray(as_array(mask), np.bool_)))


def shape(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:  # noqa: A002
    """The shape as a 1-D integer Tensor (``int(tf.shape(x)[0])`` is the batch size)."""
    return Tensor(np.asarray(np.shape(as_array(input)), out_type))


def size(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of elements, as a 0-d integer Tensor."""
    return Tensor(np.asarray(np.size(as_array(input)), out_type))


def rank(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The number of axes, as a 0-d int32 Tensor."""
    return Tensor(np.asarray(np.ndim(as_array(input)), np.int32))


def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """``input`` itself (as a Tensor)."""
    return _t(input) if isinstance(input, Tensor) else convert_to_tensor(input)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same values with no history: no gradient flows through."""
    return Tensor(as_array(input))


# ---- arithmetic ----------------------------------------------------------------------------
def _unary(op: Any, doc: str) -> Any:
    def f(x: Any, name: str | None = None) -> Tensor:
        return _t(op(x))

    f.__name__, f.__qualname__, f.__doc__ = op.__name__, op.__name__, doc
    return f


def _binary(op: Any, doc: str) -> Any:
    def f(x: Any, y: Any, name: str | None = None) -> Tensor:
        return _t(op(x, y))

    f.__name__, f.__qualname__, f.__doc__ = op.__name__, op.__name__, doc
    return f


abs = _unary(ops.abs, "``|x|``, elementwise.")  # noqa: A001
exp = _unary(ops.exp, "``e^x``, elementwise.")
log = _unary(ops.log, "Natural logarithm, elementwise.")
log1p = _unary(ops.log1p, "``log(1 + x)``, accurate near 0.")
expm1 = _unary(ops.expm1, "``e^x - 1``, accurate near 0.")
sqrt = _unary(ops.sqrt, "Square root, elementwise.")
sign = _unary(ops.sign, "-1, 0 or 1, elementwise (zero gradient).")
tanh = _unary(ops.tanh, "Hyperbolic tangent, elementwise.")
sigmoid = _unary(ops.sigmoid, "``1 / (1 + e^-x)``, elementwise.")
negative = _unary(ops.negative, "``-x``.")
lgamma = _unary(ops.lgamma, "``log |Gamma(x)|``.")
digamma = _unary(ops.digamma, "``d/dx log Gamma(x)``.")
softplus = _unary(ops.softplus, "``log(1 + e^x)``, stable.")
add = _binary(ops.add, "``x + y`` with broadcasting.")
subtract = _binary(ops.subtract, "``x - y`` with broadcasting.")
multiply = _binary(ops.multiply, "``x * y`` with broadcasting.")
divide = _binary(ops.divide, "``x / y`` with broadcasting.")
truediv = divide
maximum = _binary(ops.maximum, "The larger of ``x`` and ``y``, elementwise.")
minimum = _binary(ops.minimum, "The smaller of ``x`` and ``y``, elementwise.")
pow = _binary(ops.power, "``x ** y``, elementwise.")  # noqa: A001


class Sin(engine.Function):
    """``sin(x)``; its VJP ``g * cos(x)`` is written with engine ops, so it differentiates again."""

    name = "sin"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.sin(x)

    @staticmethod
    def vjp(ctx, g, x):  # d sin(x) = cos(x) dx
        return (ops.multiply(g, Cos.apply(x)),)


class Cos(engine.Function):
    """``cos(x)``; its VJP ``-g * sin(x)`` is written with engine ops, so it differentiates again."""

    name = "cos"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.cos(x)

    @staticmethod
    def vjp(ctx, g, x):  # d cos(x) = -sin(x) dx
        return (ops.negative(ops.multiply(g, Sin.apply(x))),)


def sin(x: Any, name: str | None = None) -> Tensor:
    """Sine, elementwise (radians); records its gradient ``cos(x)``.

    >>> float(sin(0.0))
    0.0
    """
    return _t(Sin.apply(_t(x)))


def cos(x: Any, name: str | None = None) -> Tensor:
    """Cosine, elementwise (radians); records its gradient ``-sin(x)``.

    >>> float(cos(0.0))
    1.0
    """
    return _t(Cos.apply(_t(x)))


def tan(x: Any, name: str | None = None) -> Tensor:
    """Tangent, elementwise: ``sin(x) / cos(x)``, differentiable through both."""
    return _t(ops.divide(sin(x), cos(x)))


def square(x: Any, name: str | None = None) -> Tensor:
    """``x * x``, elementwise."""
    return _t(ops.multiply(x, x))


def reciprocal(x: Any, name: str | None = None) -> Tensor:
    """``1 / x``, elementwise."""
    return _t(ops.divide(1.0, x))


def rsqrt(x: Any, name: str | None = None) -> Tensor:
    """``1 / sqrt(x)``, elementwise."""
    return _t(ops.divide(1.0, ops.sqrt(x)))


def squared_difference(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``(x - y)^2``, elementwise."""
    d = ops.subtract(x, y)
    return _t(ops.multiply(d, d))


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """The elementwise sum of a list of tensors of one shape."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("tf.add_n needs at least one tensor.")
    total = inputs[0]
    for x in inputs[1:]:
        total = ops.add(total, x)
    return _t(total)


def matmul(a: Any, b: Any, transpose_a: builtins.bool = False, transpose_b: builtins.bool = False,
           adjoint_a: builtins.bool = False, adjoint_b: builtins.bool = False, **kwargs: Any) -> Tensor:
    """Matrix product ``a @ b`` (of the last two axes), optionally transposing either."""
    if transpose_a or adjoint_a:
        a = ops.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = ops.swapaxes(b, -1, -2)
    return _t(ops.matmul(a, b))


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """``np.tensordot`` with gradients, for ``axes=1`` (a matrix product) or ``axes=0``."""
    if axes == 1:
        return matmul(a, b)
    if axes == 0:
        a = ops.reshape(a, np.shape(as_array(a)) + (1,) * np.ndim(as_array(b)))
        return _t(ops.multiply(a, b))
    raise NotImplementedError(f"tf.tensordot: axes={axes!r} is not supported (only 0 and 1); "
                              f"reshape and use tf.matmul.")


def _explicit_einsum(equation: str, shapes: list[tuple[int, ...]]) -> str:
    """``equation`` written with letters only and an ``->``: each ``...`` becomes letters the
    equation does not use (right-aligned, as broadcasting aligns axes), and an implicit output is
    NumPy's and TensorFlow's (the ``...`` axes, then the letters used once, in alphabetical order)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(shapes):
        raise ValueError(f"tf.einsum: equation {equation!r} names {len(specs)} operands, "
                         f"got {len(shapes)}.")
    ranks = [len(shape) - len(spec.replace("...", "")) for spec, shape in zip(specs, shapes, strict=True)
             if "..." in spec]
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    elided = "".join(free[:builtins.max(ranks, default=0)])
    specs = [s.replace("...", elided[len(elided) - (len(shape) - len(s) + 3):] if "..." in s else "")
             for s, shape in zip(specs, shapes, strict=True)]
    if not arrow:
        letters = "".join(specs)
        output = elided + "".join(builtins.sorted(c for c in set(letters) if letters.count(c) == 1
                                                  and c not in elided))
    output = output.replace("...", elided)
    for spec, shape in zip(specs, shapes, strict=True):
        if len(spec) != len(shape) or not spec.isalpha() and spec:
            raise ValueError(f"tf.einsum: subscripts {spec!r} do not fit an operand of shape {shape} "
                             f"(one letter per axis).")
    return ",".join(specs) + "->" + output


def _einsum_diagonal(equation: str, t: Tensor, spec: str) -> tuple[Tensor, str]:
    """The entries of ``t`` whose axes with the same letter in ``spec`` have the same index:
    ``spec`` ``'iij'`` on shape ``(n, n, m)`` gives ``t[k, k, j]`` of shape ``(n, m)``, ``'ij'``."""
    letters = "".join(dict.fromkeys(spec))
    lengths: dict[str, int] = {}
    for c, n in zip(spec, t.shape, strict=True):
        if lengths.setdefault(c, n) != n:
            raise ValueError(f"tf.einsum({equation!r}): letter {c!r} appears twice in subscripts "
                             f"{spec!r} with lengths {lengths[c]} and {n} (operand shape {t.shape}); "
                             f"a diagonal needs equal lengths.")
    index = tuple(np.arange(lengths[c]).reshape([-1 if d == c else 1 for d in letters]) for c in spec)
    return _t(ops.getitem(t, index)), letters


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Einstein summation (``tf.einsum``, ``keras.ops.einsum``), differentiable in every operand.

    ``equation`` is NumPy's: ``'ij,jk->ik'`` (a matrix product), ``'bij,bjk->bik'``,
    ``'...ij,jk->...ik'``, ``'ij->ji'``, or implicit (``'ij,jk'``: the letters used once, in
    alphabetical order). Axes of length 1 broadcast against the same letter's length in
    another operand. The gradient of each operand is an einsum of the output's gradient with
    the other operands (so it can be differentiated again). A letter twice in one operand
    reads its diagonal (``'ii->i'``, ``'ii->'`` the trace). The result has NumPy's result dtype.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.einsum("ij,j->i", [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).numpy()
    array([3., 7.], dtype=float32)
    """
    tensors = [_t(x) if isinstance(x, Tensor) else Tensor(as_array(x)) for x in inputs]
    explicit = _explicit_einsum(equation, [t.shape for t in tensors])
    specs, output = explicit.split("->")
    specs = specs.split(",")
    for i, spec in enumerate(specs):
        if len(set(spec)) != len(spec):  # a repeated letter: read the diagonal (differentiable)
            tensors[i], specs[i] = _einsum_diagonal(equation, tensors[i], spec)
    explicit = ",".join(specs) + "->" + output
    sizes: dict[str, int] = {}
    for spec, t in zip(specs, tensors, strict=True):
        for c, n in zip(spec, t.shape, strict=True):
            if n != 1:
                if sizes.setdefault(c, n) != n:
                    raise ValueError(f"tf.einsum({equation!r}): letter {c!r} has lengths {sizes[c]} "
                                     f"and {n} in operands of shapes {[t.shape for t in tensors]}.")
    tensors = [t if all(sizes.get(c, 1) == n for c, n in zip(spec, t.shape, strict=True))
               else ops.broadcast_to(t, tuple(sizes.get(c, 1) for c in spec))
               for spec, t in zip(specs, tensors, strict=True)]
    return _t(Einsum.apply(*tensors, equation=explicit))


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """``min(max(t, clip_value_min), clip_value_max)``; the gradient passes where unclipped."""
    return _t(ops.clip(t, as_array(clip_value_min), as_array(clip_value_max)))


def global_norm(t_list: Sequence[Any], name: str | None = None) -> Tensor:
    """``sqrt(sum_i ||t_i||^2)`` over a list of tensors (``None`` entries are skipped)."""
    squares = [ops.sum(ops.multiply(t, t)) for t in t_list if t is not None]
    return _t(ops.sqrt(add_n(squares))) if squares else Tensor(np.float32(0))


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list[Tensor | None], Tensor]:
    """Scale a list of tensors so their joint norm is at most ``clip_norm``.

    ``t_i * clip_norm / max(global_norm, clip_norm)``; returns the clipped list
    and the global norm before clipping.
    """
    norm = global_norm(t_list) if use_norm is None else _t(use_norm)
    clip = as_array(clip_norm, norm.dtype)
    scale = ops.divide(clip, ops.maximum(norm, clip))
    return [None if t is None else _t(ops.multiply(t, scale)) for t in t_list], norm


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """Scale ``t`` so its L2 norm (over ``axes``) is at most ``clip_norm``."""
    norm = ops.sqrt(ops.sum(ops.multiply(t, t), axis=_axes(axes), keepdims=True))
    clip = as_array(clip_norm, np.asarray(as_array(t)).dtype)
    return _t(ops.multiply(t, ops.divide(clip, ops.maximum(norm, clip))))


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """``x`` where ``condition`` holds, else ``y``; with only a condition, the indices where it holds."""
    cond = np.asarray(as_array(condition), np.bool_)
    if x is None and y is None:
        return Tensor(np.argwhere(cond).astype(np.int64))
    if x is None or y is None:
        raise ValueError("tf.where needs both x and y, or neither (to get the indices).")
    return _t(ops.where(cond, x, y))


# ---- reductions ----------------------------------------------------------------------------
def _axes(axis: Any) -> Any:
    if axis is None or isinstance(axis, int | np.integer):
        return None if axis is None else int(axis)
    return tuple(int(a) for a in np.ravel(as_array(axis)))


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Sum over ``axis`` (all axes by default)."""
    return _t(ops.sum(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
                name: str | None = None) -> Tensor:
    """Mean over ``axis`` (all axes by default). Integer input gives an integer mean, as in TF."""
    x = input_tensor if isinstance(input_tensor, Tensor) else as_array(input_tensor)
    out = _t(ops.mean(x, axis=_axes(axis), keepdims=keepdims))
    kind = np.asarray(as_array(x)).dtype
    return Tensor(out.data.astype(kind)) if kind.kind in "iu" else out


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Maximum over ``axis``; the gradient goes to the maximal entries (shared on ties)."""
    return _t(ops.max(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Minimum over ``axis``."""
    return _t(ops.min(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
                name: str | None = None) -> Tensor:
    """Product over ``axis``, as a chain of multiplications (exact gradients, zeros included)."""
    x = input_tensor if isinstance(input_tensor, Tensor) else Tensor(as_array(input_tensor))
    axes = tuple(builtins.range(x.ndim)) if axis is None else _axes(axis)
    axes = sorted(a % x.ndim for a in ((axes,) if isinstance(axes, int) else axes))
    rest = [a for a in builtins.range(x.ndim) if a not in axes]
    moved = ops.transpose(x, tuple(rest + axes))
    kept = tuple(x.shape[a] for a in rest)
    flat = ops.reshape(moved, kept + (_math.prod(x.shape[a] for a in axes),))
    out = Tensor(np.ones(kept, x.dtype))
    for i in builtins.range(flat.shape[-1]):
        out = ops.multiply(out, ops.getitem(flat, (Ellipsis, i)))
    if keepdims:
        out = ops.reshape(out, tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
    return _t(out)


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
                     name: str | None = None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return _t(ops.logsumexp(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
                    name: str | None = None) -> Tensor:
    """Population variance (divides by n) over ``axis``."""
    return _t(ops.var(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Population standard deviation over ``axis``."""
    return _t(ops.std(input_tensor, axis=_axes(axis), keepdims=keepdims))


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Logical and over ``axis``."""
    return Tensor(np.all(as_array(input_tensor), axis=_axes(axis), keepdims=keepdims))


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Logical or over ``axis``."""
    return Tensor(np.any(as_array(input_tensor), axis=_axes(axis), keepdims=keepdims))


def argmax(input: Any, axis: Any = None, output_type: Any = int64,  # noqa: A002
           name: str | None = None) -> Tensor:
    """Index of the largest value along ``axis`` (TensorFlow's default axis is 0)."""
    return Tensor(np.argmax(as_array(input), axis=0 if axis is None else int(axis)).astype(
        output_type))


def argmin(input: Any, axis: Any = None, output_type: Any = int64,  # noqa: A002
           name: str | None = None) -> Tensor:
    """Index of the smallest value along ``axis`` (default 0)."""
    return Tensor(np.argmin(as_array(input), axis=0 if axis is None else int(axis)).astype(
        output_type))


def _compare(np_op: Any, doc: str) -> Any:
    def f(x: Any, y: Any, name: str | None = None) -> Tensor:
        return Tensor(np_op(as_array(x), as_array(y)))

    f.__name__, f.__qualname__, f.__doc__ = np_op.__name__, np_op.__name__, doc
    return f


equal = _compare(np.equal, "``x == y``, elementwise (no gradient).")
not_equal = _compare(np.not_equal, "``x != y``, elementwise.")
greater = _compare(np.greater, "``x > y``, elementwise.")
greater_equal = _compare(np.greater_equal, "``x >= y``, elementwise.")
less = _compare(np.less, "``x < y``, elementwise.")
less_equal = _compare(np.less_equal, "``x <= y``, elementwise.")
logical_and = _compare(np.logical_and, "``x and y``, elementwise.")
logical_or = _compare(np.logical_or, "``x or y``, elementwise.")


def logical_not(x: Any, name: str | None = None) -> Tensor:
    """``not x``, elementwise."""
    return Tensor(np.logical_not(as_array(x)))


def _no_grad_unary(np_op: Any, doc: str) -> Any:
    def f(x: Any, name: str | None = None) -> Tensor:
        return Tensor(np_op(as_array(x)))

    f.__name__, f.__qualname__, f.__doc__ = np_op.__name__, np_op.__name__, doc
    return f


floor = _no_grad_unary(np.floor, "Round down (piecewise constant: no gradient).")
ceil = _no_grad_unary(np.ceil, "Round up (no gradient).")
round = _no_grad_unary(np.round, "Round half to even, as TensorFlow does (no gradient).")  # noqa: A001
is_nan = _no_grad_unary(np.isnan, "Whether each value is NaN.")
is_finite = _no_grad_unary(np.isfinite, "Whether each value is finite.")
is_inf = _no_grad_unary(np.isinf, "Whether each value is infinite.")


def count_nonzero(input: Any, axis: Any = None, keepdims: builtins.bool = False,  # noqa: A002
                  dtype: Any = int64, name: str | None = None) -> Tensor:
    """The number of non-zero entries over ``axis``."""
    return Tensor(np.asarray(np.count_nonzero(as_array(input), axis=_axes(axis),
                                              keepdims=keepdims), dtype))


def cumsum(x: Any, axis: int = 0, exclusive: builtins.bool = False, reverse: builtins.bool = False,
           name: str | None = None) -> Tensor:
    """Running sum along ``axis`` (no gradient: for counts and indices)."""
    a = np.flip(as_array(x), axis) if reverse else as_array(x)
    out = np.cumsum(a, axis=axis)
    if exclusive:
        out = out - a
    return Tensor(np.flip(out, axis) if reverse else out)


def _order(values: np.ndarray, axis: int, direction: str, op: str) -> np.ndarray:
    """The stable sorting permutation along ``axis`` (ties keep their order, as TensorFlow's)."""
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"tf.{op}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}.")
    if direction == "ASCENDING":
        return np.argsort(values, axis=axis, kind="stable")
    # descending and stable: sort the reversed array ascending, then map back and reverse
    n = values.shape[axis]
    flipped = np.argsort(np.flip(values, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - flipped, axis)


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: builtins.bool = False,
            name: str | None = None) -> Tensor:
    """The int32 indices that sort ``values`` along ``axis``; equal values keep their order.

    ``direction`` is ``'ASCENDING'`` or ``'DESCENDING'``. No gradient (indices).

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.argsort([3.0, 1.0, 3.0, 2.0], direction="DESCENDING").numpy()
    array([0, 2, 3, 1], dtype=int32)
    """
    a = as_array(values)
    return Tensor(_order(a, int(axis), direction, "argsort").astype(np.int32))


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """``values`` sorted along ``axis``; differentiable (the gradient goes back to each value's
    place, as TensorFlow's, which gathers by the sorting permutation).

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.sort([[3.0, 1.0, 2.0]], direction="DESCENDING").numpy()
    array([[3., 2., 1.]], dtype=float32)
    """
    a = as_array(values)
    axis = int(axis) % builtins.max(a.ndim, 1)
    grid = list(np.indices(a.shape, sparse=True))
    grid[axis] = _order(a, axis, direction, "sort")
    return _t(ops.getitem(values if isinstance(values, Tensor) else Tensor(a), tuple(grid)))


class TopKV2(tuple):
    """``(values, indices)`` as ``tf.math.top_k`` returns them; also ``.values`` and ``.indices``."""

    __slots__ = ()

    def __new__(cls, values: Tensor, indices: Tensor) -> TopKV2:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        """The ``k`` largest entries of each last-axis row, largest first."""
        return self[0]

    @property
    def indices(self) -> Tensor:
        """Their int32 positions along the last axis."""
        return self[1]


def top_k(input: Any, k: Any = 1, sorted: builtins.bool = True,  # noqa: A002
          index_type: Any = int32, name: str | None = None) -> TopKV2:
    """The ``k`` largest entries along the last axis, and their positions (``tf.math.top_k``).

    ``input`` has shape ``(..., n)``; ``values`` has shape ``(..., k)`` and ``input``'s dtype,
    ``indices`` the same shape and dtype ``index_type`` (int32). Equal values: the lower index
    comes first, as in TensorFlow. ``values`` is differentiable (the gradient goes back to each
    chosen entry; the others get 0). ``sorted=False`` is accepted and gives the sorted order.

    Examples
    --------
    >>> import unafraid as tf
    >>> values, indices = tf.math.top_k([1.0, 3.0, 2.0, 3.0], k=2)
    >>> values.numpy(), indices.numpy()
    (array([3., 3.], dtype=float32), array([1, 3], dtype=int32))
    """
    a = as_array(input)
    k = int(as_array(k))
    if a.ndim == 0 or not 0 <= k <= a.shape[-1]:
        raise ValueError(f"tf.math.top_k: k={k} must be between 0 and the last axis' length of an "
                         f"input of rank >= 1; input has shape {a.shape}.")
    order = _order(a, a.ndim - 1, "DESCENDING", "top_k")[..., :k]
    grid = list(np.indices(order.shape, sparse=True))
    grid[-1] = order
    values = _t(ops.getitem(input if isinstance(input, Tensor) else Tensor(a), tuple(grid)))
    return TopKV2(values, Tensor(order.astype(_dtype(index_type))))


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``floor(x / y)``, elementwise, rounding towards minus infinity as Python's ``//`` does
    (no gradient, as in TensorFlow). ``tf.math.floordiv(-7, 2)`` is ``-4``."""
    return Tensor(np.floor_divide(as_array(x), as_array(y)))


def floormod(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x - floor(x / y) * y``, elementwise: the remainder with the sign of ``y`` (Python's ``%``).

    Its gradient is TensorFlow's: 1 for ``x`` and ``-floor(x / y)`` for ``y``.
    ``tf.math.floormod(-7.0, 2.0)`` is ``1.0``."""
    return _t(ops.subtract(x, ops.multiply(floordiv(x, y), y)))


def is_tensor(x: Any) -> builtins.bool:
    """Whether ``x`` is a Tensor (a ``tf.Variable`` is one too), not a NumPy array or number."""
    return isinstance(x, Tensor)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None,  # noqa: A002
         keepdims: builtins.bool = False, name: str | None = None) -> Tensor:
    """The Euclidean (``ord=2``) or L1 (``ord=1``) norm over ``axis`` (all entries by default)."""
    if ord in ("euclidean", 2, "fro"):
        return _t(ops.sqrt(ops.sum(ops.multiply(tensor, tensor), axis=_axes(axis),
                                   keepdims=keepdims)))
    if ord == 1:
        return _t(ops.sum(ops.abs(tensor), axis=_axes(axis), keepdims=keepdims))
    raise NotImplementedError(f"tf.norm: ord={ord!r} is not supported; use 'euclidean' or 1.")


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None) -> Tensor:
    """``x / sqrt(max(sum(x^2), epsilon))`` over ``axis``."""
    sq = ops.sum(ops.multiply(x, x), axis=_axes(axis), keepdims=True)
    return _t(ops.divide(x, ops.sqrt(ops.maximum(sq, epsilon))))


math = SimpleNamespace(
    abs=abs, add=add, add_n=add_n, argmax=argmax, argmin=argmin, ceil=ceil, cos=cos,
    count_nonzero=count_nonzero, top_k=top_k,
    cumsum=cumsum, digamma=digamma, divide=divide, equal=equal, exp=exp, expm1=expm1, floor=floor,
    floordiv=floordiv, floormod=floormod, mod=floormod,
    greater=greater, greater_equal=greater_equal, is_finite=is_finite, is_inf=is_inf, is_nan=is_nan,
    l2_normalize=l2_normalize, less=less, less_equal=less_equal, lgamma=lgamma, log=log,
    log1p=log1p, logical_and=logical_and, logical_not=logical_not, logical_or=logical_or,
    maximum=maximum, minimum=minimum, multiply=multiply, negative=negative, not_equal=not_equal,
    pow=pow, reciprocal=reciprocal, reduce_all=reduce_all, reduce_any=reduce_any,
    reduce_logsumexp=reduce_logsumexp, reduce_max=reduce_max, reduce_mean=reduce_mean,
    reduce_min=reduce_min, reduce_prod=reduce_prod, reduce_std=reduce_std, reduce_sum=reduce_sum,
    reduce_variance=reduce_variance, round=round, rsqrt=rsqrt, sigmoid=sigmoid, sign=sign, sin=sin,
    softplus=softplus, sqrt=sqrt, square=square, squared_difference=squared_difference,
    subtract=subtract, tan=tan, tanh=tanh, truediv=truediv)
linalg = SimpleNamespace(matmul=matmul, norm=norm, l2_normalize=l2_normalize, eye=eye,
                         global_norm=global_norm, tensordot=tensordot, einsum=einsum)


class AdjustContrast(engine.Function):
    """``tf.image.adjust_contrast``: TensorFlow registers no gradient for it, and neither does this."""

    name = "adjust_contrast"

    @staticmethod
    def forward(ctx, images, factor):
        mean = images.mean(axis=(-3, -2), keepdims=True)
        return ((images - mean) * factor + mean).astype(images.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, *saved):
        raise LookupError("gradient registry has no entry for: AdjustContrastv2 (tf.image.adjust_contrast "
                          "has no gradient, in TensorFlow as here; write the formula "
                          "(x - mean) * factor + mean with tf ops to differentiate it)")


def adjust_contrast(images: Any, contrast_factor: Any) -> Tensor:
    """``(x - mean) * contrast_factor + mean``, the mean over each channel of each image.

    ``images`` has shape ``(..., height, width, channels)``. Like TensorFlow's, it has no
    gradient: ``tape.gradient`` through it raises ``LookupError``.
    """
    return _t(AdjustContrast.apply(_t(images), _t(contrast_factor)))


image = SimpleNamespace(adjust_contrast=adjust_contrast)
UnconnectedGradients = SimpleNamespace(NONE="none", ZERO="zero")


# ---- TensorFlow's initializer names (tf.random_normal_initializer() ...) ----------------------
def random_normal_initializer(mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> Any:
    """``tf.random_normal_initializer``: Keras's ``RandomNormal`` (TensorFlow's defaults 0, 0.05)."""
    from .initializers import RandomNormal
    return RandomNormal(mean=mean, stddev=stddev, seed=seed)


def random_uniform_initializer(minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> Any:
    """``tf.random_uniform_initializer``: Keras's ``RandomUniform`` (defaults -0.05, 0.05)."""
    from .initializers import RandomUniform
    return RandomUniform(minval=minval, maxval=maxval, seed=seed)


def zeros_initializer() -> Any:
    """``tf.zeros_initializer()``: Keras's ``Zeros``."""
    from .initializers import Zeros
    return Zeros()


def ones_initializer() -> Any:
    """``tf.ones_initializer()``: Keras's ``Ones``."""
    from .initializers import Ones
    return Ones()


def constant_initializer(value: Any = 0) -> Any:
    """``tf.constant_initializer(value)``: Keras's ``Constant``."""
    from .initializers import Constant
    return Constant(value)


# ---- devices and version -------------------------------------------------------------------
CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


class PhysicalDevice(SimpleNamespace):
    """A device as ``tf.config.list_physical_devices`` describes it (``name``, ``device_type``)."""


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The devices unafraid computes on: one CPU (GPUs and TPUs are never used)."""
    if device_type is not None and device_type.upper() != "CPU":
        return []
    return [PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")]


def list_logical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """As ``list_physical_devices``, with logical names."""
    if device_type is not None and device_type.upper() != "CPU":
        return []
    return [PhysicalDevice(name="/device:CPU:0", device_type="CPU")]


def _accept(*args: Any, **kwargs: Any) -> None:
    """Accepted for TensorFlow code; there is nothing to configure on the CPU."""


config = SimpleNamespace(
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    set_visible_devices=_accept, get_visible_devices=list_physical_devices,
    run_functions_eagerly=_accept, functions_run_eagerly=lambda: True,
    experimental=SimpleNamespace(set_memory_growth=_accept, enable_op_determinism=_accept),
    threading=SimpleNamespace(set_inter_op_parallelism_threads=_accept,
                              set_intra_op_parallelism_threads=_accept))


@contextlib.contextmanager
def device(device_name: str) -> Iterator[None]:
    """``with tf.device('/GPU:0'):`` runs its block on the CPU, the only device unafraid uses."""
    yield


version = SimpleNamespace(VERSION=__version__)
Tensor.device = property(lambda self: CPU_DEVICE)  # every Tensor lives on the CPU


def _format(self: Tensor, spec: str) -> str:
    """``f"{loss:.4f}"`` formats a one-element Tensor as its number."""
    if not spec:
        return str(self)
    if self.size == 1:
        return format(self.data.item(), spec)
    raise TypeError(f"Cannot format a Tensor of shape {self.shape} with {spec!r}: only "
                    f"one-element Tensors have a number format. Format t.numpy() element-wise.")


Tensor.__format__ = _format

__all__ = [
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "bool", "complex64", "complex128", "string", "dtypes", "newaxis", "constant",
    "convert_to_tensor", "Variable", "zeros", "ones", "zeros_like", "ones_like", "fill", "eye",
    "range", "linspace", "one_hot", "cast", "reshape", "transpose", "expand_dims", "squeeze",
    "concat", "stack", "unstack", "split", "tile", "gather",
    "gather_nd", "scatter_nd", "unique", "boolean_mask", "shape", "size", "rank",
    "identity", "stop_gradient", "abs", "exp", "log", "log1p", "expm1", "sqrt", "sign", "tanh",
    "sigmoid", "negative", "lgamma", "digamma", "softplus", "add", "subtract", "multiply", "divide",
    "truediv", "maximum", "minimum", "pow", "square", "reciprocal", "rsqrt", "squared_difference",
    "add_n", "matmul", "tensordot", "einsum", "clip_by_value", "global_norm", "clip_by_global_norm",
    "clip_by_norm", "where", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
    "reduce_logsumexp", "reduce_variance", "reduce_std", "reduce_all", "reduce_any", "argmax",
    "argmin", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_not", "floor", "ceil", "round", "is_nan", "is_finite", "is_inf",
    "count_nonzero", "cumsum", "sort", "argsort", "floordiv", "floormod", "is_tensor",
    "norm", "l2_normalize", "math", "linalg", "PhysicalDevice",
    "list_physical_devices", "list_logical_devices", "config", "device", "version", "GradientTape",
    "Module",
    "function", "TensorSpec", "sin", "cos", "tan", "image", "UnconnectedGradients",
    "random_normal_initializer", "random_uniform_initializer", "zeros_initializer", "ones_initializer",
    "constant_initializer",
]


# ---- symbolic tensors (functional models) -----------------------------------------------------
def accepts_symbolic(op: str, function: Any) -> Any:
    """``function`` made to accept the symbolic tensors of ``keras.Input`` (as tf.keras and Keras 3
    do): a call with one among its arguments becomes an ``OpLayer`` of the functional model
    (see :mod:`unafraid.layers.symbolic`), which runs ``function`` on real Tensors when the model
    runs; any other call runs ``function`` as before.

    ``op`` is the name the layer is known by (``"tf.reduce_mean"``).
    """
    if getattr(function, "symbolic_op", None):
        return function
    SYMBOLIC_OPS.setdefault(op, function)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # symbolic tensors exist only once unafraid.layers (which loads .symbolic) is imported
        symbolic = sys.modules.get("unafraid.layers.symbolic")
        if symbolic is not None and symbolic.has_symbolic(args, kwargs):
            return symbolic.symbolic_call(op, function, args, kwargs)
        return function(*args, **kwargs)

    wrapper.__name__, wrapper.__qualname__ = function.__name__, function.__qualname__
    wrapper.__doc__, wrapper.__module__ = function.__doc__, function.__module__
    wrapper.__wrapped__ = function
    wrapper.symbolic_op = op
    return wrapper


def symbolic_versions(namespace: dict[str, Any], prefix: str, names: Any = None) -> None:
    """Replace each function of ``namespace`` (a module's ``globals()``, or ``vars()`` of a
    namespace) by its :func:`accepts_symbolic` version, named ``prefix + name``."""
    for name in list(names if names is not None else namespace):
        f = namespace.get(name)
        if isinstance(f, FunctionType) and name not in _NOT_OPS and not name.startswith("_"):
            namespace[name] = _SYMBOLIC.setdefault(id(f), accepts_symbolic(prefix + name, f))


# op name -> the function an OpLayer runs: the fixed table a saved model's op layers are read from
SYMBOLIC_OPS: dict[str, Any] = {}
_NOT_OPS = {"function", "device", "list_physical_devices", "list_logical_devices", "accepts_symbolic",
            "symbolic_versions"}
_SYMBOLIC: dict[int, Any] = {}  # one wrapper per function, shared by tf.exp and tf.math.exp
symbolic_versions(globals(), "tf.", __all__)
for _space, _prefix in ((math, "tf.math."), (linalg, "tf.linalg.")):
    symbolic_versions(vars(_space), _prefix)
