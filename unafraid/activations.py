"""Activation functions by name and as functions (``tf.keras.activations`` / ``tf.nn``).

Each works on NumPy arrays and Tensors and returns a Tensor, so
``unafraid.nn.relu(x)`` behaves as ``tf.nn.relu(x)`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import registry
from .engine import ops
from .engine.tensor import Tensor


def _tensor(out: Any) -> Tensor:
    return out if isinstance(out, Tensor) else Tensor(out)


def relu(x: Any) -> Tensor:
    """``max(x, 0)``, elementwise."""
    return _tensor(ops.relu(x))


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


NAMES = registry.names("activation")
NAMES.register_each([relu, sigmoid, tanh, softmax, log_softmax, leaky_relu, elu, gelu, softplus,
                     linear])


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
    if callable(identifier):
        return identifier
    raise TypeError(f"An activation must be a name or a function, got {identifier!r}.")


def serialize(fn: Callable[..., Any]) -> str:
    """The name under which ``fn`` is saved; only built-in activations can be saved."""
    for name, f in NAMES.items():
        if f is fn or getattr(fn, "__name__", None) == name and fn.__module__.startswith("unafraid"):
            return name
    raise ValueError(
        f"Cannot save the custom activation {getattr(fn, '__name__', fn)!r}: saved models hold "
        f"no code. Use a built-in name ({', '.join(NAMES.listed())}) or an Activation "
        f"layer with one, and re-create custom pieces in code after loading.")
