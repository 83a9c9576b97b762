"""``tf.nn``-style functions: ``unafraid.nn.relu(x)`` works on arrays and Tensors."""

from __future__ import annotations

from typing import Any

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
           "softmax_cross_entropy_with_logits"]
