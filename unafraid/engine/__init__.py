"""The autodiff engine: Tensor, primitives with their VJPs, the backward loop, transforms."""

from __future__ import annotations

import functools
from typing import Any

from . import convolution, ops
from . import methods as _methods  # noqa: F401  (attaches operators to Tensor)
from .explain import explain
from .gradcheck import GradCheckError, GradCheckReport, check_grad
from .gradients import gradients
from .tensor import Function, Tensor, Variable, enable_grad, is_grad_enabled, no_grad
from .transforms import grad, tree_flatten, value_and_grad


def _public(f: Any) -> Any:
    """The user-facing version of an op: arrays in give a Tensor out (``.numpy()`` works)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        if isinstance(out, list):
            return [o if isinstance(o, Tensor) else Tensor(o) for o in out]
        return out if isinstance(out, Tensor) else Tensor(out)

    return wrapper


PRIMITIVES = [
    "add", "subtract", "multiply", "divide", "negative", "power", "exp", "log", "log1p",
    "expm1", "sqrt", "abs", "sign", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus",
    "gelu", "maximum", "minimum", "where", "clip", "matmul", "linear", "sum", "mean", "max",
    "min", "var", "std", "logsumexp", "reshape", "transpose", "swapaxes", "expand_dims",
    "squeeze", "broadcast_to", "concatenate", "stack", "split", "getitem", "pad", "softmax",
    "log_softmax", "lgamma", "digamma", "polygamma", "softmax_cross_entropy", "cast",
]
PUBLIC = {name: _public(getattr(ops, name)) for name in PRIMITIVES}
CONV_PRIMITIVES = ["conv", "conv_transpose", "depthwise_conv", "max_pool", "avg_pool"]
PUBLIC.update({name: _public(getattr(convolution, name)) for name in CONV_PRIMITIVES})
one_hot = ops.one_hot

__all__ = ["Tensor", "Variable", "Function", "grad", "gradients", "value_and_grad", "no_grad", "enable_grad",
           "is_grad_enabled", "check_grad", "GradCheckError", "GradCheckReport", "explain",
           "tree_flatten", "one_hot", "ops", *PRIMITIVES, *CONV_PRIMITIVES]
globals().update(PUBLIC)
