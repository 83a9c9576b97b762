"""The primitives: each forward next to its vector-Jacobian product (VJP).

Notation in the VJPs: ``g`` is d(loss)/d(output); each VJP returns
d(loss)/d(input) = g . d(output)/d(input), one entry per input. VJPs use the
functions of this module (not ``np.*``) so that, with ``create_graph=True``,
they are recorded and can be differentiated again. Given plain arrays they
return plain arrays at NumPy speed.

Broadcasting is undone in one place, ``unbroadcast``.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from . import special
from .blas import blas_threads, narrow_threads, product
from .tensor import Function, Tensor, as_array

Axis = int | tuple[int, ...] | None


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if g.shape == shape:
        return g
    if g.shape[1:] == shape:  # one leading axis added (a bias row, say): sum it away
        axes: int | tuple[int, ...] = 0
    else:
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    g = sum(g, axis=axes) if isinstance(g, Tensor) else np.asarray(g.sum(axis=axes))  # arrays: NumPy
    return g if g.shape == shape else reshape(g, shape)


def _float(x: np.ndarray) -> np.ndarray:
    """Integer data as float32 (``softmax([1, 2, 3])``); float arrays as they are."""
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Tensor) else x)


def _check_broadcast(op: str, *arrays: Any) -> None:
    try:
        np.broadcast(*arrays)
    except ValueError:
        listed = " and ".join(str(np.shape(a)) for a in arrays)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together. Reshape one "
                         f"of them (x.reshape(...)) or add an axis (unafraid.expand_dims) so "
                         f"trailing dimensions agree.") from None


# ---- arithmetic -------------------------------------------------------------------------------
class Add(Function):
    name = "add"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("add", a, b)
        ctx.save(np.shape(a), np.shape(b))
        return a + b

    @staticmethod
    def vjp(ctx, g, sa, sb):  # d(a+b) = da + db
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Subtract(Function):
    name = "subtract"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("subtract", a, b)
        ctx.save(np.shape(a), np.shape(b))
        return a - b

    @staticmethod
    def vjp(ctx, g, sa, sb):  # d(a-b) = da - db
        return unbroadcast(g, sa), unbroadcast(negative(g), sb)


class Multiply(Function):
    name = "multiply"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("multiply", a, b)
        ctx.save(a, b)
        return a * b

    @staticmethod
    def vjp(ctx, g, a, b):  # d(ab) = b da + a db
        return (unbroadcast(multiply(g, b), _shape(a)) if ctx.needs[0] else None,
                unbroadcast(multiply(g, a), _shape(b)) if ctx.needs[1] else None)


class Divide(Function):
    name = "divide"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("divide", a, b)
        if np.asarray(a).dtype.kind in "iub" and np.asarray(b).dtype.kind in "iub":
            a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)  # float32, not float64
        ctx.save(a, b)
        return a / b

    @staticmethod
    def vjp(ctx, g, a, b):  # d(a/b) = da / b - a db / b^2
        ga = unbroadcast(divide(g, b), _shape(a)) if ctx.needs[0] else None
        gb = (unbroadcast(negative(divide(multiply(g, a), multiply(b, b))), _shape(b))
              if ctx.needs[1] else None)
        return ga, gb


class Negative(Function):
    name = "negative"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def vjp(ctx, g):
        return (negative(g),)


class Power(Function):
    name = "power"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("power", a, b)
        y = np.power(a, b)
        ctx.save(a, b, y)
        return y

    @staticmethod
    def vjp(ctx, g, a, b, y):  # d(a^b) = b a^(b-1) da + a^b log(a) db
        ga = gb = None
        if ctx.needs[0]:
            ga = unbroadcast(multiply(g, multiply(b, power(a, subtract(b, 1)))), _shape(a))
        if ctx.needs[1]:
            safe_log = log(where(_raw(a) > 0, a, 1))  # a^b log a -> 0 where a = 0
            gb = unbroadcast(multiply(g, multiply(y, safe_log)), _shape(b))
        return ga, gb


class Maximum(Function):
    name = "maximum"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("maximum", a, b)
        y = np.maximum(a, b)
        ctx.save(np.shape(a), np.shape(b), _tie_split(a, b, np.greater))
        return y

    @staticmethod
    def vjp(ctx, g, sa, sb, wa):  # gradient goes to the larger input; ties split it
        return unbroadcast(multiply(g, wa), sa), unbroadcast(multiply(g, 1 - wa), sb)


class Minimum(Function):
    name = "minimum"

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("minimum", a, b)
        ctx.save(np.shape(a), np.shape(b), _tie_split(a, b, np.less))
        return np.minimum(a, b)

    @staticmethod
    def vjp(ctx, g, sa, sb, wa):
        return unbroadcast(multiply(g, wa), sa), unbroadcast(multiply(g, 1 - wa), sb)


def _tie_split(a, b, wins):
    dtype = np.result_type(a, b) if np.result_type(a, b).kind == "f" else np.float32
    return np.where(wins(a, b), 1.0, np.where(a == b, 0.5, 0.0)).astype(dtype)


# ---- elementwise functions ----------------------------------------------------------------
class Exp(Function):
    name = "exp"

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d exp(x) = exp(x) dx
        return (multiply(g, y),)


class Log(Function):
    name = "log"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log(x)

    @staticmethod
    def vjp(ctx, g, x):  # d log x = dx / x
        return (divide(g, x),)


class Log1p(Function):
    name = "log1p"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log1p(x)

    @staticmethod
    def vjp(ctx, g, x):
        return (divide(g, add(x, 1)),)


class Expm1(Function):
    name = "expm1"

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d (e^x - 1) = e^x dx = (y + 1) dx
        return (multiply(g, add(y, 1)),)


class Sqrt(Function):
    name = "sqrt"

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d sqrt(x) = dx / (2 sqrt(x))
        return (divide(g, multiply(y, 2)),)


class Abs(Function):
    name = "abs"

    @staticmethod
    def forward(ctx, x):
        ctx.save(np.sign(x))
        return np.abs(x)

    @staticmethod
    def vjp(ctx, g, s):  # d|x| = sign(x) dx
        return (multiply(g, s),)


class Sign(Function):
    name = "sign"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.sign(x)

    @staticmethod
    def vjp(ctx, g, x):  # piecewise constant: zero gradient
        return (multiply(g, 0),)


class Tanh(Function):
    name = "tanh"

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d tanh(x) = (1 - tanh(x)^2) dx
        return (multiply(g, subtract(1, multiply(y, y))),)


class Sigmoid(Function):
    name = "sigmoid"

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # stable for large |x|
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d s(x) = s(x)(1 - s(x)) dx
        return (multiply(g, multiply(y, subtract(1, y))),)


class Relu(Function):
    name = "relu"

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d relu(x) = [x > 0] dx
        return (g * (_raw(y) > 0),)


class LeakyRelu(Function):
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.2):
        slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
        ctx.save(slope)
        return x * slope

    @staticmethod
    def vjp(ctx, g, slope):
        return (multiply(g, slope),)


class Elu(Function):
    name = "elu"

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)
        ctx.save(x, y)
        return y

    @staticmethod
    def vjp(ctx, g, x, y):  # x > 0: 1;  else alpha e^x = y + alpha
        alpha = ctx.params.get("alpha", 1.0)
        return (multiply(g, where(_raw(x) > 0, 1, add(y, alpha))),)


class Softplus(Function):
    name = "softplus"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return special.softplus(x).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, x):  # d log(1 + e^x) = sigmoid(x) dx
        return (multiply(g, sigmoid(x)),)


class Gelu(Function):
    name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate=False):
        ctx.save(x)
        if approximate:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            return (0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))).astype(x.dtype)
        return (x * special.ndtr(x)).astype(x.dtype, copy=False)  # x Phi(x)

    @staticmethod
    def vjp(ctx, g, x):
        if ctx.params.get("approximate", False):
            u = multiply(_GELU_C, add(x, multiply(0.044715, power(x, 3))))
            t = tanh(u)
            du = multiply(_GELU_C, add(1, multiply(3 * 0.044715, multiply(x, x))))
            d = add(multiply(0.5, add(1, t)),
                    multiply(multiply(0.5, x), multiply(subtract(1, multiply(t, t)), du)))
            return (multiply(g, d),)
        # d [x Phi(x)] = Phi(x) + x phi(x)
        pdf = multiply(1 / math.sqrt(2 * math.pi), exp(multiply(-0.5, multiply(x, x))))
        return (multiply(g, add(_ndtr(x), multiply(x, pdf))),)


_GELU_C = math.sqrt(2 / math.pi)


class Ndtr(Function):
    name = "ndtr"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return special.ndtr(x).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, x):  # d Phi(x) = phi(x) dx
        pdf = multiply(1 / math.sqrt(2 * math.pi), exp(multiply(-0.5, multiply(x, x))))
        return (multiply(g, pdf),)


def _ndtr(x):
    return Ndtr.apply(x)


class Clip(Function):
    name = "clip"

    @staticmethod
    def forward(ctx, x, a_min=None, a_max=None):
        inside = np.ones(x.shape, bool)
        if a_min is not None:
            inside &= x >= a_min
        if a_max is not None:
            inside &= x <= a_max
        ctx.save(inside)
        return np.clip(x, a_min, a_max)

    @staticmethod
    def vjp(ctx, g, inside):  # passes the gradient where x was not clipped
        return (multiply(g, inside),)


class Where(Function):
    name = "where"

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, bool)
        _check_broadcast("where", cond, a, b)
        ctx.save(cond, np.shape(a), np.shape(b))
        return np.where(cond, a, b)

    @staticmethod
    def vjp(ctx, g, cond, sa, sb):
        return (None, unbroadcast(where(cond, g, 0), sa) if ctx.needs[1] else None,
                unbroadcast(where(cond, 0, g), sb) if ctx.needs[2] else None)


class Lgamma(Function):
    name = "lgamma"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return special.lgamma(x).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, x):  # d log Gamma(x) = digamma(x) dx
        return (multiply(g, digamma(x)),)


class Polygamma(Function):
    name = "polygamma"

    @staticmethod
    def forward(ctx, x, n=0):
        ctx.save(x)
        return special.polygamma(n, x).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, x):  # d psi^(n)(x) = psi^(n+1)(x) dx
        return (multiply(g, Polygamma.apply(x, n=ctx.params.get("n", 0) + 1)),)


class Cast(Function):
    name = "cast"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.save(x.dtype)
        return x.astype(dtype)

    @staticmethod
    def vjp(ctx, g, dtype):  # the identity, back in the input's dtype
        return (cast(g, dtype),)


# ---- linear algebra -----------------------------------------------------------------------
class Matmul(Function):
    name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: scalars are not allowed; use multiply (*) instead.")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last axis of the "
                f"first ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the second "
                f"({b.shape[-2 if b.ndim > 1 else 0]}).")
        ctx.save(a, b)
        return a @ b

    @staticmethod
    def vjp(ctx, g, a, b):  # d(AB) = dA B + A dB  ->  gA = g B^T,  gB = A^T g
        a2 = a if a.ndim > 1 else reshape(a, (1, -1))  # a vector is a one-row matrix,
        b2 = b if b.ndim > 1 else reshape(b, (-1, 1))  # or a one-column matrix
        g2 = g
        if a.ndim == 1:
            g2 = expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = expand_dims(g2, -1)
        ga = gb = None
        if ctx.needs[0]:
            ga = unbroadcast(matmul(g2, swapaxes(b2, -1, -2)), a2.shape)  # batch axes summed
            ga = ga if a.ndim > 1 else reshape(ga, a.shape)
        if ctx.needs[1]:
            gb = unbroadcast(matmul(swapaxes(a2, -1, -2), g2), b2.shape)
            gb = gb if b.ndim > 1 else reshape(gb, b.shape)
        return ga, gb


class Linear(Function):
    """Fused dense layer ``x @ W + b``: one node instead of two; skips d/dx when unneeded."""

    name = "linear"

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.shape[-1] != w.shape[0]:
            raise ValueError(f"linear: inputs have {x.shape[-1]} features (shape {x.shape}) but "
                             f"the weight matrix expects {w.shape[0]} (shape {w.shape}).")
        ctx.save(x, w, np.shape(b))
        with blas_threads(narrow_threads(x.size // builtins.max(x.shape[-1], 1), *w.shape)):
            y = product(x, w)  # x @ w (engine/blas.py: on two cores when that keeps the bits)
        if b is not None:
            y += b
        return y

    @staticmethod
    def vjp(ctx, g, x, w, b_shape):  # y = xW + b:  gx = g W^T,  gW = x^T g,  gb = sum_rows g
        # (operators: plain NumPy on arrays, recorded ops on Tensors)
        with blas_threads(narrow_threads(x.size // builtins.max(x.shape[-1], 1), *w.shape)):
            gx = product(g, w.T) if ctx.needs[0] else None  # g @ w.T
            if x.ndim != 2:  # a vector, or batched leading axes: make x and g matrices
                x, g = reshape(x, (-1, x.shape[-1])), reshape(g, (-1, g.shape[-1]))
            gw = product(x.T, g) if ctx.needs[1] else None  # x.T @ g
        gb = unbroadcast(g, b_shape) if len(ctx.needs) > 2 and ctx.needs[2] else None
        return (gx, gw, gb)[:len(ctx.needs)]


# ---- reductions ---------------------------------------------------------------------------
def _keep(g, shape, axis, keepdims):
    """Reinsert the reduced axes of ``g`` (size 1) so it broadcasts against ``shape``."""
    if keepdims or axis is None:  # a full reduction's 0-d g broadcasts as it is
        return g
    axes = (axis,) if isinstance(axis, int) else axis
    axes = sorted(a % len(shape) for a in axes)
    out = list(g.shape)
    for a in axes:
        out.insert(a, 1)
    return reshape(g, tuple(out))


class Sum(Function):
    name = "sum"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save(x.shape)
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def vjp(ctx, g, shape):  # every summed entry gets the same gradient
        g = _keep(g, shape, ctx.params.get("axis"), ctx.params.get("keepdims", False))
        return (broadcast_to(g, shape),)


class Mean(Function):
    name = "mean"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        n = _count(x, axis)
        ctx.save(x.shape, n)
        total = _float(np.asarray(x.sum(axis=axis, keepdims=keepdims)))
        return np.asarray(total / np.asarray(n, total.dtype))  # NaN over no values, as in NumPy

    @staticmethod
    def vjp(ctx, g, shape, n):  # every entry gets 1/n of the gradient
        g = _keep(g, shape, ctx.params.get("axis"), ctx.params.get("keepdims", False)) / n
        # divide first: a view, not n divisions (arrays: NumPy's view directly)
        return (broadcast_to(g, shape) if isinstance(g, Tensor) else _spread(g, shape),)


def _spread(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(g, shape)``: a read-only view; made directly for a 0-d ``g`` (a full
    mean's gradient), since ``np.broadcast_to`` builds an ``nditer`` each time (about 2.5% of
    a small network's training step, sampled inside ``fit``)."""
    if g.ndim:
        return np.broadcast_to(g, shape)
    view = np.ndarray(shape, g.dtype, buffer=g, strides=(0,) * len(shape))
    view.flags.writeable = False
    return view


class Max(Function):
    name = "max"
    reducer = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{cls.name}: cannot reduce an empty array of shape {x.shape}.")
        y = np.asarray(cls.reducer(x, axis=axis, keepdims=True))
        hit = (x == y).astype(x.dtype)
        ctx.save(hit / hit.sum(axis=axis, keepdims=True))  # ties share the gradient
        return y if keepdims else np.asarray(np.squeeze(y, axis=axis))

    @staticmethod
    def vjp(ctx, g, share):
        g = _keep(g, share.shape, ctx.params.get("axis"), ctx.params.get("keepdims", False))
        return (multiply(g, share),)


class Min(Max):
    name = "min"
    reducer = staticmethod(np.min)


class Logsumexp(Function):
    name = "logsumexp"

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        x = _float(x)
        m = x.max(axis=axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)  # rows of -inf (or empty ones): shift by 0
        y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        y = y if keepdims else np.asarray(np.squeeze(y, axis=axis))
        ctx.save(x, y)  # the output itself, so grad of grad sees that y depends on x
        return y

    @staticmethod
    def vjp(ctx, g, x, y):  # d lse(x) = softmax(x) dx = exp(x - lse(x)) dx
        axis, keepdims = ctx.params.get("axis"), ctx.params.get("keepdims", False)
        g, y = _keep(g, _shape(x), axis, keepdims), _keep(y, _shape(x), axis, keepdims)
        return (multiply(g, exp(subtract(x, y))),)


class Softmax(Function):
    name = "softmax"

    @staticmethod
    def forward(ctx, x, axis=-1):
        x = _float(x)
        e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # empty axes too
        y = e / np.sum(e, axis=axis, keepdims=True)
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # J = diag(y) - y y^T  ->  g J = y (g - <g, y>)
        axis = ctx.params.get("axis", -1)
        gy = multiply(g, y)
        return (subtract(gy, multiply(y, sum(gy, axis=axis, keepdims=True))),)


class LogSoftmax(Function):
    name = "log_softmax"

    @staticmethod
    def forward(ctx, x, axis=-1):
        x = _float(x)
        y = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        y -= np.log(np.exp(y).sum(axis=axis, keepdims=True))  # in place: y is a new array
        ctx.save(y)
        return y

    @staticmethod
    def vjp(ctx, g, y):  # d log_softmax = dx - softmax(x) <1, dx>
        axis = ctx.params.get("axis", -1)
        return (subtract(g, multiply(exp(y), sum(g, axis=axis, keepdims=True))),)


class SoftmaxCrossEntropy(Function):
    """Per-example ``-sum_c t_c log softmax(z)_c``, fused and stable for huge logits."""

    name = "softmax_cross_entropy"

    @staticmethod
    def forward(ctx, logits, labels, axis=-1):
        logits = _float(logits)
        logp = logits - logits.max(axis=axis, keepdims=True, initial=-np.inf)
        logp -= np.log(np.exp(logp).sum(axis=axis, keepdims=True))  # log softmax, in place
        indices = labels.dtype.kind in "iu"
        _check_labels(logits, labels, axis, indices)
        if indices and logp.ndim == 2 and axis % 2 == 1:  # (N, C), the common case: row picks
            ctx.save(logits, labels, logp, indices)
            return -logp[np.arange(len(logp)), labels]
        if indices:  # class labels: pick -log p[label] along the class axis
            labels = np.expand_dims(labels, axis)
            loss = -np.take_along_axis(logp, labels, axis=axis)
        else:  # one-hot rows or probabilities: -sum t log p, with 0 log 0 = 0 even at z = -inf
            loss = -(labels * np.where(labels != 0, logp, 0)).sum(axis=axis, keepdims=True)
        ctx.save(logits, labels, logp, indices)
        return np.squeeze(loss, axis=axis)

    @staticmethod
    def vjp(ctx, g, logits, labels, logp, indices):
        # d/dz = softmax(z) sum_c(t_c) - t ;  d/dt = -log softmax(z)
        axis = ctx.params.get("axis", -1)
        gz = gt = None
        if ctx.needs[0]:
            p = softmax(logits, axis=axis) if isinstance(logits, Tensor) else np.exp(logp)
            unexpanded = indices and labels.ndim == logp.ndim - 1  # saved by forward's (N, C) path
            if unexpanded and isinstance(p, np.ndarray):  # first order: plain (N, C) arrays
                p[np.arange(len(p)), labels] -= 1  # softmax - one_hot, in place: p is ours
                p *= g[:, None]
                return p, None
        g = expand_dims(g, axis)
        if ctx.needs[0]:
            if indices:  # t is one-hot: 1 at each label
                if unexpanded:
                    labels = np.expand_dims(labels, axis)
                target = np.zeros_like(logp)
                np.put_along_axis(target, labels, 1, axis=axis)
            else:  # probabilities, which need not sum to 1
                target, p = labels, multiply(p, sum(labels, axis=axis, keepdims=True))
            gz = multiply(g, subtract(p, target))
        if ctx.needs[1]:
            gt = multiply(negative(g), log_softmax(logits, axis=axis))
        return gz, gt


def _check_labels(logits, labels, axis, indices):
    """Clear errors for labels that do not fit the logits (NumPy would wrap -1 silently)."""
    ax = axis % logits.ndim
    if indices:
        rows, n = logits.shape[:ax] + logits.shape[ax + 1:], logits.shape[ax]
        if labels.shape != rows:
            raise ValueError(
                f"softmax_cross_entropy: integer labels of shape {labels.shape} do not fit "
                f"logits of shape {logits.shape}; expected one class index per row, shape "
                f"{rows}. (One-hot labels must be float arrays of shape {logits.shape}.)")
        if labels.size and (labels.min() < 0 or labels.max() >= n):
            raise ValueError(
                f"softmax_cross_entropy: labels must be class indices in [0, {n}) for "
                f"{n} logits per row; got values from {labels.min()} to {labels.max()}.")
    elif labels.shape != logits.shape:
        raise ValueError(
            f"softmax_cross_entropy: one-hot/probability labels of shape {labels.shape} do "
            f"not match logits of shape {logits.shape}. Pass integer class indices of shape "
            f"{logits.shape[:ax] + logits.shape[ax + 1:]}, or targets shaped like the logits.")


# ---- shapes -------------------------------------------------------------------------------
class Reshape(Function):
    name = "reshape"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.save(x.shape)
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                             f"({x.size} values) into shape {shape}.") from None

    @staticmethod
    def vjp(ctx, g, shape):
        return (reshape(g, shape),)


class Transpose(Function):
    name = "transpose"

    @staticmethod
    def forward(ctx, x, axes=None):
        return x.transpose(axes)

    @staticmethod
    def vjp(ctx, g):
        axes = ctx.params.get("axes")
        return (transpose(g, None if axes is None else tuple(np.argsort(axes))),)


class BroadcastTo(Function):
    name = "broadcast_to"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.save(np.shape(x))
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(x)} to "
                             f"{shape}.") from None

    @staticmethod
    def vjp(ctx, g, shape):
        return (unbroadcast(g, shape),)


class Concatenate(Function):
    name = "concatenate"

    @staticmethod
    def forward(ctx, *xs, axis=0):
        try:
            y = np.concatenate(xs, axis=axis)
        except ValueError:
            raise ValueError(f"concatenate along axis {axis}: shapes "
                             f"{[np.shape(x) for x in xs]} differ outside that axis.") from None
        ctx.save(np.cumsum([np.shape(x)[axis] for x in xs])[:-1])
        return y

    @staticmethod
    def vjp(ctx, g, cuts):
        return tuple(split(g, cuts, axis=ctx.params.get("axis", 0)))


class GetItem(Function):
    name = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        ctx.save(x.shape)
        return np.asarray(x[index])

    @staticmethod
    def vjp(ctx, g, shape):  # scatter-add the gradient back where it was read
        return (ScatterAdd.apply(g, shape=shape, index=ctx.params["index"]),)


class ScatterAdd(Function):
    name = "scatter_add"

    @staticmethod
    def forward(ctx, g, shape, index):
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out

    @staticmethod
    def vjp(ctx, g):
        return (getitem(g, ctx.params["index"]),)


class Pad(Function):
    name = "pad"

    @staticmethod
    def forward(ctx, x, pad_width, constant_values=0):
        width = np.broadcast_to(np.asarray(pad_width, int), (x.ndim, 2))
        ctx.save(tuple(slice(lo, lo + n) for (lo, _), n in zip(width, x.shape, strict=True)))
        return np.pad(x, width, constant_values=constant_values)

    @staticmethod
    def vjp(ctx, g, inner):
        return (getitem(g, inner),)


# ---- randomness and state: primitives so that a recorded step replays them ----------------
class Dropout(Function):
    """``x * mask / (1 - rate)`` with ``mask = (u >= rate)``, ``u`` uniform from ``generator``.

    The draw is part of the op (not Python beside it), so a replayed training step
    (engine/record.py) draws the next mask from the same stream, as the eager step does.
    """

    name = "dropout"

    @staticmethod
    def forward(ctx, x, rate, generator, noise_shape=None):
        keep = generator.random(noise_shape or x.shape, dtype=np.float32) >= rate
        mask = keep * np.asarray(1 / (1 - rate), x.dtype)
        ctx.save(mask, x.shape)
        return x * mask

    @staticmethod
    def vjp(ctx, g, mask, shape):  # d(x * mask) = mask dx
        return (unbroadcast(multiply(g, mask), shape),)


class AssignMovingAverage(Function):
    """``moving <- momentum * moving + (1 - momentum) * value``, in place (BatchNormalization's
    statistics). An op, so that a replayed training step updates them too. No gradient."""

    name = "assign_moving_average"

    @staticmethod
    def forward(ctx, moving, value, momentum):
        moving[...] = momentum * moving + (1 - momentum) * np.reshape(value, moving.shape)
        return moving

    @staticmethod
    def vjp(ctx, g):
        return None, None


class Einsum(Function):
    """``np.einsum(equation, *operands)`` for explicit equations (letters, no ``...``, no letter
    twice in one operand). Its VJP is an einsum too: the gradient of operand ``i`` is the einsum
    of ``g`` with the other operands into operand ``i``'s letters (a letter found nowhere else,
    summed away in the forward pass, comes back through a ones array of its length)."""

    name = "einsum"

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.save(*operands)
        return np.einsum(equation, *operands)

    @staticmethod
    def vjp(ctx, g, *operands):
        inputs, output = ctx.params["equation"].split("->")
        specs = inputs.split(",")
        grads = []
        for i, spec in enumerate(specs):
            if not ctx.needs[i]:
                grads.append(None)
                continue
            terms, args = [output], [g]
            for j, (other, x) in enumerate(zip(specs, operands, strict=True)):
                if j != i:
                    terms.append(other)
                    args.append(x)
            missing = "".join(c for c in spec if c not in "".join(terms))
            if missing:
                sizes = tuple(operands[i].shape[spec.index(c)] for c in missing)
                terms.append(missing)
                args.append(np.ones(sizes, dtype=operands[i].dtype))
            grads.append(Einsum.apply(*args, equation=",".join(terms) + "->" + spec))
        return tuple(grads)


# The primitives whose forward only computes its output (no draw, no write): a replayed step
# may skip their runs when nothing reads the output (a classifier's softmax when no metric
# looks at the predictions). Dropout and AssignMovingAverage are not among them.
for _pure in (Add, Subtract, Multiply, Divide, Negative, Power, Maximum, Minimum, Exp, Log,
              Log1p, Expm1, Sqrt, Abs, Sign, Tanh, Sigmoid, Relu, LeakyRelu, Elu, Softplus, Gelu,
              Clip, Where, Cast, Matmul, Linear, Sum, Mean, Max, Min, Logsumexp, Softmax,
              LogSoftmax, SoftmaxCrossEntropy, Reshape, Transpose, BroadcastTo, Concatenate,
              GetItem, Pad, Einsum):
    _pure.pure = True
del _pure


# ---- the functions users call ------------------------------------------------------------
def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def add(a: Any, b: Any) -> Any:
    """Elementwise ``a + b`` with broadcasting."""
    return Add.apply(a, b)


def subtract(a: Any, b: Any) -> Any:
    """Elementwise ``a - b`` with broadcasting."""
    return Subtract.apply(a, b)


def multiply(a: Any, b: Any) -> Any:
    """Elementwise ``a * b`` with broadcasting."""
    return Multiply.apply(a, b)


def divide(a: Any, b: Any) -> Any:
    """Elementwise ``a / b``; integer inputs give float32."""
    return Divide.apply(a, b)


def negative(x: Any) -> Any:
    """Elementwise ``-x``."""
    return Negative.apply(x)


def power(a: Any, b: Any) -> Any:
    """Elementwise ``a ** b``."""
    return Power.apply(a, b)


def maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum; at ties the gradient is shared equally."""
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Any:
    """Elementwise minimum; at ties the gradient is shared equally."""
    return Minimum.apply(a, b)


def exp(x: Any) -> Any:
    """Elementwise ``e ** x``."""
    return Exp.apply(x)


def log(x: Any) -> Any:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def log1p(x: Any) -> Any:
    """Elementwise ``log(1 + x)``, accurate for small ``x``."""
    return Log1p.apply(x)


def expm1(x: Any) -> Any:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``."""
    return Expm1.apply(x)


def sqrt(x: Any) -> Any:
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x: Any) -> Any:  # noqa: A001
    """Elementwise absolute value (gradient ``sign(x)``, 0 at 0)."""
    return Abs.apply(x)


def sign(x: Any) -> Any:
    """Elementwise sign (zero gradient)."""
    return Sign.apply(x)


def tanh(x: Any) -> Any:
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(x)


def sigmoid(x: Any) -> Any:
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return Sigmoid.apply(x)


def relu(x: Any) -> Any:
    """Elementwise ``max(x, 0)``."""
    return Relu.apply(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    """Elementwise ``x`` if ``x > 0`` else ``negative_slope * x`` (Keras's default 0.2)."""
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """Elementwise ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return Elu.apply(x, alpha=alpha)


def softplus(x: Any) -> Any:
    """Elementwise ``log(1 + exp(x))``, stable for large ``|x|``."""
    return Softplus.apply(x)


def gelu(x: Any, approximate: bool = False) -> Any:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate=True`` uses the tanh form."""
    return Gelu.apply(x, approximate=approximate)


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Limit values to ``[a_min, a_max]``; no gradient where clipped."""
    return Clip.apply(x, a_min=a_min, a_max=a_max)


def where(condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` is true, else ``b`` (the condition gets no gradient)."""
    return Where.apply(_raw(condition), a, b)


def lgamma(x: Any) -> Any:
    """Elementwise ``log |Gamma(x)|``, for count-data likelihoods (Poisson, negative binomial)."""
    return Lgamma.apply(x)


def digamma(x: Any) -> Any:
    """Elementwise ``d/dx log Gamma(x)``."""
    return Polygamma.apply(x, n=0)


def polygamma(n: int, x: Any) -> Any:
    """Elementwise ``n``-th derivative of the digamma function."""
    return Polygamma.apply(x, n=int(n))


def cast(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype`` (a float cast keeps the gradient path)."""
    return Cast.apply(x, dtype=np.dtype(dtype))


def matmul(a: Any, b: Any) -> Any:
    """Matrix product with NumPy's rules (2-D, batched with broadcasting, 1-D vectors)."""
    return Matmul.apply(a, b)


def linear(x: Any, w: Any, b: Any = None) -> Any:
    """Fused dense map ``x @ w + b``.

    Parameters
    ----------
    x : (..., n_in) array
    w : (n_in, n_out) array
    b : (n_out,) array, optional

    Returns
    -------
    (..., n_out) array
    """
    return Linear.apply(x, w) if b is None else Linear.apply(x, w, b)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Sum over ``axis`` (all axes by default)."""
    return Sum.apply(x, axis=_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient."""
    return Max.apply(x, axis=_axis(axis), keepdims=keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient."""
    return Min.apply(x, axis=_axis(axis), keepdims=keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow."""
    return Logsumexp.apply(x, axis=_axis(axis), keepdims=keepdims)


def softmax(x: Any, axis: int = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed without overflow."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``."""
    return LogSoftmax.apply(x, axis=axis)


def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1) -> Any:
    """Per-example cross-entropy from logits: ``logsumexp(z) - z[label]``.

    Parameters
    ----------
    logits : (N, C) float array
        Unnormalised scores.
    labels : (N,) integer array, or (N, C) float array
        Class indices, or one-hot / probability targets.

    Returns
    -------
    (N,) array
        ``-sum_c t_c log softmax(z)_c``; finite even for logits of 1e30.

    Examples
    --------
    >>> import unafraid as uf
    >>> uf.softmax_cross_entropy([[0.0, 0.0]], [1]).numpy()
    array([0.6931472], dtype=float32)
    """
    if not (isinstance(labels, Tensor) and labels.requires_grad):  # data, not a variable
        labels, dtype = np.asarray(_raw(labels)), as_array(logits).dtype
        if labels.dtype.kind in "fb" and dtype.kind == "f":  # targets in the logits' dtype
            labels = labels.astype(dtype, copy=False)
    return SoftmaxCrossEntropy.apply(logits, labels, axis=axis)


def reshape(x: Any, shape: Any) -> Any:
    """The same values with a new shape (one entry may be -1)."""
    return Reshape.apply(x, shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def transpose(x: Any, axes: Any = None) -> Any:
    """Permute axes (reverse them by default)."""
    if axes is not None:
        axes = tuple(int(a) % np.ndim(_raw(x)) for a in axes)
    return Transpose.apply(x, axes=axes)


def swapaxes(x: Any, a: int, b: int) -> Any:
    """Exchange two axes."""
    axes = list(range(np.ndim(_raw(x))))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Repeat ``x`` along size-1 or new leading axes to ``shape``."""
    return BroadcastTo.apply(x, shape=tuple(shape))


def expand_dims(x: Any, axis: int) -> Any:
    """Insert a size-1 axis at ``axis``."""
    shape = list(np.shape(_raw(x)))
    axis = axis if axis >= 0 else len(shape) + 1 + axis
    return reshape(x, tuple(shape[:axis] + [1] + shape[axis:]))


def squeeze(x: Any, axis: Axis = None) -> Any:
    """Remove size-1 axes (all of them, or those in ``axis``)."""
    return reshape(x, np.squeeze(np.empty(np.shape(_raw(x)), np.bool_), axis=axis).shape)


def concatenate(xs: Any, axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    return Concatenate.apply(*xs, axis=axis)


def stack(xs: Any, axis: int = 0) -> Any:
    """Join arrays along a new axis."""
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Split into pieces along ``axis`` (NumPy's ``np.split`` conventions)."""
    n = np.shape(_raw(x))[axis]
    if isinstance(indices_or_sections, int | np.integer):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of length {n} does not divide into "
                             f"{indices_or_sections} equal parts; pass split points instead.")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0, *cuts, n]
    ax = axis % np.ndim(_raw(x))
    return [getitem(x, (slice(None),) * ax + (slice(lo, hi),))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def getitem(x: Any, index: Any) -> Any:
    """``x[index]``: slices, integer arrays (gather) and boolean masks."""
    index = _raw(index) if not isinstance(index, tuple) else tuple(_raw(i) for i in index)
    return GetItem.apply(x, index=index)


def scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up): the
    transpose of ``getitem(x, index)``, e.g. values computed at a matrix's nonzero entries put
    back in place."""
    return ScatterAdd.apply(values, shape=tuple(shape), index=index)


def pad(x: Any, pad_width: Any, constant_values: float = 0) -> Any:
    """Pad with a constant (NumPy's ``pad_width`` conventions)."""
    return Pad.apply(x, pad_width=pad_width, constant_values=constant_values)


def one_hot(indices: Any, depth: int, dtype: Any = np.float32) -> np.ndarray:
    """``(N,)`` integer labels to ``(N, depth)`` one-hot rows (no gradient)."""
    idx = np.asarray(_raw(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer class indices, got dtype {idx.dtype}.")
    if idx.size and (idx.min() < 0 or idx.max() >= depth):
        raise ValueError(f"one_hot: labels must lie in [0, {depth}), got values from "
                         f"{idx.min()} to {idx.max()}.")
    return np.eye(depth, dtype=dtype)[idx]


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Arithmetic mean ``sum / n`` over ``axis`` (all axes by default; NaN over no values,
    as in NumPy)."""
    return Mean.apply(x, axis=_axis(axis), keepdims=keepdims)


def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Variance ``sum((x - mean)^2) / (n - ddof)`` over ``axis`` (composed; NaN/inf when
    ``n <= ddof``, as in NumPy)."""
    d = subtract(x, mean(x, axis=axis, keepdims=True))
    n = builtins.max(_count(x, axis) - ddof, 0)
    return divide(sum(multiply(d, d), axis=axis, keepdims=keepdims), n)


def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Standard deviation ``sqrt(var)`` over ``axis`` (composed)."""
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


def _count(x: Any, axis: Axis) -> int:
    shape = np.shape(_raw(x))
    if axis is None:
        return math.prod(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


def _axis(axis: Any) -> Axis:
    return tuple(axis) if isinstance(axis, list) else axis


def dropout(x: Any, rate: float, generator: np.random.Generator,
            noise_shape: tuple[int, ...] | None = None) -> Any:
    """Zero each entry with probability ``rate`` (drawn from ``generator``), scale the rest
    by ``1 / (1 - rate)``. ``noise_shape`` (broadcastable to ``x``) shares a draw along axes."""
    return Dropout.apply(x, rate=rate, generator=generator, noise_shape=noise_shape)


def assign_moving_average(variable: Tensor, value: Any, momentum: float) -> None:
    """``variable <- momentum * variable + (1 - momentum) * value``, in place."""
    AssignMovingAverage.apply(variable, value, momentum=momentum)
    variable._edited()


def asarray(x: Any, dtype: Any = None) -> np.ndarray:
    """The NumPy array behind ``x`` (a Tensor's data, or ``np.asarray``)."""
    return as_array(x, dtype)
