"""``tf.nn``-style functions: ``unafraid.nn.relu(x)`` works on arrays and Tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import (
    elu,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..engine import Tensor, ops


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any) -> Tensor:
    """Per-example cross-entropy ``(N,)`` from logits ``(N, C)`` and integer labels ``(N,)``."""
    out = ops.softmax_cross_entropy(logits, ops.asarray(labels))
    return out if isinstance(out, Tensor) else Tensor(out)


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1) -> Tensor:
    """Per-example cross-entropy from logits and one-hot or probability labels ``(N, C)``."""
    labels = labels if isinstance(labels, Tensor) else ops.asarray(labels, "float32")
    out = ops.softmax_cross_entropy(logits, labels, axis=axis)
    return out if isinstance(out, Tensor) else Tensor(out)


__all__ = ["elu", "gelu", "leaky_relu", "linear", "log_softmax", "relu", "sigmoid", "softmax",
           "softplus", "tanh", "sparse_softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits", "l2_loss",
           "silu", "swish", "relu6", "moments", "bias_add", "dropout", "top_k"]


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None) -> Tensor:
    """Elementwise ``-z log sigmoid(x) - (1 - z) log(1 - sigmoid(x))`` for logits ``x``, labels ``z``.

    Computed as ``max(x, 0) - x z + log(1 + exp(-|x|))`` (TensorFlow's stable form).
    """
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits needs labels= and logits=.")
    z = labels if isinstance(labels, Tensor) else ops.asarray(labels, "float32")
    out = ops.add(ops.subtract(ops.relu(logits), ops.multiply(logits, z)),
                  ops.log1p(ops.exp(ops.negative(ops.abs(logits)))))
    return out if isinstance(out, Tensor) else Tensor(out)


def l2_loss(t: Any) -> Tensor:
    """``sum(t ** 2) / 2``."""
    out = ops.multiply(ops.sum(ops.multiply(t, t)), 0.5)
    return out if isinstance(out, Tensor) else Tensor(out)


def silu(features: Any, beta: float = 1.0) -> Tensor:
    """``x * sigmoid(beta x)`` (swish)."""
    out = ops.multiply(features, ops.sigmoid(ops.multiply(features, beta)))
    return out if isinstance(out, Tensor) else Tensor(out)


swish = silu


def relu6(features: Any) -> Tensor:
    """``min(max(x, 0), 6)``."""
    out = ops.clip(features, 0.0, 6.0)
    return out if isinstance(out, Tensor) else Tensor(out)


def moments(x: Any, axes: Any, shift: Any = None, keepdims: bool = False) -> tuple[Tensor, Tensor]:
    """Mean and (population) variance of ``x`` over ``axes``."""
    axes = tuple(axes) if isinstance(axes, list | tuple) else axes
    mean, var = ops.mean(x, axis=axes, keepdims=keepdims), ops.var(x, axis=axes, keepdims=keepdims)
    return tuple(v if isinstance(v, Tensor) else Tensor(v) for v in (mean, var))


def bias_add(value: Any, bias: Any) -> Tensor:
    """``value + bias``, the bias broadcast along the last axis."""
    out = ops.add(value, bias)
    return out if isinstance(out, Tensor) else Tensor(out)


def dropout(x: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    The mask is drawn from the library's seed (or from ``seed``).
    """
    from .. import random as _random

    if not 0 <= rate < 1:
        raise ValueError(f"tf.nn.dropout: rate must be in [0, 1), got {rate!r}.")
    shape = ops.asarray(x).shape if noise_shape is None else tuple(int(d) for d in noise_shape)
    keep = _random.uniform(shape, seed=seed).data >= rate
    scale = np.asarray(1.0 / (1.0 - rate), ops.asarray(x).dtype)
    out = ops.multiply(x, keep.astype(ops.asarray(x).dtype) * scale)
    return out if isinstance(out, Tensor) else Tensor(out)


# Each op also accepts the symbolic tensors of keras.Input (a layer of the functional model)
from ..tf_ops import symbolic_versions, top_k  # noqa: E402, F401  (tf.nn.top_k)

symbolic_versions(globals(), "tf.nn.", __all__)
