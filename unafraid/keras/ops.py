"""``keras.ops``: Keras 3's backend-agnostic op names, on unafraid's engine.

Each differentiable op records its gradient (it is one of the ``tf.*`` aliases
of :mod:`unafraid.tf_ops` under Keras 3's name and argument names), so custom
layers and losses written with ``keras.ops`` train and can be differentiated
twice. Arrays in give Tensors out; ``ops.convert_to_numpy`` gives arrays back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import tf_ops as _tf
from ..engine import Tensor, ops
from ..engine.tensor import as_array

abs = absolute = _tf.abs  # noqa: A001
add, subtract, multiply, divide = _tf.add, _tf.subtract, _tf.multiply, _tf.divide
true_divide, power, negative = _tf.divide, _tf.pow, _tf.negative
exp, log, log1p, expm1, sqrt, square, sign = (_tf.exp, _tf.log, _tf.log1p, _tf.expm1, _tf.sqrt,
                                              _tf.square, _tf.sign)
tanh, sigmoid, softplus = _tf.tanh, _tf.sigmoid, _tf.softplus
maximum, minimum, matmul = _tf.maximum, _tf.minimum, _tf.matmul
rsqrt = _tf.rsqrt  # 1 / sqrt(x)
equal, not_equal, greater, greater_equal, less, less_equal = (
    _tf.equal, _tf.not_equal, _tf.greater, _tf.greater_equal, _tf.less, _tf.less_equal)
logical_and, logical_or, logical_not = _tf.logical_and, _tf.logical_or, _tf.logical_not
isnan, isfinite, isinf, floor, ceil, round = (  # noqa: A001
    _tf.is_nan, _tf.is_finite, _tf.is_inf, _tf.floor, _tf.ceil, _tf.round)
convert_to_tensor, stop_gradient, stack = _tf.convert_to_tensor, _tf.stop_gradient, _tf.stack
zeros, ones, zeros_like, ones_like, eye = _tf.zeros, _tf.ones, _tf.zeros_like, _tf.ones_like, _tf.eye
expand_dims, reshape, cast, tile, norm = _tf.expand_dims, _tf.reshape, _tf.cast, _tf.tile, _tf.norm


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default)."""
    return _tf.reduce_sum(x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    return _tf.reduce_mean(x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Maximum over ``axis``."""
    return _tf.reduce_max(x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Minimum over ``axis``."""
    return _tf.reduce_min(x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``axis``."""
    return _tf.reduce_prod(x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population variance over ``axis``."""
    return _tf.reduce_variance(x, axis, keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Population standard deviation over ``axis``."""
    return _tf.reduce_std(x, axis, keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, stably."""
    return _tf.reduce_logsumexp(x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Logical and over ``axis``."""
    return _tf.reduce_all(x, axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Logical or over ``axis``."""
    return _tf.reduce_any(x, axis, keepdims)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (over the flattened array when ``axis`` is None, as NumPy)."""
    return Tensor(np.argmax(as_array(x), axis=axis, keepdims=keepdims))


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value (flattened when ``axis`` is None)."""
    return Tensor(np.argmin(as_array(x), axis=axis, keepdims=keepdims))


def argsort(x: Any, axis: Any = -1) -> Tensor:
    """The int32 indices that sort ``x`` ascending along ``axis`` (flattened when None); ties keep
    their order. ``keras.ops.argsort([3.0, 1.0, 2.0])`` is ``[1, 2, 0]``."""
    if axis is None:
        return _tf.argsort(np.ravel(as_array(x)), axis=0)
    return _tf.argsort(x, axis=axis)


def sort(x: Any, axis: Any = -1) -> Tensor:
    """``x`` sorted ascending along ``axis`` (flattened when None), differentiable like
    ``tf.sort``. ``keras.ops.sort([3.0, 1.0, 2.0])`` is ``[1.0, 2.0, 3.0]``."""
    if axis is None:
        return _tf.sort(ops.reshape(x, (-1,)), axis=0)
    return _tf.sort(x, axis=axis)


def concatenate(xs: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return _tf.concat(xs, axis)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """Permute the axes (reverse them by default)."""
    return _tf.transpose(x, axes)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove axes of length 1."""
    return _tf.squeeze(x, axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """NumPy's split: a number of equal parts, or the indices to cut at."""
    return [_t(p) for p in ops.split(x, indices_or_sections, axis=axis)]


def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2``."""
    return _tf.where(condition, x1, x2)


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``min(max(x, x_min), x_max)``."""
    return _tf.clip_by_value(x, x_min, x_max)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Entries at ``indices`` along ``axis`` (of the flattened array when ``axis`` is None)."""
    if axis is None:
        return _tf.gather(_tf.reshape(x, (-1,)), indices)
    return _tf.gather(x, indices, axis=axis)


def dot(x1: Any, x2: Any) -> Tensor:
    """Matrix (or vector) product."""
    return _tf.matmul(x1, x2)


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> Tensor:
    """Integer labels to one-hot vectors of length ``num_classes``."""
    return _tf.one_hot(x, num_classes, axis=axis, dtype=dtype)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """``[start, stop)`` in steps of ``step``: int32 for integers, float32 when any is a float.

    The number of values is NumPy's (and JAX's) ``ceil((stop - start) / step)`` from the numbers
    as given, so ``arange(0.1, 1.1, 0.1)`` has 10 values, as in Keras.
    """
    if stop is None:
        start, stop = 0, start
    numbers = [as_array(v).item() if isinstance(v, Tensor) else v.item() if isinstance(v, np.generic)
               else v for v in (start, stop, 1 if step is None else step)]
    if dtype is None:
        floats = [np.asarray(v).dtype.kind == "f" for v in numbers]  # (`any` is ops.any here)
        dtype = np.float32 if True in floats else np.int32
    return Tensor(np.arange(*numbers, dtype=dtype))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    a = np.linspace(as_array(start), as_array(stop), int(num), endpoint=endpoint, axis=axis)
    return Tensor(a.astype(dtype or np.float32))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A Tensor of ``shape`` filled with ``fill_value``."""
    return Tensor(np.full(shape, as_array(fill_value), dtype=dtype))


def cumsum(x: Any, axis: Any = None, dtype: Any = None) -> Tensor:
    """Running sum (no gradient)."""
    return Tensor(np.cumsum(as_array(x), axis=axis, dtype=dtype))


def shape(x: Any) -> tuple[int, ...]:
    """The shape, as a tuple of ints (Keras 3)."""
    return tuple(np.shape(as_array(x)))


def size(x: Any) -> int:
    """The number of elements."""
    return int(np.size(as_array(x)))


def ndim(x: Any) -> int:
    """The number of axes."""
    return int(np.ndim(as_array(x)))


def array(x: Any, dtype: Any = None) -> Tensor:
    """A tensor holding ``x`` (``keras.ops.array``; Python floats become float32)."""
    return _tf.convert_to_tensor(x, dtype=dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """The values as a NumPy array."""
    return np.asarray(as_array(x))


def relu(x: Any) -> Tensor:
    """``max(x, 0)``."""
    return _t(ops.relu(x))


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return _t(ops.clip(x, 0.0, 6.0))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return _t(ops.leaky_relu(x, negative_slope))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha (e^x - 1)``."""
    return _t(ops.elu(x, alpha))


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit (Keras 3's default is the tanh approximation)."""
    return _t(ops.gelu(x, approximate))


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)``."""
    return _t(ops.multiply(x, ops.sigmoid(x)))


swish = silu


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return _t(ops.softmax(x, axis=axis))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``."""
    return _t(ops.log_softmax(x, axis=axis))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest entries along the last axis and their int32 indices, as
    ``tf.math.top_k`` (equal values: the lower index first; the values are differentiable).
    ``keras.ops.top_k([1.0, 3.0, 2.0], 2)`` is ``([3.0, 2.0], [1, 2])``."""
    return _tf.top_k(x, k=k, sorted=sorted)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Tensor:
    """Einstein summation as ``tf.einsum`` (NumPy's equations), differentiable in each operand.
    ``keras.ops.einsum("ij,jk->ik", a, b)`` is ``a @ b``."""
    return _tf.einsum(subscripts, *operands)


__all__ = [
    "abs", "absolute", "add", "all", "any", "arange", "argmax", "array", "argmin", "argsort", "cast", "ceil",
    "clip",
    "concatenate", "convert_to_numpy", "convert_to_tensor", "cumsum", "divide", "dot", "einsum", "elu",
    "equal", "exp", "expand_dims", "expm1", "eye", "floor", "full", "gelu", "greater",
    "greater_equal", "isfinite", "isinf", "isnan", "leaky_relu", "less", "less_equal", "linspace",
    "log", "log1p", "log_softmax", "logical_and", "logical_not", "logical_or", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "multiply", "ndim", "negative", "norm",
    "not_equal", "one_hot", "ones", "ones_like", "power", "prod", "relu", "relu6", "reshape",
    "round", "rsqrt", "shape", "sigmoid", "sign", "silu", "size", "softmax", "softplus", "sort", "split",
    "sqrt",
    "square", "squeeze", "stack", "std", "stop_gradient", "subtract", "sum", "swish", "take",
    "tanh", "tile", "top_k", "transpose", "true_divide", "var", "where", "zeros", "zeros_like",
]

# Each op also accepts the symbolic tensors of keras.Input (a layer of the functional model)
_tf.symbolic_versions(globals(), "keras.ops.", __all__)
