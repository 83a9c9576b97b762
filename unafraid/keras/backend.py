"""``tf.keras.backend``: the few functions tutorials call."""

from __future__ import annotations

from ..layers.base import reset_names


def clear_session() -> None:
    """Reset layer names (``dense``, ``dense_1``...) so a fresh model starts at ``dense`` again."""
    reset_names()


def floatx() -> str:
    """The default float type: ``'float32'``."""
    return "float32"


def epsilon() -> float:
    """The fuzz factor used in losses and metrics: ``1e-7``."""
    return 1e-7
