"""``tf.keras.backend``: the few functions tutorials call."""

from __future__ import annotations

from typing import Any

import numpy as np

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


def get_value(x: Any) -> Any:
    """tf.keras 2's ``backend.get_value``: the value of a Variable, Tensor or number as NumPy."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def set_value(x: Any, value: Any) -> None:
    """tf.keras 2's ``backend.set_value``: ``x.assign(value)`` (a Variable, or an optimizer's
    ``learning_rate``)."""
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value needs a Variable (or optimizer.learning_rate), got "
                        f"{type(x).__name__} {x!r}; assign to it directly instead.")
    x.assign(value)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """tf.keras 2's ``backend.std``: the standard deviation (``tf.math.reduce_std``), with its
    gradient."""
    from ..tf_ops import reduce_std
    return reduce_std(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """tf.keras 2's ``backend.mean`` (``tf.reduce_mean``)."""
    from ..tf_ops import reduce_mean
    return reduce_mean(x, axis=axis, keepdims=keepdims)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: Any = None) -> Any:
    """tf.keras 2's ``backend.random_normal``: ``keras.random.normal`` (seeded from the library's
    seed unless ``seed`` is given). ``shape`` may hold scalar Tensors (``tf.shape(x)[0]``)."""
    from .random import normal
    return normal(tuple(int(d) for d in shape), mean=mean, stddev=stddev, dtype=dtype, seed=seed)
