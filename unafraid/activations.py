"""Activation functions by name and as functions (``tf.keras.activations`` / ``tf.nn``).

Each works on NumPy arrays and Tensors and returns a Tensor, so
``unafraid.nn.relu(x)`` behaves as ``tf.nn.relu(x)`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import registry
from .engine import ops
from .engine.tensor import Tensor


def _tensor(out: Any) -> Tensor:
    return out if isinstance(out, Tensor) else Tensor(out)


def _input(x: Any) -> Any:
    """A Tensor as it is; anything else as a float array (integers become float32)."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    return a if a.dtype.kind in "fc" else a.astype(np.float32)


def _values(x: Any) -> np.ndarray:
    """The numbers behind ``x``, for the conditions of piecewise functions (no gradient)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """Rectified linear unit, with Keras 3's options.

    With ``a = negative_slope``, ``m = max_value`` and ``t = threshold``::

        relu(x) = min(x, m)      for x > t      (no upper limit when m is None)
                = a (x - t)      for x <= t

    The defaults give ``max(x, 0)``. As in Keras, values between 0 and ``t``
    become 0 (``threshold=5``: ``relu(3) = 0``), and with ``t = 0`` and
    ``m = 6`` it is ``relu6``.

    Parameters
    ----------
    x : array_like or Tensor
    negative_slope : float, default 0.0
        Slope below the threshold.
    max_value : float, optional
        Saturation value (the largest output).
    threshold : float, default 0.0
        Inputs at or below it are damped (``negative_slope``) or set to 0.

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> x = np.array([-10, -5, 0.0, 5, 10])
    >>> uf.activations.relu(x, negative_slope=0.5, max_value=5.0, threshold=5.0).numpy()
    array([-7.5, -5. , -2.5,  0. ,  5. ])
    """
    x = _input(x)
    if negative_slope == 0 and max_value is None and threshold == 0:
        return _tensor(ops.relu(x))
    if negative_slope != 0 and max_value is None and threshold == 0:
        return _tensor(ops.leaky_relu(x, negative_slope=negative_slope))
    # Keras 3's order: the positive part, clipped to [0, max_value], minus slope * relu(t - x)
    positive = ops.where(_values(x) > threshold, x, 0) if threshold != 0 else ops.relu(x)
    if max_value is not None:
        positive = ops.clip(positive, 0.0, max_value)
    if negative_slope != 0:
        positive = ops.subtract(positive, ops.multiply(negative_slope,
                                                       ops.relu(ops.subtract(threshold, x))))
    return _tensor(positive)


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``, elementwise (Krizhevsky, 2010)."""
    return _tensor(ops.minimum(ops.relu(_input(x)), 6.0))


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``, elementwise and stable."""
    return _tensor(ops.sigmoid(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return _tensor(ops.tanh(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x), axis)``.

    The result remembers its logits (``_logits``), so a cross-entropy loss on
    it computes ``log_softmax(logits)`` directly (fused, stable), as Keras does.
    """
    out = _tensor(ops.softmax(x, axis=axis))
    out._logits = (x if isinstance(x, Tensor) else Tensor(x), axis)
    return out


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x, axis)``."""
    return _tensor(ops.log_softmax(x, axis=axis))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (Keras's default slope 0.2)."""
    return _tensor(ops.leaky_relu(x, negative_slope=negative_slope))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return _tensor(ops.elu(x, alpha=alpha))


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """``x * Phi(x)`` (``approximate=True``: the tanh form)."""
    return _tensor(ops.gelu(x, approximate=approximate))


def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))``, stable."""
    return _tensor(ops.softplus(x))


def linear(x: Any) -> Tensor:
    """The identity (Keras's ``'linear'`` activation)."""
    return _tensor(x)


# ---- Keras 3's other activations, each composed of differentiable primitives ------------------
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Tensor:
    """Scaled ELU (Klambauer et al., 2017): ``scale * elu(x, alpha)``.

    ``scale * x`` for ``x > 0``, else ``scale * alpha * (exp(x) - 1)``, with
    ``alpha = 1.67326324...`` and ``scale = 1.05070098...`` (the paper's constants).
    Use it with the ``lecun_normal`` initializer.
    """
    return _tensor(ops.multiply(SELU_SCALE, ops.elu(_input(x), alpha=SELU_ALPHA)))


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (Ramachandran et al., 2017; also called swish).

    Examples
    --------
    >>> import unafraid as uf
    >>> round(float(uf.activations.silu([1.0]).numpy()[0]), 6)
    0.731059
    """
    x = _input(x)
    return _tensor(ops.multiply(x, ops.sigmoid(x)))


swish = silu


def mish(x: Any) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    x = _input(x)
    return _tensor(ops.multiply(x, ops.tanh(ops.softplus(x))))


def softsign(x: Any) -> Tensor:
    """``x / (|x| + 1)``."""
    x = _input(x)
    return _tensor(ops.divide(x, ops.add(ops.abs(x), 1.0)))


def hard_sigmoid(x: Any) -> Tensor:
    """Piecewise linear sigmoid: ``0`` for ``x <= -3``, ``1`` for ``x >= 3``, else ``x / 6 + 0.5``."""
    return _tensor(ops.clip(ops.add(ops.divide(_input(x), 6.0), 0.5), 0.0, 1.0))


def sparse_sigmoid(x: Any) -> Tensor:
    """``0`` for ``x <= -1``, ``1`` for ``x >= 1``, else ``(x + 1) / 2`` (Blondel et al., 2019)."""
    return _tensor(ops.clip(ops.multiply(0.5, ops.add(_input(x), 1.0)), 0.0, 1.0))


def hard_silu(x: Any) -> Tensor:
    """``x * hard_sigmoid(x)`` (Howard et al., 2019; also called hard_swish):
    ``0`` for ``x < -3``, ``x`` for ``x > 3``, else ``x (x + 3) / 6``."""
    x = _input(x)
    return _tensor(ops.multiply(x, hard_sigmoid(x)))


hard_swish = hard_silu


def log_sigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``."""
    return _tensor(ops.negative(ops.softplus(ops.negative(_input(x)))))


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU (Barron, 2017):
    ``x`` for ``x >= 0``, else ``alpha * (exp(x / alpha) - 1)``."""
    if not alpha or alpha < 0:
        raise ValueError(f"celu: alpha must be > 0 (it divides x), got {alpha!r}.")
    x = _input(x)
    negative = ops.multiply(alpha, ops.expm1(ops.divide(ops.minimum(x, 0.0), alpha)))
    return _tensor(ops.add(ops.relu(x), negative))


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit (Dauphin et al., 2017): ``a * sigmoid(b)``, where ``a`` and ``b`` are
    the two halves of ``x`` along ``axis`` (whose length must be even; the output has half).

    Examples
    --------
    >>> import unafraid as uf
    >>> uf.activations.glu([[2.0, 0.0]]).numpy()
    array([[1.]], dtype=float32)
    """
    x = _input(x)
    n = np.shape(_values(x))[axis]
    if n % 2:
        raise ValueError(f"glu: axis {axis} must have an even length to split into a and b, got "
                         f"shape {np.shape(_values(x))}. Pass the axis of even length as axis=.")
    a, b = ops.split(x, 2, axis=axis)
    return _tensor(ops.multiply(a, ops.sigmoid(b)))


def exponential(x: Any) -> Tensor:
    """``exp(x)``, elementwise."""
    return _tensor(ops.exp(_input(x)))


def hard_tanh(x: Any) -> Tensor:
    """``-1`` for ``x < -1``, ``1`` for ``x > 1``, else ``x``."""
    return _tensor(ops.clip(_input(x), -1.0, 1.0))


def tanh_shrink(x: Any) -> Tensor:
    """``x - tanh(x)``."""
    x = _input(x)
    return _tensor(ops.subtract(x, ops.tanh(x)))


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    x = _input(x)
    return _tensor(ops.where(np.abs(_values(x)) > threshold, x, 0.0))


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x - threshold`` for ``x > threshold``, ``x + threshold`` for ``x < -threshold``, else 0."""
    x = _input(x)
    v = _values(x)
    shrunk = ops.where(v > threshold, ops.subtract(x, threshold), ops.add(x, threshold))
    return _tensor(ops.where(np.abs(v) > threshold, shrunk, 0.0))


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value`` (both required, as in Keras)."""
    x = _input(x)
    return _tensor(ops.where(_values(x) > threshold, x, default_value))


def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x^2 + b)) / 2`` (Barron, 2021), a smooth ReLU; ``b >= 0`` sets the smoothness."""
    if b < 0:
        raise ValueError(f"squareplus: b must be >= 0 (it is under a square root), got {b!r}.")
    x = _input(x)
    return _tensor(ops.divide(ops.add(x, ops.sqrt(ops.add(ops.multiply(x, x), b))), 2.0))


def sparse_plus(x: Any) -> Tensor:
    """``0`` for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    x = _input(x)
    v = _values(x)
    shifted = ops.add(x, 1.0)
    quadratic = ops.multiply(0.25, ops.multiply(shifted, shifted))
    return _tensor(ops.where(v <= -1, 0.0, ops.where(v < 1, quadratic, x)))


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of ``x`` onto the simplex.

    ``sparsemax(x)_i = max(x_i - tau, 0)`` along ``axis``, where ``tau`` makes the outputs sum
    to 1: with ``S`` the support (the ``k`` largest entries with ``1 + k x_(k) > sum_{j<=k} x_(j)``),
    ``tau = (sum_{i in S} x_i - 1) / |S|``. The gradient is the paper's
    ``diag(s) - s s^T / |S|`` (``s`` the support indicator).

    Examples
    --------
    >>> import unafraid as uf
    >>> uf.activations.sparsemax([[0.0, 1.0, 3.0]]).numpy()
    array([[0., 0., 1.]], dtype=float32)
    """
    x = _input(x)
    v = _values(x)
    ordered = -np.sort(-v, axis=axis)
    cumulative = np.cumsum(ordered, axis=axis)
    shape = [1] * v.ndim
    shape[axis] = -1
    rank = np.arange(1, v.shape[axis] + 1).reshape(shape)
    k = np.sum(1 + rank * ordered > cumulative, axis=axis, keepdims=True)
    tau_sorted = (np.take_along_axis(cumulative, k - 1, axis=axis) - 1) / k
    support = v > tau_sorted
    tau = ops.divide(ops.subtract(ops.sum(ops.where(support, x, 0.0), axis=axis, keepdims=True),
                                  1.0), np.sum(support, axis=axis, keepdims=True).astype(v.dtype))
    return _tensor(ops.where(support, ops.subtract(x, tau), 0.0))


NAMES = registry.names("activation")
NAMES.register_each([relu, sigmoid, tanh, softmax, log_softmax, leaky_relu, elu, gelu, softplus,
                     linear, relu6, selu, silu, mish, softsign, hard_sigmoid, hard_silu,
                     log_sigmoid, celu, glu, exponential, hard_tanh, tanh_shrink, hard_shrink,
                     soft_shrink, threshold, squareplus, sparse_plus, sparsemax, sparse_sigmoid])
NAMES.register(silu, "swish")
NAMES.register(hard_silu, "hard_swish")


def get(identifier: Any) -> Callable[..., Tensor]:
    """Resolve an activation: a name, one of this module's functions, or ``None`` (linear).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones and the closest match.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        return _own_function(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be a name or a function, got {identifier!r}.")


def serialize(fn: Callable[..., Any]) -> str | dict[str, Any]:
    """The name under which ``fn`` is saved.

    A built-in activation is saved as its name (``'relu'``). A function of your own is saved as
    Keras 3 saves it, by name only: ``{'module': 'builtins', 'class_name': 'function',
    'config': 'custom_activation', 'registered_name': 'function'}`` (``registered_name`` is
    ``'package>name'`` for a function decorated with ``keras.saving.register_keras_serializable``);
    loading finds the function by that name in ``custom_objects=``, a ``custom_object_scope`` or
    the registered table, never in the file. A lambda has no name to find it by and is refused.

    Examples
    --------
    >>> from unafraid import activations, keras
    >>> def squared_tanh(x):
    ...     return activations.tanh(x) ** 2
    >>> spec = activations.serialize(squared_tanh)
    >>> spec["config"]
    'squared_tanh'
    >>> with keras.utils.custom_object_scope({"squared_tanh": squared_tanh}):
    ...     activations.get(spec) is squared_tanh
    True
    """
    for name, f in NAMES.items():
        if f is fn or getattr(fn, "__name__", None) == name and fn.__module__.startswith("unafraid"):
            return name
    name = getattr(fn, "__name__", None)
    if callable(fn) and isinstance(name, str) and name.isidentifier():
        from .io.custom_objects import get_registered_name
        registered = get_registered_name(fn)
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": registered if ">" in registered else "function"}
    raise ValueError(
        f"Cannot save the custom activation {getattr(fn, '__name__', fn)!r}: saved models hold "
        f"no code, and a function without a name (a lambda) cannot be found again by name. Use a "
        f"built-in name ({', '.join(NAMES.listed())}) or a named function of your own (def), "
        f"given back when loading with custom_objects={{'name': function}}.")


def _own_function(spec: dict[str, Any]) -> Callable[..., Any]:
    """The function of your own that :func:`serialize` described, found by name in
    ``custom_objects`` / a ``custom_object_scope`` / the registered table (never in the file)."""
    from .io.custom_objects import find_custom_object
    name, registered = spec.get("config"), spec.get("registered_name")
    if not isinstance(name, str):
        raise ValueError(f"Malformed activation entry {str(spec)[:200]}: 'config' must be the "
                         f"function's name.")
    key = registered if isinstance(registered, str) and ">" in registered else name
    fn = find_custom_object(key)
    if fn is None or not callable(fn) or isinstance(fn, type):
        raise ValueError(
            f"The config names your own activation function '{name[:100]}', which is not known "
            f"here: a saved config holds no code, so the function must come from your program. "
            f"Pass it: custom_objects={{'{name[:100]}': {name[:100]}}} (load_model, "
            f"Model.from_config), load inside keras.utils.custom_object_scope(...), or decorate it "
            f"with @keras.saving.register_keras_serializable().")
    return fn
