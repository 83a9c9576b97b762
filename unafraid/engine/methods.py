"""Operators and NumPy-style methods on Tensor, each a call into ``ops``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor


def _reflected(f):
    return lambda self, other: f(other, self)


def _compare(np_op):
    return lambda self, other: np_op(self.data, other.data if isinstance(other, Tensor) else other)


_BINARY = {"add": ops.add, "sub": ops.subtract, "mul": ops.multiply, "truediv": ops.divide,
           "pow": ops.power, "matmul": ops.matmul}
for _name, _f in _BINARY.items():
    setattr(Tensor, f"__{_name}__", _f)
    setattr(Tensor, f"__r{_name}__", _reflected(_f))

Tensor.__neg__ = ops.negative
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = ops.abs
Tensor.__getitem__ = ops.getitem
# comparisons give plain boolean arrays: they have no gradient
for _name, _f in {"lt": np.less, "le": np.less_equal, "gt": np.greater,
                  "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal}.items():
    setattr(Tensor, f"__{_name}__", _compare(_f))
Tensor.__hash__ = object.__hash__
for _f in (float, int, bool, len):  # float(t), int(t), bool(t), len(t): those of its values
    setattr(Tensor, f"__{_f.__name__}__", lambda self, _f=_f: _f(self.data))

for _name in ["exp", "log", "log1p", "expm1", "sqrt", "tanh", "sigmoid", "relu", "sign", "abs",
              "logsumexp", "softmax", "log_softmax", "squeeze", "swapaxes", "clip"]:
    setattr(Tensor, _name, getattr(ops, _name))


_NUMPY_ONLY = {"dtype", "out", "where", "initial"}


def _reduction(name: str) -> Any:
    """``x.mean(axis)`` records a gradient; ``np.mean(x, axis)`` leaves the engine.

    NumPy's functions (``np.mean(x)``, ``np.sum(x)``) call the method with NumPy's own keywords
    (``dtype=``, ``out=``): then the result is a plain NumPy value with no gradient, as in
    TensorFlow, where a tensor handed to NumPy leaves the tape.
    """
    op = getattr(ops, name)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if kwargs.keys() & _NUMPY_ONLY:  # called by np.mean(x), np.sum(x), ...
            return getattr(np, name)(self.data, *args, **kwargs)
        return op(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.__doc__
    return method


for _name in ["sum", "mean", "max", "min", "var", "std"]:
    setattr(Tensor, _name, _reduction(_name))


def _reshape(self: Tensor, *shape: Any) -> Any:
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
    return ops.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self: Tensor, *axes: Any) -> Any:
    """``x.transpose()``, ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``."""
    return ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))


def _astype(self: Tensor, dtype: Any) -> Tensor:
    """A copy with another dtype; casting between float types keeps the gradient path."""
    if self.requires_grad and np.dtype(dtype).kind == "f":
        return ops.cast(self, dtype)
    return Tensor(self.data.astype(dtype))


Tensor.reshape = _reshape
Tensor.transpose = _transpose
Tensor.T = property(lambda self: ops.transpose(self))
Tensor.astype = _astype
Tensor.expand_dims = ops.expand_dims
